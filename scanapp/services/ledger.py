"""The only code that writes movements and balances.

Every change of quantity or place is one Movement row, and the balances of its two locations change in the same
transaction. Taking stock out of a guarded location is one guarded UPDATE (`... WHERE pieces >= :n AND weight >=
:w`), so no physical location goes below zero, however many phones post at once; an item's place changes the
same way (`... WHERE location_id = :source`), so one item is never taken twice.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from scanapp.extensions import add_inserted, db, dialect_insert
from scanapp.models import (
    MOVEMENT_KINDS,
    UNBOUNDED_KINDS,
    Balance,
    Event,
    Item,
    Location,
    Lot,
    Movement,
)
from scanapp.services import DomainError

ZERO = Decimal(0)
# The only kinds that take stock out of a quarantine: a manager's release, sending it back to the supplier, and a
# count's correction. Anything else (move, sell, ship, consume…) is refused there, whichever service asks.
LEAVES_QUARANTINE = ("release", "vendor_return", "adjust")


def post(
    event: Event,
    kind: str,
    lot: Lot,
    source: Location,
    dest: Location,
    pieces: int,
    weight: Decimal = ZERO,
    *,
    item: Item | None = None,
    reference: str = "",
    note: str = "",
    reverses: Movement | None = None,
    amount: Decimal | None = None,
) -> Movement:
    """Append one movement and apply it to the two balances. `amount` is the money of the line (a sale price,
    a refund), if any. Flushes; the caller commits."""
    weight = Decimal(weight)
    _check(kind, lot, source, dest, pieces, weight, item)
    # Touch the two balance rows in a fixed order (by location id) so that concurrent opposite moves of one lot
    # cannot deadlock on PostgreSQL.
    for location, sign in sorted([(source, -1), (dest, +1)], key=lambda pair: pair[0].id):
        _apply(lot, location, sign * pieces, sign * weight)
    if item is not None:
        _put_item(item, source, dest)
    values = {
        "event_id": event.id,
        "line": len(event.movements),
        "kind": kind,
        "lot_id": lot.id,
        "item_id": item.id if item is not None else None,
        "from_location_id": source.id,
        "to_location_id": dest.id,
        "pieces": pieces,
        "weight": weight,
        "store_id": event.store_id if event.store_id is not None else dest.store_id,
        "user_id": event.user_id,
        "created_at": event.created_at,
        "reference": reference[:80],
        "note": note,
        "amount": amount,
        "reverses_id": reverses.id if reverses is not None else None,
    }
    movement = add_inserted(
        Movement, values, event=event, lot=lot, item=item, from_location=source, to_location=dest, user=event.user,
        reverses=reverses, reversed_by=None,
    )  # fmt: skip
    set_committed_value(event, "movements", [*event.movements, movement])
    if reverses is not None:
        set_committed_value(reverses, "reversed_by", movement)
    return movement


def reverse(event: Event, movement: Movement, *, note: str = "") -> Movement:
    """Undo `movement` with a new one the other way that names it. A movement is reversed at most once."""
    if movement.reversed_by is not None:
        raise DomainError(f"That {movement.kind} was already undone.")
    if movement.item is not None and movement.item.location_id != movement.to_location_id:
        raise DomainError(f"{movement.item.serial} has moved since; undo the later move first.")
    return post(
        event,
        movement.kind,
        movement.lot,
        movement.to_location,
        movement.from_location,
        movement.pieces,
        movement.weight,
        item=movement.item,
        reference=movement.reference,
        note=note or f"Undo of movement {movement.id}",
        reverses=movement,
        amount=movement.amount,
    )


@dataclass(frozen=True)
class LedgerDifference:
    lot_id: int
    location_id: int
    ledger_pieces: int
    ledger_weight: Decimal
    balance_pieces: int
    balance_weight: Decimal


def check_ledger() -> list[LedgerDifference]:
    """Recompute every balance from the ledger; return each (lot, location) where the balance table differs."""
    inflow = select(Movement.lot_id, Movement.to_location_id.label("location_id"), Movement.pieces, Movement.weight)
    outflow = select(
        Movement.lot_id,
        Movement.from_location_id.label("location_id"),
        (-Movement.pieces).label("pieces"),
        (-Movement.weight).label("weight"),
    )
    flows = inflow.union_all(outflow).subquery()
    sums = db.session.execute(
        select(flows.c.lot_id, flows.c.location_id, func.sum(flows.c.pieces), func.sum(flows.c.weight)).group_by(
            flows.c.lot_id, flows.c.location_id
        )
    ).all()
    ledger = {(lot, loc): (int(p or 0), Decimal(w or 0)) for lot, loc, p, w in sums}
    table = {(b.lot_id, b.location_id): (b.pieces, b.weight) for b in db.session.scalars(select(Balance)).all()}
    differences = []
    for key in sorted(ledger.keys() | table.keys()):
        lp, lw = ledger.get(key, (0, ZERO))
        bp, bw = table.get(key, (0, ZERO))
        if lp != bp or _fixed(lw) != bw:
            differences.append(LedgerDifference(key[0], key[1], lp, _fixed(lw), bp, bw))
    return differences


def balances_of(lot: Lot) -> list[Balance]:
    """The lot's non-zero balances, physical places first."""
    rows = db.session.scalars(
        select(Balance)
        .join(Balance.location)
        .options(contains_eager(Balance.location).joinedload(Location.store))
        .where(Balance.lot_id == lot.id, (Balance.pieces != 0) | (Balance.weight != 0))
        .order_by(Location.store_id, Location.kind, Location.code)
    ).all()
    return sorted(rows, key=lambda b: (not b.location.is_physical, b.location.store_id, b.location.code))


def balance_at(lot: Lot, location: Location) -> tuple[int, Decimal]:
    """Pieces and weight of `lot` at `location` now."""
    row = db.session.execute(
        select(Balance.pieces, Balance.weight).where(Balance.lot_id == lot.id, Balance.location_id == location.id)
    ).first()
    return (row.pieces, row.weight) if row else (0, ZERO)


def _fixed(value: Decimal) -> Decimal:
    """Sums come back as float-ish numerics on some drivers; compare at the column's scale."""
    return Decimal(value).quantize(Decimal("0.001"))


def _check(kind, lot, source, dest, pieces, weight, item) -> None:
    if kind not in MOVEMENT_KINDS:
        raise DomainError(f"Unknown movement kind {kind!r}.")
    if source.kind == "quarantine" and kind not in LEAVES_QUARANTINE:
        held = item.serial if item is not None else lot.number
        raise DomainError(f"{held} is on hold in {source.label}: a manager must release it first.", field="lines")
    if not isinstance(pieces, int) or isinstance(pieces, bool) or pieces < 0:
        raise DomainError("Pieces must be a whole number, zero or more.", field="pieces")
    if weight < 0 or weight != weight.quantize(Decimal("0.001")):
        raise DomainError("Weight must be zero or more, with at most three decimals.", field="weight")
    if pieces == 0 and weight == 0:
        raise DomainError("Nothing to move: give pieces or weight.", field="pieces")
    if weight and not lot.weight_unit:
        raise DomainError(f"Lot {lot.number} is counted in pieces only.", field="weight")
    if source.id == dest.id:
        raise DomainError(f"{source.label} is both the source and the destination.")
    if item is not None:
        if item.lot_id != lot.id:
            raise DomainError(f"Item {item.serial} is not part of lot {lot.number}.")
        if pieces != 1:
            raise DomainError("An item moves as exactly one piece.", field="pieces")
        if item.location_id != source.id:
            raise DomainError(f"Item {item.serial} is in {item.location.label}, not in {source.label}.")


def _apply(lot: Lot, location: Location, pieces: int, weight: Decimal) -> None:
    """Add (or, with negative numbers, take) pieces and weight to the lot's balance at `location`.

    Taking from a guarded location is the guarded UPDATE alone: a missing row holds nothing, so it refuses as a
    row at zero would. Anything else is one upsert (insert the row, or add to it), not an insert then an update."""
    guarded = location.kind not in UNBOUNDED_KINDS and (pieces < 0 or weight < 0)
    if not guarded:
        _add_to_balance(lot.id, location.id, pieces, weight)
        return
    table = Balance.__table__
    stmt = (
        update(table)
        .where(table.c.lot_id == lot.id, table.c.location_id == location.id)
        .where(table.c.pieces >= -pieces, table.c.weight >= -weight)
        .values(pieces=table.c.pieces + pieces, weight=table.c.weight + weight)
        .returning(table.c.id)
    )
    if (balance_id := db.session.execute(stmt).scalar()) is not None:
        _expire_loaded(balance_id)
    else:
        have_pieces, have_weight = balance_at(lot, location)
        unit = f" {lot.weight_unit}" if lot.weight_unit else ""
        have = f"{have_pieces} pcs" + (f", {have_weight}{unit}" if lot.weight_unit else "")
        raise DomainError(f"Not enough of lot {lot.number} in {location.label}: it holds {have}.")


def _add_to_balance(lot_id: int, location_id: int, pieces: int, weight: Decimal) -> None:
    """Add pieces and weight to the (lot, location) balance, creating the row if it is missing, in one statement
    that is safe under concurrent inserts. A Balance already loaded in the session is expired, as the UPDATE's
    synchronize_session does, so that it is read again with the new quantities."""
    table = Balance.__table__
    stmt = dialect_insert()(table).values(lot_id=lot_id, location_id=location_id, pieces=pieces, weight=weight)
    stmt = stmt.on_conflict_do_update(
        index_elements=["lot_id", "location_id"],
        set_={"pieces": table.c.pieces + stmt.excluded.pieces, "weight": table.c.weight + stmt.excluded.weight},
    ).returning(table.c.id)
    _expire_loaded(db.session.execute(stmt).scalar_one())


def _expire_loaded(balance_id: int) -> None:
    """Expire the quantities of the Balance `balance_id` if the session holds it, so that it is read again: the
    statements above are Core ones, which leave loaded objects as they were (and cost less than the ORM's)."""
    loaded = db.session.identity_map.get(identity_key(Balance, balance_id))
    if loaded is not None:
        db.session.expire(loaded, ["pieces", "weight"])


def lock_balances(lot: Lot, *locations: Location) -> None:
    """Lock the lot's balance rows at `locations` until commit, in the order `post` takes them (PostgreSQL; SQLite
    has one writer anyway), so that what is read of them next still holds when `post` writes: the loose pieces
    beside a lot's items, which the guarded UPDATE cannot see."""
    for location in sorted(locations, key=lambda place: place.id):
        _ensure_balance(lot.id, location.id)
        db.session.execute(
            select(Balance.lot_id).where(Balance.lot_id == lot.id, Balance.location_id == location.id).with_for_update()
        )


def _put_item(item: Item, source: Location, dest: Location) -> None:
    """Move the item's place from `source` to `dest` with a guarded UPDATE (`... WHERE location_id = :source`):
    the item was read before this transaction could see a concurrent move or sale of it, and two phones taking
    the same item at once must not both succeed."""
    table = Item.__table__
    stmt = update(table).where(table.c.id == item.id, table.c.location_id == source.id).values(location_id=dest.id)
    if db.session.execute(stmt).rowcount != 1:
        raise DomainError(f"Item {item.serial} is no longer in {source.label}: it was moved or sold a moment ago.")
    set_committed_value(item, "location_id", dest.id)
    set_committed_value(item, "location", dest)


def _ensure_balance(lot_id: int, location_id: int) -> None:
    """Create the (lot, location) balance row at zero if it is missing; safe under concurrent inserts."""
    db.session.execute(
        dialect_insert()(Balance)
        .values(lot_id=lot_id, location_id=location_id, pieces=0, weight=ZERO)
        .on_conflict_do_nothing(index_elements=["lot_id", "location_id"])
    )
