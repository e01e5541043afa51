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
# The kinds of place a person may add; every store gets its one `quarantine` when it is made.
PLACE_KINDS = tuple(kind for kind in PHYSICAL_KINDS if kind != "quarantine")


def create_store(code: str, name: str) -> Store:
    """A store with its set of virtual locations and its quarantine. Flushes."""
    code = tags.normalise(code)
    if db.session.scalar(select(Store).where(Store.code == code)) is not None:
        raise DomainError(f"A store with code {code} exists already.", field="code")
    store = Store(code=code, name=name.strip())
    db.session.add(store)
    for kind in VIRTUAL_KINDS:
        db.session.add(Location(store=store, code=kind.upper().replace("_", "-"), name=VIRTUAL_NAMES[kind], kind=kind))
    db.session.flush()
    quarantine(store)
    from scanapp.services.returns import seed_reasons  # returns builds on this module: import here, not above

    seed_reasons(store)
    return store


def quarantine(store: Store) -> Location:
    """The store's quarantine, where stock on hold sits; made with its tag the first time it is needed (stores
    made before there were holds have none). Flushes."""
    place = next((loc for loc in store.locations if loc.kind == "quarantine"), None)
    if place is None:
        place = Location(store=store, code="QUARANTINE", name="Quarantine", kind="quarantine")
        db.session.add(place)
        db.session.flush()
        tags.tag_location(place)
    return place


def create_location(store: Store, code: str, name: str, kind: str) -> Location:
    """A physical location with its tag. Flushes."""
    if kind not in PLACE_KINDS:
        raise DomainError(f"Choose one of: {', '.join(PLACE_KINDS)}.", field="kind")
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
    """The store's active places where stock may be put (physical, not the quarantine), by code."""
    return list(
        db.session.scalars(
            select(Location)
            .where(Location.store_id == store.id, Location.kind.in_(PLACE_KINDS), Location.active)
            .order_by(Location.code)
        )
    )
