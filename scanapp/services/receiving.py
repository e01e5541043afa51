"""Receiving a supplier shipment as a lot, with its items, documents and receive movements."""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from scanapp.extensions import db
from scanapp.models import ATTRIBUTES, CATEGORIES, CATEGORY_CODES, Item, Location, Lot, Store, Supplier, User
from scanapp.services import DomainError, access, documents, ledger, tags
from scanapp.services.events import start_event

COST_BASES = ("total", "piece", "weight")
MAX_PIECES = 1_000_000
MAX_WEIGHT = Decimal(1_000_000)  # ct or g, of a lot or an item
MAX_COST = Decimal(10) ** 15  # the cost column holds 18 digits, two of them decimals


@dataclass
class ItemSpec:
    serial: str
    certificate: str = ""
    weight: Decimal = Decimal(0)
    description: str = ""


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class Shipment:
    """What arrived: everything the receiving screen asks."""

    supplier: Supplier
    location: Location
    category: str
    description: str
    received_on: date
    pieces: int
    cost: Decimal
    cost_basis: str = "total"
    weight: Decimal = Decimal(0)
    weight_unit: str | None = None
    number: str = ""
    po_number: str = ""
    invoice_number: str = ""
    notes: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    items: list[ItemSpec] = field(default_factory=list)
    documents: list[Upload] = field(default_factory=list)


def suggest_lot_number(store: Store, supplier: Supplier | None, category: str, received_on: date) -> str:
    """The next free lot number in the store's format, e.g. SUP-0426-FN-001."""
    values = {
        "supplier": supplier.code if supplier else "LOT",
        "mmyy": received_on.strftime("%m%y"),
        "category": CATEGORY_CODES.get(category, "XX"),
    }
    fmt = store.lot_number_format
    prefix = fmt.split("{seq")[0].format(**values).upper()
    taken = set(db.session.scalars(select(Lot.number).where(Lot.number.startswith(prefix))))
    seq = 1
    while (number := fmt.format(seq=seq, **values).upper()) in taken or tags.find(number):
        seq += 1
    return number


def receive_lot(shipment: Shipment, *, event_id: str, by: User, store: Store) -> Lot:
    """Create the lot, its tag and items, store its documents, and post the receive movements. Flushes."""
    access.require(by, "receive")
    access.require_store(by, store.id)
    event = start_event(event_id, "receive_lot", by=by, store=store)
    s = _validated(shipment, store)
    for upload in s.documents:  # check every file before writing anything
        documents.check_document(upload.filename, upload.data)

    lot = Lot(
        number=s.number or suggest_lot_number(store, s.supplier, s.category, s.received_on),
        store=store, supplier=s.supplier, category=s.category, description=s.description,
        po_number=s.po_number, invoice_number=s.invoice_number, received_on=s.received_on,
        pieces_received=s.pieces, weight_received=s.weight, weight_unit=s.weight_unit,
        cost_total=_total_cost(s), notes=s.notes, created_by=by,
        **{name: s.attributes.get(name, "") for name in ATTRIBUTES},
    )  # fmt: skip
    db.session.add(lot)
    db.session.flush()
    tags.tag_lot(lot)

    supplier_location = store.virtual("supplier")
    item_weight = Decimal(0)
    for spec in s.items:
        item = Item(
            lot=lot,
            serial=spec.serial,
            certificate=spec.certificate,
            weight=spec.weight,
            description=spec.description,
            location=supplier_location,
        )
        db.session.add(item)
        db.session.flush()
        tags.tag_item(item)
        ledger.post(
            event,
            "receive",
            lot,
            supplier_location,
            s.location,
            1,
            spec.weight if s.weight_unit else 0,
            item=item,
            reference=s.invoice_number or s.po_number,
        )
        item_weight += spec.weight
    rest_pieces, rest_weight = s.pieces - len(s.items), (s.weight - item_weight if s.weight_unit else Decimal(0))
    if rest_pieces or rest_weight:
        ledger.post(
            event,
            "receive",
            lot,
            supplier_location,
            s.location,
            rest_pieces,
            rest_weight,
            reference=s.invoice_number or s.po_number,
        )
    for upload in s.documents:
        documents.add_document(lot, upload.filename, upload.data, by=by)
    event.result = f"lot:{lot.id}"
    db.session.flush()
    return lot


def parse_items(text: str) -> list[ItemSpec]:
    """Items typed one per line as `serial, certificate, weight` (certificate and weight optional)."""
    specs = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in re.split(r"[,;\t]", line)]
        serial, certificate, weight = (parts + ["", ""])[:3]
        if not serial:
            raise DomainError(f"Item line {n} has no serial.", field="items")
        if len(serial) > 40 or len(certificate) > 60:
            raise DomainError(f"Item line {n}: a serial has at most 40 characters, a certificate 60.", field="items")
        try:
            weight_value = Decimal(weight) if weight else Decimal(0)
        except InvalidOperation:
            weight_value = Decimal("NaN")
        if not _exact(weight_value, 3, MAX_WEIGHT):
            raise DomainError(
                f"Item line {n}: {weight!r} is not a weight (zero or more, at most three decimals).", field="items"
            )
        specs.append(ItemSpec(serial=serial, certificate=certificate, weight=weight_value))
    return specs


def _validated(s: Shipment, store: Store) -> Shipment:
    if s.category not in CATEGORIES:
        raise DomainError(f"Choose a category: {', '.join(CATEGORIES)}.", field="category")
    if not s.supplier.active:
        raise DomainError(f"Supplier {s.supplier.code} is deactivated.", field="supplier_id")
    if s.location.store_id != store.id or not s.location.is_physical or not s.location.active:
        raise DomainError("Receive into a safe, vault, showcase, bench or backroom of this store.", field="location_id")
    if not s.description.strip():
        raise DomainError("Describe what arrived.", field="description")
    if not isinstance(s.pieces, int) or not 0 <= s.pieces <= MAX_PIECES:
        raise DomainError(f"Pieces must be a whole number from 0 to {MAX_PIECES:,}.", field="pieces")
    if s.weight_unit not in (None, "ct", "g"):
        raise DomainError("Weight is in ct or g.", field="weight_unit")
    if not _exact(s.weight, 3, MAX_WEIGHT):
        raise DomainError(
            f"Weight must be zero or more, below {MAX_WEIGHT:,}, with at most three decimals.", field="weight"
        )
    if s.weight and not s.weight_unit:
        raise DomainError("Say whether the weight is in ct or g.", field="weight_unit")
    if s.pieces == 0 and not s.weight:
        raise DomainError("Enter the pieces, the weight, or both.", field="pieces")
    if not _exact(s.cost, 2, MAX_COST):
        raise DomainError("Cost must be zero or more, with at most two decimals.", field="cost")
    if s.cost_basis not in COST_BASES:
        raise DomainError("Cost is per piece, per weight unit, or the total.", field="cost_basis")
    if s.cost_basis == "weight" and not (s.weight_unit and s.weight):
        raise DomainError("A cost per ct or g needs the weight.", field="cost_basis")
    if len(s.items) > s.pieces:
        raise DomainError(f"{len(s.items)} items listed but only {s.pieces} pieces received.", field="items")
    serials = [i.serial.strip() for i in s.items]
    if len(set(map(str.upper, serials))) != len(serials):
        raise DomainError("The same serial is listed twice.", field="items")
    if serials and (taken := db.session.scalars(select(Item.serial).where(Item.serial.in_(serials))).first()):
        raise DomainError(f"Serial {taken} is already in stock records.", field="items")
    if not all(_exact(i.weight, 3, MAX_WEIGHT) for i in s.items):
        raise DomainError("Item weights are zero or more, with at most three decimals.", field="items")
    if s.weight_unit and sum((i.weight for i in s.items), Decimal(0)) > s.weight:
        raise DomainError("The items weigh more than the whole lot.", field="items")
    if s.number:
        try:
            s.number = tags.normalise(s.number)
        except DomainError:
            raise DomainError("A lot number has 1 to 32 letters, digits or dashes.", field="number") from None
        if db.session.scalar(select(Lot.id).where(Lot.number == s.number)) or tags.find(s.number):
            raise DomainError(f"Lot number {s.number} is already in use.", field="number")
    if _total_cost(s) >= MAX_COST:
        raise DomainError("That cost is too large; check the cost and its basis.", field="cost")
    s.description = s.description.strip()
    return s


def _exact(value: Decimal, places: int, limit: Decimal) -> bool:
    """A finite amount from zero up to (not including) `limit`, with at most `places` decimals."""
    return value.is_finite() and 0 <= value < limit and value == value.quantize(Decimal(1).scaleb(-places))


def _total_cost(s: Shipment) -> Decimal:
    per = {"total": 1, "piece": s.pieces, "weight": s.weight}[s.cost_basis]
    return (s.cost * per).quantize(Decimal("0.01"))
