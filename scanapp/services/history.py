"""Read-side queries for the lot, item and location pages: who may see a lot, where its pieces are, what sits at a
location, and the chain of custody. Balances come from the balances table; the ledger is only listed, never summed.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, union_all
from sqlalchemy.orm import aliased, contains_eager, joinedload

from scanapp.extensions import db
from scanapp.models import Balance, Document, Item, Location, Lot, Movement, Store, User
from scanapp.models.stores import PlaceNames

PAGE_SIZE = 50
CONTENTS_SHOWN = 100  # lots, and items, that a place's page lists at a time ("Show more")
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


@cache
def _visible(entity: type[Lot] | type[Item]) -> Select:
    """The lot (or the item) with what its page shows, if the user's stores may see it; built once, with the id
    and the store ids as parameters, since building the condition costs more than running it."""
    store_ids = bindparam("store_ids", expanding=True)
    if entity is Lot:
        return (
            select(Lot)
            .where(Lot.id == bindparam("id"), visible_lots(store_ids))
            .options(joinedload(Lot.supplier), joinedload(Lot.tag))
        )
    return (
        select(Item)
        .join(Item.lot)
        .where(Item.id == bindparam("id"), visible_lots(store_ids))
        .options(
            contains_eager(Item.lot).joinedload(Lot.supplier),
            joinedload(Item.location).joinedload(Location.store),
            joinedload(Item.tag),
        )
    )


def lot_for(user: User, lot_id: int) -> Lot | None:
    """The lot with its supplier and tag, or None when it does not exist or `user` may not see it."""
    return db.session.scalar(_visible(Lot), {"id": lot_id, "store_ids": sorted(user.store_ids)})


def item_for(user: User, item_id: int) -> Item | None:
    """The item with its lot, supplier, place and tag, or None when it does not exist or `user` may not see its
    lot."""
    return db.session.scalar(_visible(Item), {"id": item_id, "store_ids": sorted(user.store_ids)})


class StoreRef(NamedTuple):
    """A store as the read pages name it."""

    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PlaceRef(PlaceNames):
    """A location as the read pages name and link it: plain values, with Location's is_physical and label."""

    id: int
    code: str
    name: str
    kind: str
    store: StoreRef

    @property
    def store_id(self) -> int:
        return self.store.id


class Stock(NamedTuple):
    """A balance as the lot page shows it: pieces and weight of the lot at one place."""

    location: PlaceRef
    pieces: int
    weight: Decimal

    @property
    def location_id(self) -> int:
        return self.location.id


def _places(rows: Iterable) -> Iterable[tuple[PlaceRef, tuple]]:
    """(PlaceRef, rest) for rows that start with the place's id, code, name, kind and its store's id, code, name;
    one StoreRef per store."""
    stores: dict[int, StoreRef] = {}
    for id, code, name, kind, store_id, store_code, store_name, *rest in rows:
        store = stores.get(store_id) or stores.setdefault(store_id, StoreRef(store_id, store_code, store_name))
        yield PlaceRef(id, code, name, kind, store), rest


_PLACE_COLUMNS = (Location.id, Location.code, Location.name, Location.kind, Store.id, Store.code, Store.name)


@dataclass
class StoreStock:
    """A lot's stock in one store: one balance per location, and the sum on hand (in its physical places)."""

    store: StoreRef
    balances: list[Stock] = field(default_factory=list)
    pieces: int = 0
    weight: Decimal = ZERO


@dataclass
class Whereabouts:
    """Where every piece of a lot is: per store and location, the total, a one-line summary, and what is on hold
    (the balances in quarantine, by store)."""

    stores: list[StoreStock]
    pieces: int
    weight: Decimal
    summary: list[tuple[str, int, Decimal]]  # ("in Main Street", 10, weight), ("with customers", 2, weight)
    holds: list[Stock] = field(default_factory=list)


def whereabouts(lot: Lot) -> Whereabouts:
    """Pieces and weight of `lot` at every location except the supplier, grouped by store (own places first,
    then virtual ones). The total equals what was received."""
    rows = db.session.execute(_statement("whereabouts"), {"id": lot.id})
    balances = [Stock(place, pieces, weight) for place, (pieces, weight) in _places(rows)]
    balances.sort(key=lambda b: (b.location.store.code, not b.location.is_physical, b.location.code))
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
        holds=sorted((b for b in balances if b.location.kind == "quarantine"), key=lambda b: b.location.store_id),
    )


class ItemRow(NamedTuple):
    """An item as the lot and place pages list it."""

    id: int
    serial: str
    certificate: str
    description: str
    lot_number: str = ""  # on a place's page: its lot
    lot_description: str = ""
    location: PlaceRef | None = None  # on the lot page: where it is now


def items_of(lot: Lot) -> list[ItemRow]:
    """The lot's items by serial, each with the place (and store) where it is now."""
    rows = db.session.execute(_statement("items_of"), {"id": lot.id})
    return [ItemRow(*rest, location=place) for place, rest in _places(rows)]


class DocumentRow(NamedTuple):
    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime


def documents_of(lot: Lot) -> list[DocumentRow]:
    """The lot's documents, oldest first (Lot.documents' order)."""
    return [DocumentRow._make(row) for row in db.session.execute(_statement("documents_of"), {"id": lot.id})]


class LedgerRow(NamedTuple):
    """One movement as the ledger tables and the item's path show it: plain values read in one statement, so that
    a page of fifty rows costs no ORM objects (see _ledger_select)."""

    id: int
    kind: str
    created_at: datetime
    pieces: int
    weight: Decimal
    lot_id: int
    lot_number: str
    unit: str | None  # the lot's weight unit
    item_id: int | None
    serial: str | None
    from_label: str
    to_label: str
    user_name: str
    reference: str
    note: str
    reverses_id: int | None
    reversed_by_id: int | None  # the movement that undoes this one


def _label(location, store) -> ColumnElement[str]:
    """Location.label in SQL: "Main safe (MAIN)"."""
    return location.name + " (" + store.code + ")"


@cache
def _ledger_select() -> Select:
    """The columns of LedgerRow, built once (a statement is immutable, and aliasing costs more than the query).
    Outer joins keep the movements the driving table, so the planner walks them newest first by the condition's
    index and stops at the limit."""
    source, target = aliased(Location), aliased(Location)
    source_store, target_store = aliased(Store), aliased(Store)
    undo = aliased(Movement)
    return (
        select(
            Movement.id,
            Movement.kind,
            Movement.created_at,
            Movement.pieces,
            Movement.weight,
            Movement.lot_id,
            Lot.number,
            Lot.weight_unit,
            Movement.item_id,
            Item.serial,
            _label(source, source_store),
            _label(target, target_store),
            User.name,
            Movement.reference,
            Movement.note,
            Movement.reverses_id,
            undo.id,
        )
        .select_from(Movement)
        .outerjoin(Lot, Movement.lot_id == Lot.id)
        .outerjoin(Item, Movement.item_id == Item.id)
        .outerjoin(source, Movement.from_location_id == source.id)
        .outerjoin(source_store, source.store_id == source_store.id)
        .outerjoin(target, Movement.to_location_id == target.id)
        .outerjoin(target_store, target.store_id == target_store.id)
        .outerjoin(User, Movement.user_id == User.id)
        .outerjoin(undo, undo.reverses_id == Movement.id)
    )


def ledger_rows(movements: Iterable[Movement | LedgerRow]) -> list[LedgerRow]:
    """`movements` as LedgerRows: rows pass through; ORM movements (a count's, say) are read attribute by
    attribute. The ledger macros call this once per table, so they draw both alike."""
    return [
        m
        if isinstance(m, LedgerRow)
        else LedgerRow(
            m.id,
            m.kind,
            m.created_at,
            m.pieces,
            m.weight,
            m.lot_id,
            m.lot.number,
            m.lot.weight_unit,
            m.item_id,
            m.item.serial if m.item else None,
            m.from_location.label,
            m.to_location.label,
            m.user.name,
            m.reference,
            m.note,
            m.reverses_id,
            m.reversed_by.id if m.reversed_by else None,
        )
        for m in movements
    ]


@dataclass
class MovementPage:
    """Movements newest first; `before` is the cursor of the next (older) page, None on the last one."""

    movements: list[LedgerRow] | list[Movement]
    before: int | None


def _page(name: str, id: int, before: int | None, size: int) -> MovementPage:
    params = {"id": id, "size": size + 1} | ({} if before is None else {"before": before})
    rows = [LedgerRow._make(row) for row in db.session.execute(_statement(name, paged=before is not None), params)]
    more = len(rows) > size
    rows = rows[:size]
    return MovementPage(rows, rows[-1].id if more else None)


def lot_movements(lot: Lot, before: int | None = None, size: int = PAGE_SIZE) -> MovementPage:
    """One page of the lot's ledger, newest first, older than movement id `before` when given."""
    return _page("lot_movements", lot.id, before, size)


def location_movements(location: Location, before: int | None = None, size: int = PAGE_SIZE) -> MovementPage:
    """One page of movements into or out of `location`, newest first."""
    return _page("location_movements", location.id, before, size)


def item_path(item: Item) -> list[LedgerRow]:
    """Every movement of the item, from its receipt to today."""
    return [LedgerRow._make(row) for row in db.session.execute(_statement("item_path"), {"id": item.id})]


class LotStock(NamedTuple):
    """A balance as a place's page lists it: the lot, and its pieces and weight there."""

    lot_id: int
    number: str
    description: str
    unit: str | None
    pieces: int
    weight: Decimal


class Shown(NamedTuple):
    """A page of a place's lots or items, in order, and where the next page starts (the last number or serial
    shown; None when this is the last page)."""

    rows: list
    next: str | None


@dataclass
class Contents:
    """What is at a location now: a page of its lot balances (by lot number) and of the items there (by serial),
    each with where the next page starts, and how many there are in all."""

    lots: Shown
    items: Shown
    lots_total: int
    items_total: int


def contents(location: Location, lots_after: str = "", items_after: str = "") -> Contents:
    """A page of the lots with a non-zero balance at `location` and of the items that sit there (the first, or
    those after lot number `lots_after` and serial `items_after`), and their numbers. A safe holds thousands of
    both, the customers' place tens of thousands, and a page listing them all would cost more the longer the store
    runs."""
    lots, items = lots_at(location, lots_after), items_at(location, items_after)
    lots_total, items_total = len(lots.rows), len(items.rows)
    if lots.next is not None or lots_after:
        lots_total = db.session.scalar(_statement("lots_at_count"), {"id": location.id})
    if items.next is not None or items_after:
        items_total = db.session.scalar(_statement("items_at_count"), {"id": location.id})
    return Contents(lots, items, lots_total, items_total)


def lots_at(location: Location, after: str = "") -> Shown:
    """The next CONTENTS_SHOWN lots with stock at `location` after lot number `after` (from the first when
    empty), by number."""
    rows = [LotStock._make(row) for row in _page_after("lots_at", location, after)]
    return _shown(rows, lambda lot: lot.number)


def items_at(location: Location, after: str = "") -> Shown:
    """The next CONTENTS_SHOWN items at `location` after serial `after` (from the first when empty), by serial."""
    rows = [ItemRow(*row) for row in _page_after("items_at", location, after)]
    return _shown(rows, lambda item: item.serial)


def _page_after(name: str, location: Location, after: str):
    # One row more than a page, to know whether another page follows.
    return db.session.execute(_statement(name), {"id": location.id, "after": after, "size": CONTENTS_SHOWN + 1})


def _shown(rows: list, key) -> Shown:
    if len(rows) <= CONTENTS_SHOWN:
        return Shown(rows, None)
    rows = rows[:CONTENTS_SHOWN]
    return Shown(rows, key(rows[-1]))


@cache
def _statement(name: str, paged: bool = False) -> Select:
    """The read pages' statements, built once each (building a statement and its cache key costs several times
    more than running these indexed ones). Parameters: :id, the lot, item or location; :size, a page's limit;
    :before, a movement id; :after, the lot number or serial a place's next page of lots or items starts after.
    `paged`: the ledgers' older pages (before :before)."""
    id, size, before, after = bindparam("id"), bindparam("size"), bindparam("before"), bindparam("after")
    here = and_(Balance.location_id == id, _nonzero())
    match name:
        case "whereabouts":
            return (
                select(*_PLACE_COLUMNS, Balance.pieces, Balance.weight)
                .join(Location, Balance.location_id == Location.id)
                .join(Store, Location.store_id == Store.id)
                .where(Balance.lot_id == id, Location.kind != "supplier", _nonzero())
            )
        case "items_of":
            return (
                select(*_PLACE_COLUMNS, Item.id, Item.serial, Item.certificate, Item.description)
                .select_from(Item)
                .join(Location, Item.location_id == Location.id)
                .join(Store, Location.store_id == Store.id)
                .where(Item.lot_id == id)
                .order_by(Item.serial)
            )
        case "documents_of":
            columns = (Document.id, Document.filename, Document.content_type, Document.size, Document.uploaded_at)
            return select(*columns).where(Document.lot_id == id).order_by(Document.uploaded_at)
        case "lot_movements":
            stmt = _ledger_select().where(Movement.lot_id == id)
            if paged:
                stmt = stmt.where(Movement.id < before)
            return stmt.order_by(Movement.id.desc()).limit(size)
        case "location_movements":
            newest = []
            for column in (Movement.from_location_id, Movement.to_location_id):
                ids = select(Movement.id).where(column == id)
                if paged:
                    ids = ids.where(Movement.id < before)
                newest.append(ids.order_by(Movement.id.desc()).limit(size).subquery().select())
            return _ledger_select().where(Movement.id.in_(union_all(*newest))).order_by(Movement.id.desc()).limit(size)
        case "item_path":
            return _ledger_select().where(Movement.item_id == id).order_by(Movement.id)
        case "lots_at":
            columns = (Lot.id, Lot.number, Lot.description, Lot.weight_unit, Balance.pieces, Balance.weight)
            return (
                select(*columns)
                .join(Lot, Balance.lot_id == Lot.id)
                .where(here, Lot.number > after)
                .order_by(Lot.number)
                .limit(size)
            )
        case "items_at":
            columns = (Item.id, Item.serial, Item.certificate, Item.description)
            return (
                select(*columns, Lot.number, Lot.description)
                .join(Lot, Item.lot_id == Lot.id)
                .where(Item.location_id == id, Item.serial > after)
                .order_by(Item.serial)
                .limit(size)
            )
        case "lots_at_count":
            return select(func.count()).select_from(Balance).where(here)
        case "items_at_count":
            return select(func.count()).select_from(Item).where(Item.location_id == id)
    raise ValueError(name)


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
