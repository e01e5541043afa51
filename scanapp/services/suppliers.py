"""Suppliers: one list for the whole chain. Nothing is deleted; a supplier is deactivated and can come back."""

import re

from sqlalchemy import or_, select

from scanapp.extensions import db
from scanapp.models import Lot, Store, Supplier, User
from scanapp.services import DomainError, access
from scanapp.services.events import start_event

CODE_RE = re.compile(r"^[A-Z0-9]{2,12}$")


def create_supplier(
    code: str,
    name: str,
    *,
    contact: str = "",
    email: str = "",
    phone: str = "",
    notes: str = "",
    event_id: str,
    by: User,
    store: Store | None,
) -> Supplier:
    """A new active supplier. Raises DomainError for a malformed or taken code. Flushes."""
    access.require(by, "manage_suppliers")
    event = start_event(event_id, "create_supplier", by=by, store=store)
    supplier = Supplier(active=True)
    _fill(supplier, code, name, contact, email, phone, notes)
    db.session.add(supplier)
    db.session.flush()
    event.result = f"supplier:{supplier.id}"
    return supplier


def update_supplier(
    supplier: Supplier,
    code: str,
    name: str,
    *,
    contact: str = "",
    email: str = "",
    phone: str = "",
    notes: str = "",
    event_id: str,
    by: User,
    store: Store | None,
) -> Supplier:
    """Change a supplier's code, name or contact facts. Lots already numbered keep their numbers. Flushes."""
    access.require(by, "manage_suppliers")
    event = start_event(event_id, "update_supplier", by=by, store=store)
    _fill(supplier, code, name, contact, email, phone, notes)
    event.result = f"supplier:{supplier.id}"
    db.session.flush()
    return supplier


def deactivate_supplier(supplier: Supplier, *, event_id: str, by: User, store: Store | None) -> Supplier:
    """Hide a supplier from receiving; its lots and history stay. Flushes."""
    return _set_active(supplier, False, event_id=event_id, by=by, store=store)


def reactivate_supplier(supplier: Supplier, *, event_id: str, by: User, store: Store | None) -> Supplier:
    """Offer a deactivated supplier for receiving again. Flushes."""
    return _set_active(supplier, True, event_id=event_id, by=by, store=store)


def find_suppliers(query: str = "") -> list[Supplier]:
    """Suppliers whose code, name or contact contains `query` (any case), active ones first, then by name."""
    stmt = select(Supplier).order_by(Supplier.active.desc(), Supplier.name, Supplier.code)
    if words := query.strip():
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(*(column.ilike(pattern, escape="\\") for column in (Supplier.code, Supplier.name, Supplier.contact)))
        )
    return list(db.session.scalars(stmt))


def active_suppliers() -> list[Supplier]:
    """The suppliers a shipment can come from, by name."""
    return list(db.session.scalars(select(Supplier).where(Supplier.active).order_by(Supplier.name, Supplier.code)))


def supplier_lots(supplier: Supplier, user: User) -> list[Lot]:
    """The supplier's lots received by the stores `user` belongs to, newest first."""
    return list(
        db.session.scalars(
            select(Lot)
            .where(Lot.supplier_id == supplier.id, Lot.store_id.in_(user.store_ids))
            .order_by(Lot.received_on.desc(), Lot.id.desc())
        )
    )


def _fill(supplier: Supplier, code: str, name: str, contact: str, email: str, phone: str, notes: str) -> None:
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise DomainError("A supplier code has 2 to 12 letters or digits, like SUP or GEMS2.", field="code")
    taken = db.session.scalar(select(Supplier.id).where(Supplier.code == code, Supplier.id != supplier.id))
    if taken is not None:
        raise DomainError(f"The code {code} belongs to another supplier.", field="code")
    if not (name or "").strip():
        raise DomainError("Give the supplier's name.", field="name")
    supplier.code = code
    supplier.name = name.strip()
    supplier.contact = (contact or "").strip()
    supplier.email = (email or "").strip()
    supplier.phone = (phone or "").strip()
    supplier.notes = (notes or "").strip()


def _set_active(supplier: Supplier, active: bool, *, event_id: str, by: User, store: Store | None) -> Supplier:
    access.require(by, "manage_suppliers")
    event = start_event(event_id, "activate_supplier" if active else "deactivate_supplier", by=by, store=store)
    supplier.active = active
    event.result = f"supplier:{supplier.id}"
    db.session.flush()
    return supplier
