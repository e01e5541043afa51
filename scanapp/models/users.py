"""Staff who sign in, their roles and the stores they belong to."""

import secrets
from datetime import datetime
from functools import cache

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from scanapp.extensions import db
from scanapp.models.types import UTCDateTime, utcnow

ROLES = ("associate", "vault", "bench", "manager", "admin")

user_stores = Table(
    "user_stores",
    db.metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("store_id", ForeignKey("stores.id"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stores: Mapped[list["Store"]] = relationship(secondary=user_stores, order_by="Store.code")  # noqa: F821

    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in for deactivated users
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def store_ids(self) -> set[int]:
        return {s.id for s in self.stores}

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


def password_matches(user: User | None, password: str) -> bool:
    """True when `password` is `user`'s. For no user, a random password's hash is checked all the same, so that an
    unknown username takes as long to refuse as a wrong password."""
    if user is None:
        check_password_hash(_unknown_user_hash(), password)
        return False
    return user.check_password(password)


@cache
def _unknown_user_hash() -> str:
    """A hash of a random password, made once per process, to check typed passwords of unknown users against."""
    return generate_password_hash(secrets.token_urlsafe())
