"""Customer returns at the counter: what a scanned piece is and how its lot fared, taking it back from the
customer against its sale, and where it goes next (its disposition); the store's list of reasons; return rates.

Dispositions, each in the return's one event (all from the store's `customer` location, or from where an
overridden piece sits):
- `restock`: `return` into a chosen place of the store;
- `quarantine`: `return` straight into the store's quarantine (on hold until a manager releases it);
- `bench`: `return` into a bench, and a repair work order for it when the user may open bench jobs;
- `supplier`: `return` into the quarantine, then `vendor_return` from there to the store's `vendor_return`.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from scanapp.extensions import db
from scanapp.models import Item, Location, Lot, Movement, Return, ReturnReason, Store, Supplier, User
from scanapp.models.returns import RETURN_CONDITIONS, RETURN_DISPOSITIONS
from scanapp.models.types import utcnow
from scanapp.services import DomainError, Forbidden, access, audit, bench, photos, stores
from scanapp.services.events import start_event
from scanapp.services.movements import MoveLine, check_destination, take_from
from scanapp.services.sales import money

ZERO = Decimal(0)
CENT = Decimal("0.01")
DEFAULT_REASONS = ("Defect", "Size", "Changed mind", "Damage", "Wrong item")
CONDITION_NAMES = {"as_new": "As new", "worn": "Worn", "damaged": "Damaged"}
DISPOSITION_NAMES = {
    "restock": "Restock",
    "quarantine": "Quarantine for inspection",
    "bench": "Send to the bench for repair",
    "supplier": "Return to the supplier",
}


@dataclass(frozen=True)
class LotSummary:
    """How the pieces of a lot fared with customers, over all stores: sold (net of undone sales), came back,
    and the pieces that came back per reason, most first (`None` for returns recorded without a reason)."""

    sold: int
    returned: int
    reasons: list[tuple[str | None, int]]


@dataclass(frozen=True)
class ReturnRate:
    """Pieces sold and returned, and returned / sold (None when nothing sold)."""

    sold: int
    returned: int

    @property
    def rate(self) -> Decimal | None:
        return (Decimal(self.returned) / self.sold).quantize(Decimal("0.0001")) if self.sold else None


@dataclass(frozen=True)
class SupplierReturnRate:
    supplier: Supplier
    sold: int
    returned: int

    @property
    def rate(self) -> Decimal | None:
        return ReturnRate(self.sold, self.returned).rate


@dataclass(frozen=True)
class SaleFound:
    """The sale a return reverses, what of it is left to return, and why it may not be taken back without a
    manager (`problem`: never sold here, sold by another store). `source` is where the piece comes back from."""

    sales: list[Movement]
    source: Location
    left_pieces: int = 0
    left_weight: Decimal = ZERO
    problem: str = ""

    @property
    def sale(self) -> Movement | None:
        return self.sales[-1] if self.sales else None


@dataclass(frozen=True)
class Counter:
    """What the counter sees after a scan: the piece, its sale (or the problem), and how its lot fared."""

    lot: Lot
    item: Item | None
    found: SaleFound
    summary: LotSummary


# ---------------------------------------------------------------- reasons


def seed_reasons(store: Store) -> None:
    """Give a store the default reasons it does not have yet. Flushes."""
    have = set(db.session.scalars(select(ReturnReason.label).where(ReturnReason.store_id == store.id)))
    db.session.add_all(ReturnReason(store=store, label=label) for label in DEFAULT_REASONS if label not in have)
    db.session.flush()


def reasons(store: Store, *, active_only: bool = True) -> list[ReturnReason]:
    """The store's reasons, active ones first, by label."""
    query = select(ReturnReason).where(ReturnReason.store_id == store.id)
    if active_only:
        query = query.where(ReturnReason.active)
    return list(db.session.scalars(query.order_by(ReturnReason.active.desc(), ReturnReason.label)))


def save_reason(
    reason: ReturnReason | None, label: str, active: bool, *, event_id: str, by: User, store: Store
) -> ReturnReason:
    """Add a reason to the store's list (`reason` None), or rename, deactivate or reactivate one. Flushes."""
    access.require(by, "manage_return_reasons")
    access.require_store(by, store.id)
    event = start_event(event_id, "return_reason", by=by, store=store)
    label = " ".join((label or "").split())
    if not label or len(label) > 60:
        raise DomainError("A reason is 1 to 60 characters.", field="label")
    if reason is not None and reason.store_id != store.id:
        raise DomainError("That reason belongs to another store.")
    clash = db.session.scalar(
        select(ReturnReason).where(ReturnReason.store_id == store.id, func.lower(ReturnReason.label) == label.lower())
    )
    if clash is not None and clash is not reason:
        raise DomainError(f"{store.name} has the reason “{clash.label}” already.", field="label")
    if reason is None:
        reason = ReturnReason(store=store)
        db.session.add(reason)
    reason.label, reason.active = label, bool(active)
    db.session.flush()
    event.result = f"return_reason:{reason.id}"
    return reason


# ---------------------------------------------------------------- what the counter sees


def counter(subject: Item | Lot, store: Store, receipt: str = "") -> Counter:
    """The piece scanned at the counter with its sale (an item's last sale; a lot's sale on `receipt`) and how
    the other pieces of its lot fared."""
    lot = subject.lot if isinstance(subject, Item) else subject
    item = subject if isinstance(subject, Item) else None
    found = find_sale(subject, store, receipt)
    return Counter(lot=lot, item=item, found=found, summary=lot_return_summary(lot))


def find_sale(subject: Item | Lot, store: Store, receipt: str = "") -> SaleFound:
    """The sale a return of `subject` reverses. An item: its last sale not undone, and it must be with a
    customer. A lot: the loose pieces it sold on `receipt`, less what came back on it already. `problem` says
    why a manager must override (never sold by this store, sold by another), a DomainError why nobody may."""
    if isinstance(subject, Item):
        return _item_sale(subject, store)
    receipt = _receipt(receipt)
    if not receipt:
        return SaleFound([], store.virtual("customer"), problem="Enter the receipt number to find the sale.")
    flows = db.session.scalars(
        select(Movement)
        .where(
            Movement.lot_id == subject.id,
            Movement.item_id.is_(None),
            Movement.kind.in_(("sell", "return")),
            Movement.reference == receipt,
        )
        .order_by(Movement.id)
    ).all()
    sales = [m for m in flows if m.kind == "sell" and m.reverses_id is None and m.store_id == store.id]
    if not sales:
        other = next((m for m in flows if m.kind == "sell" and m.store_id != store.id), None)
        if other is not None:
            problem = f"Receipt {receipt} of lot {subject.number} is a sale of {other.store.name}, not {store.name}."
        else:
            problem = f"Lot {subject.number} was never sold by {store.name} on receipt {receipt}."
        return SaleFound([], store.virtual("customer"), problem=problem)
    back = [m for m in flows if m not in sales and m.store_id == store.id]  # returns, and undone sales
    left_pieces = sum(m.pieces for m in sales) - sum(m.pieces for m in back)
    left_weight = sum((m.weight for m in sales), ZERO) - sum((m.weight for m in back), ZERO)
    if left_pieces <= 0 and left_weight <= 0:
        raise DomainError(f"Everything of lot {subject.number} sold on receipt {receipt} came back already.")
    return SaleFound(sales, sales[-1].to_location, left_pieces, left_weight)


def lot_return_summary(lot: Lot) -> LotSummary:
    """Pieces of `lot` sold (net of undone sales), returned by customers, and returned per reason."""
    to_loc, from_loc = aliased(Location), aliased(Location)
    signed = case(
        (to_loc.kind == "customer", Movement.pieces), (from_loc.kind == "customer", -Movement.pieces), else_=0
    )
    sold, returned = db.session.execute(
        select(
            func.coalesce(func.sum(case((Movement.kind == "sell", signed), else_=0)), 0),
            func.coalesce(func.sum(case((Movement.kind == "return", -signed), else_=0)), 0),
        )
        .join(to_loc, to_loc.id == Movement.to_location_id)
        .join(from_loc, from_loc.id == Movement.from_location_id)
        .where(Movement.lot_id == lot.id, Movement.kind.in_(("sell", "return")))
    ).one()
    rows = db.session.execute(
        select(ReturnReason.label, func.sum(Return.pieces))
        .join(Return.reason)
        .where(Return.lot_id == lot.id)
        .group_by(ReturnReason.label)
        .order_by(func.sum(Return.pieces).desc(), ReturnReason.label)
    ).all()
    reasons_ = [(label, int(n)) for label, n in rows]
    unexplained = int(returned) - sum(n for _, n in reasons_)
    if unexplained > 0:
        reasons_.append((None, unexplained))
    return LotSummary(sold=int(sold), returned=int(returned), reasons=reasons_)


def return_rate(lot: Lot) -> ReturnRate:
    """The lot's pieces sold and returned by customers, over all stores, and the rate."""
    summary = lot_return_summary(lot)
    return ReturnRate(summary.sold, summary.returned)


def supplier_return_rates(
    store_ids: set[int] | None = None, since: datetime | None = None, until: datetime | None = None
) -> list[SupplierReturnRate]:
    """Per supplier: pieces sold (net of undone sales) and returned by customers in the stores `store_ids`
    (all when None) between `since` and `until` (movement times, UTC), the highest rate first."""
    to_loc, from_loc = aliased(Location), aliased(Location)
    signed = case(
        (to_loc.kind == "customer", Movement.pieces), (from_loc.kind == "customer", -Movement.pieces), else_=0
    )
    query = (
        select(
            Lot.supplier_id,
            func.coalesce(func.sum(case((Movement.kind == "sell", signed), else_=0)), 0),
            func.coalesce(func.sum(case((Movement.kind == "return", -signed), else_=0)), 0),
        )
        .join(Lot, Lot.id == Movement.lot_id)
        .join(to_loc, to_loc.id == Movement.to_location_id)
        .join(from_loc, from_loc.id == Movement.from_location_id)
        .where(Movement.kind.in_(("sell", "return")))
        .group_by(Lot.supplier_id)
    )
    if store_ids is not None:
        query = query.where(Movement.store_id.in_(store_ids))
    if since is not None:
        query = query.where(Movement.created_at >= since)
    if until is not None:
        query = query.where(Movement.created_at < until)
    rows = db.session.execute(query).all()
    suppliers = {s.id: s for s in db.session.scalars(select(Supplier).where(Supplier.id.in_([r[0] for r in rows])))}
    rates = [SupplierReturnRate(suppliers[sid], int(sold), int(back)) for sid, sold, back in rows]
    return sorted(rates, key=lambda r: (-(r.rate or 0), r.supplier.code))


# ---------------------------------------------------------------- taking a return


def take_return(
    subject: Item | Lot,
    *,
    reason: ReturnReason | None,
    condition: str,
    disposition: str,
    dest: Location | None = None,
    receipt: str = "",
    pieces: int = 0,
    weight: Decimal = ZERO,
    notes: str = "",
    refund: Decimal | None = None,
    override_reason: str = "",
    photo_uploads: list[tuple[str, bytes]] = (),
    event_id: str,
    by: User,
    store: Store,
) -> Return:
    """Take a piece back from a customer against its sale and put it where `disposition` says (see the module's
    docstring), with the photos (all checked before any is written). A piece this store never sold, or sold by
    another store, needs a manager's `override_reason`. `refund` defaults to the sale price (pro rata for part of
    a lot's sale). Flushes."""
    access.require(by, "return")
    access.require_store(by, store.id)
    event = start_event(event_id, "return", by=by, store=store)
    if reason is None or reason.store_id != store.id or not reason.active:
        raise DomainError("Choose the reason from the list.", field="reason")
    if condition not in RETURN_CONDITIONS:
        raise DomainError("Choose the piece's condition.", field="condition")
    if disposition not in RETURN_DISPOSITIONS:
        raise DomainError("Choose where the piece goes now.", field="disposition")
    notes = (notes or "").strip()
    if len(notes) > 2000:
        raise DomainError("Notes have at most 2000 characters.", field="notes")
    found = find_sale(subject, store, receipt)
    override_reason = _override(found, override_reason, by)
    line, default_refund = _line(subject, found, pieces, Decimal(weight))
    prepared = photos.prepare_all(list(photo_uploads))
    refund = default_refund if refund is None else money(refund, "refund")
    place = _place(disposition, dest, store)
    reference = found.sale.reference if found.sale else _receipt(receipt)
    note = f"Return of sale movement {found.sale.id}" if found.sale else f"Return by override: {override_reason}"
    back = take_from(event, "return", line, place, reference=reference, note=note, amount=refund)
    if disposition == "supplier":
        onward = MoveLine(item=line.item) if line.item else replace(line, source=place)
        take_from(event, "vendor_return", onward, store.virtual("vendor_return"), reference=reference,
                  note="Customer return sent back to the supplier")  # fmt: skip
    record = Return(
        store=store,
        event=event,
        lot=line.lot,
        item=line.item,
        pieces=line.pieces,
        weight=line.weight,
        sale=found.sale,
        receipt=reference,
        reason=reason,
        condition=condition,
        notes=notes,
        disposition=disposition,
        movement=back,
        refund=refund,
        override_reason=override_reason,
        override_by=by if override_reason else None,
        override_at=utcnow() if override_reason else None,
        created_by=by,
        photos=[photos.save(p, by=by, store=store) for p in prepared],
    )
    db.session.add(record)
    db.session.flush()
    if disposition == "bench" and access.can(by, "bench"):
        record.work_order = _repair_job(record, place, event.id, by, store)
    event.result = f"return:{record.id}"
    if override_reason:
        audit.record("return_override", by=by, store=store, subject=f"return:{record.id}",
                     detail=f"{found.problem} Reason: {override_reason}")  # fmt: skip
    return record


def return_for(user: User, return_id: int) -> Return | None:
    """The return, or None when it does not exist or belongs to a store `user` is not in."""
    found = db.session.get(Return, return_id)
    return found if found is not None and found.store_id in user.store_ids else None


def return_of_event(event_id: str) -> Return | None:
    """The return an event recorded (to show it again when the same form is sent twice)."""
    return db.session.scalar(select(Return).where(Return.event_id == event_id))


def recent_returns(store: Store, limit: int = 20) -> list[Return]:
    """The store's latest returns, newest first."""
    return list(
        db.session.scalars(select(Return).where(Return.store_id == store.id).order_by(Return.id.desc()).limit(limit))
    )


def _item_sale(item: Item, store: Store) -> SaleFound:
    sale = db.session.scalar(
        select(Movement)
        .where(Movement.item_id == item.id, Movement.kind == "sell", Movement.reverses_id.is_(None))
        .order_by(Movement.id.desc())
        .limit(1)
    )
    place = item.location
    if place.is_physical:
        raise DomainError(
            f"Item {item.serial} is in stock in {place.label}: it is not with a customer, so it cannot come back.",
            field="code",
        )
    if sale is None or sale.reversed_by is not None or sale.to_location_id != place.id:
        problem = f"This piece was never sold by {store.name}: item {item.serial} is in {place.label}, with no sale."
        return SaleFound([], place, problem=problem)
    if sale.store_id != store.id:
        return SaleFound(
            [sale], place, 1, item.weight, problem=f"This piece was sold by {sale.store.name}, not {store.name}."
        )
    return SaleFound([sale], place, 1, item.weight)


def _override(found: SaleFound, override_reason: str, by: User) -> str:
    """The override's reason when the return needs one; refused without one, or for a role that may not."""
    if not found.problem:
        return ""
    override_reason = " ".join((override_reason or "").split())
    if not override_reason:
        raise DomainError(f"{found.problem} A manager can take it back with a reason.", field="override_reason")
    if not access.can(by, "override_return"):
        raise Forbidden(f"{found.problem} Only a manager can take it back.")
    if len(override_reason) > 500:
        raise DomainError("An override reason has at most 500 characters.", field="override_reason")
    return override_reason


def _line(subject: Item | Lot, found: SaleFound, pieces: int, weight: Decimal) -> tuple[MoveLine, Decimal]:
    """What comes back, from where, and the refund it is worth by default."""
    sale = found.sale
    if isinstance(subject, Item):
        weight = subject.weight if subject.lot.weight_unit else ZERO
        line = MoveLine(item=subject, lot=subject.lot, source=found.source, pieces=1, weight=weight)
        return line, (sale.amount or ZERO) if sale else ZERO
    if not isinstance(pieces, int) or isinstance(pieces, bool) or pieces < 0:
        raise DomainError("Pieces must be a whole number, zero or more.", field="pieces")
    if not weight.is_finite() or weight < 0:
        raise DomainError("Weight must be a number, zero or more.", field="weight")
    if pieces == 0 and weight == 0:
        raise DomainError("Say how many pieces (or how much weight) came back.", field="pieces")
    if sale is None:
        return MoveLine(lot=subject, source=found.source, pieces=pieces, weight=weight), ZERO
    if pieces > found.left_pieces or weight > found.left_weight:
        unit = f" {subject.weight_unit}" if subject.weight_unit else ""
        left = f"{found.left_pieces} pcs" + (f", {found.left_weight}{unit}" if subject.weight_unit else "")
        raise DomainError(f"Receipt {sale.reference} has {left} of lot {subject.number} left to return.", "pieces")
    sold_pieces = sum(m.pieces for m in found.sales)
    sold_weight = sum((m.weight for m in found.sales), ZERO)
    total = sum((m.amount or ZERO for m in found.sales), ZERO)
    share = Decimal(pieces) / sold_pieces if sold_pieces else (weight / sold_weight if sold_weight else ZERO)
    line = MoveLine(lot=subject, source=found.source, pieces=pieces, weight=weight)
    return line, (total * share).quantize(CENT)


def _place(disposition: str, dest: Location | None, store: Store) -> Location:
    """Where the `return` movement puts the piece."""
    if disposition in ("quarantine", "supplier"):
        return stores.quarantine(store)
    if dest is None:
        raise DomainError("Choose where the piece goes.", field="dest")
    if disposition == "bench" and dest.kind != "bench":
        raise DomainError(f"{dest.label} is not a bench: choose one.", field="dest")
    check_destination(dest, store)
    return dest


def _repair_job(record: Return, bench_place: Location, event_id: str, by: User, store: Store):
    """Open a repair job for the returned piece at the bench it went to, as an event of its own whose id follows
    from the return's (so a replayed return cannot open a second job)."""
    what = f"item {record.item.serial}" if record.item else f"{record.pieces} pcs of lot {record.lot.number}"
    notes = f" {record.notes}" if record.notes else ""
    job = bench.NewJob(
        kind="repair",
        description=f"Customer return {record.number} ({record.reason.label}): repair {what}.{notes}",
        bench=bench_place,
        customer_reference=record.receipt,
        item=record.item,
    )
    return bench.open_work_order(job, event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, event_id)), by=by, store=store)


def _receipt(receipt: str) -> str:
    receipt = (receipt or "").strip()
    if len(receipt) > 80:
        raise DomainError("A receipt number has at most 80 characters.", field="receipt")
    return receipt
