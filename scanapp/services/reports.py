"""Reports for managers: stock on hand, inventory age, margin by lot, supplier performance, sales velocity and slow
movers, and low stock.

Each report is a few set-based queries (GROUP BY over `movements` and `balances`, joined to lots and locations)
followed by arithmetic in Python on the grouped rows; no query runs per lot. Every report returns `Table`s that
the page and the CSV export both draw, so they always show the same figures. Cost (and money in general: sale
prices, margins) is left out entirely for users who may not see cost, and a user sees only their stores' data.

Signs: a movement into a place outside the stores' own stock (supplier, customer, production, loss, vendor return)
takes stock out; one from such a place brings it in. So the "outflow" of a kind is what it took out, net of its
own undos: sales net of undone sales, returns (negative: they bring stock in) net of undone returns, and so on.
"""

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Date, Integer, and_, case, cast, exists, func, literal, literal_column, or_, select
from sqlalchemy.orm import aliased

from scanapp.charts import Series
from scanapp.extensions import db
from scanapp.models import PHYSICAL_KINDS, Balance, Inspection, Location, Lot, Movement, Store, Supplier, User
from scanapp.services import Forbidden, access

ZERO = Decimal(0)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
QUANTUM = {"money": CENT, "weight": Decimal("0.001")}
# Stock the stores hold: in their own places, or on its way between two of them.
ON_HAND_KINDS = PHYSICAL_KINDS + ("transit",)
OUTSIDE_KINDS = ("supplier", "customer", "production", "loss", "vendor_return")
AGE_BUCKETS = ((30, "0–30 days"), (90, "31–90 days"), (180, "91–180 days"), (365, "181–365 days"), (None, "> 365 days"))
VELOCITY_DAYS = 90  # the sales period when none is given: the last 90 days
HTML_ROWS = 200  # a page shows at most this many rows of a table; its CSV has them all
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------- what a report is


@dataclass(frozen=True)
class Filters:
    """What to report on. Empty `store_ids` means all the user's stores. The date range limits movements (sales,
    returns, receipts, inspections) in the period reports, and the received date of lots in the stock reports."""

    store_ids: tuple[int, ...] = ()
    supplier_id: int | None = None
    category: str | None = None
    start: date | None = None
    end: date | None = None
    days: int = 90  # slow movers: lots with no sale for this many days
    threshold: int = 25  # low stock: lots with less than this % of what was received


@dataclass(frozen=True)
class Column:
    """One column of a table. `kind` says how to show it: text, lot (a link to the lot), int, weight, money, pct,
    rate, date or days. A `cost` column is shown only to users who may see cost."""

    key: str
    label: str
    kind: str = "text"
    cost: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "weight", "money", "pct", "rate", "days")


@dataclass
class Table:
    """Rows (dicts keyed by column key) with an optional totals row; `name` picks it for the CSV export."""

    name: str
    title: str
    columns: list[Column]
    rows: list[dict]
    totals: dict | None = None
    note: str = ""

    @property
    def shown(self) -> list[dict]:
        """The rows a page shows; the CSV has them all."""
        return self.rows[:HTML_ROWS]


@dataclass
class Report:
    title: str
    tables: list[Table]
    charts: list[Series] = field(default_factory=list)
    period: str = ""  # what the figures cover, in words

    def table(self, name: str | None) -> Table | None:
        """The table called `name`, or the first one when no name is given."""
        if not name:
            return self.tables[0]
        return next((t for t in self.tables if t.name == name), None)


def table_for(user: User, name: str, title: str, columns: list[Column], rows: list[dict], **kw) -> Table:
    """A table without its cost columns (and their values) unless `user` may see cost."""
    if access.can(user, "see_cost"):
        return Table(name, title, columns, rows, **kw)
    hidden = {c.key for c in columns if c.cost}
    totals = kw.pop("totals", None)
    return Table(
        name,
        title,
        [c for c in columns if not c.cost],
        [{k: v for k, v in row.items() if k not in hidden} for row in rows],
        totals={k: v for k, v in totals.items() if k not in hidden} if totals else None,
        **kw,
    )


# ---------------------------------------------------------------- CSV


def to_csv(table: Table) -> str:
    """The table as CSV: a header of column labels, every row, then the totals. Numbers are plain (Decimal as
    written, no thousands separators); text that a spreadsheet would run as a formula starts with a quote."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_text(c.label) for c in table.columns])
    for row in table.rows + ([table.totals] if table.totals else []):
        writer.writerow([csv_cell(row.get(c.key), c.kind) for c in table.columns])
    return out.getvalue()


def fixed(value, kind: str):
    """Money to the cent and weights to three decimals, as every table shows them; other values as they are."""
    if kind in QUANTUM and isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value).quantize(QUANTUM[kind])
    return value


def csv_cell(value, kind: str = "text") -> str:
    """One CSV cell: numbers and dates as plain text, anything else made formula-safe."""
    value = fixed(value, kind)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(str(value))


def safe_text(text: str) -> str:
    """Text with a leading quote when it starts like a spreadsheet formula (=, +, -, @, tab, CR)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# ---------------------------------------------------------------- the costing rule


def cost_of(lot, pieces: int, weight: Decimal) -> Decimal:
    """What `pieces` and `weight` of a lot cost, exact (not rounded): the rule of `sales.margin_of`. A weighed lot
    costs its cost per ct or g times the weight, any other its cost per piece times the pieces. `lot` is anything
    with the lot's `weight_unit`, `weight_received`, `pieces_received` and `cost_total`, e.g. a row."""
    if lot.weight_unit and lot.weight_received:
        return lot.cost_total * weight / lot.weight_received
    if lot.pieces_received:
        return lot.cost_total * pieces / lot.pieces_received
    return ZERO


# ---------------------------------------------------------------- shared parts of the queries

LOT_COLUMNS = (
    Lot.id.label("lot_id"),
    Lot.number,
    Lot.description,
    Lot.category,
    Lot.received_on,
    Lot.weight_unit,
    Lot.cost_total,
    Lot.pieces_received,
    Lot.weight_received,
    Lot.supplier_id,
    Supplier.code.label("supplier_code"),
    Supplier.name.label("supplier"),
)


def _store_ids(user: User, filters: Filters) -> list[int]:
    """The stores to report on: those asked for, all of them the user's; all the user's stores by default."""
    access.require(user, "reports")
    mine = user.store_ids
    wanted = set(filters.store_ids) or mine
    if not wanted <= mine:
        raise Forbidden("That belongs to a store you are not a member of.")
    return sorted(wanted)


def _lot_conditions(filters: Filters, *, received: bool = False) -> list:
    """Conditions on Lot: the supplier and category asked for, and (`received`) the received-date range."""
    conditions = []
    if filters.supplier_id:
        conditions.append(Lot.supplier_id == filters.supplier_id)
    if filters.category:
        conditions.append(Lot.category == filters.category)
    if received and filters.start:
        conditions.append(Lot.received_on >= filters.start)
    if received and filters.end:
        conditions.append(Lot.received_on <= filters.end)
    return conditions


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _window(column, start: date | None, end: date | None) -> list:
    """Conditions keeping a timestamp within the days from `start` to `end` (UTC), both included."""
    conditions = []
    if start:
        conditions.append(column >= _midnight(start))
    if end:
        conditions.append(column < _midnight(end + timedelta(days=1)))
    return conditions


def _on_hand(store_ids: list[int]):
    """Subquery: each lot's pieces and weight held in the stores' places and in transit, lots holding some."""
    return (
        select(
            Balance.lot_id,
            func.sum(Balance.pieces).label("pieces"),
            func.sum(Balance.weight).label("weight"),
        )
        .join(Location, Balance.location_id == Location.id)
        .where(Location.store_id.in_(store_ids), Location.kind.in_(ON_HAND_KINDS))
        .group_by(Balance.lot_id)
        .having(or_(func.sum(Balance.pieces) != 0, func.sum(Balance.weight) != 0))
        .subquery()
    )


# Sums of movements per lot group by this rather than by the bare column: given the bare column, SQLite prefers to
# read the movements in lot order through ix_movements_lot_id_id, fetching every table row, over the covering
# ix_movements_report (seconds instead of a fraction of one on a million movements). PostgreSQL is not affected.
_LOT_ID = (Movement.lot_id + literal_column("0")).label("lot_id")


def _outflows(store_ids: list[int], kinds: tuple[str, ...], start: date | None, end: date | None):
    """Subquery: per lot, what movements of `kinds` in the stores and dates did, each net of its undos (see the
    module docstring). `pieces`, `weight` and `amount`: sold, net of returns (sales and returns only).
    `returned`: pieces customers brought back. `received` and `receipts` (1 if any): pieces received from the
    supplier. `sent_back`: pieces returned to the supplier. One pass over the movements for all of it."""
    to = aliased(Location)
    out = to.kind.in_(OUTSIDE_KINDS)
    sale = Movement.kind.in_(("sell", "return"))
    pieces = case((out, Movement.pieces), else_=-Movement.pieces)

    def of(condition, value):
        return func.sum(case((condition, value), else_=0))

    return (
        select(
            _LOT_ID,
            of(sale, pieces).label("pieces"),
            of(sale, case((out, Movement.weight), else_=-Movement.weight)).label("weight"),
            func.sum(case((out, Movement.amount), else_=-Movement.amount)).label("amount"),
            of(Movement.kind == "return", -pieces).label("returned"),
            of(Movement.kind == "receive", -pieces).label("received"),
            func.max(case((Movement.kind == "receive", 1), else_=0)).label("receipts"),
            of(Movement.kind == "vendor_return", pieces).label("sent_back"),
        )
        .join(to, Movement.to_location_id == to.id)
        .where(Movement.kind.in_(kinds), Movement.store_id.in_(store_ids), *_window(Movement.created_at, start, end))
        .group_by(_LOT_ID)
        .subquery()
    )


def _sales(store_ids: list[int]):
    """Movements that are sales still standing: kind `sell`, not an undo, and not undone since."""
    undo = aliased(Movement)
    return and_(
        Movement.kind == "sell",
        Movement.reverses_id.is_(None),
        Movement.store_id.in_(store_ids),
        # (`is_not(None)` lets PostgreSQL look the few undos up in their index instead of hashing every movement.)
        ~exists().where(undo.reverses_id.is_not(None), undo.reverses_id == Movement.id),
    )


def _pct(part, whole) -> Decimal | None:
    """`part` as a percentage of `whole`, to one decimal; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH)


def _weight(row, value) -> Decimal | None:
    """A lot's weight for a table cell: None for a lot counted in pieces only."""
    if not row.weight_unit:
        return None
    return ZERO if value is None else value


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def _lot_cells(row) -> dict:
    return {
        "lot": row.number,
        "lot_id": row.lot_id,
        "description": row.description,
        "supplier": row.supplier,
        "category": row.category,
        "unit": row.weight_unit or "",
    }


LOT_HEAD = [
    Column("lot", "Lot", "lot"),
    Column("description", "Description"),
    Column("supplier", "Supplier"),
    Column("category", "Category"),
]


# ---------------------------------------------------------------- stock on hand


@dataclass
class _Sum:
    """Lots, pieces, carats, grams and cost (exact until shown) of some stock."""

    lots: set = field(default_factory=set)
    pieces: int = 0
    ct: Decimal = ZERO
    g: Decimal = ZERO
    cost: Decimal = ZERO

    def add(self, lot_id: int, unit: str | None, pieces: int, weight: Decimal, cost: Decimal) -> None:
        self.lots.add(lot_id)
        self.pieces += pieces
        if unit == "ct":
            self.ct += weight
        elif unit == "g":
            self.g += weight
        self.cost += cost

    def merge(self, other: "_Sum") -> None:
        self.lots |= other.lots
        self.pieces, self.ct, self.g = self.pieces + other.pieces, self.ct + other.ct, self.g + other.g
        self.cost += other.cost

    def cells(self) -> dict:
        return {"lots": len(self.lots), "pieces": self.pieces, "ct": self.ct, "g": self.g, "cost": self.cost}


GROUP_COLUMNS = [
    Column("lots", "Lots", "int"),
    Column("pieces", "Pieces", "int"),
    Column("ct", "ct", "weight"),
    Column("g", "g", "weight"),
    Column("cost", "Cost", "money", cost=True),
]


def stock_on_hand(user: User, filters: Filters, *, today: date | None = None) -> Report:
    """Pieces, carats, grams and cost held now, by store, place and category (and by store, and by category).
    Stock in transit counts for the store that sent it."""
    store_ids = _store_ids(user, filters)
    held_here = and_(
        Location.store_id.in_(store_ids),
        Location.kind.in_(ON_HAND_KINDS),
        or_(Balance.pieces != 0, Balance.weight != 0),
        *_lot_conditions(filters, received=True),
    )
    # Three plain queries rather than one wide join: each balance row then carries only its own numbers.
    places = {
        row.id: row
        for row in db.session.execute(
            select(Location.id, Location.code, Location.name, Location.kind, Store.name.label("store"))
            .join(Store, Location.store_id == Store.id)
            .where(Location.store_id.in_(store_ids))
        )
    }
    lots = {
        row.id: row
        for row in db.session.execute(
            select(
                Lot.id, Lot.category, Lot.weight_unit, Lot.cost_total, Lot.pieces_received, Lot.weight_received
            ).where(
                Lot.id.in_(select(Balance.lot_id).join(Location).join(Lot, Balance.lot_id == Lot.id).where(held_here))
            )
        )
    }
    balances = db.session.execute(
        select(Balance.location_id, Balance.lot_id, Balance.pieces, Balance.weight)
        .join(Location, Balance.location_id == Location.id)
        .join(Lot, Balance.lot_id == Lot.id)
        .where(held_here)
    )
    by_place: dict[tuple, _Sum] = defaultdict(_Sum)
    for location_id, lot_id, pieces, weight in balances:
        place, lot = places[location_id], lots[lot_id]
        key = (place.store, place.kind == "transit", place.code, place.name, lot.category)
        by_place[key].add(lot_id, lot.weight_unit, pieces, weight, cost_of(lot, pieces, weight))
    by_store: dict[str, _Sum] = defaultdict(_Sum)
    by_category: dict[str, _Sum] = defaultdict(_Sum)
    total = _Sum()
    for (store, _, _, _, category), group in by_place.items():
        by_store[store].merge(group)
        by_category[category].merge(group)
        total.merge(group)
    place_rows = [
        {"store": store, "place": place, "category": category, **group.cells()}
        for (store, _, _, place, category), group in sorted(by_place.items(), key=lambda kv: kv[0])
    ]
    store_rows = [{"store": store, **group.cells()} for store, group in sorted(by_store.items())]
    category_rows = [{"category": category, **group.cells()} for category, group in sorted(by_category.items())]
    totals = total.cells()
    see_cost = access.can(user, "see_cost")
    chart = Series(
        "Cost on hand by category" if see_cost else "Lots on hand by category",
        [r["category"] for r in category_rows],
        [r["cost"].quantize(CENT) if see_cost else r["lots"] for r in category_rows],
    )
    return Report(
        "Stock on hand",
        [
            table_for(
                user,
                "places",
                "By place and category",
                [Column("store", "Store"), Column("place", "Place"), Column("category", "Category"), *GROUP_COLUMNS],
                place_rows,
                totals={"store": "Total", **totals},
            ),
            table_for(
                user,
                "stores",
                "By store",
                [Column("store", "Store"), *GROUP_COLUMNS],
                store_rows,
                totals={"store": "Total", **totals},
            ),
            table_for(
                user,
                "categories",
                "By category",
                [Column("category", "Category"), *GROUP_COLUMNS],
                category_rows,
                totals={"category": "Total", **totals},
            ),
        ],
        [chart] if category_rows else [],
        period=_received_period(filters, f"Now, {_today(today):%d %b %Y}"),
    )


def _received_period(filters: Filters, base: str) -> str:
    if filters.start or filters.end:
        since = f" from {filters.start:%d %b %Y}" if filters.start else ""
        until = f" to {filters.end:%d %b %Y}" if filters.end else ""
        return f"{base}; lots received{since}{until}"
    return base


def _sales_period(filters: Filters) -> str:
    start, end = filters.start, filters.end
    if start and end:
        return f"From {start:%d %b %Y} to {end:%d %b %Y}"
    if start:
        return f"From {start:%d %b %Y} to now"
    return f"Up to {end:%d %b %Y}" if end else "All time"


# ---------------------------------------------------------------- inventory age


def age_bucket(days: int) -> str:
    """The age bucket of stock received `days` ago."""
    return next(label for limit, label in AGE_BUCKETS if limit is None or days <= limit)


def inventory_age(user: User, filters: Filters, *, today: date | None = None) -> Report:
    """Every lot with stock, by days since it was received (oldest first), and the totals per age bucket."""
    store_ids = _store_ids(user, filters)
    today = _today(today)
    held = _on_hand(store_ids)
    rows = db.session.execute(
        select(*LOT_COLUMNS, held.c.pieces.label("held_pieces"), held.c.weight.label("held_weight"))
        .join(held, held.c.lot_id == Lot.id)
        .join(Supplier, Lot.supplier_id == Supplier.id)
        .where(*_lot_conditions(filters, received=True))
        .order_by(Lot.received_on, Lot.number)
    ).all()
    lots, buckets = [], {label: _Sum() for _, label in AGE_BUCKETS}
    for row in rows:
        days = (today - row.received_on).days
        cost = cost_of(row, row.held_pieces, row.held_weight)
        bucket = age_bucket(days)
        buckets[bucket].add(row.lot_id, row.weight_unit, row.held_pieces, row.held_weight, cost)
        lots.append(
            {
                **_lot_cells(row),
                "received_on": row.received_on,
                "days": days,
                "bucket": bucket,
                "pieces": row.held_pieces,
                "weight": _weight(row, row.held_weight),
                "cost": cost,
            }
        )
    total = _Sum()
    for bucket in buckets.values():
        total.merge(bucket)
    bucket_rows = [{"bucket": label, **b.cells()} for label, b in buckets.items()]
    totals = {"bucket": "Total", **total.cells()}
    see_cost = access.can(user, "see_cost")
    chart = Series(
        "Cost of stock by age" if see_cost else "Lots by age",
        [label.removesuffix(" days") for _, label in AGE_BUCKETS],
        [r["cost"].quantize(CENT) if see_cost else r["lots"] for r in bucket_rows],
        unit="days old",
    )
    return Report(
        "Inventory age",
        [
            table_for(user, "buckets", "By age", [Column("bucket", "Age"), *GROUP_COLUMNS], bucket_rows, totals=totals),
            table_for(
                user,
                "lots",
                "Lots, oldest first",
                [
                    *LOT_HEAD,
                    Column("received_on", "Received", "date"),
                    Column("days", "Days", "days"),
                    Column("bucket", "Age"),
                    Column("pieces", "Pieces", "int"),
                    Column("weight", "Weight", "weight"),
                    Column("unit", "Unit"),
                    Column("cost", "Cost", "money", cost=True),
                ],
                lots,
            ),
        ],
        [chart],
        period=_received_period(filters, f"Stock held on {today:%d %b %Y}"),
    )


# ---------------------------------------------------------------- margin by lot


@dataclass
class LotMargin:
    """What one lot earned in the period: `margin_of`'s figures, for many lots at once."""

    pieces: int
    weight: Decimal
    revenue: Decimal
    cost: Decimal
    margin: Decimal


def margins(user: User, filters: Filters) -> dict[int, tuple]:
    """Per lot id: (its lot row, LotMargin) for every lot sold or returned in the stores and period. The figures
    follow `sales.margin_of`: pieces, weight and revenue net of returns and undone sales; the cost of what sold
    by `cost_of`, rounded once to cents. Two queries in all, whatever the number of lots."""
    store_ids = _store_ids(user, filters)
    flows = _outflows(store_ids, ("sell", "return"), filters.start, filters.end)
    rows = db.session.execute(
        select(*LOT_COLUMNS, flows.c.pieces.label("net_pieces"), flows.c.weight.label("net_weight"), flows.c.amount)
        .join(flows, flows.c.lot_id == Lot.id)
        .join(Supplier, Lot.supplier_id == Supplier.id)
        .where(*_lot_conditions(filters))
    ).all()
    result = {}
    for row in rows:
        cost = cost_of(row, row.net_pieces, row.net_weight).quantize(CENT)
        revenue = row.amount or ZERO
        result[row.lot_id] = (row, LotMargin(row.net_pieces, row.net_weight, revenue, cost, revenue - cost))
    return result


def margin_by_lot(user: User, filters: Filters, *, today: date | None = None) -> Report:
    """Sales against the cost of what sold, net of returns, per lot (highest revenue first), with totals."""
    rows = []
    for row, m in margins(user, filters).values():
        rows.append(
            {
                **_lot_cells(row),
                "pieces": m.pieces,
                "weight": _weight(row, m.weight),
                "revenue": m.revenue,
                "cost": m.cost,
                "margin": m.margin,
                "margin_pct": _pct(m.margin, m.revenue),
            }
        )
    rows.sort(key=lambda r: (-r["revenue"], r["lot"]))
    revenue, cost = sum((r["revenue"] for r in rows), ZERO), sum((r["cost"] for r in rows), ZERO)
    totals = {
        "lot": "Total",
        "pieces": sum(r["pieces"] for r in rows),
        "revenue": revenue,
        "cost": cost,
        "margin": revenue - cost,
        "margin_pct": _pct(revenue - cost, revenue),
    }
    columns = [
        *LOT_HEAD,
        Column("pieces", "Sold pcs", "int"),
        Column("weight", "Sold weight", "weight"),
        Column("unit", "Unit"),
        Column("revenue", "Sales", "money", cost=True),
        Column("cost", "Cost of sales", "money", cost=True),
        Column("margin", "Margin", "money", cost=True),
        Column("margin_pct", "Margin %", "pct", cost=True),
    ]
    return Report(
        "Margin by lot",
        [table_for(user, "lots", "Lots sold", columns, rows, totals=totals, note="Net of returns and undone sales.")],
        period=_sales_period(filters),
    )


# ---------------------------------------------------------------- supplier performance


@dataclass
class _Supplier:
    code: str
    name: str
    lots: int = 0
    received: int = 0
    sold: int = 0
    returned: int = 0
    sent_back: int = 0
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    inspections: int = 0
    failed: int = 0
    days_to_sell: list = field(default_factory=list)


def supplier_performance(user: User, filters: Filters, *, today: date | None = None) -> Report:
    """Per supplier, over the stores and period: lots and pieces received, pieces sold and returned by customers
    (return rate), pieces sent back to the supplier (of those received), inspections and failures, sales, cost
    and margin, and how fast their lots sell (median days from receipt to a lot's first sale)."""
    store_ids = _store_ids(user, filters)
    suppliers: dict[int, _Supplier] = {}

    def entry(supplier_id: int, code: str, name: str) -> _Supplier:
        return suppliers.setdefault(supplier_id, _Supplier(code, name))

    flows = _outflows(store_ids, ("receive", "sell", "return", "vendor_return"), filters.start, filters.end)
    for row in db.session.execute(
        select(
            Lot.supplier_id,
            Supplier.code,
            Supplier.name,
            Lot.weight_unit,
            Lot.cost_total,
            Lot.pieces_received,
            Lot.weight_received,
            *(
                flows.c[name]
                for name in ("pieces", "weight", "amount", "returned", "received", "receipts", "sent_back")
            ),
        )
        .join(flows, flows.c.lot_id == Lot.id)
        .join(Supplier, Lot.supplier_id == Supplier.id)
        .where(*_lot_conditions(filters))
    ):
        s = entry(row.supplier_id, row.code, row.name)
        s.lots += row.receipts
        s.received += row.received
        s.sent_back += row.sent_back
        s.sold += row.pieces + row.returned
        s.returned += row.returned
        s.revenue += row.amount or ZERO
        s.cost += cost_of(row, row.pieces, row.weight).quantize(CENT)

    inspections = db.session.execute(
        select(
            Lot.supplier_id,
            Supplier.code,
            Supplier.name,
            func.count(Inspection.id),
            func.sum(case((Inspection.result == "fail", 1), else_=0)),
        )
        .join(Lot, Inspection.lot_id == Lot.id)
        .join(Supplier, Lot.supplier_id == Supplier.id)
        .where(
            Inspection.store_id.in_(store_ids),
            *_window(Inspection.inspected_at, filters.start, filters.end),
            *_lot_conditions(filters),
        )
        .group_by(Lot.supplier_id, Supplier.code, Supplier.name)
    ).all()
    for supplier_id, code, name, count, failed in inspections:
        s = entry(supplier_id, code, name)
        s.inspections, s.failed = count, int(failed or 0)

    first = (
        select(_LOT_ID, func.min(Movement.created_at).label("first_sale"))
        .where(_sales(store_ids))
        .group_by(_LOT_ID)
        .subquery()
    )
    firsts = db.session.execute(
        select(Lot.supplier_id, Supplier.code, Supplier.name, Lot.received_on, first.c.first_sale)
        .join(first, first.c.lot_id == Lot.id)
        .join(Supplier, Lot.supplier_id == Supplier.id)
        .where(*_window(first.c.first_sale, filters.start, filters.end), *_lot_conditions(filters))
    ).all()
    for supplier_id, code, name, received_on, first_sale in firsts:
        s = entry(supplier_id, code, name)
        s.days_to_sell.append(Decimal((first_sale.date() - received_on).days))

    table_rows = []
    for s in sorted(suppliers.values(), key=lambda s: s.code):
        median = statistics.median(s.days_to_sell).quantize(TENTH) if s.days_to_sell else None
        table_rows.append(
            {
                "code": s.code,
                "supplier": s.name,
                "lots": s.lots,
                "received": s.received,
                "sold": s.sold,
                "returned": s.returned,
                "return_pct": _pct(s.returned, s.sold),
                "sent_back": s.sent_back,
                "sent_back_pct": _pct(s.sent_back, s.received),
                "inspections": s.inspections,
                "failed": s.failed,
                "failed_pct": _pct(s.failed, s.inspections),
                "revenue": s.revenue,
                "cost": s.cost,
                "margin": s.revenue - s.cost,
                "margin_pct": _pct(s.revenue - s.cost, s.revenue),
                "median_days": median,
            }
        )
    columns = [
        Column("code", "Code"),
        Column("supplier", "Supplier"),
        Column("lots", "Lots received", "int"),
        Column("received", "Pcs received", "int"),
        Column("sold", "Pcs sold", "int"),
        Column("returned", "Pcs returned", "int"),
        Column("return_pct", "Return rate %", "pct"),
        Column("sent_back", "Pcs sent back", "int"),
        Column("sent_back_pct", "Sent back %", "pct"),
        Column("inspections", "Inspections", "int"),
        Column("failed", "Failed", "int"),
        Column("failed_pct", "Failure rate %", "pct"),
        Column("revenue", "Sales", "money", cost=True),
        Column("cost", "Cost of sales", "money", cost=True),
        Column("margin", "Margin", "money", cost=True),
        Column("margin_pct", "Margin %", "pct", cost=True),
        Column("median_days", "Median days to sell", "days"),
    ]
    timed = [r for r in table_rows if r["median_days"] is not None]
    charts = (
        [
            Series(
                "Median days from receipt to first sale", [r["code"] for r in timed], [r["median_days"] for r in timed]
            )
        ]
        if timed
        else []
    )
    note = (
        "Return rate: pieces customers brought back, of pieces sold. Sent back: pieces returned to the supplier, "
        "of pieces received. Days to sell: from a lot's receipt to its first sale."
    )
    return Report(
        "Supplier performance",
        [table_for(user, "suppliers", "Suppliers", columns, table_rows, note=note)],
        charts,
        period=_sales_period(filters),
    )


# ---------------------------------------------------------------- sales velocity and slow movers


def _day(column):
    """The UTC calendar day of a timestamp column, in SQL (a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def sales_velocity(user: User, filters: Filters, *, today: date | None = None) -> Report:
    """Pieces sold per week over the period (the last 90 days unless dates are given), each lot's pieces sold per
    30 days with what is left, and the slow movers: lots with stock, received at least `days` ago, that have had
    no sale for `days` days."""
    store_ids = _store_ids(user, filters)
    today = _today(today)
    end = filters.end or today
    start = filters.start or end - timedelta(days=VELOCITY_DAYS - 1)
    length = (end - start).days + 1
    see_cost = access.can(user, "see_cost")

    to = aliased(Location)
    out = to.kind.in_(OUTSIDE_KINDS)
    day = _day(Movement.created_at).label("day")
    daily = db.session.execute(
        select(
            day,
            func.sum(case((out, Movement.pieces), else_=-Movement.pieces)),
            func.sum(case((out, Movement.amount), else_=-Movement.amount)),
        )
        .join(to, Movement.to_location_id == to.id)
        .join(Lot, Movement.lot_id == Lot.id)
        .where(
            Movement.kind.in_(("sell", "return")),
            Movement.store_id.in_(store_ids),
            *_window(Movement.created_at, start, end),
            *_lot_conditions(filters),
        )
        .group_by(day)
    ).all()
    weeks = {start - timedelta(days=start.weekday()) + timedelta(weeks=k): [0, ZERO] for k in range(length // 7 + 2)}
    weeks = {monday: sums for monday, sums in weeks.items() if monday <= end}
    for value, pieces, amount in daily:
        sold_on = value if isinstance(value, date) else date.fromisoformat(value)
        sums = weeks[sold_on - timedelta(days=sold_on.weekday())]
        sums[0] += pieces
        sums[1] += amount or ZERO
    week_rows = [{"week": monday, "pieces": p, "revenue": r} for monday, (p, r) in weeks.items()]

    flows = _outflows(store_ids, ("sell", "return"), start, end)
    held = _on_hand(store_ids)
    rows = db.session.execute(
        select(
            *LOT_COLUMNS,
            flows.c.pieces.label("net_pieces"),
            flows.c.weight.label("net_weight"),
            flows.c.amount,
            held.c.pieces.label("held_pieces"),
            held.c.weight.label("held_weight"),
        )
        .join(flows, flows.c.lot_id == Lot.id)
        .join(Supplier, Lot.supplier_id == Supplier.id)
        .outerjoin(held, held.c.lot_id == Lot.id)
        .where(*_lot_conditions(filters))
    ).all()
    lot_rows = [
        {
            **_lot_cells(row),
            "pieces": row.net_pieces,
            "weight": _weight(row, row.net_weight),
            "per_30": (Decimal(row.net_pieces) * 30 / length).quantize(TENTH),
            "revenue": row.amount or ZERO,
            "held_pieces": row.held_pieces or 0,
            "held_weight": _weight(row, row.held_weight),
        }
        for row in rows
    ]
    lot_rows.sort(key=lambda r: (-r["pieces"], r["lot"]))

    slow = _slow_movers(store_ids, filters, today)
    return Report(
        "Sales velocity and slow movers",
        [
            table_for(
                user,
                "weeks",
                "Sales per week",
                [
                    Column("week", "Week of", "date"),
                    Column("pieces", "Pcs sold", "int"),
                    Column("revenue", "Sales", "money", cost=True),
                ],
                week_rows,
                totals={
                    "week": "Total",
                    "pieces": sum(r["pieces"] for r in week_rows),
                    "revenue": sum((r["revenue"] for r in week_rows), ZERO),
                },
                note="Net of returns. Weeks start on Monday.",
            ),
            table_for(
                user,
                "lots",
                "Pieces sold per lot",
                [
                    *LOT_HEAD,
                    Column("pieces", "Pcs sold", "int"),
                    Column("weight", "Weight sold", "weight"),
                    Column("unit", "Unit"),
                    Column("per_30", "Pcs per 30 days", "rate"),
                    Column("revenue", "Sales", "money", cost=True),
                    Column("held_pieces", "Pcs left", "int"),
                    Column("held_weight", "Weight left", "weight"),
                ],
                lot_rows,
            ),
            table_for(
                user,
                "slow",
                f"Slow movers: no sale for {filters.days} days",
                [
                    *LOT_HEAD,
                    Column("received_on", "Received", "date"),
                    Column("age", "Days in stock", "days"),
                    Column("last_sale", "Last sale", "date"),
                    Column("since_sale", "Days since sale", "days"),
                    Column("pieces", "Pcs left", "int"),
                    Column("weight", "Weight left", "weight"),
                    Column("unit", "Unit"),
                    Column("cost", "Cost", "money", cost=True),
                ],
                slow,
                note=f"Lots with stock, received {filters.days} or more days ago; never sold first.",
            ),
        ],
        [
            Series(
                "Sales per week" if see_cost else "Pieces sold per week",
                [f"{r['week']:%d %b}" for r in week_rows],
                [r["revenue"] if see_cost else r["pieces"] for r in week_rows],
                style="line",
            ),
        ],
        period=f"From {start:%d %b %Y} to {end:%d %b %Y} ({length} days)",
    )


def _slow_movers(store_ids: list[int], filters: Filters, today: date) -> list[dict]:
    """Lots with stock in the stores, received at least `filters.days` ago, with no sale there since then."""
    cutoff = today - timedelta(days=filters.days)
    held = _on_hand(store_ids)
    rows = db.session.execute(
        select(*LOT_COLUMNS, held.c.pieces.label("held_pieces"), held.c.weight.label("held_weight"))
        .join(held, held.c.lot_id == Lot.id)
        .join(Supplier, Lot.supplier_id == Supplier.id)
        .where(Lot.received_on <= cutoff, *_lot_conditions(filters))
    ).all()
    # The last sale of every lot sold in the stores, matched to the rows here rather than joined in SQL: SQLite
    # would scan the grouped sales once per lot.
    last_sales = dict(
        db.session.execute(
            select(_LOT_ID, func.max(Movement.created_at)).where(_sales(store_ids)).group_by(_LOT_ID)
        ).all()
    )
    slow = []
    for row in rows:
        last = last_sales.get(row.lot_id)
        sold_on = last.date() if last else None
        if sold_on and sold_on > cutoff:
            continue
        slow.append(
            {
                **_lot_cells(row),
                "received_on": row.received_on,
                "age": (today - row.received_on).days,
                "last_sale": sold_on,
                "since_sale": (today - sold_on).days if sold_on else None,
                "pieces": row.held_pieces,
                "weight": _weight(row, row.held_weight),
                "cost": cost_of(row, row.held_pieces, row.held_weight),
            }
        )
    slow.sort(key=lambda r: (r["last_sale"] is not None, r["last_sale"] or r["received_on"], r["lot"]))
    return slow


# ---------------------------------------------------------------- remaining stock


def low_stock(user: User, filters: Filters, *, today: date | None = None) -> Report:
    """Lots with stock left in the stores, but less than `threshold` % of what was received (by weight for a
    weighed lot, else by pieces), the emptiest first. Sold-out lots are not listed."""
    store_ids = _store_ids(user, filters)
    held = _on_hand(store_ids)
    pct = literal(filters.threshold, Integer())
    hundred = literal(100, Integer())
    weighed = and_(Lot.weight_unit.is_not(None), Lot.weight_received > 0)
    low = or_(
        and_(weighed, held.c.weight * hundred < Lot.weight_received * pct),
        and_(~weighed, held.c.pieces * hundred < Lot.pieces_received * pct),
    )
    rows = db.session.execute(
        select(*LOT_COLUMNS, held.c.pieces.label("held_pieces"), held.c.weight.label("held_weight"))
        .join(held, held.c.lot_id == Lot.id)
        .join(Supplier, Lot.supplier_id == Supplier.id)
        .where(low, *_lot_conditions(filters, received=True))
    ).all()
    table_rows = []
    for row in rows:
        by_weight = bool(row.weight_unit and row.weight_received)
        left = _pct(row.held_weight, row.weight_received) if by_weight else _pct(row.held_pieces, row.pieces_received)
        table_rows.append(
            {
                **_lot_cells(row),
                "received_pieces": row.pieces_received,
                "received_weight": _weight(row, row.weight_received),
                "pieces": row.held_pieces,
                "weight": _weight(row, row.held_weight),
                "left_pct": left,
                "cost": cost_of(row, row.held_pieces, row.held_weight).quantize(CENT),
            }
        )
    table_rows.sort(key=lambda r: (r["left_pct"], r["lot"]))
    columns = [
        *LOT_HEAD,
        Column("received_pieces", "Pcs received", "int"),
        Column("received_weight", "Weight received", "weight"),
        Column("pieces", "Pcs left", "int"),
        Column("weight", "Weight left", "weight"),
        Column("unit", "Unit"),
        Column("left_pct", "Left %", "pct"),
        Column("cost", "Cost left", "money", cost=True),
    ]
    return Report(
        "Remaining and low stock",
        [
            table_for(
                user,
                "lots",
                f"Lots under {filters.threshold} % of what was received",
                columns,
                table_rows,
                note="By weight for weighed lots, else by pieces. Sold-out lots are not listed.",
            )
        ],
        period=_received_period(filters, f"Stock held on {_today(today):%d %b %Y}"),
    )


# ---------------------------------------------------------------- choices for the filters


def supplier_choices() -> list[tuple[int, str]]:
    """Every supplier as (id, "CODE · Name"), by code, for the supplier filter."""
    return [(s.id, f"{s.code} · {s.name}") for s in db.session.scalars(select(Supplier).order_by(Supplier.code))]


REPORTS: dict[str, Callable[..., Report]] = {
    "stock": stock_on_hand,
    "age": inventory_age,
    "margin": margin_by_lot,
    "suppliers": supplier_performance,
    "velocity": sales_velocity,
    "low-stock": low_stock,
}
