"""Counts: counting a safe, a vault or a whole store by scanning, reviewing the differences, booking them.

Several people count one session at once; each scan or entry is a line, and lines add up. Nothing changes stock
until a manager approves the count: then each difference becomes an `adjust` movement to or from the store's
`loss` location (an item found where the ledger does not have it moves from there), with the count as reference.

Movements during a count. Every counted line is compared with the ledger as it stood when that line was counted
(its `ledger_mark`, the last movement id then), and only that difference is booked on approval. So stock moved
out after it was counted is not missing, stock moved in before it was counted is not extra, and what moved after
counting stands. Stock with no line at all is compared with the ledger now. The review lists every movement at the
counted places since the count started, and flags a lot that moved between two of its own lines (recount it).
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import cache

from sqlalchemy import Select, bindparam, case, func, insert, or_, select, text, union, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from scanapp.extensions import db
from scanapp.models import (
    PHYSICAL_KINDS,
    Balance,
    Count,
    CountLine,
    CountRecount,
    Item,
    Location,
    Lot,
    Movement,
    Store,
    User,
    user_stores,
)
from scanapp.services import DomainError, access, audit, history, ledger, scanning, tags
from scanapp.services.events import parse_event_id, start_event
from scanapp.services.movements import loose_at

ZERO = Decimal(0)
MAX_PIECES = 1_000_000
MAX_WEIGHT = Decimal(1_000_000)
APPROVER_ROLES = ("manager", "admin")
UNFINISHED = ("open", "review")
STATUS_WORDS = {"open": "open", "review": "in review", "approved": "approved", "cancelled": "cancelled"}
SHOWN = 40  # lines the counting page shows, newest first


# ---------------------------------------------------------------- starting and counting


def start_count(store: Store, location: Location | None, *, blind: bool, event_id: str, by: User) -> Count:
    """Open a count of `location` (a physical place of `store`), or of every place of the store when None.

    Refused while another count of the same place, or of the whole store, is still open or in review: counters
    join that one instead. Flushes."""
    access.require(by, "count")
    access.require_store(by, store.id)
    event = start_event(event_id, "start_count", by=by, store=store)
    if location is not None and (location.store_id != store.id or not location.is_physical or not location.active):
        raise DomainError("Choose a safe, vault, showcase, bench or back room of this store.", field="location_id")
    for other in unfinished_counts(store):
        if location is None or other.location_id in (None, location.id):
            raise DomainError(
                f"{other.number} ({other.place_name}) is still {STATUS_WORDS[other.status]}: join it, or finish "
                "it first.",
                field="location_id",
            )
    count = Count(
        store=store,
        location=location,
        blind=blind,
        ledger_mark=_ledger_mark(),
        started_by=by,
        started_at=event.created_at,
    )
    db.session.add(count)
    db.session.flush()
    tags.tag_count(count)
    event.result = f"count:{count.id}"
    return count


@dataclass(frozen=True)
class Added:
    """The line a scan or entry made, what to tell the person who counted, and the lines block with it."""

    line_id: int
    message: str
    tone: str  # ok, or warn for a repeat and for a lot waiting for its quantity
    sheet: "Sheet"

    @property
    def line(self) -> CountLine:
        return db.session.get(CountLine, self.line_id)

    @property
    def focus(self) -> int | None:
        """The line whose quantity is to be entered next, if it is this one."""
        waiting = self.sheet.waiting
        return self.line_id if waiting and waiting[0].id == self.line_id else None


def add_line(
    count: Count,
    *,
    code: str = "",
    lot_number: str = "",
    location: Location | None = None,
    pieces: int | None = None,
    weight: Decimal | None = None,
    hosts: set[str] = frozenset(),
    after: int = 0,
    event_id: str,
    by: User,
) -> Added:
    """Count one scanned tag (`code`) or one entry of untagged pieces (`lot_number`) at `location` (the count's own
    place when it has one). An item counts as one piece; an item already counted in this count is kept as a flagged
    repeat and not counted twice. A lot takes `pieces` and `weight`, or waits for them when none are given. The
    event id is the phone's, so a queued scan sent twice is counted once (its event is found already written, which
    `commit_once` answers). Flushes.

    A scan is the hot path of a count, so it reads once: the lines block as it stands (under the count's lock,
    with the line that counted the item first, if any), then it writes the event and the line, and completes the
    block with the new line here (`Added.sheet`). `after`: the newest line the phone shows already; the block then
    holds only the lines newer than it (Sheet.after), for the phone to put above its own.

    The count's lock is taken last, once the tag is read and the scan known to be good: every other phone's scan
    of this count waits for it until this one commits, so it covers only the lines block, the line and the
    totals."""
    access.require(by, "count")
    access.require_store(by, count.store_id)
    _open(count)
    event = start_event(event_id, "count_line", by=by, store=count.store, result=f"count:{count.id}")
    place = _counting_place(count, location)
    lot, item = _what(count, code, lot_number, by, hosts)
    if item is not None:
        quantity = (1, item.weight if lot.weight_unit else ZERO)
    elif pieces is not None or weight is not None:
        quantity = _quantity(lot, pieces, weight)
    else:
        quantity = (None, None)
    count = _locked_open(count)
    before = _read_sheet(count, item=item, waiting_lot=lot if quantity[0] is None else None, after=after)
    first = before.first
    repeated, pieces, weight = first is not None, quantity[0], quantity[1]
    # In Core, as every scan makes one: the INSERT reads the ledger mark itself.
    line_id = db.session.execute(
        insert(CountLine.__table__).values(
            count_id=count.id,
            event_id=event.id,
            location_id=place.id,
            lot_id=lot.id,
            item_id=item.id if item is not None else None,
            pieces=pieces,
            weight=weight,
            repeated=repeated,
            entered=not code,
            ledger_mark=_LEDGER_MARK,
            counted_by_id=by.id,
            counted_at=event.created_at,
        )
    ).inserted_primary_key[0]
    _tally(count, _share(item.id if item is not None else None, repeated, pieces))
    new = SheetLine(
        id=line_id,
        event_id=event.id,
        item_id=item.id if item is not None else None,
        serial=item.serial if item is not None else None,
        item_description=item.description if item is not None else None,
        lot_number=lot.number,
        lot_description=lot.description,
        unit=lot.weight_unit,
        place=place.name,
        counter=by.name,
        counted_at=event.created_at,
        pieces=pieces,
        weight=weight,
        repeated=repeated,
        entered=not code,
        tagged=before.lot_tagged,
    )
    sheet = before.sheet.adding(new)
    if first is not None:
        message = f"Item {item.serial} was already counted by {first.counter} in {first.place}: not counted twice."
        return Added(line_id, message, "warn", sheet)
    if item is not None:
        return Added(line_id, f"Counted item {item.serial} · {item.description or lot.description}.", "ok", sheet)
    if pieces is None:
        return Added(line_id, f"Lot {lot.number}: enter its {_what_to_enter(lot)} below.", "warn", sheet)
    return Added(line_id, f"Counted lot {lot.number}: {quantity_text(lot, pieces, weight)}.", "ok", sheet)


def set_quantity(
    count: Count, line_event_id: str, pieces: int | None, weight: Decimal | None, *, event_id: str, by: User
) -> CountLine:
    """Enter (or correct) the pieces and weight of a scanned lot line while the count is open. Flushes."""
    access.require(by, "count")
    access.require_store(by, count.store_id)
    event = start_event(event_id, "count_quantity", by=by, store=count.store)
    count = _locked_open(count)
    line = _line(count, line_event_id)
    if line.item_id is not None:
        raise DomainError("An item counts as one piece; there is nothing to enter.")
    before = _share(line.item_id, line.repeated, line.pieces)
    line.pieces, line.weight = _quantity(line.lot, pieces, weight)
    _tally(count, _share(line.item_id, line.repeated, line.pieces), minus=before)
    event.result = f"count:{count.id}"
    db.session.flush()
    return line


def remove_line(count: Count, line_event_id: str, *, event_id: str, by: User) -> CountLine:
    """Take back a line scanned by mistake while the count is open: it is kept, superseded. Flushes."""
    access.require(by, "count")
    access.require_store(by, count.store_id)
    event = start_event(event_id, "count_remove", by=by, store=count.store)
    count = _locked_open(count)
    line = _line(count, line_event_id)
    line.superseded_at, line.superseded_by = event.created_at, by
    line.note = (line.note + " Removed.").strip()
    _tally(count, minus=_share(line.item_id, line.repeated, line.pieces))
    event.result = f"count:{count.id}"
    db.session.flush()
    return line


def close_counting(count: Count, *, event_id: str, by: User) -> Count:
    """Stop counting and send the count to review. Refused while a scanned lot still waits for its quantity."""
    access.require(by, "count")
    access.require_store(by, count.store_id)
    event = start_event(event_id, "close_count", by=by, store=count.store)
    count = _locked_open(count)
    waiting = [line for line in count.lines if line.active and line.pieces is None]
    if waiting:
        numbers = ", ".join(sorted({line.lot.number for line in waiting}))
        raise DomainError(f"Enter the pieces of {numbers} first (or remove those lines).")
    count.status, count.closed_by, count.closed_at = "review", by, event.created_at
    event.result = f"count:{count.id}"
    db.session.flush()
    return count


# ---------------------------------------------------------------- review


@dataclass
class Row:
    """One line of the review: an item, or the untagged pieces of a lot, at one place; expected versus counted.

    `expected_*` is the ledger when the row was counted (now, when it was not). `source` is where the ledger
    has an item that was found here; `elsewhere` names the places the ledger has an unexpected lot."""

    lot: Lot
    location: Location
    item: Item | None = None
    expected_pieces: int = 0
    expected_weight: Decimal = ZERO
    counted_pieces: int = 0
    counted_weight: Decimal = ZERO
    lines: list[CountLine] = field(default_factory=list)
    source: Location | None = None
    elsewhere: list[str] = field(default_factory=list)
    moved: bool = False  # something of it moved at this place during the count
    split: bool = False  # it moved between two of its own lines: recount it

    @property
    def key(self) -> str:
        """How the recount form names the row."""
        return f"item:{self.item.id}" if self.item else f"lot:{self.lot.id}:{self.location.id}"

    @property
    def pieces_difference(self) -> int:
        return self.counted_pieces - self.expected_pieces

    @property
    def weight_difference(self) -> Decimal:
        return self.counted_weight - self.expected_weight

    @property
    def status(self) -> str:
        """ok, missing (none counted), unexpected (none expected), short, over, or different (one up, one down)."""
        dp, dw = self.pieces_difference, self.weight_difference
        if dp == 0 and dw == 0:
            return "ok"
        if self.counted_pieces == 0 and self.counted_weight == 0:
            return "missing"
        if self.expected_pieces == 0 and self.expected_weight == 0:
            return "unexpected"
        if dp <= 0 and dw <= 0:
            return "short"
        if dp >= 0 and dw >= 0:
            return "over"
        return "different"

    @property
    def value(self) -> Decimal:
        """What the difference is worth at cost: by weight for a weighed lot, else by the piece."""
        return _value(self.lot, self.pieces_difference, self.weight_difference)


@dataclass
class Review:
    """Everything the review shows: rows (problems first), flagged repeats, and movements during the count."""

    count: Count
    rows: list[Row]
    repeats: list[CountLine]
    movements: list[Movement]

    @property
    def differences(self) -> list[Row]:
        return [row for row in self.rows if row.status != "ok"]

    @property
    def missing_value(self) -> Decimal:
        return -sum((row.value for row in self.rows if row.value < 0), ZERO)

    @property
    def extra_value(self) -> Decimal:
        return sum((row.value for row in self.rows if row.value > 0), ZERO)


def review(count: Count) -> Review:
    """Expected versus counted for every lot and item of the counted places, by the rule in this module's
    docstring. Reads only."""
    scope = {place.id: place for place in _scope(count)}
    lines = _lines(count)
    counted = [line for line in lines if not line.repeated]
    repeats = [line for line in lines if line.repeated]
    since = _movements_since(count, scope)
    item_lines = {line.item_id: line for line in counted if line.item_id is not None}
    # populate_existing: an item this request read before may have been moved here since by another phone.
    here = select(Item).where(Item.location_id.in_(scope)).options(joinedload(Item.lot))
    items_here = list(db.session.scalars(here.execution_options(populate_existing=True)))
    moves_of_items = _item_movements_since(count, set(item_lines) | {item.id for item in items_here})
    rows = [_item_row(line, moves_of_items.get(line.item_id, []), repeats) for line in item_lines.values()]
    for item in items_here:
        if item.id not in item_lines:
            weight = item.weight if item.lot.weight_unit else ZERO
            rows.append(Row(item.lot, item.location, item, 1, weight, moved=bool(moves_of_items.get(item.id))))
    rows += _lot_rows(count, scope, counted, items_here, since)
    order = {"ok": 1}
    rows.sort(key=lambda r: (order.get(r.status, 0), r.location.code, r.lot.number, r.item.serial if r.item else ""))
    return Review(count, rows, repeats, since)


def _item_row(line: CountLine, moves: list[Movement], repeats: list[CountLine]) -> Row:
    """A counted item: expected here if the ledger had it here when it was counted, or has it here now."""
    item = line.item
    weight = item.weight if item.lot.weight_unit else ZERO
    after = [m for m in moves if m.id > line.ledger_mark]
    place_then = after[0].from_location_id if after else item.location_id
    here = line.location_id in (place_then, item.location_id)
    row = Row(item.lot, line.location, item, 1 if here else 0, weight if here else ZERO, 1, weight, [line])
    row.lines += [r for r in repeats if r.item_id == item.id]
    row.moved = bool(moves)
    if not here:
        row.source = item.location
        row.elsewhere = [item.location.label]
    return row


def _lot_rows(count, scope, counted, items_here, since) -> list[Row]:
    """The untagged pieces of each lot at each counted place: counted lot lines against the ledger's loose stock
    (its balance less its items there) when the last of those lines was counted, or now when none was."""
    groups: dict[tuple[int, int], list[CountLine]] = defaultdict(list)
    for line in counted:
        if line.item_id is None:
            groups[(line.lot_id, line.location_id)].append(line)
    balances = db.session.scalars(
        select(Balance)
        .where(Balance.location_id.in_(scope), (Balance.pieces != 0) | (Balance.weight != 0))
        .options(joinedload(Balance.lot))
    ).all()
    loose = {(b.lot_id, b.location_id): [b.pieces, b.weight if b.lot.weight_unit else ZERO] for b in balances}
    for item in items_here:
        now = loose.setdefault((item.lot_id, item.location_id), [0, ZERO])
        now[0] -= 1
        now[1] -= item.weight if item.lot.weight_unit else ZERO
    lots = {b.lot_id: b.lot for b in balances} | {line.lot_id: line.lot for line in counted}
    lots |= {item.lot_id: item.lot for item in items_here}
    rows = []
    for lot_id, place_id in loose.keys() | groups.keys():
        lot, place, group = lots[lot_id], scope[place_id], groups.get((lot_id, place_id), [])
        pieces, weight = loose.get((lot_id, place_id), (0, ZERO))
        moves = [m for m in since if m.lot_id == lot_id and place_id in (m.from_location_id, m.to_location_id)]
        row = Row(lot, place, lines=group, moved=bool(moves))
        loose_moves = [m for m in moves if m.item_id is None]
        if group:
            first, last = min(line.ledger_mark for line in group), max(line.ledger_mark for line in group)
            dp, dw = _net([m for m in loose_moves if m.id > last], place_id)
            pieces, weight = pieces - dp, weight - dw
            row.split = any(first < m.id <= last for m in loose_moves)
        row.expected_pieces, row.expected_weight = pieces, weight
        row.counted_pieces = sum(line.pieces or 0 for line in group)
        row.counted_weight = sum((line.weight or ZERO for line in group), ZERO)
        if not group and pieces == 0 and weight == 0:
            continue
        if row.status == "unexpected":
            row.elsewhere = [
                f"{b.location.label}: {quantity_text(lot, b.pieces, b.weight)}"
                for b in ledger.balances_of(lot)
                if b.location.is_physical and b.location_id != place_id
            ]
        rows.append(row)
    return rows


# ---------------------------------------------------------------- recount, approval, cancel


def recount(count: Count, keys: list[str], *, event_id: str, by: User) -> Count:
    """Send chosen rows of the review back for counting: their lines are superseded, the count opens again
    (next round) and the counters see what to recount. Managers only. Flushes."""
    access.require(by, "approve_count")
    access.require_store(by, count.store_id)
    event = start_event(event_id, "recount", by=by, store=count.store)
    count = _locked(count)
    if count.status != "review":
        raise DomainError(f"{count.number} is {STATUS_WORDS[count.status]}: only a count in review can be recounted.")
    rows = {row.key: row for row in review(count).rows}
    chosen = [rows[key] for key in dict.fromkeys(keys) if key in rows]
    if not chosen or len(chosen) != len(set(keys)):
        raise DomainError("Choose the lines to recount from this count's review.", field="rows")
    count.round += 1
    for row in chosen:
        for line in row.lines:
            if line.superseded_at is None:
                _tally(count, minus=_share(line.item_id, line.repeated, line.pieces))
            line.superseded_at, line.superseded_by = event.created_at, by
        db.session.add(
            CountRecount(
                count=count,
                round=count.round,
                location=row.location,
                lot=row.lot,
                item=row.item,
                requested_by=by,
                requested_at=event.created_at,
            )
        )
    count.status = "open"
    event.result = f"count:{count.id}"
    db.session.flush()
    return count


def approval_refusal(count: Count, user: User) -> str | None:
    """Why `user` may not approve `count` now, or None when they may."""
    if not access.can(user, "approve_count"):
        return "Only a manager can approve a count."
    if count.status != "review":
        return f"{count.number} is {STATUS_WORDS[count.status]}: close the counting first."
    counted = db.session.scalar(
        select(func.count()).select_from(CountLine).where(CountLine.count_id == count.id,
                                                          CountLine.counted_by_id == user.id)
    )  # fmt: skip
    if counted and approvers(count.store) > 1:
        return "You counted in this count: another manager must approve it."
    return None


def approve(count: Count, *, event_id: str, by: User) -> list[Movement]:
    """Accept the count: book each difference as an `adjust` movement with the count's number as reference.

    A missing item moves to `loss`; an item found here moves from where the ledger has it; a lot's untagged
    pieces and weight move to or from `loss` by the difference. Only a manager who did not count, unless they are
    the store's only manager. Flushes."""
    access.require(by, "approve_count")
    access.require_store(by, count.store_id)
    event = start_event(event_id, "approve_count", by=by, store=count.store)
    count = _locked(count)
    if (refusal := approval_refusal(count, by)) is not None:
        raise DomainError(refusal)
    loss = count.store.virtual("loss")
    reference = count.number
    moved = []
    for row in review(count).differences:
        if row.item is not None:
            item, weight = row.item, row.item.weight if row.lot.weight_unit else ZERO
            if row.status == "missing":
                note = f"Count {reference}: not found in {row.location.name}"
                moved.append(ledger.post(event, "adjust", row.lot, item.location, loss, 1, weight, item=item,
                                         reference=reference, note=note))  # fmt: skip
            else:
                note = f"Count {reference}: found in {row.location.name}"
                moved.append(ledger.post(event, "adjust", row.lot, item.location, row.location, 1, weight,
                                         item=item, reference=reference, note=note))  # fmt: skip
            continue
        moved += _adjust_lot(event, row, loss, reference)
    count.status, count.approved_by, count.approved_at, count.approve_event = "approved", by, event.created_at, event
    event.result = f"count:{count.id}"
    db.session.flush()
    audit.record("count_approved", by=by, store=count.store, subject=f"count:{count.id}",
                 detail=f"{count.number}: {len(moved)} adjustment(s) booked")  # fmt: skip
    return moved


def cancel(count: Count, *, event_id: str, by: User) -> Count:
    """Drop a count that is open or in review: nothing is booked, its lines stay for the record. Managers only."""
    access.require(by, "approve_count")
    access.require_store(by, count.store_id)
    event = start_event(event_id, "cancel_count", by=by, store=count.store)
    count = _locked(count)
    if count.status not in UNFINISHED:
        raise DomainError(f"{count.number} is {count.status} already.")
    count.status, count.cancelled_by, count.cancelled_at = "cancelled", by, event.created_at
    event.result = f"count:{count.id}"
    db.session.flush()
    audit.record("count_cancelled", by=by, store=count.store, subject=f"count:{count.id}", detail=count.number)
    return count


def _adjust_lot(event, row: Row, loss: Location, reference: str) -> list[Movement]:
    """Book a lot row's difference: what is short leaves for `loss`, what is over comes from it (a row that is up
    in pieces and down in weight, or the other way, makes one of each)."""
    dp, dw = row.pieces_difference, row.weight_difference
    short, over = (max(-dp, 0), max(-dw, ZERO)), (max(dp, 0), max(dw, ZERO))
    if short != (0, ZERO):
        have = loose_at(row.lot, row.location)
        if have[0] < short[0] or have[1] < short[1]:
            raise DomainError(
                f"More of lot {row.lot.number} left {row.location.name} after it was counted than was counted "
                f"there: recount it."
            )
    moved = []
    if short != (0, ZERO):
        note = f"Count {reference}: short in {row.location.name}"
        moved.append(ledger.post(event, "adjust", row.lot, row.location, loss, *short, reference=reference, note=note))
    if over != (0, ZERO):
        note = f"Count {reference}: over in {row.location.name}"
        moved.append(ledger.post(event, "adjust", row.lot, loss, row.location, *over, reference=reference, note=note))
    return moved


# ---------------------------------------------------------------- what the pages show


@dataclass(frozen=True, slots=True)
class SheetLine:
    """One line as the counting page shows it: plain values, read with the rest of the lines block in one query."""

    id: int
    event_id: str
    item_id: int | None
    serial: str | None
    item_description: str | None
    lot_number: str
    lot_description: str
    unit: str | None  # the lot's weight unit, when it is weighed
    place: str
    counter: str
    counted_at: datetime
    pieces: int | None
    weight: Decimal | None
    repeated: bool
    entered: bool
    tagged: bool  # waiting for its quantity, of a lot that has items tracked on their own

    @property
    def code(self) -> str:
        """The item's serial, or the lot's number."""
        return self.serial if self.item_id is not None else self.lot_number

    @property
    def description(self) -> str:
        return (self.item_description or self.lot_description) if self.item_id is not None else self.lot_description

    @property
    def time(self) -> str:
        return self.counted_at.strftime("%H:%M")


@dataclass(frozen=True)
class Sheet:
    """The counting page's lines block: the count's state as plain values, lines newest first (the latest
    `shown`), totals, lots waiting for their quantity, and (counts that are not blind) the live review. With
    `after`, a scan's answer to a phone that shows the lines up to that one: `lines` are only the newer ones, which
    the phone puts above those it has (static/js/count-offline.js); everything else is whole."""

    count_id: int
    open: bool
    whole_store: bool  # a count of every place of the store: lines name their place
    blind: bool
    lines: list[SheetLine]
    total_lines: int
    items: int
    pieces: int
    waiting: list[SheetLine]
    shown: int = SHOWN
    live: Review | None = None
    after: int = 0  # the newest line the phone shows already (0: the whole block)

    def adding(self, line: SheetLine) -> "Sheet":
        """The sheet with a line just added (the newest): its totals change by the line's share, as the count's."""
        lines, items, pieces = _share(line.item_id, line.repeated, line.pieces)
        return replace(
            self,
            lines=[line, *self.lines][: self.shown],
            total_lines=self.total_lines + lines,
            items=self.items + items,
            pieces=self.pieces + pieces,
            waiting=[line, *self.waiting] if line.pieces is None else self.waiting,
        )


def sheet(count: Count, *, shown: int = SHOWN, after: int = 0) -> Sheet:
    """What the counting page shows, in one query: the count's kept totals and only the newest `shown` lines (those
    newer than line `after`, when given) and those waiting for a quantity, so a scan costs the same however much
    has been counted. The live review (expected quantities) only when the count is not blind."""
    read = _read_sheet(count, shown=shown, after=after)
    return read.sheet if count.blind else replace(read.sheet, live=review(count))


def recounts(count: Count) -> list[CountRecount]:
    """What to count again in this round of the count (none before the first recount)."""
    return [r for r in count.recounts if r.round == count.round] if count.round > 1 else []


@dataclass(frozen=True)
class _Read:
    sheet: Sheet
    first: SheetLine | None  # the standing line that counted the item asked about, if any
    lot_tagged: bool  # whether the lot asked about has items tracked on their own


def _read_sheet(
    count: Count, *, shown: int = SHOWN, item: Item | None = None, waiting_lot: Lot | None = None, after: int = 0
):
    """The lines block of `count` in one statement (_sheet_statement), with the line that counted `item`, if any,
    and whether `waiting_lot` has items of its own; its totals are the count's own (Count.standing_lines). Reads
    only, and as much however long the count: the newest `shown` lines (of those after line `after`), those
    waiting, the item's line."""
    after = max(after, 0)
    params = {
        "count_id": count.id,
        "item_id": item.id if item is not None else None,
        "lot_id": waiting_lot.id if waiting_lot is not None else None,
        "after": after,
    }
    rows = db.session.execute(_sheet_statement(shown), params).all()
    lines = [_sheet_line(row) for row in rows if row.id is not None]
    first = next((line for line in lines if item is not None and line.item_id == item.id and not line.repeated), None)
    return _Read(
        sheet=Sheet(
            count_id=count.id,
            open=count.status == "open",
            whole_store=count.location_id is None,
            blind=count.blind,
            # Newest first, and every line read stands: any line not among the newest `shown` is older than all of
            # them, so those are the first `shown` (of those after `after`: the waiting lines and the item's line
            # are read whatever their age).
            lines=[line for line in lines if line.id > after][:shown],
            total_lines=count.standing_lines,
            items=count.counted_items,
            pieces=count.counted_pieces,
            waiting=[line for line in lines if line.pieces is None],
            shown=shown,
            after=after,
        ),
        first=first,
        lot_tagged=bool(rows[0].lot_tagged),
    )


@cache
def _sheet_statement(shown: int) -> Select:
    """One row (whether lot :lot_id has items of its own) joined to the lines the page shows, the newest `shown`
    and those waiting for a quantity, and to the standing line of item :item_id, with what they show. Each of the
    three is found through its own index (ix_count_lines_count_id_id, ix_count_lines_waiting,
    uq_count_lines_count_id_item_id), never by reading the count's other lines. Built once, in Core, as it runs on
    every scan."""
    table = CountLine.__table__
    lines, items, lots = table.c, Item.__table__.c, Lot.__table__.c
    places, users = Location.__table__.c, User.__table__.c
    count_id = bindparam("count_id")
    tracked = Item.__table__.alias("tracked")
    head = select(
        select(tracked.c.id).where(tracked.c.lot_id == bindparam("lot_id")).exists().label("lot_tagged")
    ).subquery("head")
    newest = (
        select(lines.id)
        .where(lines.count_id == count_id, lines.superseded_at.is_(None), lines.id > bindparam("after"))
        .order_by(lines.id.desc())
        .limit(shown)
        .subquery("newest")
    )
    waiting = select(lines.id).where(lines.count_id == count_id, lines.pieces.is_(None), lines.superseded_at.is_(None))
    # The terms of uq_count_lines_count_id_item_id's WHERE as the index says them, for SQLite to see that the index
    # answers it (SQLAlchemy would write `repeated = 0` for NOT repeated, which SQLite does not match to the index).
    first = select(lines.id).where(
        lines.count_id == count_id,
        lines.item_id == bindparam("item_id"),
        lines.item_id.is_not(None),
        text("NOT count_lines.repeated"),
        lines.superseded_at.is_(None),
    )
    wanted = union(select(newest.c.id), waiting, first)
    has_items = select(tracked.c.id).where(tracked.c.lot_id == lines.lot_id).exists()
    return (
        select(
            head,
            lines.id,
            lines.event_id,
            lines.item_id,
            items.serial,
            items.description.label("item_description"),
            lots.number.label("lot_number"),
            lots.description.label("lot_description"),
            lots.weight_unit.label("unit"),
            places.name.label("place"),
            users.name.label("counter"),
            lines.counted_at,
            lines.pieces,
            lines.weight,
            lines.repeated,
            lines.entered,
            case((lines.pieces.is_(None), has_items), else_=False).label("tagged"),
        )
        .select_from(head)
        .outerjoin(table, lines.id.in_(wanted))
        .outerjoin(Lot.__table__, lots.id == lines.lot_id)
        .outerjoin(Item.__table__, items.id == lines.item_id)
        .outerjoin(Location.__table__, places.id == lines.location_id)
        .outerjoin(User.__table__, users.id == lines.counted_by_id)
        .order_by(lines.id.desc())
    )


def _sheet_line(row) -> SheetLine:
    return SheetLine(
        id=row.id,
        event_id=row.event_id,
        item_id=row.item_id,
        serial=row.serial,
        item_description=row.item_description,
        lot_number=row.lot_number,
        lot_description=row.lot_description,
        unit=row.unit,
        place=row.place,
        counter=row.counter,
        counted_at=row.counted_at,
        pieces=row.pieces,
        weight=row.weight,
        repeated=bool(row.repeated),  # SQLite answers 0 and 1
        entered=bool(row.entered),
        tagged=bool(row.tagged),
    )


def may_see_expected(count: Count, user: User) -> bool:
    """Expected quantities: never while a blind count is open; in review, to managers, or to all if not blind."""
    if count.status == "open":
        return not count.blind
    return not count.blind or access.can(user, "approve_count")


def counts_of(store: Store, location: Location | None = None, limit: int = 50) -> list[Count]:
    """The store's latest counts (of one place, when given: whole-store counts included), unfinished first; each
    says how many lines stand (Count.standing_lines, as its page does)."""
    stmt = select(Count).where(Count.store_id == store.id)
    if location is not None:
        stmt = stmt.where(or_(Count.location_id == location.id, Count.location_id.is_(None)))
    stmt = stmt.options(joinedload(Count.location), joinedload(Count.started_by))
    rows = db.session.scalars(stmt.order_by(Count.id.desc()).limit(limit)).all()
    return sorted(rows, key=lambda count: count.status not in UNFINISHED)


def unfinished_counts(store: Store) -> list[Count]:
    """The store's counts that are open or in review."""
    return list(db.session.scalars(select(Count).where(Count.store_id == store.id, Count.status.in_(UNFINISHED))))


def places(count: Count) -> list[Location]:
    """Where a count's lines may be counted: its place, or every active physical place of the store, each with its
    tag (the page knows a place by its scanned tag)."""
    return [count.location] if count.location else [p for p in _scope(count, selectinload(Location.tag)) if p.active]


def approvers(store: Store) -> int:
    """How many active managers and admins the store has."""
    return db.session.scalar(
        select(func.count())
        .select_from(User)
        .join(user_stores, user_stores.c.user_id == User.id)
        .where(user_stores.c.store_id == store.id, User.active, User.role.in_(APPROVER_ROLES))
    )


def line_by_event(count: Count, event_id: str) -> CountLine | None:
    """The line a scan with this event id made in `count`, if any."""
    try:
        eid = parse_event_id(event_id)
    except DomainError:
        return None
    return db.session.scalar(select(CountLine).where(CountLine.count_id == count.id, CountLine.event_id == eid))


# ---------------------------------------------------------------- helpers


# The last movement id: the ledger as it stands now.
_LEDGER_MARK = select(func.coalesce(func.max(Movement.id), 0)).scalar_subquery()


def _share(item_id: int | None, repeated: bool, pieces: int | None) -> tuple[int, int, int]:
    """What a standing line adds to its count's totals: a line; an item and its pieces, unless it is a repeat."""
    return (1, 0, 0) if repeated else (1, int(item_id is not None), pieces or 0)


def _tally(count: Count, plus: tuple[int, int, int] = (0, 0, 0), *, minus: tuple[int, int, int] = (0, 0, 0)) -> None:
    """Change the count's totals (Count.standing_lines, counted_items, counted_pieces) by `plus` less `minus`, the
    shares (`_share`) of a line that comes to stand and of one that stops: in the database with one UPDATE that adds
    to what the row holds, and in `count` (which the count's lock read afresh)."""
    change = [a - b for a, b in zip(plus, minus, strict=True)]
    db.session.execute(_TALLY, {"count": count.id, "lines": change[0], "items": change[1], "pieces": change[2]})
    for name, by in zip(("standing_lines", "counted_items", "counted_pieces"), change, strict=True):
        set_committed_value(count, name, getattr(count, name) + by)


_counts = Count.__table__.c
_TALLY = (
    update(Count.__table__)
    .where(_counts.id == bindparam("count"))
    .values(
        standing_lines=_counts.standing_lines + bindparam("lines"),
        counted_items=_counts.counted_items + bindparam("items"),
        counted_pieces=_counts.counted_pieces + bindparam("pieces"),
    )
)


def _ledger_mark() -> int:
    return db.session.scalar(select(_LEDGER_MARK))


def lock(count_id: int) -> Count | None:
    """The count and its place, read afresh with the count's row locked until commit (PostgreSQL; SQLite has one
    writer anyway): scans, closing and approval of one count happen one after the other."""
    count = db.session.scalar(
        select(Count)
        .where(Count.id == count_id)
        .options(joinedload(Count.location))
        .with_for_update(of=Count)
        .execution_options(populate_existing=True)
    )
    if count is not None:
        db.session.info[_LOCKED] = (db.session().get_transaction(), count.id)
    return count


def _locked(count: Count) -> Count:
    """The count, locked: read again unless this transaction has locked it already."""
    if db.session.info.get(_LOCKED) == (db.session().get_transaction(), count.id):
        return count
    return lock(count.id)


_LOCKED = "scanapp.counts.locked"  # in Session.info: (the transaction, the count it locked)


def _locked_open(count: Count) -> Count:
    return _open(_locked(count))


def _open(count: Count) -> Count:
    if count.status != "open":
        raise DomainError(f"{count.number} is {STATUS_WORDS[count.status]}: it takes no more counting.")
    return count


def _scope(count: Count, *options) -> list[Location]:
    """The places a count covers (loaded with `options`, when the count is of the whole store)."""
    if count.location is not None:
        return [count.location]
    return list(
        db.session.scalars(
            select(Location)
            .options(*options)
            .where(Location.store_id == count.store_id, Location.kind.in_(PHYSICAL_KINDS))
            .order_by(Location.code)
        )
    )


def _counting_place(count: Count, location: Location | None) -> Location:
    if count.location is not None:
        if location is not None and location.id != count.location_id:
            raise DomainError(f"This count is of {count.location.name} only; count {location.name} on its own.")
        return count.location
    if location is None:
        raise DomainError("Choose the place you are counting (or scan its tag) first.", field="location_id")
    if location.store_id != count.store_id or not location.is_physical:
        raise DomainError(f"{location.label} is not a place of {count.store.name}.", field="location_id")
    return location


def _what(count: Count, code: str, lot_number: str, by: User, hosts: set[str]) -> tuple[Lot, Item | None]:
    """The lot and item a scanned code, or a typed lot number, stands for."""
    if not code:
        number = (lot_number or "").strip().upper()
        if not number:
            raise DomainError("Scan a tag, or type the lot number of the pieces.", field="lot")
        lot = db.session.scalar(select(Lot).where(Lot.number == number, history.visible_lots(by.store_ids)))
        if lot is None:
            raise DomainError(f"No lot {number} in your stores. Check the number on the bag or box.", field="lot")
        return lot, None
    found = scanning.resolve(code, by=by, hosts=hosts)
    if found.item is not None:
        return found.item.lot, found.item
    if found.lot is not None:
        return found.lot, None
    if found.location is not None:
        if count.location is None:
            raise DomainError(f"{found.code} is the tag of {found.location.name}: choose it as the place you count.")
        raise DomainError(f"{found.code} is the tag of {found.location.name}, not of a lot or an item.")
    raise DomainError(f"{found.code} is not the tag of a lot or an item.")


def _line(count: Count, line_event_id: str) -> CountLine:
    line = line_by_event(count, line_event_id)
    if line is None:
        raise DomainError("That line is not part of this count.")
    if not line.active:
        raise DomainError("That line was removed or sent for recount.")
    return line


def _quantity(lot: Lot, pieces: int | None, weight: Decimal | None) -> tuple[int, Decimal]:
    """Pieces and weight of a lot line as counted: pieces always; a weight only for a weighed lot, and required
    there."""
    if pieces is None:
        raise DomainError(f"Enter the pieces of lot {lot.number} (0 if there are none).", field="pieces")
    if not isinstance(pieces, int) or isinstance(pieces, bool) or not 0 <= pieces <= MAX_PIECES:
        raise DomainError(f"Pieces must be a whole number from 0 to {MAX_PIECES:,}.", field="pieces")
    if not lot.weight_unit:
        if weight:
            raise DomainError(f"Lot {lot.number} is counted in pieces only.", field="weight")
        return pieces, ZERO
    if weight is None:
        raise DomainError(f"Enter the weight of lot {lot.number} in {lot.weight_unit}.", field="weight")
    if not weight.is_finite() or weight < 0 or weight >= MAX_WEIGHT or weight != weight.quantize(Decimal("0.001")):
        raise DomainError("Weight must be a number from 0, with at most three decimals.", field="weight")
    return pieces, weight


def _what_to_enter(lot: Lot) -> str:
    return f"pieces and weight ({lot.weight_unit})" if lot.weight_unit else "pieces"


def quantity_text(lot: Lot, pieces: int, weight: Decimal | None) -> str:
    """ "12 pcs, 1.200 ct": pieces, and the weight of a weighed lot."""
    text = f"{pieces} pc" + ("" if pieces == 1 else "s")
    return text + (f", {weight} {lot.weight_unit}" if lot.weight_unit and weight is not None else "")


def _value(lot: Lot, pieces: int, weight: Decimal) -> Decimal:
    if lot.weight_cost is not None and weight:
        return (lot.weight_cost * weight).quantize(Decimal("0.01"))
    return (lot.unit_cost or ZERO) * pieces


def _net(moves: list[Movement], place_id: int) -> tuple[int, Decimal]:
    """Pieces and weight that `moves` brought into `place_id`, less what they took out."""
    pieces, weight = 0, ZERO
    for m in moves:
        sign = 1 if m.to_location_id == place_id else -1
        pieces, weight = pieces + sign * m.pieces, weight + sign * m.weight
    return pieces, weight


def _lines(count: Count) -> list[CountLine]:
    """The count's lines that stand (not superseded), with what they show."""
    return list(
        db.session.scalars(
            select(CountLine)
            .where(CountLine.count_id == count.id, CountLine.superseded_at.is_(None))
            .options(
                joinedload(CountLine.lot),
                joinedload(CountLine.item),
                joinedload(CountLine.location),
                joinedload(CountLine.counted_by),
            )
            .order_by(CountLine.id)
        )
    )


def _movements_since(count: Count, scope: dict[int, Location]) -> list[Movement]:
    """Movements into or out of the counted places since the count started, oldest first."""
    touching = or_(Movement.from_location_id.in_(scope), Movement.to_location_id.in_(scope))
    stmt = select(Movement).where(Movement.id > count.ledger_mark, touching).order_by(Movement.id)
    stmt = stmt.options(
        joinedload(Movement.from_location).joinedload(Location.store),
        joinedload(Movement.to_location).joinedload(Location.store),
        joinedload(Movement.lot),
        joinedload(Movement.item),
        joinedload(Movement.user),
    )
    return list(db.session.scalars(stmt).unique())


def _item_movements_since(count: Count, item_ids: set[int]) -> dict[int, list[Movement]]:
    """Each item's movements since the count started (anywhere), oldest first."""
    if not item_ids:
        return {}
    moves = db.session.scalars(
        select(Movement).where(Movement.id > count.ledger_mark, Movement.item_id.in_(item_ids)).order_by(Movement.id)
    )
    by_item: dict[int, list[Movement]] = defaultdict(list)
    for m in moves:
        by_item[m.item_id].append(m)
    return by_item
