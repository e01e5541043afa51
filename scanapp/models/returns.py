"""Customer returns: what came back, from which sale, why, in what state, and where it went (its disposition)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import Fixed, UTCDateTime, utcnow

RETURN_CONDITIONS = ("as_new", "worn", "damaged")
RETURN_DISPOSITIONS = ("restock", "quarantine", "bench", "supplier")

return_photos = Table(
    "return_photos",
    db.metadata,
    Column("return_id", ForeignKey("returns.id"), primary_key=True),
    Column("photo_id", ForeignKey("photos.id"), primary_key=True),
)


class ReturnReason(db.Model):
    """One entry of a store's list of reasons for a return; deactivated, never deleted (returns name it)."""

    __tablename__ = "return_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    label: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    store: Mapped["Store"] = relationship()  # noqa: F821

    __table_args__ = (UniqueConstraint("store_id", "label"),)

    def __repr__(self) -> str:
        return f"<ReturnReason {self.store_id}:{self.label}>"


class Return(db.Model):
    """A piece (an item, or pieces and weight of a lot) a customer brought back to a store.

    `sale` is the sell movement it reverses (empty when a manager overrode a return of something this store never
    sold, with `override_reason`). Its event's movements are the ledger effect: a `return` from the customer into
    the disposition's place, then for `supplier` a `vendor_return` onwards.
    """

    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    pieces: Mapped[int] = mapped_column(Integer)
    weight: Mapped[Decimal] = mapped_column(Fixed(3), default=Decimal(0))
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("movements.id"), index=True)
    receipt: Mapped[str] = mapped_column(String(80), default="")
    reason_id: Mapped[int] = mapped_column(ForeignKey("return_reasons.id"), index=True)
    condition: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str] = mapped_column(Text, default="")
    disposition: Mapped[str] = mapped_column(String(16))
    # The `return` movement out of the customer location; the event holds it and any movement after it.
    movement_id: Mapped[int] = mapped_column(ForeignKey("movements.id"), unique=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    refund: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal(0))
    override_reason: Mapped[str] = mapped_column(Text, default="")
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    store: Mapped["Store"] = relationship()  # noqa: F821
    event: Mapped["Event"] = relationship()  # noqa: F821
    lot: Mapped["Lot"] = relationship()  # noqa: F821
    item: Mapped["Item | None"] = relationship()  # noqa: F821
    sale: Mapped["Movement | None"] = relationship(foreign_keys=[sale_id])  # noqa: F821
    movement: Mapped["Movement"] = relationship(foreign_keys=[movement_id])  # noqa: F821
    reason: Mapped[ReturnReason] = relationship()
    work_order: Mapped["WorkOrder | None"] = relationship()  # noqa: F821
    override_by: Mapped["User | None"] = relationship(foreign_keys=[override_by_id])  # noqa: F821
    created_by: Mapped["User"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    photos: Mapped[list["Photo"]] = relationship(secondary=return_photos, order_by="Photo.id")  # noqa: F821

    __table_args__ = (
        CheckConstraint(f"condition IN {RETURN_CONDITIONS!r}", name="condition"),
        CheckConstraint(f"disposition IN {RETURN_DISPOSITIONS!r}", name="disposition"),
        CheckConstraint("pieces >= 0 AND weight >= 0 AND (pieces > 0 OR weight > 0)", name="quantity"),
        CheckConstraint("refund >= 0", name="refund"),
        CheckConstraint("sale_id IS NOT NULL OR override_reason <> ''", name="sale_or_override"),
    )

    @property
    def number(self) -> str:
        """The return's reference: RT-000012."""
        return f"RT-{self.id:06d}"

    def __repr__(self) -> str:
        return f"<Return {self.id} lot={self.lot_id} {self.disposition}>"
