"""Counts: a count session of one location (or of every place of a store), its scan lines and its recounts."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import Fixed, UTCDateTime, utcnow

COUNT_STATUSES = ("open", "review", "approved", "cancelled")


class Count(db.Model):
    """A count session of one location, or of every physical place of the store when `location` is empty.

    Status: `open` while people count (its lines add up), `review` once counting is closed, then `approved`
    (each difference was booked as an `adjust` movement, by `approve_event`) or `cancelled`. Stock never changes
    before approval. `ledger_mark` is the last movement id when the count started: later movements happened
    during the count. `blind` hides the expected quantities from the counters. `round` goes up with each recount.
    """

    __tablename__ = "counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    blind: Mapped[bool] = mapped_column(Boolean, default=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    ledger_mark: Mapped[int] = mapped_column(Integer, default=0)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approve_event_id: Mapped[str | None] = mapped_column(ForeignKey("events.id"), unique=True)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What its standing lines add up to, kept by every change of a line (services/counts.py `_tally`) as the balances
    # are by the ledger: a scan reads them here instead of summing a count that may hold tens of thousands of lines.
    standing_lines: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    counted_items: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # items, not repeats
    counted_pieces: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # of lines not repeats

    store: Mapped["Store"] = relationship()  # noqa: F821
    location: Mapped["Location | None"] = relationship()  # noqa: F821
    started_by: Mapped["User"] = relationship(foreign_keys=[started_by_id])  # noqa: F821
    closed_by: Mapped["User | None"] = relationship(foreign_keys=[closed_by_id])  # noqa: F821
    approved_by: Mapped["User | None"] = relationship(foreign_keys=[approved_by_id])  # noqa: F821
    cancelled_by: Mapped["User | None"] = relationship(foreign_keys=[cancelled_by_id])  # noqa: F821
    approve_event: Mapped["Event | None"] = relationship()  # noqa: F821
    lines: Mapped[list["CountLine"]] = relationship(back_populates="count", order_by="CountLine.id")
    recounts: Mapped[list["CountRecount"]] = relationship(back_populates="count", order_by="CountRecount.id")
    tag: Mapped["Tag | None"] = relationship(back_populates="count", uselist=False)  # noqa: F821

    __table_args__ = (
        CheckConstraint(f"status IN {COUNT_STATUSES!r}", name="status"),
        CheckConstraint("round >= 1", name="round"),
        Index("ix_counts_store_id_status", "store_id", "status"),
    )

    @property
    def number(self) -> str:
        """The count's own reference, written on its adjustments: CNT-000012."""
        return f"CNT-{self.id:06d}"

    @property
    def place_name(self) -> str:
        """What is counted: the location's name, or the whole store."""
        return self.location.name if self.location else f"All of {self.store.name}"

    def __repr__(self) -> str:
        return f"<Count {self.id} {self.status}>"


class CountLine(db.Model):
    """One scan or entry of a count: an item (one piece), or pieces and weight of a lot, where it was counted.

    `event_id` is the id the phone made for the scan, unique: a scan queued offline and sent twice is one line.
    `pieces` is empty while a scanned lot's quantity is still to be entered. A `repeated` line is an item scanned
    again in the same count: kept and flagged, never counted twice. `ledger_mark` is the last movement id when
    the line was counted (the ledger as it stood then). A recount or a removal supersedes a line.
    """

    __tablename__ = "count_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("counts.id"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    pieces: Mapped[int | None] = mapped_column(Integer)
    weight: Mapped[Decimal | None] = mapped_column(Fixed(3))
    repeated: Mapped[bool] = mapped_column(Boolean, default=False)
    entered: Mapped[bool] = mapped_column(Boolean, default=False)  # typed by lot number, not scanned
    ledger_mark: Mapped[int] = mapped_column(Integer, default=0)
    counted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    count: Mapped[Count] = relationship(back_populates="lines")
    location: Mapped["Location"] = relationship()  # noqa: F821
    lot: Mapped["Lot"] = relationship()  # noqa: F821
    item: Mapped["Item | None"] = relationship()  # noqa: F821
    counted_by: Mapped["User"] = relationship(foreign_keys=[counted_by_id])  # noqa: F821
    superseded_by: Mapped["User | None"] = relationship(foreign_keys=[superseded_by_id])  # noqa: F821

    __table_args__ = (
        CheckConstraint("pieces IS NULL OR pieces >= 0", name="pieces"),
        CheckConstraint("weight IS NULL OR weight >= 0", name="weight"),
        CheckConstraint("item_id IS NULL OR pieces = 1", name="item_one_piece"),
        # An item counts once per count: at most one line of it that is neither a flagged repeat nor superseded.
        Index(
            "uq_count_lines_count_id_item_id",
            "count_id",
            "item_id",
            unique=True,
            sqlite_where=text("item_id IS NOT NULL AND NOT repeated AND superseded_at IS NULL"),
            postgresql_where=text("item_id IS NOT NULL AND NOT repeated AND superseded_at IS NULL"),
        ),
        # The newest lines of a count (the counting page shows the latest few), and its lines in order.
        Index("ix_count_lines_count_id_id", "count_id", "id"),
        # A count's scanned lots still waiting for their quantity: few, found without reading its other lines.
        Index(
            "ix_count_lines_waiting",
            "count_id",
            sqlite_where=text("pieces IS NULL AND superseded_at IS NULL"),
            postgresql_where=text("pieces IS NULL AND superseded_at IS NULL"),
        ),
    )

    @property
    def active(self) -> bool:
        """Counted: not superseded by a recount or removed."""
        return self.superseded_at is None

    def __repr__(self) -> str:
        return f"<CountLine {self.id} count={self.count_id} lot={self.lot_id} item={self.item_id} {self.pieces}pc>"


class CountRecount(db.Model):
    """A row of a count's review sent back for counting again (its earlier lines were superseded), in `round`."""

    __tablename__ = "count_recounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("counts.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    count: Mapped[Count] = relationship(back_populates="recounts")
    location: Mapped["Location"] = relationship()  # noqa: F821
    lot: Mapped["Lot"] = relationship()  # noqa: F821
    item: Mapped["Item | None"] = relationship()  # noqa: F821
    requested_by: Mapped["User"] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<CountRecount {self.id} count={self.count_id} round={self.round}>"
