"""Inspections: the checklist of each category, recording what was seen (with photos), putting stock on hold in the
store's quarantine, accepting part of a new shipment and sending part back, releasing held stock, and the queue of
received lots not inspected yet.

Holds are places: stock on hold sits in the store's `quarantine` location, put there by a `hold` movement, and
`ledger.post` refuses every movement out of it except a manager's `release`, a `vendor_return` and a count's
`adjust`. So held stock cannot be sold, moved, shipped or consumed, whichever service asks.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from scanapp.extensions import db
from scanapp.models import (
    INSPECTION_RESULTS,
    POINT_RESULTS,
    Balance,
    Event,
    Inspection,
    Item,
    Location,
    Lot,
    Movement,
    Store,
    User,
)
from scanapp.services import DomainError, access, audit, photos, stores
from scanapp.services.events import start_event
from scanapp.services.movements import MoveLine, check_destination, check_lines, contents_of, loose_at, take_from

ZERO = Decimal(0)
# What is checked, per lot category: (point, what the inspector sees on screen).
CHECKLISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "stone": (
        ("count", "Count matches"),
        ("weight", "Total weight matches"),
        ("measurements", "Measurements"),
        ("certificate", "Certificate matches the stone"),
    ),
    "metal": (("weight", "Weight"), ("karat", "Karat stamp")),
    "finished": (
        ("count", "Count matches"),
        ("damage", "No damage"),
        ("clasp_settings", "Clasp and settings"),
        ("order", "Matches the order"),
    ),
    "finding": (("count", "Count matches"), ("metal_karat", "Metal and karat")),
}
HOLD_SCOPES = ("all", "part", "item")
MAX_PHOTOS = 12
MAX_NOTES = 4000
MAX_REASON = 500


@dataclass(frozen=True)
class Quantity:
    """Pieces and weight of a lot."""

    pieces: int = 0
    weight: Decimal = ZERO

    @property
    def empty(self) -> bool:
        return self.pieces == 0 and self.weight == 0

    def __add__(self, other: "Quantity") -> "Quantity":
        return Quantity(self.pieces + other.pieces, self.weight + other.weight)


@dataclass(frozen=True)
class Hold:
    """What a failed or held inspection puts on hold: `all` of the lot in this store, `part` of it (pieces and
    weight from `source`), or the inspected `item`."""

    scope: str
    source: Location | None = None
    quantity: Quantity = field(default_factory=Quantity)


@dataclass(frozen=True)
class Split:
    """Partial acceptance at a lot's first inspection, at the place where it was received: what is accepted (stays
    there), what goes on hold, what goes back to the supplier. The three add up to the lot's loose stock there."""

    accept: Quantity
    hold: Quantity
    send_back: Quantity


def checklist(category: str) -> tuple[tuple[str, str], ...]:
    """The points inspected for a lot of `category`."""
    return CHECKLISTS[category]


def point_label(category: str, point: str) -> str:
    """What a checklist point is called on screen."""
    return dict(CHECKLISTS.get(category, ())).get(point, point.replace("_", " "))


def record_inspection(
    lot: Lot,
    *,
    item: Item | None = None,
    points: dict[str, str],
    result: str,
    notes: str = "",
    photo_uploads: Sequence[tuple[str, bytes]] = (),
    hold: Hold | None = None,
    split: Split | None = None,
    event_id: str,
    by: User,
    store: Store,
) -> Inspection:
    """Record an inspection of `lot` (or one `item` of it) in `store`: the checklist, the result, notes and photos
    (each checked before anything is written). A fail or hold puts `hold` into the store's quarantine; a lot's first
    inspection may instead `split` what arrived into accepted, held and sent back (`vendor_return`). All of it is
    one event. Flushes."""
    access.require(by, "inspect")
    access.require_store(by, store.id)
    event = start_event(event_id, "inspect", by=by, store=store)
    if item is not None and item.lot_id != lot.id:
        raise DomainError(f"Item {item.serial} is not part of lot {lot.number}.", field="item")
    points = _checklist(lot.category, points)
    result = _result(result, points)
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise DomainError(f"Notes have at most {MAX_NOTES} characters.", field="notes")
    if len(photo_uploads) > MAX_PHOTOS:
        raise DomainError(f"Attach at most {MAX_PHOTOS} photos to one inspection.", field="photos")
    prepared = photos.prepare_all(list(photo_uploads))
    receiving = receiving_place(lot, store) if split is not None else None  # before this inspection exists

    inspection = Inspection(
        lot=lot,
        item=item,
        store=store,
        event=event,
        inspected_by=by,
        inspected_at=event.created_at,
        checklist=points,
        result=result,
        notes=notes,
    )
    db.session.add(inspection)
    db.session.flush()
    reference = f"Inspection {inspection.id}"
    if split is not None:
        if item is not None or receiving is None:
            raise DomainError(
                f"Lot {lot.number} was inspected before, or nothing of it is left where it was received: "
                "put stock on hold instead.",
                field="accept_pieces",
            )
        _split(event, lot, receiving, split, result, store, reference)
    elif result == "pass":
        if hold is not None:
            raise DomainError("A passed inspection puts nothing on hold.", field="result")
    else:
        _hold(
            event, lot, item, hold, store, reference, note=f"{'Failed' if result == 'fail' else 'Held at'} inspection"
        )
    # Photos are written last, when everything else has been accepted.
    for photo in prepared:
        photos.save(photo, by=by, store=store, inspection=inspection)
    event.result = f"item:{item.id}" if item is not None else f"lot:{lot.id}"
    return inspection


def release(
    lot: Lot,
    *,
    item: Item | None = None,
    quantity: Quantity = Quantity(),
    dest: Location,
    reason: str,
    event_id: str,
    by: User,
    store: Store,
) -> Movement:
    """Release held stock of `lot` (one `item`, or loose pieces and weight) from `store`'s quarantine into `dest`,
    a place of the store (kind `release`), or send it back to the supplier when `dest` is the store's
    `vendor_return` location (kind `vendor_return`). Managers only; the reason is required. Flushes."""
    access.require(by, "release")
    access.require_store(by, store.id)
    event = start_event(event_id, "release", by=by, store=store)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason for the release.", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"A reason has at most {MAX_REASON} characters.", field="reason")
    quarantine = stores.quarantine(store)
    if dest.kind == "vendor_return" and dest.store_id == store.id:
        kind = "vendor_return"
    else:
        check_destination(dest, store)
        kind = "release"
    if item is not None:
        if item.lot_id != lot.id:
            raise DomainError(f"Item {item.serial} is not part of lot {lot.number}.", field="item_id")
        if item.location_id != quarantine.id:
            raise DomainError(f"Item {item.serial} is not on hold in {store.name}.", field="item_id")
        line = MoveLine(item=item)
    else:
        _check_quantity(lot, quantity, "pieces")
        if quantity.empty:
            raise DomainError("Say how many pieces (or how much weight) to release.", field="pieces")
        line = MoveLine(lot=lot, source=quarantine, pieces=quantity.pieces, weight=quantity.weight)
    movement = take_from(event, kind, line, dest, note=reason)
    event.result = f"item:{item.id}" if item is not None else f"lot:{lot.id}"
    what = f"item {item.serial}" if item is not None else _qty(lot, quantity)
    audit.record("hold_released", by=by, store=store, subject=f"lot:{lot.id}",
                 detail=f"{what} of lot {lot.number} to {dest.name}: {reason}")  # fmt: skip
    return movement


def receiving_place(lot: Lot, store: Store) -> Location | None:
    """Where `lot` was received, when its first inspection may split what arrived there: the lot has no
    inspection yet, was received into a place of `store`, and loose stock of it is still there."""
    if db.session.scalar(select(Inspection.id).where(Inspection.lot_id == lot.id).limit(1)) is not None:
        return None
    place = db.session.scalar(
        select(Location)
        .join(Movement, Movement.to_location_id == Location.id)
        .where(Movement.lot_id == lot.id, Movement.kind == "receive")
        .order_by(Movement.id)
        .limit(1)
    )
    if place is None or place.store_id != store.id or not place.is_physical or place.kind == "quarantine":
        return None
    pieces, weight = loose_at(lot, place)
    return place if pieces > 0 or weight > 0 else None


def hold_sources(lot: Lot, store: Store) -> list[tuple[Location, Quantity]]:
    """The places of `store` (not the quarantine) with loose stock of `lot`, and how much, most first."""
    places = db.session.scalars(
        select(Location)
        .join(Balance, Balance.location_id == Location.id)
        .where(
            Balance.lot_id == lot.id,
            Location.store_id == store.id,
            Location.kind.in_(stores.PLACE_KINDS),
            (Balance.pieces > 0) | (Balance.weight > 0),
        )
        .order_by(Location.code)
    ).all()
    loose = [(place, Quantity(*loose_at(lot, place))) for place in places]
    loose = [(place, qty) for place, qty in loose if not qty.empty]
    return sorted(loose, key=lambda pair: (pair[1].pieces, pair[1].weight), reverse=True)


def held(lot: Lot, store: Store) -> tuple[Quantity, list[Item]]:
    """What of `lot` is on hold in `store`'s quarantine: the loose pieces and weight, and the held items."""
    quarantine = stores.quarantine(store)
    items = list(
        db.session.scalars(
            select(Item).where(Item.lot_id == lot.id, Item.location_id == quarantine.id).order_by(Item.serial)
        )
    )
    return Quantity(*loose_at(lot, quarantine)), items


def holds_of(lot: Lot) -> list[Balance]:
    """The lot's stock on hold, one balance per store's quarantine that holds some."""
    return list(
        db.session.scalars(
            select(Balance)
            .join(Balance.location)
            .options(joinedload(Balance.location).joinedload(Location.store))
            .where(
                Balance.lot_id == lot.id,
                Location.kind == "quarantine",
                (Balance.pieces != 0) | (Balance.weight != 0),
            )
            .order_by(Location.store_id)
        )
    )


def inspections_of(lot: Lot | None = None, item: Item | None = None) -> list[Inspection]:
    """Inspections of a lot (all of them, its items' too) or of one item, newest first, with who and photos."""
    condition = Inspection.item_id == item.id if item is not None else Inspection.lot_id == lot.id
    return list(
        db.session.scalars(
            select(Inspection)
            .where(condition)
            .options(
                joinedload(Inspection.inspected_by),
                joinedload(Inspection.item),
                selectinload(Inspection.photos),
                selectinload(Inspection.event).selectinload(Event.movements),
            )
            .order_by(Inspection.id.desc())
        )
    )


def receiving_queue(store: Store, limit: int = 200) -> list[Lot]:
    """Lots received by `store` that nobody has inspected yet, newest first."""
    inspected = select(Inspection.lot_id)
    return list(
        db.session.scalars(
            select(Lot)
            .where(Lot.store_id == store.id, Lot.active, Lot.id.not_in(inspected))
            .options(joinedload(Lot.supplier))
            .order_by(Lot.received_on.desc(), Lot.id.desc())
            .limit(limit)
        )
    )


def _checklist(category: str, points: dict[str, str]) -> dict[str, str]:
    """Every point of the category's checklist with its outcome (not_checked when not given)."""
    known = [point for point, _ in CHECKLISTS[category]]
    for point, outcome in points.items():
        if point not in known:
            raise DomainError(f"{point!r} is not on the {category} checklist.", field="points")
        if outcome not in POINT_RESULTS:
            raise DomainError(f"{point_label(category, point)}: choose pass, fail or not checked.", field="points")
    return {point: points.get(point, "not_checked") for point in known}


def _result(result: str, points: dict[str, str]) -> str:
    if result not in INSPECTION_RESULTS:
        raise DomainError("Choose the result: pass, fail or hold.", field="result")
    if result == "pass" and "fail" in points.values():
        raise DomainError("A point failed, so the inspection cannot pass: choose fail or hold.", field="result")
    return result


def _check_quantity(lot: Lot, quantity: Quantity, field: str) -> None:
    """Pieces a whole number and weight a Decimal, both zero or more, weight only for a weighed lot."""
    pieces, weight = quantity.pieces, quantity.weight
    if not isinstance(pieces, int) or isinstance(pieces, bool) or pieces < 0:
        raise DomainError("Pieces must be a whole number, zero or more.", field=field)
    if not isinstance(weight, Decimal) or not weight.is_finite() or weight < 0:
        raise DomainError("Weight must be a number, zero or more.", field=field)
    if weight and not lot.weight_unit:
        raise DomainError(f"Lot {lot.number} is counted in pieces only.", field=field)


def _hold(
    event, lot: Lot, item: Item | None, hold: Hold | None, store: Store, reference: str, *, note: str
) -> list[Movement]:
    """Put what `hold` names into the store's quarantine (kind `hold`); what is on hold already stays there."""
    if hold is None or hold.scope not in HOLD_SCOPES:
        raise DomainError("Say what goes on hold: all of it, part of it, or the item.", field="hold_scope")
    quarantine = stores.quarantine(store)
    if item is not None or hold.scope == "item":
        if item is None:
            raise DomainError("Only an item's inspection can hold the item.", field="hold_scope")
        lines = [] if item.location_id == quarantine.id else [MoveLine(item=item)]
    elif hold.scope == "all":
        lines = [line for place, _ in hold_sources(lot, store) for line in contents_of(place) if line.lot.id == lot.id]
        on_hold, held_items = held(lot, store)
        if not lines and on_hold.empty and not held_items:
            raise DomainError(f"Nothing of lot {lot.number} is in {store.name} to put on hold.", field="hold_scope")
    else:
        if hold.source is None:
            raise DomainError("Choose where the pieces on hold are taken from.", field="hold_from")
        if hold.source.kind == "quarantine":
            raise DomainError(f"What is in {hold.source.label} is on hold already.", field="hold_from")
        _check_quantity(lot, hold.quantity, "hold_pieces")
        if hold.quantity.empty:
            raise DomainError("Say how many pieces (or how much weight) go on hold.", field="hold_pieces")
        lines = [MoveLine(lot=lot, source=hold.source, pieces=hold.quantity.pieces, weight=hold.quantity.weight)]
    return [
        take_from(event, "hold", line, quarantine, reference=reference, note=note)
        for line in (check_lines(lines, store) if lines else [])
    ]


def _split(event, lot: Lot, place: Location, split: Split, result: str, store: Store, reference: str) -> None:
    """Check that accepted, held and sent back add up to the loose stock where the lot was received, then move
    the held part into quarantine and the sent-back part to the supplier."""
    for quantity, name in ((split.accept, "accept"), (split.hold, "hold"), (split.send_back, "return")):
        _check_quantity(lot, quantity, f"{name}_pieces")
    have = Quantity(*loose_at(lot, place))
    total = split.accept + split.hold + split.send_back
    if total != have:
        raise DomainError(
            f"Accepted, held and returned add up to {_qty(lot, total)}, but {_qty(lot, have)} of lot {lot.number} "
            f"are in {place.label}: account for all of it.",
            field="accept_pieces",
        )
    rejected = not (split.hold.empty and split.send_back.empty)
    if result == "pass" and rejected:
        raise DomainError(
            "A passed inspection accepts everything: choose fail or hold to hold or return some.", field="result"
        )
    if result != "pass" and not rejected:
        raise DomainError("Say how much goes on hold or back to the supplier.", field="hold_pieces")
    for quantity, kind, dest in (
        (split.hold, "hold", stores.quarantine(store)),
        (split.send_back, "vendor_return", store.virtual("vendor_return")),
    ):
        if not quantity.empty:
            line = MoveLine(lot=lot, source=place, pieces=quantity.pieces, weight=quantity.weight)
            take_from(event, kind, line, dest, reference=reference, note="Partial acceptance at receiving")


def _qty(lot: Lot, quantity: Quantity) -> str:
    """ "12 pcs" or "12 pcs, 3.600 ct"."""
    pieces = f"{quantity.pieces} pcs"
    return f"{pieces}, {quantity.weight} {lot.weight_unit}" if lot.weight_unit else pieces
