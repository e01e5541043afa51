"""API tokens: per-user secrets with which another program acts as that user in one store."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import UTCDateTime, utcnow


class ApiToken(db.Model):
    """A bearer token. Only the SHA-256 of the secret is kept (the secret is shown once, when made); `prefix`
    is its first characters, enough to tell tokens apart on screen. Revoked tokens stay, for the record."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821
    store: Mapped["Store"] = relationship()  # noqa: F821
    created_by: Mapped["User"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    revoked_by: Mapped["User | None"] = relationship(foreign_keys=[revoked_by_id])  # noqa: F821

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix} user={self.user_id}>"
