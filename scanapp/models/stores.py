"""Stores and the locations where their stock sits."""

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db

# `quarantine`: one per store, where stock on hold sits; only a release (or a vendor return, or a count
# adjustment) takes stock out of it (services/ledger.py).
PHYSICAL_KINDS = ("safe", "vault", "showcase", "bench", "backroom", "quarantine")
VIRTUAL_KINDS = ("supplier", "customer", "production", "loss", "transit", "vendor_return")
LOCATION_KINDS = PHYSICAL_KINDS + VIRTUAL_KINDS
# Virtual locations that stand for the world outside the store's stock: their balance may go below zero
# (the supplier's balance of a lot is minus what was received). Every other location is guarded at zero.
UNBOUNDED_KINDS = ("supplier", "customer", "production", "loss")


class PlaceNames:
    """What a place is called and whether it holds stock, from its `name`, `kind` and `store`: for the Location
    model and for the plain rows of places that the read pages use (services/history.PlaceRef)."""

    __slots__ = ()

    @property
    def is_physical(self) -> bool:
        return self.kind in PHYSICAL_KINDS

    @property
    def label(self) -> str:
        return f"{self.name} ({self.store.code})"


class Store(db.Model):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Lot number pattern: {supplier} supplier code, {mmyy} month and year received, {category} category code,
    # {seq} the next free sequence number for that prefix.
    lot_number_format: Mapped[str] = mapped_column(String(80), default="{supplier}-{mmyy}-{category}-{seq:03d}")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    locations: Mapped[list["Location"]] = relationship(back_populates="store", order_by="Location.code")

    __table_args__ = (CheckConstraint("code = upper(code)", name="code_upper"),)

    def virtual(self, kind: str) -> "Location":
        """This store's virtual location of `kind` (every store has one of each)."""
        return next(loc for loc in self.locations if loc.kind == kind)

    def __repr__(self) -> str:
        return f"<Store {self.code}>"


class Location(PlaceNames, db.Model):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    code: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    store: Mapped[Store] = relationship(back_populates="locations")
    tag: Mapped["Tag | None"] = relationship(back_populates="location", uselist=False)  # noqa: F821

    __table_args__ = (
        UniqueConstraint("store_id", "code"),
        CheckConstraint(f"kind IN {LOCATION_KINDS!r}", name="kind"),
    )

    def __repr__(self) -> str:
        return f"<Location {self.store_id}:{self.code} {self.kind}>"
