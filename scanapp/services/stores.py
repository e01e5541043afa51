"""Stores and locations."""

from sqlalchemy import select

from scanapp.extensions import db
from scanapp.models import PHYSICAL_KINDS, VIRTUAL_KINDS, Location, Store
from scanapp.services import DomainError, tags

VIRTUAL_NAMES = {
    "supplier": "Suppliers",
    "customer": "Customers",
    "production": "Production",
    "loss": "Loss and count differences",
    "transit": "In transit",
    "vendor_return": "Returned to suppliers",
}


def create_store(code: str, name: str) -> Store:
    """A store with its set of virtual locations. Flushes."""
    code = tags.normalise(code)
    if db.session.scalar(select(Store).where(Store.code == code)) is not None:
        raise DomainError(f"A store with code {code} exists already.", field="code")
    store = Store(code=code, name=name.strip())
    db.session.add(store)
    for kind in VIRTUAL_KINDS:
        db.session.add(Location(store=store, code=kind.upper().replace("_", "-"), name=VIRTUAL_NAMES[kind], kind=kind))
    db.session.flush()
    return store


def create_location(store: Store, code: str, name: str, kind: str) -> Location:
    """A physical location with its tag. Flushes."""
    if kind not in PHYSICAL_KINDS:
        raise DomainError(f"Choose one of: {', '.join(PHYSICAL_KINDS)}.", field="kind")
    code = tags.normalise(code)
    exists = select(Location).where(Location.store_id == store.id, Location.code == code)
    if db.session.scalar(exists) is not None:
        raise DomainError(f"{store.code} already has a location {code}.", field="code")
    location = Location(store=store, code=code, name=name.strip() or code, kind=kind)
    db.session.add(location)
    db.session.flush()
    tags.tag_location(location)
    return location


def physical_locations(store: Store) -> list[Location]:
    """The store's active physical locations, by code."""
    return list(
        db.session.scalars(
            select(Location)
            .where(Location.store_id == store.id, Location.kind.in_(PHYSICAL_KINDS), Location.active)
            .order_by(Location.code)
        )
    )
