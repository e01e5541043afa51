"""The audit log: who signed in (or failed to), who changed accounts, and who took the decisions that a manager
answers for (releasing holds, approving counts, overriding returns, API tokens). Append-only."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import UTCDateTime, utcnow

AUDIT_ACTIONS = (
    "sign_in", "sign_in_failed", "sign_in_locked", "sign_out", "sign_in_unlocked",
    "user_created", "role_changed", "stores_changed", "user_deactivated", "user_reactivated", "password_reset",
    "hold_released", "count_approved", "count_cancelled", "return_override", "token_created", "token_revoked",
)  # fmt: skip


class AuditEntry(db.Model):
    """One thing that happened, as it happened. Never updated or deleted: the mapper events below refuse it.

    `username` is the account the entry is about: the name typed at a failed sign-in (which may be no account),
    the account acted on by user administration, else the actor's own. Entries of no store (sign-ins, accounts)
    are shown to the managers of the stores that account belongs to.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(24))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64), default="")
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    remote_addr: Mapped[str] = mapped_column(String(45), default="")
    subject: Mapped[str] = mapped_column(String(60), default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    user: Mapped["User | None"] = relationship()  # noqa: F821
    store: Mapped["Store | None"] = relationship()  # noqa: F821

    __table_args__ = (
        CheckConstraint(f"action IN {AUDIT_ACTIONS!r}", name="action"),
        Index("ix_audit_log_created_at", "created_at"),
        # Sign-in limits: an account's and an address's recent failures (services/sign_in.py).
        Index("ix_audit_log_username_created_at", "username", "created_at"),
        Index("ix_audit_log_remote_addr_created_at", "remote_addr", "created_at"),
        Index("ix_audit_log_store_id_created_at", "store_id", "created_at"),
    )

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.username}>"


class AppendOnly(Exception):
    """Raised on any attempt to change or remove an audit entry through the ORM."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(mapper, connection, target: AuditEntry) -> None:
    raise AppendOnly(f"Audit entry {target.id} cannot be changed or deleted: the audit log is append-only.")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    """`update(AuditEntry)` and `delete(AuditEntry)` statements bypass the mapper events; refuse them here."""
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEntry for m in state.all_mappers):
        raise AppendOnly("The audit log is append-only: its entries cannot be changed or deleted.")
