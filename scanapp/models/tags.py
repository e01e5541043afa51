"""Tag codes: one table, so that a code is unique across lots, items and locations."""

import re
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import UTCDateTime, utcnow

# Each kind of tagged thing and the column that points at it; a tag points at exactly one thing.
TARGET_COLUMNS = {
    "lot": "lot_id",
    "item": "item_id",
    "location": "location_id",
    "work_order": "work_order_id",
    "count": "count_id",
}
TAG_KINDS = tuple(TARGET_COLUMNS)
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")


def _one_target_sql() -> str:
    """SQL: the kind names the one target column that is set; every other target column is empty."""
    cases = []
    for kind, column in TARGET_COLUMNS.items():
        others = " AND ".join(f"{c} IS NULL" for c in TARGET_COLUMNS.values() if c != column)
        cases.append(f"(kind = '{kind}' AND {column} IS NOT NULL AND {others})")
    return " OR ".join(cases)


class Tag(db.Model):
    """A short code (A–Z, 0–9, '-') carried by exactly one lot, item or location."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), unique=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), unique=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), unique=True)
    count_id: Mapped[int | None] = mapped_column(ForeignKey("counts.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lot: Mapped["Lot | None"] = relationship(back_populates="tag")  # noqa: F821
    item: Mapped["Item | None"] = relationship(back_populates="tag")  # noqa: F821
    location: Mapped["Location | None"] = relationship(back_populates="tag")  # noqa: F821
    work_order: Mapped["WorkOrder | None"] = relationship(back_populates="tag")  # noqa: F821
    count: Mapped["Count | None"] = relationship(back_populates="tag")  # noqa: F821

    __table_args__ = (
        CheckConstraint("code = upper(code)", name="code_upper"),
        CheckConstraint(_one_target_sql(), name="one_target"),
    )

    @property
    def target(self):
        """The lot, item, location… this tag is on."""
        return getattr(self, self.kind)

    def __repr__(self) -> str:
        return f"<Tag {self.code} {self.kind}>"
