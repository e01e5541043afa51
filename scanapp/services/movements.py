"""Moving stock between the places of one store, emptying a place into another, and undoing a move.

Every service that takes stock out of a place (move, sell, ship, arrive, write off, book) goes through
`take_from`, so a rule about what may leave a place is checked there, once.
"""

from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased, contains_eager

from scanapp.extensions import db
from scanapp.models import PHYSICAL_KINDS, Balance, Item, Location, Lot, Movement, Store, User
from scanapp.services import DomainError, access, ledger
from scanapp.services.events import start_event

ZERO = Decimal(0)


@dataclass(frozen=True)
class MoveLine:
    """One thing to move: an item (it moves from where it is, as one piece), or pieces and weight of a lot
    from a source location. A scan-to-move page builds one per scanned tag (see `lines_for_scan`)."""

    item: Item | None = None
    lot: Lot | None = None
    source: Location | None = None
    pieces: int = 0
    weight: Decimal = ZERO

    @property
    def label(self) -> str:
        """What the line is, for a message: "item R-1", "lot SUP-0426-ST-001"."""
        return f"item {self.item.serial}" if self.item else f"lot {self.lot.number}"

    @property
    def subject(self) -> str:
        """The label at the start of a sentence."""
        return self.label[0].upper() + self.label[1:]


def move_stock(
    dest: Location, lines: list[MoveLine], *, event_id: str, by: User, store: Store, note: str = ""
) -> list[Movement]:
    """Move each line to `dest`, a place of the same store, as one event (kind `move`). Flushes."""
    access.require(by, "move")
    access.require_store(by, store.id)
    event = start_event(event_id, "move", by=by, store=store, result=f"location:{dest.id}")
    if dest.store_id != store.id:
        raise DomainError(f"{dest.label} is in another store: use Ship to send to another store.", field="dest")
    check_destination(dest, store)
    lines = check_lines(lines, store)
    for line in lines:
        if line.source.id == dest.id:
            raise DomainError(f"{line.subject} is already in {dest.label}.", field="lines")
    return [take_from(event, "move", line, dest, note=note.strip()) for line in lines]


def move_location_contents(
    source: Location, dest: Location, *, event_id: str, by: User, store: Store
) -> list[Movement]:
    """Move everything at `source` to `dest` (e.g. a showcase tray to the safe at closing): every lot's
    balance there, its items one by one so that each item's place follows. One event, kind `move`. Flushes."""
    access.require(by, "move")
    access.require_store(by, store.id)
    event = start_event(event_id, "move", by=by, store=store)
    if source.store_id != store.id or not source.is_physical:
        raise DomainError(f"{source.label} is not a place of {store.name}.", field="source")
    if dest.store_id != store.id:
        raise DomainError(f"{dest.label} is in another store: use Ship to send to another store.", field="dest")
    check_destination(dest, store)
    if source.id == dest.id:
        raise DomainError("Choose a destination other than the place being emptied.", field="dest")
    lines = contents_of(source)
    if not lines:
        raise DomainError(f"{source.label} is empty: there is nothing to move.", field="source")
    moved = [take_from(event, "move", line, dest) for line in lines]
    event.result = f"location:{dest.id}"
    return moved


def undo_last_move(*, event_id: str, by: User, store: Store) -> list[Movement]:
    """Reverse every movement of the user's most recent move in `store` that is not undone yet, through
    `ledger.reverse`. Refused when any of it has moved in or out of its destination since. Flushes."""
    access.require(by, "move")
    access.require_store(by, store.id)
    event = start_event(event_id, "undo_move", by=by, store=store)
    undo = aliased(Movement)
    last = db.session.scalar(
        select(Movement)
        .where(
            Movement.kind == "move",
            Movement.user_id == by.id,
            Movement.store_id == store.id,
            # Not an undo itself. Said as coalesce, not IS NULL: SQLite (no statistics) would otherwise read every
            # movement without a reversal through the unique index on reverses_id, newest first, and so the whole
            # ledger when the user has no move left; this way it walks the user's own moves in this store through
            # ix_movements_user_id_store_id_kind_id.
            func.coalesce(Movement.reverses_id, 0) == 0,
            ~exists().where(undo.reverses_id == Movement.id),
        )
        .order_by(Movement.id.desc())
        .limit(1)
    )
    if last is None:
        raise DomainError("You have no move in this store left to undo.")
    done = [m for m in last.event.movements if m.kind == "move" and m.reversed_by is None]
    for m in done:
        _refuse_if_moved_since(m)
    reversed_ = [ledger.reverse(event, m, note=f"Undo of move {m.id}") for m in done]
    event.result = f"location:{done[0].from_location_id}"
    return reversed_


def lines_for_scan(code_target: object, store: Store) -> MoveLine:
    """The default line for a scanned lot or item: an item from where it is; a lot from the place of this store
    that holds most of it (not counting its items there), with all of that as the pieces and weight."""
    if isinstance(code_target, Item):
        place = code_target.location
        if place.store_id != store.id or not place.is_physical:
            raise DomainError(f"Item {code_target.serial} is in {place.label}, not in a place of {store.name}.")
        return _filled(MoveLine(item=code_target))
    if not isinstance(code_target, Lot):
        raise DomainError("Scan a lot or an item to move.")
    places = db.session.scalars(
        select(Location)
        .join(Balance, Balance.location_id == Location.id)
        .where(
            Balance.lot_id == code_target.id,
            Location.store_id == store.id,
            Location.kind.in_(PHYSICAL_KINDS),
            (Balance.pieces > 0) | (Balance.weight > 0),
        )
    ).all()
    loose = [(loose_at(code_target, place), place) for place in places]
    loose = [(qty, place) for qty, place in loose if qty[0] > 0 or qty[1] > 0]
    if not loose:
        raise DomainError(f"Lot {code_target.number} has nothing in {store.name} outside its tracked items.")
    # Stock on hold is offered only when there is nothing else (taking it is then refused, saying why).
    (pieces, weight), place = max(loose, key=lambda pair: (pair[1].kind != "quarantine", pair[0], -pair[1].id))
    return MoveLine(lot=code_target, source=place, pieces=pieces, weight=weight)


def contents_of(location: Location) -> list[MoveLine]:
    """Everything at `location`, as lines: each item on its own, then each lot's remaining pieces and weight. Two
    statements however full the place (a safe holds thousands of lots and items): its balances with their lots,
    and its items."""
    balances = db.session.scalars(
        select(Balance)
        .join(Lot)
        .options(contains_eager(Balance.lot))
        .where(Balance.location_id == location.id, (Balance.pieces > 0) | (Balance.weight > 0))
        .order_by(Lot.number)
    ).all()
    items: dict[int, list[Item]] = {}
    if balances:
        here = db.session.scalars(
            select(Item).where(Item.location_id == location.id).order_by(Item.lot_id, Item.serial)
        ).all()
        for item in here:
            items.setdefault(item.lot_id, []).append(item)
    lines = []
    for balance in balances:
        lot, tracked = balance.lot, items.get(balance.lot_id, [])
        lines += [_filled(MoveLine(item=item, lot=lot, source=location)) for item in tracked]
        pieces, weight = _less_items(lot, balance.pieces, balance.weight, [item.weight for item in tracked])
        if pieces > 0 or weight > 0:
            lines.append(MoveLine(lot=lot, source=location, pieces=pieces, weight=weight))
    return lines


def loose_at(lot: Lot, location: Location) -> tuple[int, Decimal]:
    """Pieces and weight of `lot` at `location` that are not items tracked on their own."""
    pieces, weight = ledger.balance_at(lot, location)
    return _less_items(lot, pieces, weight, _item_weights(lot, location))


def _less_items(lot: Lot, pieces: int, weight: Decimal, item_weights: list[Decimal]) -> tuple[int, Decimal]:
    """A balance of `lot` less its items there (their weights given): one piece each, and their weight when the lot
    is weighed."""
    return pieces - len(item_weights), weight - (sum(item_weights, ZERO) if lot.weight_unit else ZERO)


def check_destination(dest: Location, store: Store) -> None:
    """Refuse a destination that is not an active safe, vault, showcase, bench or backroom of `store` (stock goes
    into the quarantine only by a hold, from an inspection)."""
    if dest.store_id != store.id:
        raise DomainError(f"{dest.label} is not a place of {store.name}.", field="dest")
    if dest.kind == "quarantine":
        raise DomainError(f"{dest.label} is for stock on hold: record an inspection to put stock there.", field="dest")
    if not dest.is_physical:
        raise DomainError(
            f"{dest.label} is not a place to put stock: choose a safe, vault, showcase, bench or backroom.",
            field="dest",
        )
    if not dest.active:
        raise DomainError(f"{dest.label} is no longer in use.", field="dest")


def check_lines(lines: list[MoveLine], store: Store) -> list[MoveLine]:
    """The lines with each item's lot, place and quantity filled in; refuses an empty list, a line without a
    lot or item, a source that is not a place of `store`, and the same item or lot-and-source twice."""
    if not lines:
        raise DomainError("Scan at least one lot or item.", field="lines")
    checked, seen = [], set()
    for line in map(_filled, lines):
        if line.source is None:
            raise DomainError(f"Say where {line.label} is taken from.", field="lines")
        if line.source.store_id != store.id:
            raise DomainError(f"{line.subject} is in {line.source.label}, not in {store.name}.")
        if not line.source.is_physical:
            raise DomainError(
                f"{line.subject} is in {line.source.label}; stock leaves only from a safe, vault, "
                "showcase, bench or backroom.",
                field="lines",
            )
        key = ("item", line.item.id) if line.item else ("lot", line.lot.id, line.source.id)
        if key in seen:
            where = "" if line.item else f" from {line.source.label}"
            raise DomainError(f"{line.subject}{where} is listed twice.", field="lines")
        seen.add(key)
        checked.append(line)
    return checked


def take_from(
    event,
    kind: str,
    line: MoveLine,
    dest: Location,
    *,
    reference: str = "",
    note: str = "",
    amount: Decimal | None = None,
) -> Movement:
    """Take one line out of its source into `dest` through the ledger: the one way stock leaves a place.

    A lot line may take only loose stock, never pieces that are items tracked on their own (those move by
    their own scan). `amount` is the money of the line (a sale price, a refund). Flushes.
    """
    line = _filled(line)
    if line.item is None:
        ledger.lock_balances(line.lot, line.source, dest)  # items may come and go until then
    if line.item is None and (items := _item_weights(line.lot, line.source)):
        pieces, weight = loose_at(line.lot, line.source)
        if line.pieces > pieces or line.weight > weight:
            raise DomainError(
                f"Only {pieces} pcs of lot {line.lot.number} in {line.source.label} are loose; the other "
                f"{len(items)} are items tracked on their own: scan those items instead.",
                field="lines",
            )
    movement = ledger.post(
        event,
        kind,
        line.lot,
        line.source,
        dest,
        line.pieces,
        line.weight,
        item=line.item,
        reference=reference,
        note=note,
        amount=amount,
    )
    return movement


def _filled(line: MoveLine) -> MoveLine:
    """An item line with its lot, place and quantity (one piece, its weight when the lot is weighed)."""
    if line.item is None:
        if line.lot is None:
            raise DomainError("Each line needs an item, or a lot with its source.", field="lines")
        return line
    item = line.item
    if line.lot is not None and line.lot.id != item.lot_id:
        raise DomainError(f"Item {item.serial} is not part of lot {line.lot.number}.", field="lines")
    weight = item.weight if item.lot.weight_unit else ZERO
    return replace(line, lot=item.lot, source=line.source or item.location, pieces=1, weight=weight)


def _item_weights(lot: Lot, location: Location) -> list[Decimal]:
    """The weight of each item of `lot` at `location`."""
    return list(db.session.scalars(select(Item.weight).where(Item.lot_id == lot.id, Item.location_id == location.id)))


def _refuse_if_moved_since(m: Movement) -> None:
    """Undo only what still sits where the move put it: nothing of the lot (or the item) has left or entered
    the move's destination since, leaving aside later movements that were themselves undone."""
    touching = (
        Movement.item_id == m.item_id
        if m.item_id is not None
        else (Movement.lot_id == m.lot_id)
        & or_(Movement.from_location_id == m.to_location_id, Movement.to_location_id == m.to_location_id)
    )
    undo = aliased(Movement)
    later = db.session.scalar(
        select(Movement)
        .where(
            touching,
            Movement.id > m.id,
            Movement.event_id != m.event_id,
            ~exists().where(undo.reverses_id == Movement.id),  # undone since: it and its undo cancel out
            or_(Movement.reverses_id.is_(None), Movement.reverses_id < m.id),  # ... this being such an undo
        )
        .limit(1)
    )
    if later is not None:
        what = f"Item {m.item.serial}" if m.item else f"Lot {m.lot.number}"
        raise DomainError(
            f"{what} has moved since ({later.kind} by {later.user.name}); this move can no longer be undone."
        )
