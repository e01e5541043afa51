"""Lots (stock sharing one origin), the items tracked on their own within them, and their documents."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import Fixed, UTCDateTime, utcnow

CATEGORIES = ("stone", "metal", "finished", "finding")
CATEGORY_CODES = {"stone": "ST", "metal": "MT", "finished": "FN", "finding": "FD"}
WEIGHT_UNITS = ("ct", "g")
DEFAULT_WEIGHT_UNIT = {"stone": "ct", "metal": "g", "finished": None, "finding": None}
ATTRIBUTES = ("metal", "karat", "stone", "shape", "colour", "clarity", "cut", "origin", "certificates")


class Lot(db.Model):
    """Stock sharing one origin. What was received is recorded here; where it is now lives in the ledger."""

    __tablename__ = "lots"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)  # the store that received it
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(200))
    po_number: Mapped[str] = mapped_column(String(40), default="")
    invoice_number: Mapped[str] = mapped_column(String(40), default="")
    received_on: Mapped[date] = mapped_column(Date)
    pieces_received: Mapped[int] = mapped_column(Integer)
    weight_received: Mapped[Decimal] = mapped_column(Fixed(3), default=Decimal(0))
    weight_unit: Mapped[str | None] = mapped_column(String(2))
    cost_total: Mapped[Decimal] = mapped_column(Fixed(2))
    metal: Mapped[str] = mapped_column(String(40), default="")
    karat: Mapped[str] = mapped_column(String(10), default="")
    stone: Mapped[str] = mapped_column(String(40), default="")
    shape: Mapped[str] = mapped_column(String(40), default="")
    colour: Mapped[str] = mapped_column(String(40), default="")
    clarity: Mapped[str] = mapped_column(String(20), default="")
    cut: Mapped[str] = mapped_column(String(40), default="")
    origin: Mapped[str] = mapped_column(String(60), default="")
    certificates: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    store: Mapped["Store"] = relationship()  # noqa: F821
    supplier: Mapped["Supplier"] = relationship(back_populates="lots")  # noqa: F821
    created_by: Mapped["User"] = relationship()  # noqa: F821
    items: Mapped[list["Item"]] = relationship(back_populates="lot", order_by="Item.serial")
    documents: Mapped[list["Document"]] = relationship(back_populates="lot", order_by="Document.uploaded_at")
    tag: Mapped["Tag | None"] = relationship(back_populates="lot", uselist=False)  # noqa: F821

    __table_args__ = (
        CheckConstraint(f"category IN {CATEGORIES!r}", name="category"),
        CheckConstraint("weight_unit IS NULL OR weight_unit IN ('ct', 'g')", name="weight_unit"),
        CheckConstraint("pieces_received >= 0", name="pieces_received"),
        CheckConstraint("weight_received >= 0", name="weight_received"),
        CheckConstraint("cost_total >= 0", name="cost_total"),
        CheckConstraint("number = upper(number)", name="number_upper"),
    )

    @property
    def unit_cost(self) -> Decimal | None:
        """Cost of one piece, when the lot has pieces."""
        return (self.cost_total / self.pieces_received).quantize(Decimal("0.01")) if self.pieces_received else None

    @property
    def weight_cost(self) -> Decimal | None:
        """Cost per ct or g, when the lot is weighed."""
        if self.weight_unit and self.weight_received:
            return (self.cost_total / self.weight_received).quantize(Decimal("0.01"))
        return None

    @property
    def attributes(self) -> dict[str, str]:
        """The jewelry attributes that are filled in, in display order."""
        return {name: getattr(self, name) for name in ATTRIBUTES if getattr(self, name)}

    def __repr__(self) -> str:
        return f"<Lot {self.number}>"


class Item(db.Model):
    """One piece tracked on its own, always part of a lot. `location` is kept in step by the ledger."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True)
    certificate: Mapped[str] = mapped_column(String(60), default="", index=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    weight: Mapped[Decimal] = mapped_column(Fixed(3), default=Decimal(0))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lot: Mapped[Lot] = relationship(back_populates="items")
    location: Mapped["Location"] = relationship()  # noqa: F821
    tag: Mapped["Tag | None"] = relationship(back_populates="item", uselist=False)  # noqa: F821

    __table_args__ = (CheckConstraint("weight >= 0", name="weight"),)

    def __repr__(self) -> str:
        return f"<Item {self.serial}>"


class Document(db.Model):
    """A certificate, invoice or other paper of a lot: a PDF or an image stored by content hash under media/."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    lot: Mapped[Lot] = relationship(back_populates="documents")
    uploaded_by: Mapped["User"] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<Document {self.filename}>"
