"""Inspections of lots and items (a checklist, a result, notes) and the photos taken with them."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import UTCDateTime, utcnow

INSPECTION_RESULTS = ("pass", "fail", "hold")
POINT_RESULTS = ("pass", "fail", "not_checked")


class Inspection(db.Model):
    """What someone saw when they inspected a lot (or one item of it): each checklist point of the lot's
    category as pass, fail or not_checked, and a result. A fail or hold puts stock on hold in the same event,
    so the event's movements show what was held or sent back."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), unique=True)
    inspected_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checklist: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # point -> pass / fail / not_checked
    result: Mapped[str] = mapped_column(String(8))
    notes: Mapped[str] = mapped_column(Text, default="")

    lot: Mapped["Lot"] = relationship()  # noqa: F821
    item: Mapped["Item | None"] = relationship()  # noqa: F821
    store: Mapped["Store"] = relationship()  # noqa: F821
    event: Mapped["Event"] = relationship()  # noqa: F821
    inspected_by: Mapped["User"] = relationship()  # noqa: F821
    photos: Mapped[list["Photo"]] = relationship(back_populates="inspection", order_by="Photo.id")

    __table_args__ = (
        CheckConstraint(f"result IN {INSPECTION_RESULTS!r}", name="result"),
        Index("ix_inspections_lot_id_id", "lot_id", "id"),
    )

    @property
    def failed_points(self) -> list[str]:
        return [point for point, outcome in self.checklist.items() if outcome == "fail"]

    def __repr__(self) -> str:
        return f"<Inspection {self.id} lot={self.lot_id} {self.result}>"


class Photo(db.Model):
    """A photo as stored: a JPEG without metadata under media/photos/ by the SHA-256 of its bytes (one file per
    content, however many rows name it), with a thumbnail beside it. `store` decides who may see it; the
    inspection is optional so that other workflows (returns) can keep photos too."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    original_filename: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    store: Mapped["Store"] = relationship()  # noqa: F821
    inspection: Mapped[Inspection | None] = relationship(back_populates="photos")
    uploaded_by: Mapped["User"] = relationship()  # noqa: F821

    __table_args__ = (
        CheckConstraint("width > 0 AND height > 0 AND size > 0", name="dimensions"),
        CheckConstraint("sha256 = lower(sha256)", name="sha256_lower"),
    )

    def __repr__(self) -> str:
        return f"<Photo {self.id} {self.sha256[:12]}>"
