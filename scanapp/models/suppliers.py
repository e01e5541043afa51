"""Suppliers that lots come from; shared by all stores of the chain."""

from sqlalchemy import Boolean, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scanapp.extensions import db


class Supplier(db.Model):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    contact: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    lots: Mapped[list["Lot"]] = relationship(back_populates="supplier", order_by="Lot.received_on.desc()")  # noqa: F821

    __table_args__ = (CheckConstraint("code = upper(code)", name="code_upper"),)

    def __repr__(self) -> str:
        return f"<Supplier {self.code}>"
