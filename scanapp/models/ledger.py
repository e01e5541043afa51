"""The append-only ledger: events (one per state-changing request), movements and the balances they keep."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import Fixed, UTCDateTime, utcnow

MOVEMENT_KINDS = (
    "receive", "move", "ship", "arrive", "sell", "return", "consume", "produce",
    "adjust", "write_off", "vendor_return", "hold", "release",
)  # fmt: skip


# The columns of the report index (see Movement.__table_args__), in its order.
REPORT_COLUMNS = (
    "kind",
    "store_id",
    "created_at",
    "lot_id",
    "to_location_id",
    "pieces",
    "weight",
    "amount",
    "reverses_id",
)


class Event(db.Model):
    """One state-changing request, keyed by the event id the client put in its form.

    The primary key is that id, so the same request sent twice (a double tap, a retry, an offline replay) is
    applied once: the second insert fails on the key, and the first one's result is shown instead.
    """

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    action: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    remote_addr: Mapped[str] = mapped_column(String(45), default="")
    # What the request made or changed, as "<kind>:<id>", so that a replay can show it again.
    result: Mapped[str] = mapped_column(String(60), default="")

    user: Mapped["User"] = relationship()  # noqa: F821
    store: Mapped["Store | None"] = relationship()  # noqa: F821
    movements: Mapped[list["Movement"]] = relationship(back_populates="event", order_by="Movement.line")

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.action}>"


class Movement(db.Model):
    """A quantity of one lot (optionally one item) from one location to another. Never updated or deleted."""

    __tablename__ = "movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"))
    line: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    pieces: Mapped[int] = mapped_column(Integer)
    weight: Mapped[Decimal] = mapped_column(Fixed(3))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reference: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # Money of the line: the sale price total of a `sell`, the refund of a `return`; empty for other kinds.
    amount: Mapped[Decimal | None] = mapped_column(Fixed(2))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("movements.id"), unique=True)

    event: Mapped[Event] = relationship(back_populates="movements")
    lot: Mapped["Lot"] = relationship()  # noqa: F821
    item: Mapped["Item | None"] = relationship()  # noqa: F821
    from_location: Mapped["Location"] = relationship(foreign_keys=[from_location_id])  # noqa: F821
    to_location: Mapped["Location"] = relationship(foreign_keys=[to_location_id])  # noqa: F821
    store: Mapped["Store"] = relationship()  # noqa: F821
    user: Mapped["User"] = relationship()  # noqa: F821
    reverses: Mapped["Movement | None"] = relationship(remote_side=[id], back_populates="reversed_by")
    reversed_by: Mapped["Movement | None"] = relationship(back_populates="reverses", uselist=False)

    __table_args__ = (
        UniqueConstraint("event_id", "line"),
        CheckConstraint(f"kind IN {MOVEMENT_KINDS!r}", name="kind"),
        CheckConstraint("pieces >= 0", name="pieces"),
        CheckConstraint("weight >= 0", name="weight"),
        CheckConstraint("pieces > 0 OR weight > 0", name="quantity"),
        CheckConstraint("from_location_id <> to_location_id", name="two_places"),
        Index("ix_movements_lot_id_id", "lot_id", "id"),
        Index("ix_movements_from_location_id_id", "from_location_id", "id"),
        Index("ix_movements_to_location_id_id", "to_location_id", "id"),
        # Reports (services/reports.py): movements of some kinds in some stores over a period, summed per lot. It
        # holds every column those sums read, so that they are answered from the index alone.
        Index("ix_movements_report", *REPORT_COLUMNS),
        # A user's latest moves in a store, newest first: "undo my last move" (services/movements.py).
        Index("ix_movements_user_id_store_id_kind_id", "user_id", "store_id", "kind", "id"),
    )

    def __repr__(self) -> str:
        return f"<Movement {self.id} {self.kind} lot={self.lot_id} {self.pieces}pc {self.weight}>"


class Balance(db.Model):
    """Pieces and weight of a lot at a location now: the sum of the ledger, kept in step by services/ledger.py."""

    __tablename__ = "balances"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    pieces: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[Decimal] = mapped_column(Fixed(3), default=Decimal(0))

    lot: Mapped["Lot"] = relationship()  # noqa: F821
    location: Mapped["Location"] = relationship()  # noqa: F821

    __table_args__ = (UniqueConstraint("lot_id", "location_id"),)

    def __repr__(self) -> str:
        return f"<Balance lot={self.lot_id} loc={self.location_id} {self.pieces}pc {self.weight}>"
