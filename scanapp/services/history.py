"""Read-side queries for the lot, item and location pages: who may see a lot, where its pieces are, what sits at a
location, and the chain of custody. Balances come from the balances table; the ledger is only listed, never summed.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_, select, union_all
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from scanapp.extensions import db
from scanapp.models import Balance, Item, Location, Lot, Movement, Store, User

PAGE_SIZE = 50
CONTENTS_SHOWN = 100  # lots, and items, that a place's page lists before "Show all"
ZERO = Decimal(0)
# How the summary line names stock that is outside the stores' own places.
VIRTUAL_PHRASES = {
    "customer": "with customers",
    "transit": "in transit",
    "production": "used in production",
    "loss": "lost or written off",
    "vendor_return": "returned to suppliers",
}


def _nonzero() -> ColumnElement[bool]:
    return or_(Balance.pieces != 0, Balance.weight != 0)


def visible_lots(store_ids: set[int]) -> ColumnElement[bool]:
    """A condition on Lot: received by one of `store_ids`, or holding stock (any non-zero balance outside the
    supplier) at a location of one of them."""
    held_there = (
        select(Balance.id)
        .join(Location, Balance.location_id == Location.id)
        .where(Balance.lot_id == Lot.id, Location.store_id.in_(store_ids), Location.kind != "supplier", _nonzero())
        .exists()
    )
    return or_(Lot.store_id.in_(store_ids), held_there)


def lot_for(user: User, lot_id: int) -> Lot | None:
    """The lot with its supplier and tag, or None when it does not exist or `user` may not see it."""
    return db.session.scalar(
        select(Lot)
        .where(Lot.id == lot_id, visible_lots(user.store_ids))
        .options(joinedload(Lot.supplier), joinedload(Lot.tag))
    )


def item_for(user: User, item_id: int) -> Item | None:
    """The item with its lot, supplier, place and tag, or None when it does not exist or `user` may not see its
    lot."""
    return db.session.scalar(
        select(Item)
        .join(Item.lot)
        .where(Item.id == item_id, visible_lots(user.store_ids))
        .options(
            contains_eager(Item.lot).joinedload(Lot.supplier),
            joinedload(Item.location).joinedload(Location.store),
            joinedload(Item.tag),
        )
    )


@dataclass
class StoreStock:
    """A lot's stock in one store: one balance per location, and the sum on hand (in its physical places)."""

    store: Store
    balances: list[Balance] = field(default_factory=list)
    pieces: int = 0
    weight: Decimal = ZERO


@dataclass
class Whereabouts:
    """Where every piece of a lot is: per store and location, the total, and a one-line summary."""

    stores: list[StoreStock]
    pieces: int
    weight: Decimal
    summary: list[tuple[str, int, Decimal]]  # ("in Main Street", 10, weight), ("with customers", 2, weight)


def whereabouts(lot: Lot) -> Whereabouts:
    """Pieces and weight of `lot` at every location except the supplier, grouped by store (own places first,
    then virtual ones). The total equals what was received."""
    balances = db.session.scalars(
        select(Balance)
        .join(Balance.location)
        .join(Location.store)
        .options(contains_eager(Balance.location).contains_eager(Location.store))
        .where(Balance.lot_id == lot.id, Location.kind != "supplier", _nonzero())
    ).all()
    balances = sorted(balances, key=lambda b: (b.location.store.code, not b.location.is_physical, b.location.code))
    stores: dict[int, StoreStock] = {}
    on_hand: dict[str, list] = {}  # phrase -> [pieces, weight], stores' own places
    outside: dict[str, list] = {}  # the same for virtual places, summed over all stores
    for b in balances:
        stock = stores.setdefault(b.location.store_id, StoreStock(b.location.store))
        stock.balances.append(b)
        if b.location.is_physical:
            stock.pieces += b.pieces
            stock.weight += b.weight
            line = on_hand.setdefault(f"in {b.location.store.name}", [0, ZERO])
        else:
            line = outside.setdefault(VIRTUAL_PHRASES[b.location.kind], [0, ZERO])
        line[0] += b.pieces
        line[1] += b.weight
    return Whereabouts(
        stores=list(stores.values()),
        pieces=sum(b.pieces for b in balances),
        weight=sum((b.weight for b in balances), ZERO),
        summary=[(phrase, pieces, weight) for phrase, (pieces, weight) in (on_hand | outside).items()],
    )


def items_of(lot: Lot) -> list[Item]:
    """The lot's items by serial, each with the place (and store) where it is now."""
    return list(
        db.session.scalars(
            select(Item)
            .where(Item.lot_id == lot.id)
            .options(joinedload(Item.location).joinedload(Location.store))
            .order_by(Item.serial)
        )
    )


@dataclass
class MovementPage:
    """Movements newest first; `before` is the cursor of the next (older) page, None on the last one."""

    movements: list[Movement]
    before: int | None


def _with_details(stmt):
    """Load what a ledger row shows (places, stores, who, lot, item, reversal) with the rows, not one by one."""
    return stmt.options(
        joinedload(Movement.from_location).joinedload(Location.store),
        joinedload(Movement.to_location).joinedload(Location.store),
        joinedload(Movement.user),
        joinedload(Movement.lot),
        joinedload(Movement.item),
        selectinload(Movement.reversed_by),
    )


def _page(condition: ColumnElement[bool], before: int | None, size: int) -> MovementPage:
    stmt = select(Movement).where(condition)
    if before is not None:
        stmt = stmt.where(Movement.id < before)
    rows = list(db.session.scalars(_with_details(stmt.order_by(Movement.id.desc()).limit(size + 1))).unique())
    more = len(rows) > size
    rows = rows[:size]
    return MovementPage(rows, rows[-1].id if more else None)


def lot_movements(lot: Lot, before: int | None = None, size: int = PAGE_SIZE) -> MovementPage:
    """One page of the lot's ledger, newest first, older than movement id `before` when given."""
    return _page(Movement.lot_id == lot.id, before, size)


def location_movements(location: Location, before: int | None = None, size: int = PAGE_SIZE) -> MovementPage:
    """One page of movements into or out of `location`, newest first."""
    newest = []
    for column in (Movement.from_location_id, Movement.to_location_id):
        ids = select(Movement.id).where(column == location.id)
        if before is not None:
            ids = ids.where(Movement.id < before)
        newest.append(ids.order_by(Movement.id.desc()).limit(size + 1).subquery().select())
    return _page(Movement.id.in_(union_all(*newest)), before, size)


def item_path(item: Item) -> list[Movement]:
    """Every movement of the item, from its receipt to today."""
    stmt = select(Movement).where(Movement.item_id == item.id).order_by(Movement.id)
    return list(db.session.scalars(_with_details(stmt)).unique())


@dataclass
class Contents:
    """What is at a location now: lot balances (by lot number) and the items there (by serial), perhaps only the
    first of each, and how many there are in all."""

    balances: list[Balance]
    items: list[Item]
    lots_total: int
    items_total: int

    @property
    def partial(self) -> bool:
        return self.lots_total > len(self.balances) or self.items_total > len(self.items)


def contents(location: Location, limit: int | None = CONTENTS_SHOWN) -> Contents:
    """The lots with a non-zero balance at `location` and the items that sit there: the first `limit` of each
    (None: all) and their numbers. A safe holds thousands of both, the customers' place tens of thousands, and a
    page listing them all would cost more the longer the store runs."""
    here = (Balance.location_id == location.id, _nonzero())
    balances = db.session.scalars(
        select(Balance)
        .join(Balance.lot)
        .options(contains_eager(Balance.lot))
        .where(*here)
        .order_by(Lot.number)
        .limit(limit)
    ).all()
    items = db.session.scalars(
        select(Item)
        .where(Item.location_id == location.id)
        .options(joinedload(Item.lot))
        .order_by(Item.serial)
        .limit(limit)
    ).all()
    lots_total, items_total = len(balances), len(items)
    if limit is not None and lots_total == limit:
        lots_total = db.session.scalar(select(func.count()).select_from(Balance).where(*here))
    if limit is not None and items_total == limit:
        items_total = db.session.scalar(select(func.count()).select_from(Item).where(Item.location_id == location.id))
    return Contents(list(balances), list(items), lots_total, items_total)


@dataclass
class PlaceSummary:
    location: Location
    lots: int
    pieces: int


def places(store: Store) -> list[PlaceSummary]:
    """The store's active locations except the supplier, physical ones first, each with how many lots and
    pieces it holds now."""
    held = and_(Balance.location_id == Location.id, _nonzero())
    rows = db.session.execute(
        select(Location, func.count(Balance.id), func.coalesce(func.sum(Balance.pieces), 0))
        .outerjoin(Balance, held)
        .where(Location.store_id == store.id, Location.active, Location.kind != "supplier")
        .group_by(Location.id)
    ).all()
    summaries = [PlaceSummary(location, int(lots), int(pieces)) for location, lots, pieces in rows]
    return sorted(summaries, key=lambda p: (not p.location.is_physical, p.location.code))
