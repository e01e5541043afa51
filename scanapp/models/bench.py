"""The bench: work orders (repairs and custom jobs) and the materials each one used, which become the components
of the piece a custom job produces."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db
from scanapp.models.types import Fixed, UTCDateTime, utcnow

WORK_ORDER_KINDS = ("repair", "custom")
WORK_ORDER_STATUSES = ("open", "in_progress", "waiting", "done", "collected")
ACTIVE_STATUSES = ("open", "in_progress", "waiting")


class WorkOrder(db.Model):
    """A bench job of one store. The piece worked on is the store's `item` (kept at the bench location while the
    job is active) or a customer's, described in `customer_piece`. A custom job ends by producing `produced_item`."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    customer_reference: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(Text)
    promised_on: Mapped[date | None] = mapped_column(Date)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    customer_piece: Mapped[str] = mapped_column(String(200), default="")
    jeweler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    bench_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    labour_cost: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal(0))
    # What the consumed materials cost when the piece was made (their lots' costs then); empty until then.
    material_cost: Mapped[Decimal | None] = mapped_column(Fixed(2))
    produced_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    store: Mapped["Store"] = relationship()  # noqa: F821
    item: Mapped["Item | None"] = relationship(foreign_keys=[item_id])  # noqa: F821
    produced_item: Mapped["Item | None"] = relationship(foreign_keys=[produced_item_id])  # noqa: F821
    jeweler: Mapped["User | None"] = relationship(foreign_keys=[jeweler_id])  # noqa: F821
    bench_location: Mapped["Location"] = relationship()  # noqa: F821
    created_by: Mapped["User"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    updated_by: Mapped["User"] = relationship(foreign_keys=[updated_by_id])  # noqa: F821
    tag: Mapped["Tag | None"] = relationship(back_populates="work_order", uselist=False)  # noqa: F821
    components: Mapped[list["Component"]] = relationship(back_populates="work_order", order_by="Component.id")

    __table_args__ = (
        CheckConstraint(f"kind IN {WORK_ORDER_KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {WORK_ORDER_STATUSES!r}", name="status"),
        CheckConstraint("labour_cost >= 0", name="labour_cost"),
        CheckConstraint("material_cost IS NULL OR material_cost >= 0", name="material_cost"),
        CheckConstraint("item_id IS NULL OR customer_piece = ''", name="one_piece"),
    )

    @property
    def code(self) -> str:
        """The job's tag code, e.g. WO-000123."""
        return self.tag.code if self.tag else ""

    @property
    def active(self) -> bool:
        """Still being worked on: materials may be logged."""
        return self.status in ACTIVE_STATUSES

    @property
    def total_cost(self) -> Decimal | None:
        """What the produced piece cost: its materials plus labour; None until a piece is made."""
        return None if self.material_cost is None else self.material_cost + self.labour_cost

    def __repr__(self) -> str:
        return f"<WorkOrder {self.id} {self.kind} {self.status}>"


class Component(db.Model):
    """One `consume` movement logged against a work order. When the job produces a piece, each line not undone
    becomes a component of it (`item`); taking the piece apart returns it with `returned_by`, a `produce`
    movement back into the component's own lot."""

    __tablename__ = "components"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("movements.id"), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("movements.id"), unique=True)

    work_order: Mapped[WorkOrder] = relationship(back_populates="components")
    movement: Mapped["Movement"] = relationship(foreign_keys=[movement_id])  # noqa: F821
    item: Mapped["Item | None"] = relationship()  # noqa: F821
    returned_by: Mapped["Movement | None"] = relationship(foreign_keys=[returned_by_id])  # noqa: F821

    def __repr__(self) -> str:
        return f"<Component {self.id} wo={self.work_order_id} movement={self.movement_id} item={self.item_id}>"
