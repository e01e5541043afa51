"""Plain factories for tests: each adds its object and flushes, the caller commits when it needs to."""

import itertools
from datetime import date
from decimal import Decimal

from scanapp.extensions import db
from scanapp.models import Item, Lot, Store, Supplier, User
from scanapp.services import ledger, stores, tags
from scanapp.services.events import new_event_id, start_event

_seq = itertools.count(1)


class Factory:
    def __init__(self, password_hash: str):
        self.password_hash = password_hash

    def store(self, code: str | None = None, name: str | None = None) -> Store:
        code = code or f"S{next(_seq)}"
        return stores.create_store(code, name or f"Store {code}")

    def location(self, store: Store, code: str | None = None, kind: str = "safe", name: str | None = None):
        code = code or f"L{next(_seq)}"
        return stores.create_location(store, code, name or code.title(), kind)

    def user(self, role: str = "manager", stores: list[Store] | None = None, username: str | None = None) -> User:
        username = username or f"{role}{next(_seq)}"
        user = User(
            username=username,
            name=f"{role.title()} {username}",
            role=role,
            password_hash=self.password_hash,
            stores=list(stores or []),
        )
        db.session.add(user)
        db.session.flush()
        return user

    def supplier(self, code: str | None = None, name: str | None = None) -> Supplier:
        code = code or f"SP{next(_seq)}"
        supplier = Supplier(code=code, name=name or f"Supplier {code}")
        db.session.add(supplier)
        db.session.flush()
        return supplier

    def lot(
        self,
        location,
        *,
        pieces: int = 10,
        weight: str | Decimal = "0",
        weight_unit: str | None = None,
        category: str = "finished",
        supplier: Supplier | None = None,
        by: User | None = None,
        number: str | None = None,
        cost: str = "1000.00",
        serials: list[str] = (),
    ) -> Lot:
        """A received lot: the lot, its tag, its items and the receive movements that put it in `location`."""
        store = location.store
        by = by or self.user("vault", [store])
        weight = Decimal(weight)
        lot = Lot(
            number=number or f"LOT-{next(_seq):04d}",
            store=store,
            supplier=supplier or self.supplier(),
            category=category,
            description=f"Test {category}",
            received_on=date(2026, 4, 1),
            pieces_received=pieces,
            weight_received=weight,
            weight_unit=weight_unit,
            cost_total=Decimal(cost),
            created_by=by,
        )
        db.session.add(lot)
        db.session.flush()
        tags.tag_lot(lot)
        event = start_event(new_event_id(), "receive_lot", by=by, store=store)
        supplier_loc = store.virtual("supplier")
        for serial in serials:
            item = Item(lot=lot, serial=serial, location=supplier_loc)
            db.session.add(item)
            db.session.flush()
            tags.tag_item(item)
            ledger.post(event, "receive", lot, supplier_loc, location, 1, item=item)
        if pieces - len(serials) > 0 or weight > 0:
            ledger.post(event, "receive", lot, supplier_loc, location, pieces - len(serials), weight)
        return lot

    def event(self, user: User, store: Store, action: str = "test"):
        return start_event(new_event_id(), action, by=user, store=store)
