"""Transfers: shipments of stock from one store to another, through the origin store's `transit` location."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import Fixed, UTCDateTime, utcnow

TRANSFER_STATUSES = ("in_transit", "arrived", "discrepancy", "resolved")
# How an open discrepancy line was settled: a missing line written off, an extra one booked here or sent back.
RESOLUTIONS = ("", "written_off", "booked", "sent_back")


class Transfer(db.Model):
    """One shipment between two stores. Its stock sits in the origin store's transit location until it arrives.

    Status: `in_transit` when shipped; on arrival `arrived` if everything matched, else `discrepancy` until a
    manager has settled every missing and extra line (`resolved`).
    """

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    to_store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    reference: Mapped[str] = mapped_column(String(80), default="")  # waybill or courier number
    carrier: Mapped[str] = mapped_column(String(120))  # who carried it
    status: Mapped[str] = mapped_column(String(16), default="in_transit")
    ship_event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), unique=True)
    shipped_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    arrival_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    arrived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    from_store: Mapped["Store"] = relationship(foreign_keys=[from_store_id])  # noqa: F821
    to_store: Mapped["Store"] = relationship(foreign_keys=[to_store_id])  # noqa: F821
    shipped_by: Mapped["User"] = relationship(foreign_keys=[shipped_by_id])  # noqa: F821
    arrived_by: Mapped["User | None"] = relationship(foreign_keys=[arrived_by_id])  # noqa: F821
    resolved_by: Mapped["User | None"] = relationship(foreign_keys=[resolved_by_id])  # noqa: F821
    arrival_location: Mapped["Location | None"] = relationship()  # noqa: F821
    lines: Mapped[list["TransferLine"]] = relationship(back_populates="transfer", order_by="TransferLine.id")

    __table_args__ = (
        CheckConstraint(f"status IN {TRANSFER_STATUSES!r}", name="status"),
        CheckConstraint("from_store_id <> to_store_id", name="two_stores"),
        Index("ix_transfers_to_store_id_status", "to_store_id", "status"),
        Index("ix_transfers_from_store_id_status", "from_store_id", "status"),
    )

    @property
    def number(self) -> str:
        """The transfer's own reference, written on its movements: TR-000012."""
        return f"TR-{self.id:06d}"

    @property
    def missing_lines(self) -> list["TransferLine"]:
        """Shipped lines with something not arrived and not yet settled."""
        return [line for line in self.lines if line.is_missing]

    @property
    def extra_lines(self) -> list["TransferLine"]:
        """Things scanned on arrival that were not shipped, not yet settled."""
        return [line for line in self.lines if line.extra and not line.resolution]

    def __repr__(self) -> str:
        return f"<Transfer {self.id} {self.status}>"


class TransferLine(db.Model):
    """A lot quantity or one item on a transfer: what was shipped and what arrived.

    An `extra` line is something scanned on arrival that was not shipped: it records what was scanned (in the
    arrived columns) and moves nothing until a manager books it here.
    """

    __tablename__ = "transfer_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    extra: Mapped[bool] = mapped_column(Boolean, default=False)
    pieces_shipped: Mapped[int] = mapped_column(Integer, default=0)
    weight_shipped: Mapped[Decimal] = mapped_column(Fixed(3), default=Decimal(0))
    pieces_arrived: Mapped[int] = mapped_column(Integer, default=0)
    weight_arrived: Mapped[Decimal] = mapped_column(Fixed(3), default=Decimal(0))
    resolution: Mapped[str] = mapped_column(String(16), default="")
    reason: Mapped[str] = mapped_column(Text, default="")

    transfer: Mapped[Transfer] = relationship(back_populates="lines")
    lot: Mapped["Lot"] = relationship()  # noqa: F821
    item: Mapped["Item | None"] = relationship()  # noqa: F821

    __table_args__ = (
        CheckConstraint(f"resolution IN {RESOLUTIONS!r}", name="resolution"),
        CheckConstraint("pieces_shipped >= 0 AND pieces_arrived >= 0", name="pieces"),
        CheckConstraint("weight_shipped >= 0 AND weight_arrived >= 0", name="weight"),
        CheckConstraint("NOT extra OR (pieces_shipped = 0 AND weight_shipped = 0)", name="extra_not_shipped"),
    )

    @property
    def missing_pieces(self) -> int:
        return 0 if self.extra else max(self.pieces_shipped - self.pieces_arrived, 0)

    @property
    def missing_weight(self) -> Decimal:
        return Decimal(0) if self.extra else max(self.weight_shipped - self.weight_arrived, Decimal(0))

    @property
    def is_missing(self) -> bool:
        """Shipped, not (all) arrived, and not settled yet."""
        return not self.resolution and (self.missing_pieces > 0 or self.missing_weight > 0)

    def __repr__(self) -> str:
        return f"<TransferLine {self.id} lot={self.lot_id} item={self.item_id}>"
