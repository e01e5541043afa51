"""The bench: work orders, the stones and metal they use, the pieces custom jobs make, and taking a piece apart.

Materials leave their place through `movements.take_from` (kind `consume`, into the store's `production`
location, with the job's tag code as reference), so every rule about what may leave a place applies to them.
A custom job's piece comes out of `production` with a `produce` movement; its components are the job's lines
that were not undone. Taking a piece apart is the way back: the piece is consumed, and each component chosen
is produced back into its own, original lot.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from scanapp.extensions import db
from scanapp.models import (
    PHYSICAL_KINDS,
    Balance,
    Component,
    Item,
    Location,
    Lot,
    Movement,
    Store,
    Supplier,
    User,
    WorkOrder,
)
from scanapp.models.bench import ACTIVE_STATUSES, WORK_ORDER_KINDS
from scanapp.models.types import utcnow
from scanapp.services import DomainError, access, ledger, tags
from scanapp.services.events import start_event
from scanapp.services.movements import MoveLine, check_destination, check_lines, loose_at, take_from
from scanapp.services.receiving import MAX_WEIGHT, suggest_lot_number
from scanapp.services.scanning import Found

ZERO = Decimal(0)
CENT = Decimal("0.01")
MAX_MONEY = Decimal(10) ** 12
HOUSE_SUPPLIER = "HOUSE"
STATUS_NAMES = {
    "open": "Open",
    "in_progress": "In progress",
    "waiting": "Waiting",
    "done": "Done",
    "collected": "Collected",
}
KIND_NAMES = {"repair": "Repair", "custom": "Custom piece"}


@dataclass(frozen=True)
class NewJob:
    """What the new-job form asks."""

    kind: str
    description: str
    bench: Location
    customer_reference: str = ""
    promised_on: date | None = None
    item: Item | None = None
    customer_piece: str = ""
    jeweler: User | None = None
    labour_cost: Decimal = ZERO


@dataclass(frozen=True)
class Product:
    """The piece a custom job makes: into a new house lot (`lot` None) or a chosen finished lot, put in `dest`."""

    dest: Location
    labour_cost: Decimal
    lot: Lot | None = None
    serial: str = ""
    description: str = ""
    weight: Decimal = ZERO


@dataclass(frozen=True)
class Source:
    """A place of the store holding loose stock of a lot, and how much."""

    location: Location
    pieces: int
    weight: Decimal


@dataclass(frozen=True)
class UsePanel:
    """What the job page offers after a scan: the lot or item, and the places it can be taken from."""

    code: str
    lot: Lot
    item: Item | None
    sources: list[Source]
    default: Location
    can_be_piece: bool = False


@dataclass(frozen=True)
class UsedLine:
    """One line of what a job used, with what it cost."""

    component: Component
    movement: Movement
    cost: Decimal

    @property
    def undone(self) -> bool:
        return self.movement.reversed_by is not None


@dataclass(frozen=True)
class Totals:
    """What a job used, lines undone left out: pieces, carats, grams and cost."""

    pieces: int = 0
    ct: Decimal = ZERO
    g: Decimal = ZERO
    cost: Decimal = ZERO


@dataclass(frozen=True)
class MadeFrom:
    """One component of a piece: the consumed line, its lot and supplier, its cost, and whether it came back out."""

    component: Component
    movement: Movement
    cost: Decimal

    @property
    def lot(self) -> Lot:
        return self.movement.lot

    @property
    def returned(self) -> bool:
        return self.component.returned_by_id is not None


@dataclass(frozen=True)
class UsedIn:
    """A piece made at the bench that contains some of a lot (or an item), and how much."""

    piece: Item
    work_order: WorkOrder
    pieces: int
    weight: Decimal
    unit: str | None


# ---------------------------------------------------------------- work orders


def open_work_order(job: NewJob, *, event_id: str, by: User, store: Store) -> WorkOrder:
    """Open a repair or custom job with its tag (WO-000123). A store piece named in the job moves to the job's
    bench location (kind `move`). Flushes."""
    _may(by, store)
    event = start_event(event_id, "open_work_order", by=by, store=store)
    if job.kind not in WORK_ORDER_KINDS:
        raise DomainError("Choose repair or custom piece.", field="kind")
    description = job.description.strip()
    if not description:
        raise DomainError("Say what the job is.", field="description")
    if len(description) > 2000 or len(job.customer_reference.strip()) > 80 or len(job.customer_piece.strip()) > 200:
        raise DomainError("That text is too long.", field="description")
    if job.item is not None and job.customer_piece.strip():
        raise DomainError("The piece is either the store's (scan its tag) or a customer's (describe it), not both.")
    _check_bench(job.bench, store)
    if job.jeweler is not None:
        _check_jeweler(job.jeweler, store)
    wo = WorkOrder(
        store=store,
        kind=job.kind,
        description=description,
        customer_reference=job.customer_reference.strip(),
        promised_on=job.promised_on,
        customer_piece=job.customer_piece.strip(),
        jeweler=job.jeweler,
        bench_location=job.bench,
        labour_cost=_money(job.labour_cost, "labour_cost"),
        created_by=by,
        updated_by=by,
    )
    db.session.add(wo)
    db.session.flush()
    tags.tag_work_order(wo)
    if job.item is not None:
        _bring(event, wo, job.item, store)
    event.result = f"work_order:{wo.id}"
    return wo


def bring_piece(wo: WorkOrder, item: Item, *, event_id: str, by: User, store: Store) -> Movement | None:
    """Make the store's `item` the piece this job works on, and move it to the job's bench location (kind `move`;
    none when it is there already). Flushes."""
    _may(by, store, wo)
    event = start_event(event_id, "bring_piece", by=by, store=store)
    _check_active(wo)
    if wo.item is not None or wo.customer_piece:
        raise DomainError(f"Job {wo.code} already has its piece.", field="code")
    moved = _bring(event, wo, item, store)
    _touch(wo, by)
    event.result = f"work_order:{wo.id}"
    return moved


def set_status(wo: WorkOrder, status: str, *, event_id: str, by: User, store: Store) -> WorkOrder:
    """Change a job's status between open, in progress, waiting and done (a repair), or reopen a done repair.
    A custom job is done when its piece is made (`finish_custom_job`); collecting is `collect`. Flushes."""
    _may(by, store, wo)
    event = start_event(event_id, "work_order_status", by=by, store=store)
    if status not in ACTIVE_STATUSES + ("done",):
        raise DomainError("Choose open, in progress, waiting or done.", field="status")
    if wo.status == "collected":
        raise DomainError(f"Job {wo.code} was collected; it is closed.", field="status")
    if status == wo.status:
        raise DomainError(f"Job {wo.code} is already {STATUS_NAMES[status].lower()}.", field="status")
    if wo.kind == "custom" and status == "done":
        raise DomainError("A custom job is done when its piece is made: use Finish.", field="status")
    if wo.kind == "custom" and wo.status == "done":
        raise DomainError(f"The piece of job {wo.code} is made; the job cannot be reopened.", field="status")
    wo.status = status
    _touch(wo, by)
    event.result = f"work_order:{wo.id}"
    return wo


def collect(wo: WorkOrder, dest: Location | None, *, event_id: str, by: User, store: Store) -> WorkOrder:
    """Close a done job as collected. A store piece still at the bench goes back to `dest`, a place of the
    store (kind `move`). Flushes."""
    _may(by, store, wo)
    event = start_event(event_id, "collect_work_order", by=by, store=store)
    if wo.status != "done":
        raise DomainError(f"Job {wo.code} is {STATUS_NAMES[wo.status].lower()}: only a done job is collected.")
    if wo.item is not None and wo.item.location_id == wo.bench_location_id:
        if dest is None:
            raise DomainError(f"Say where {wo.item.serial} goes back to.", field="location_id")
        check_destination(dest, store)
        line = check_lines([MoveLine(item=wo.item)], store)[0]
        take_from(event, "move", line, dest, reference=wo.code, note=f"Back from the bench ({wo.code})")
    wo.status = "collected"
    _touch(wo, by)
    event.result = f"work_order:{wo.id}"
    return wo


# ---------------------------------------------------------------- materials


def use_material(wo: WorkOrder, line: MoveLine, *, event_id: str, by: User, store: Store, note: str = "") -> Movement:
    """Log stones, metal or an item used by the job: a `consume` movement of `line` from its place into the
    store's `production` location, with the job's code as reference. An open job moves to in progress. Flushes."""
    _may(by, store, wo)
    event = start_event(event_id, "use_material", by=by, store=store)
    _check_active(wo)
    line = check_lines([line], store)[0]
    if line.item is not None and line.item.id == wo.item_id and wo.kind == "repair":
        raise DomainError(f"{line.item.serial} is the piece being repaired; it is not used up.", field="code")
    if line.item is None and line.lot.weight_unit and line.lot.weight_received and not line.weight:
        raise DomainError(f"Enter the weight used, in {line.lot.weight_unit}.", field="weight")
    movement = take_from(
        event, "consume", line, store.virtual("production"), reference=wo.code, note=note.strip()[:200]
    )
    db.session.add(Component(work_order=wo, movement=movement))
    if wo.status == "open":
        wo.status = "in_progress"
    _touch(wo, by)
    event.result = f"work_order:{wo.id}"
    db.session.flush()
    return movement


def undo_material(wo: WorkOrder, movement: Movement, *, event_id: str, by: User, store: Store) -> Movement:
    """Undo a line logged by mistake: `ledger.reverse` puts it back where it was taken from. Flushes."""
    _may(by, store, wo)
    event = start_event(event_id, "undo_material", by=by, store=store)
    component = db.session.scalar(select(Component).where(Component.movement_id == movement.id))
    if component is None or component.work_order_id != wo.id:
        raise DomainError(f"That line is not part of job {wo.code}.")
    _check_active(wo)
    back = ledger.reverse(event, movement, note=f"Logged on {wo.code} by mistake")
    _touch(wo, by)
    event.result = f"work_order:{wo.id}"
    return back


def use_panel(found: Found, wo: WorkOrder) -> UsePanel:
    """What the job page offers for a scanned code: a lot with the places of the job's store holding loose stock
    of it (the bench first, the default when it holds some), or an item where it is. Stock on hold is not
    offered: when that is all there is, the answer says so."""
    store = wo.store
    if found.item is not None:
        item = found.item
        place = item.location
        if not item.active or place.store_id != store.id or not place.is_physical:
            raise DomainError(f"Item {item.serial} is in {place.label}, not in a place of {store.name}.")
        if place.kind == "quarantine":
            raise DomainError(f"{item.serial} is on hold in {place.label}: a manager must release it first.")
        weight = item.weight if item.lot.weight_unit else ZERO
        free = wo.item is None and not wo.customer_piece and wo.produced_item_id != item.id
        return UsePanel(found.code, item.lot, item, [Source(place, 1, weight)], place, can_be_piece=free)
    if found.lot is None:
        raise DomainError("Scan the tag of a lot or an item to log what the job used.")
    lot = found.lot
    places = db.session.scalars(
        select(Location)
        .join(Balance, Balance.location_id == Location.id)
        .where(
            Balance.lot_id == lot.id,
            Location.store_id == store.id,
            Location.kind.in_(PHYSICAL_KINDS),
            (Balance.pieces > 0) | (Balance.weight > 0),
        )
        .order_by(case((Location.id == wo.bench_location_id, 0), else_=1), Location.code)
    ).all()
    loose = [Source(place, *loose_at(lot, place)) for place in places]
    loose = [s for s in loose if s.pieces > 0 or s.weight > 0]
    sources = [s for s in loose if s.location.kind != "quarantine"]
    if not sources and loose:
        held = loose[0].location.label
        raise DomainError(f"Lot {lot.number} is on hold in {held}: a manager must release it first.")
    if not sources:
        raise DomainError(f"Lot {lot.number} has nothing loose in {store.name} to use.")
    bench = next((s for s in sources if s.location.id == wo.bench_location_id), None)
    default = bench or max(sources, key=lambda s: (s.weight, s.pieces))
    return UsePanel(found.code, lot, None, sources, default.location)


def line_cost(movement: Movement) -> Decimal:
    """What a consumed line cost, from its lot: cost per ct or g × weight for a weighed lot, cost per piece ×
    pieces otherwise (exact, rounded once to cents). A piece made at the bench costs what its job recorded."""
    if movement.item is not None and (maker := maker_of(movement.item)) is not None:
        return maker.total_cost or ZERO
    lot = movement.lot
    if lot.weight_unit and lot.weight_received and movement.weight:
        cost = lot.cost_total * movement.weight / lot.weight_received
    elif lot.pieces_received:
        cost = lot.cost_total * movement.pieces / lot.pieces_received
    else:
        cost = ZERO
    return cost.quantize(CENT)


def lines_of(wo: WorkOrder) -> list[UsedLine]:
    """Everything the job logged, oldest first, lines undone included (they show struck through)."""
    components = db.session.scalars(
        select(Component)
        .join(Component.movement)
        .where(Component.work_order_id == wo.id)
        .options(
            joinedload(Component.movement).joinedload(Movement.lot).joinedload(Lot.supplier),
            joinedload(Component.movement).joinedload(Movement.item),
            joinedload(Component.movement).joinedload(Movement.from_location),
            joinedload(Component.movement).joinedload(Movement.reversed_by),
        )
        .order_by(Movement.id)
    ).all()
    return [UsedLine(c, c.movement, line_cost(c.movement)) for c in components]


def totals(lines: list[UsedLine]) -> Totals:
    """The sum of the lines not undone: pieces, ct, g and cost."""
    kept = [line for line in lines if not line.undone]

    def weight(unit: str) -> Decimal:
        return sum((line.movement.weight for line in kept if line.movement.lot.weight_unit == unit), ZERO)

    return Totals(
        pieces=sum(line.movement.pieces for line in kept),
        ct=weight("ct"),
        g=weight("g"),
        cost=sum((line.cost for line in kept), ZERO),
    )


# ---------------------------------------------------------------- assemblies


def finish_custom_job(wo: WorkOrder, product: Product, *, event_id: str, by: User, store: Store) -> Item:
    """Make the custom job's piece: a new item, in a new house lot (supplier HOUSE) or a chosen finished lot of the
    store, produced from `production` into `product.dest` (kind `produce`). Its cost, materials (each line costed
    from its lot) plus labour, is the produce movement's amount and is kept on the job; every line not undone
    becomes one of its components. The job is done. Flushes."""
    _may(by, store, wo)
    event = start_event(event_id, "finish_custom_job", by=by, store=store)
    if wo.kind != "custom":
        raise DomainError("Only a custom job makes a piece; mark a repair done instead.")
    _check_active(wo)
    check_destination(product.dest, store)
    kept = [line for line in lines_of(wo) if not line.undone]
    if not kept:
        raise DomainError(f"Job {wo.code} has used nothing yet: log its stones and metal first.")
    labour = _money(product.labour_cost, "labour_cost")
    materials = sum((line.cost for line in kept), ZERO)
    if materials + labour >= MAX_MONEY:
        raise DomainError("That cost is too large; check the labour.", field="labour_cost")
    weight = product.weight
    if not weight.is_finite() or not 0 <= weight < MAX_WEIGHT or weight != weight.quantize(Decimal("0.001")):
        raise DomainError("Weight must be zero or more, with at most three decimals.", field="weight")
    description = (product.description.strip() or wo.description)[:200]
    lot = _product_lot(product.lot, store, by, description, materials + labour)
    serial = _serial(product.serial, lot)
    production = store.virtual("production")
    item = Item(lot=lot, serial=serial, description=description, weight=weight, location=production)
    db.session.add(item)
    db.session.flush()
    tags.tag_item(item)
    ledger.post(
        event,
        "produce",
        lot,
        production,
        product.dest,
        1,
        weight if lot.weight_unit else ZERO,
        item=item,
        reference=wo.code,
        note=f"Made at the bench ({wo.code})",
        amount=materials + labour,
    )
    for line in kept:
        line.component.item = item
    wo.labour_cost, wo.material_cost, wo.produced_item = labour, materials, item
    wo.status = "done"
    _touch(wo, by)
    event.result = f"work_order:{wo.id}"
    db.session.flush()
    return item


def disassemble(
    piece: Item, component_ids: Collection[int], dest: Location, *, event_id: str, by: User, store: Store
) -> list[Movement]:
    """Take a piece made at the bench apart: the piece goes into `production` (kind `consume`) and is deactivated;
    each chosen component comes back out of `production` into its own lot, at `dest` (kind `produce`), as much
    as went in. Components not chosen (metal melted, a broken stone) stay used up. Flushes."""
    _may(by, store)
    event = start_event(event_id, "disassemble", by=by, store=store)
    components = [row.component for row in made_from(piece)]
    if not components:
        raise DomainError(f"{piece.serial} was not made at the bench: there is no record of its components.")
    if not piece.active:
        raise DomainError(f"{piece.serial} was taken apart already.")
    chosen = [c for c in components if c.id in set(component_ids)]
    if not chosen:
        raise DomainError("Tick the components that come back to stock.", field="components")
    check_destination(dest, store)
    production = store.virtual("production")
    line = check_lines([MoveLine(item=piece)], store)[0]
    moved = [take_from(event, "consume", line, production, reference=piece.serial, note="Taken apart")]
    for component in chosen:
        used = component.movement
        back = ledger.post(
            event,
            "produce",
            used.lot,
            production,
            dest,
            used.pieces,
            used.weight,
            item=used.item,
            reference=piece.serial,
            note=f"Taken out of {piece.serial}",
        )
        component.returned_by = back
        moved.append(back)
    piece.active = False
    event.result = f"item:{piece.id}"
    db.session.flush()
    return moved


def made_from(piece: Item) -> list[MadeFrom]:
    """Every component of a piece made at the bench, with its lot and supplier and what it cost."""
    components = db.session.scalars(
        select(Component)
        .join(Component.movement)
        .where(Component.item_id == piece.id)
        .options(
            joinedload(Component.movement).joinedload(Movement.lot).joinedload(Lot.supplier),
            joinedload(Component.movement).joinedload(Movement.item),
        )
        .order_by(Movement.id)
    ).all()
    return [MadeFrom(c, c.movement, line_cost(c.movement)) for c in components]


def used_in(thing: Lot | Item) -> list[UsedIn]:
    """The pieces made at the bench that contain some of a lot, or an item: each piece with how much went in."""
    condition = Movement.item_id == thing.id if isinstance(thing, Item) else Movement.lot_id == thing.id
    components = db.session.scalars(
        select(Component)
        .join(Component.movement)
        .where(Component.item_id.is_not(None), condition)
        .options(joinedload(Component.item), joinedload(Component.work_order), joinedload(Component.movement))
        .order_by(Component.item_id, Movement.id)
    ).all()
    found: dict[int, UsedIn] = {}
    for c in components:
        m, before = c.movement, found.get(c.item_id)
        pieces, weight = (before.pieces, before.weight) if before else (0, ZERO)
        found[c.item_id] = UsedIn(c.item, c.work_order, pieces + m.pieces, weight + m.weight, m.lot.weight_unit)
    return list(found.values())


# ---------------------------------------------------------------- lists and choices


def job_for(user: User, work_order_id: int) -> WorkOrder | None:
    """The job, or None when it does not exist or belongs to a store `user` is not in."""
    wo = db.session.get(WorkOrder, work_order_id)
    return wo if wo is not None and wo.store_id in user.store_ids else None


def jobs(store: Store, statuses: Collection[str], jeweler: User | None = None) -> list[WorkOrder]:
    """The store's jobs in `statuses` (of one jeweler when given), the soonest promised first."""
    stmt = select(WorkOrder).where(WorkOrder.store_id == store.id, WorkOrder.status.in_(list(statuses)))
    if jeweler is not None:
        stmt = stmt.where(WorkOrder.jeweler_id == jeweler.id)
    order = (case((WorkOrder.promised_on.is_(None), 1), else_=0), WorkOrder.promised_on, WorkOrder.id)
    return list(db.session.scalars(stmt.options(joinedload(WorkOrder.tag)).order_by(*order)))


def benches(store: Store) -> list[Location]:
    """The store's active bench locations, by code."""
    return list(
        db.session.scalars(
            select(Location)
            .where(Location.store_id == store.id, Location.kind == "bench", Location.active)
            .order_by(Location.code)
        )
    )


def jewelers(store: Store) -> list[User]:
    """The store's active staff who may work at the bench, by name."""
    roles = access.PERMISSIONS["bench"]
    return [u for u in _members(store) if u.active and u.role in roles]


def finished_lots(store: Store) -> list[Lot]:
    """The store's active lots of finished pieces, newest first: where a made piece may go instead of a new lot."""
    return list(
        db.session.scalars(
            select(Lot)
            .where(Lot.store_id == store.id, Lot.category == "finished", Lot.active)
            .order_by(Lot.received_on.desc(), Lot.number)
        )
    )


# ---------------------------------------------------------------- rules


def _may(by: User, store: Store, wo: WorkOrder | None = None) -> None:
    access.require(by, "bench")
    access.require_store(by, store.id)
    if wo is not None and wo.store_id != store.id:
        raise DomainError(f"Job {wo.code} belongs to another store.")


def _check_active(wo: WorkOrder) -> None:
    if not wo.active:
        raise DomainError(f"Job {wo.code} is {STATUS_NAMES[wo.status].lower()}: reopen it to change what it used.")


def _check_bench(bench: Location, store: Store) -> None:
    if bench.store_id != store.id or bench.kind != "bench" or not bench.active:
        raise DomainError(f"Choose a bench of {store.name}.", field="bench_location_id")


def _check_jeweler(jeweler: User, store: Store) -> None:
    if jeweler not in jewelers(store):
        raise DomainError(f"{jeweler.name} does not work at the bench of {store.name}.", field="jeweler_id")


def _members(store: Store) -> list[User]:
    return list(db.session.scalars(select(User).where(User.stores.contains(store)).order_by(User.name)))


def _bring(event, wo: WorkOrder, item: Item, store: Store) -> Movement | None:
    """Name the store's item as the job's piece and move it to the job's bench."""
    if not item.active:
        raise DomainError(f"{item.serial} is no longer in use.", field="code")
    line = check_lines([MoveLine(item=item)], store)[0]
    busy = db.session.scalar(
        select(WorkOrder).where(WorkOrder.item_id == item.id, WorkOrder.status.in_(ACTIVE_STATUSES + ("done",)))
    )
    if busy is not None:
        raise DomainError(f"{item.serial} is the piece of job {busy.code} already.", field="code")
    wo.item = item
    if item.location_id == wo.bench_location_id:
        return None
    return take_from(event, "move", line, wo.bench_location, reference=wo.code, note=f"To the bench for {wo.code}")


def _touch(wo: WorkOrder, by: User) -> None:
    wo.updated_by = by
    wo.updated_at = utcnow()


def _money(value: Decimal, field: str) -> Decimal:
    """An amount of money: finite, zero or more, below MAX_MONEY, at most two decimals."""
    if not value.is_finite() or value < 0 or value >= MAX_MONEY or value != value.quantize(CENT):
        raise DomainError("Enter an amount of zero or more, with at most two decimals.", field=field)
    return value


def maker_of(piece: Item) -> WorkOrder | None:
    """The job that made a piece, if it was made at the bench."""
    return db.session.scalar(select(WorkOrder).where(WorkOrder.produced_item_id == piece.id))


def _house_supplier() -> Supplier:
    """The store chain's own supplier for pieces made at the bench (code HOUSE), created the first time."""
    house = db.session.scalar(select(Supplier).where(Supplier.code == HOUSE_SUPPLIER))
    if house is None:
        house = Supplier(code=HOUSE_SUPPLIER, name="Made in house", notes="Pieces made at the bench.")
        db.session.add(house)
        db.session.flush()
    return house


def _product_lot(chosen: Lot | None, store: Store, by: User, description: str, cost: Decimal) -> Lot:
    """The lot a made piece joins: the chosen finished lot of the store, or a new house lot. A new lot received
    nothing from a supplier (0 pieces): its one piece comes out of production, so its balances still add up to
    what was received; the lot's cost is the piece's cost."""
    if chosen is not None:
        if chosen.store_id != store.id or chosen.category != "finished" or not chosen.active:
            raise DomainError(f"Choose a finished lot of {store.name}, or a new lot.", field="lot_id")
        return chosen
    house = _house_supplier()
    today = date.today()
    lot = Lot(
        number=suggest_lot_number(store, house, "finished", today),
        store=store,
        supplier=house,
        category="finished",
        description=description,
        received_on=today,
        pieces_received=0,
        weight_received=ZERO,
        weight_unit=None,
        cost_total=cost,
        notes="Made at the bench.",
        created_by=by,
    )
    db.session.add(lot)
    db.session.flush()
    tags.tag_lot(lot)
    return lot


def _serial(wanted: str, lot: Lot) -> str:
    """The made piece's serial: the one typed (free, at most 40 characters), else <lot number>-<n>."""
    wanted = wanted.strip()
    if wanted:
        if len(wanted) > 40:
            raise DomainError("A serial has at most 40 characters.", field="serial")
        if db.session.scalar(select(Item.id).where(Item.serial == wanted)) is not None:
            raise DomainError(f"Serial {wanted} is already in stock records.", field="serial")
        return wanted
    n = len(lot.items) + 1
    while db.session.scalar(select(Item.id).where(Item.serial == f"{lot.number}-{n}")) is not None:
        n += 1
    return f"{lot.number}-{n}"
