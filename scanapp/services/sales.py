"""Selling stock to a customer, a lot's margin, and simple returns of what was sold."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from scanapp.extensions import db
from scanapp.models import Item, Location, Lot, Movement, Store, User
from scanapp.services import DomainError, access
from scanapp.services.events import start_event
from scanapp.services.movements import MoveLine, check_destination, check_lines, take_from

ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Margin:
    """What a lot has earned: net of returns and undone sales."""

    pieces: int
    weight: Decimal
    revenue: Decimal
    cost: Decimal
    margin: Decimal


def sell(
    lines: list[MoveLine],
    *,
    price: Decimal | Sequence[Decimal],
    receipt: str,
    event_id: str,
    by: User,
    store: Store,
) -> list[Movement]:
    """Sell each line from its place to the store's `customer` location (kind `sell`), with the receipt number
    as reference. `price` is the sale price of the one line, or one price per line. Flushes."""
    access.require(by, "sell")
    access.require_store(by, store.id)
    event = start_event(event_id, "sell", by=by, store=store)
    receipt = _receipt(receipt, required=True)
    lines = check_lines(lines, store)
    prices = [price] if not isinstance(price, Sequence) or isinstance(price, str) else list(price)
    if len(prices) != len(lines):
        raise DomainError(f"Give one price for each of the {len(lines)} lines.", field="price")
    customer = store.virtual("customer")
    sold = [
        take_from(event, "sell", line, customer, reference=receipt, amount=money(p, "price"))
        for line, p in zip(lines, prices, strict=True)
    ]
    event.result = f"movement:{sold[0].id}"
    return sold


def return_sale(
    sold: Item | Lot,
    dest: Location,
    *,
    event_id: str,
    by: User,
    store: Store,
    receipt: str = "",
    pieces: int = 0,
    weight: Decimal = ZERO,
    refund: Decimal | None = None,
) -> Movement:
    """Take back a sold item (found by its last sale) or pieces and weight of a lot sold on `receipt`, from the
    customer into `dest`, a place of this store (kind `return`). The movement carries the sale's receipt as
    reference and names the sale movements in its note; `refund` defaults to the sale price (pro rata for a
    part of a lot line). Flushes."""
    access.require(by, "return")
    access.require_store(by, store.id)
    event = start_event(event_id, "return", by=by, store=store)
    check_destination(dest, store)
    receipt = _receipt(receipt, required=isinstance(sold, Lot))
    if isinstance(sold, Item):
        line, sales, default_refund = _item_sale(sold, receipt)
    else:
        line, sales, default_refund = _lot_sale(sold, receipt, pieces, Decimal(weight))
    movement = take_from(
        event,
        "return",
        line,
        dest,
        reference=sales[-1].reference,
        note="Return of sale movement " + ", ".join(str(s.id) for s in sales),
        amount=default_refund if refund is None else money(refund, "refund"),
    )
    event.result = f"movement:{movement.id}"
    return movement


def margin_of(lot: Lot) -> Margin:
    """Pieces and weight sold, revenue, the cost of what sold and the margin, net of returns.

    Cost is the lot's cost per ct or g times the weight sold for a weighed lot, else its cost per piece times
    the pieces sold, both from the exact cost total (rounded once, at the end).
    """
    flows = db.session.scalars(
        select(Movement).where(Movement.lot_id == lot.id, Movement.kind.in_(("sell", "return")))
    ).all()
    pieces, weight, revenue = 0, ZERO, ZERO
    for m in flows:
        sign = 1 if m.to_location.kind == "customer" else -1
        pieces += sign * m.pieces
        weight += sign * m.weight
        revenue += sign * (m.amount or ZERO)
    if lot.weight_unit and lot.weight_received:
        cost = lot.cost_total * weight / lot.weight_received
    elif lot.pieces_received:
        cost = lot.cost_total * pieces / lot.pieces_received
    else:
        cost = ZERO
    cost = cost.quantize(CENT)
    return Margin(pieces=pieces, weight=weight, revenue=revenue, cost=cost, margin=revenue - cost)


def money(value, field: str) -> Decimal:
    """A sum of money: a Decimal (or its text) of zero or more with at most two decimals."""
    if isinstance(value, float):
        raise DomainError("Give money as a decimal, not a float.", field=field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise DomainError(f"{value!r} is not an amount of money.", field=field) from None
    if not amount.is_finite() or amount < 0:
        raise DomainError("An amount of money is a number, zero or more.", field=field)
    if amount != amount.quantize(CENT):
        raise DomainError("An amount of money has at most two decimals.", field=field)
    return amount.quantize(CENT)


def _receipt(receipt: str, *, required: bool) -> str:
    receipt = (receipt or "").strip()
    if required and not receipt:
        raise DomainError("Enter the receipt number.", field="receipt")
    if len(receipt) > 80:
        raise DomainError("A receipt number has at most 80 characters.", field="receipt")
    return receipt


def _item_sale(item: Item, receipt: str) -> tuple[MoveLine, list[Movement], Decimal | None]:
    sale = db.session.scalar(
        select(Movement)
        .where(Movement.item_id == item.id, Movement.kind == "sell", Movement.reverses_id.is_(None))
        .order_by(Movement.id.desc())
        .limit(1)
    )
    if sale is None:
        raise DomainError(f"Item {item.serial} was never sold: there is nothing to return.", field="item")
    if item.location_id != sale.to_location_id:
        raise DomainError(
            f"Item {item.serial} is in {item.location.label}, not with the customer: it came back already.",
            field="item",
        )
    if receipt and receipt != sale.reference:
        raise DomainError(f"Item {item.serial} was sold on receipt {sale.reference}, not {receipt}.", field="receipt")
    return MoveLine(item=item, source=sale.to_location), [sale], sale.amount


def _lot_sale(lot: Lot, receipt: str, pieces: int, weight: Decimal) -> tuple[MoveLine, list[Movement], Decimal]:
    """What of `lot` was sold (not as items) on `receipt` and has not come back, and the pro rata refund."""
    flows = db.session.scalars(
        select(Movement)
        .where(
            Movement.lot_id == lot.id,
            Movement.item_id.is_(None),
            Movement.kind.in_(("sell", "return")),
            Movement.reference == receipt,
        )
        .order_by(Movement.id)
    ).all()
    sales = [m for m in flows if m.kind == "sell" and m.reverses_id is None]
    if not sales:
        raise DomainError(f"No sale of lot {lot.number} on receipt {receipt}.", field="receipt")
    sold_pieces, sold_weight = sum(m.pieces for m in sales), sum((m.weight for m in sales), ZERO)
    back = [m for m in flows if m not in sales]  # returns, and undone sales
    left_pieces = sold_pieces - sum(m.pieces for m in back)
    left_weight = sold_weight - sum((m.weight for m in back), ZERO)
    if pieces > left_pieces or weight > left_weight:
        unit = f" {lot.weight_unit}" if lot.weight_unit else ""
        left = f"{left_pieces} pcs" + (f", {left_weight}{unit}" if lot.weight_unit else "")
        raise DomainError(f"Receipt {receipt} has {left} of lot {lot.number} left to return.", field="pieces")
    total = sum((m.amount or ZERO for m in sales), ZERO)
    share = Decimal(pieces) / sold_pieces if sold_pieces else (weight / sold_weight if sold_weight else ZERO)
    line = MoveLine(lot=lot, source=sales[-1].to_location, pieces=pieces, weight=weight)
    return line, sales, (total * share).quantize(CENT)
