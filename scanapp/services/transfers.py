"""Shipping stock to another store: ship into the origin store's transit, arrive at the other end, and settle
what did not match (missing or extra) afterwards."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from scanapp.extensions import db
from scanapp.models import PHYSICAL_KINDS, Balance, Item, Location, Lot, Store, Transfer, TransferLine, User
from scanapp.models.types import utcnow
from scanapp.services import DomainError, access
from scanapp.services.events import start_event
from scanapp.services.movements import MoveLine, check_destination, check_lines, loose_at, take_from

ZERO = Decimal(0)
GRAIN = Decimal("0.001")
MISSING_ACTIONS = ("write_off", "wait")
EXTRA_ACTIONS = ("book", "send_back")


@dataclass(frozen=True)
class Decision:
    """What to do with one open line: a missing line is written off (with a reason) or waited for; an extra
    one is booked here (moved in the ledger from where it was thought to be) or sent back (nothing moves)."""

    line_id: int
    action: str
    reason: str = ""


def ship(
    lines: list[MoveLine],
    to_store: Store,
    *,
    reference: str,
    carrier: str,
    event_id: str,
    by: User,
    store: Store,
) -> Transfer:
    """Send lines from places of `store` to `to_store`: each moves into `store`'s transit location (kind `ship`)
    and is recorded on a new Transfer, in transit until it arrives. Managers only. Flushes."""
    access.require(by, "ship")
    access.require_store(by, store.id)
    event = start_event(event_id, "ship", by=by, store=store)
    if to_store.id == store.id:
        raise DomainError("Ship to another store; to put stock elsewhere in this store, use Move.", field="to_store")
    if not to_store.active:
        raise DomainError(f"{to_store.name} is closed.", field="to_store")
    carrier, reference = carrier.strip(), reference.strip()
    if not carrier:
        raise DomainError("Say who carries the shipment.", field="carrier")
    if len(carrier) > 120 or len(reference) > 80:
        raise DomainError("The carrier or reference is too long.", field="reference")
    lines = check_lines(lines, store)
    transfer = Transfer(
        from_store=store,
        to_store=to_store,
        reference=reference,
        carrier=carrier,
        ship_event_id=event.id,
        shipped_by=by,
        shipped_at=event.created_at,
    )
    db.session.add(transfer)
    db.session.flush()
    transit = store.virtual("transit")
    note = f"To {to_store.name}, carried by {carrier}" + (f", {reference}" if reference else "")
    for line in lines:
        m = take_from(event, "ship", line, transit, reference=transfer.number, note=note)
        transfer.lines.append(TransferLine(lot=m.lot, item=m.item, pieces_shipped=m.pieces, weight_shipped=m.weight))
    event.result = f"transfer:{transfer.id}"
    db.session.flush()
    return transfer


def arrive(
    transfer: Transfer,
    scans: list[MoveLine],
    dest_location: Location,
    *,
    event_id: str,
    by: User,
    store: Store,
) -> Transfer:
    """Receive a transfer at its destination store: what was scanned (items, or lot pieces and weight; a scan's
    source is not used) and matches the transfer moves from transit to `dest_location` (kind `arrive`).
    Anything scanned beyond the transfer is recorded as an extra line and moves nothing. The transfer is then
    `arrived` when complete, else `discrepancy` (its `missing_lines` and `extra_lines` say what). Flushes."""
    access.require(by, "receive")
    access.require_store(by, store.id)
    event = start_event(event_id, "arrive", by=by, store=store)
    if transfer.to_store_id != store.id:
        raise DomainError(f"{transfer.number} is going to {transfer.to_store.name}, not to {store.name}.")
    if transfer.status not in ("in_transit", "discrepancy"):
        raise DomainError(f"{transfer.number} has arrived already.")
    check_destination(dest_location, store)
    items, lots = _tally(scans)
    transit = transfer.from_store.virtual("transit")
    for item in items:
        line = next((x for x in transfer.lines if x.item_id == item.id and not x.extra), None)
        if line is not None and not line.is_missing:
            raise DomainError(f"Item {item.serial} has arrived already.", field="scans")
        if line is None:
            weight = item.weight if item.lot.weight_unit else ZERO
            transfer.lines.append(
                TransferLine(lot=item.lot, item=item, extra=True, pieces_arrived=1, weight_arrived=weight)
            )
            continue
        m = take_from(event, "arrive", MoveLine(item=item, source=transit), dest_location, reference=transfer.number)
        line.pieces_arrived, line.weight_arrived = m.pieces, m.weight
    for lot, (pieces, weight) in lots.items():
        for line in [x for x in transfer.lines if x.lot_id == lot.id and x.item_id is None and x.is_missing]:
            take_pieces, take_weight = min(pieces, line.missing_pieces), min(weight, line.missing_weight)
            if take_pieces or take_weight:
                scan = MoveLine(lot=lot, source=transit, pieces=take_pieces, weight=take_weight)
                take_from(event, "arrive", scan, dest_location, reference=transfer.number)
                line.pieces_arrived += take_pieces
                line.weight_arrived += take_weight
                pieces, weight = pieces - take_pieces, weight - take_weight
        if pieces or weight:
            transfer.lines.append(TransferLine(lot=lot, extra=True, pieces_arrived=pieces, weight_arrived=weight))
    transfer.arrival_location = dest_location
    transfer.arrived_by, transfer.arrived_at = by, event.created_at
    transfer.status = "discrepancy" if transfer.missing_lines or transfer.extra_lines else "arrived"
    event.result = f"transfer:{transfer.id}"
    db.session.flush()
    return transfer


def resolve(transfer: Transfer, *, decisions: list[Decision], event_id: str, by: User, store: Store) -> Transfer:
    """Settle open lines of a transfer with discrepancies. Missing: `write_off` (from the origin's transit to
    its `loss` location, with a reason) or `wait`. Extra: `book` (an `adjust` from where the ledger has it to
    the arrival location) or `send_back` (nothing moves). The transfer is `resolved` once nothing is open.
    Managers only, from either store of the transfer. Flushes."""
    access.require(by, "resolve_transfer")
    access.require_store(by, store.id)
    event = start_event(event_id, "resolve_transfer", by=by, store=store)
    if store.id not in (transfer.from_store_id, transfer.to_store_id):
        raise DomainError(f"{transfer.number} is not a shipment of {store.name}.")
    if transfer.status != "discrepancy":
        raise DomainError(f"{transfer.number} has nothing to resolve.")
    if not decisions:
        raise DomainError("Choose what to do with each open line.", field="decisions")
    lines = {line.id: line for line in transfer.lines}
    if len({d.line_id for d in decisions}) != len(decisions):
        raise DomainError("A line has two decisions.", field="decisions")
    for d in decisions:
        line = lines.get(d.line_id)
        if line is None:
            raise DomainError(f"Line {d.line_id} is not part of {transfer.number}.", field="decisions")
        reason = d.reason.strip()
        if line.is_missing:
            _settle_missing(event, transfer, line, d.action, reason)
        elif line.extra and not line.resolution:
            _settle_extra(event, transfer, line, d.action, reason)
        else:
            raise DomainError(f"Line {line.id} of {transfer.number} has nothing open.", field="decisions")
    if not transfer.missing_lines and not transfer.extra_lines:
        transfer.status = "resolved"
        transfer.resolved_by, transfer.resolved_at = by, utcnow()
    event.result = f"transfer:{transfer.id}"
    db.session.flush()
    return transfer


def open_transfers(store: Store) -> list[Transfer]:
    """Transfers to or from `store` that are still in transit or have discrepancies to settle, oldest first."""
    return list(
        db.session.scalars(
            select(Transfer)
            .where(
                (Transfer.to_store_id == store.id) | (Transfer.from_store_id == store.id),
                Transfer.status.in_(("in_transit", "discrepancy")),
            )
            .order_by(Transfer.id)
        )
    )


def _settle_missing(event, transfer: Transfer, line: TransferLine, action: str, reason: str) -> None:
    if action not in MISSING_ACTIONS:
        raise DomainError("A missing line is written off or waited for.", field="decisions")
    if action == "wait":
        line.reason = reason or line.reason
        return
    if not reason:
        raise DomainError("Give the reason for the write-off.", field="reason")
    origin = transfer.from_store
    gone = MoveLine(
        item=line.item,
        lot=line.lot,
        source=origin.virtual("transit"),
        pieces=line.missing_pieces,
        weight=line.missing_weight,
    )
    take_from(event, "write_off", gone, origin.virtual("loss"), reference=transfer.number, note=reason)
    line.resolution, line.reason = "written_off", reason


def _settle_extra(event, transfer: Transfer, line: TransferLine, action: str, reason: str) -> None:
    if action not in EXTRA_ACTIONS:
        raise DomainError("An extra line is booked here or sent back.", field="decisions")
    if action == "book":
        here = transfer.arrival_location
        source = line.item.location if line.item else _holder(line, transfer.from_store)
        if source.id == here.id:
            raise DomainError(f"The ledger already has item {line.item.serial} in {here.label}.", field="decisions")
        found = MoveLine(
            item=line.item, lot=line.lot, source=source, pieces=line.pieces_arrived, weight=line.weight_arrived
        )
        note = f"Extra on arrival of {transfer.number}, booked here" + (f": {reason}" if reason else "")
        take_from(event, "adjust", found, here, reference=transfer.number, note=note)
    line.resolution, line.reason = ("booked" if action == "book" else "sent_back"), reason


def _holder(line: TransferLine, origin: Store) -> Location:
    """The place of the origin store where the ledger has the most of an extra lot line's loose stock, enough
    to cover it."""
    places = db.session.scalars(
        select(Location)
        .join(Balance, Balance.location_id == Location.id)
        .where(Balance.lot_id == line.lot_id, Location.store_id == origin.id, Location.kind.in_(PHYSICAL_KINDS))
    ).all()
    enough = [
        (qty, place)
        for place in places
        if (qty := loose_at(line.lot, place))[0] >= line.pieces_arrived and qty[1] >= line.weight_arrived
    ]
    if not enough:
        raise DomainError(
            f"The ledger has no {line.pieces_arrived} pcs of lot {line.lot.number} in one place of {origin.name} "
            "to book here; if it is not ours, send it back.",
            field="decisions",
        )
    return max(enough, key=lambda pair: (pair[0], -pair[1].id))[1]


def _tally(scans: list[MoveLine]) -> tuple[list[Item], dict[Lot, tuple[int, Decimal]]]:
    """Scanned items (each once) and the pieces and weight scanned of each lot."""
    if not scans:
        raise DomainError("Scan what arrived.", field="scans")
    items, lots = [], {}
    for scan in scans:
        if scan.item is not None:
            if scan.item in items:
                raise DomainError(f"Item {scan.item.serial} is scanned twice.", field="scans")
            items.append(scan.item)
        elif scan.lot is not None:
            weight = Decimal(scan.weight)
            if not isinstance(scan.pieces, int) or scan.pieces < 0 or weight < 0 or weight != weight.quantize(GRAIN):
                raise DomainError("Pieces and weight arrived are zero or more (weight to 3 decimals).", field="scans")
            pieces, total = lots.get(scan.lot, (0, ZERO))
            lots[scan.lot] = (pieces + scan.pieces, total + weight)
        else:
            raise DomainError("Each scan is an item, or a lot with pieces and weight.", field="scans")
    return items, lots
