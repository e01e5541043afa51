"""Tag codes: one table, so that a code is unique across lots, items and locations."""

import re
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import UTCDateTime, utcnow

TAG_KINDS = ("lot", "item", "location")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")


class Tag(db.Model):
    """A short code (A–Z, 0–9, '-') carried by exactly one lot, item or location."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), unique=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lot: Mapped["Lot | None"] = relationship(back_populates="tag")  # noqa: F821
    item: Mapped["Item | None"] = relationship(back_populates="tag")  # noqa: F821
    location: Mapped["Location | None"] = relationship(back_populates="tag")  # noqa: F821

    __table_args__ = (
        CheckConstraint("code = upper(code)", name="code_upper"),
        CheckConstraint(
            "(kind = 'lot' AND lot_id IS NOT NULL AND item_id IS NULL AND location_id IS NULL)"
            " OR (kind = 'item' AND item_id IS NOT NULL AND lot_id IS NULL AND location_id IS NULL)"
            " OR (kind = 'location' AND location_id IS NOT NULL AND lot_id IS NULL AND item_id IS NULL)",
            name="one_target",
        ),
    )

    @property
    def target(self):
        return self.lot or self.item or self.location

    def __repr__(self) -> str:
        return f"<Tag {self.code} {self.kind}>"
