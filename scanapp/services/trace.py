"""Tracing for a recall: every piece and weight of a lot (or of every lot of a supplier shipment, or of a
certificate), forwards to where it is now, the customers who bought it, the work orders that used it, the finished
pieces that contain it, what came back and what went back to the supplier; and backwards from a finished piece to
every component lot and its supplier.

A handful of set-based queries for all matching lots at once. Who may see a lot follows `history.visible_lots`;
the chain of custody of a lot one may see is shown whole, as on the lot page. Money only to users who may see cost.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from scanapp.extensions import db
from scanapp.models import PHYSICAL_KINDS, Balance, Component, Item, Location, Lot, Movement, Tag, User, WorkOrder
from scanapp.services import DomainError, access
from scanapp.services.history import visible_lots
from scanapp.services.reports import Column, Table, table_for
from scanapp.services.search import like_pattern

ZERO = Decimal(0)
MAX_QUERY = 100
MAX_LOTS = 50
# What a recall needs to know of a lot's ledger, in the order the page shows it: (key, heading, movement kinds).
SECTIONS = (
    ("sales", "Sold to customers", ("sell",)),
    ("returns", "Came back from customers", ("return",)),
    ("bench", "Used and made at the bench", ("consume", "produce")),
    ("vendor_returns", "Returned to the supplier", ("vendor_return",)),
    ("adjustments", "Count adjustments and write-offs", ("adjust", "write_off")),
)
SECTION_OF = {kind: key for key, _, kinds in SECTIONS for kind in kinds}


@dataclass(frozen=True)
class Place:
    """Pieces and weight of a lot at one location now."""

    store: str
    location: str
    kind: str
    pieces: int
    weight: Decimal

    @property
    def physical(self) -> bool:
        return self.kind in PHYSICAL_KINDS


@dataclass(frozen=True)
class Line:
    """One movement of a traced lot. For a line used at the bench: the job's code and the finished piece it went
    into (if the piece is made), and whether it came back out when the piece was taken apart. `amount` (a sale
    price, a refund) only for users who may see cost."""

    movement: Movement
    work_order: str = ""
    piece: Item | None = None
    taken_out: bool = False
    amount: Decimal | None = None

    @property
    def undone(self) -> bool:
        """An undo of another movement, or undone by one: the two cancel out."""
        return self.movement.reverses_id is not None or self.movement.reversed_by is not None


@dataclass(frozen=True)
class Contained:
    """A finished piece that contains some of a lot, and how much."""

    piece: Item
    work_order: str
    pieces: int
    weight: Decimal
    taken_out: bool


@dataclass
class LotTrace:
    lot: Lot
    places: list[Place] = field(default_factory=list)
    lines: dict[str, list[Line]] = field(default_factory=dict)  # section key -> lines, oldest first
    pieces: list[Contained] = field(default_factory=list)

    @property
    def sections(self) -> list[tuple[str, str, list[Line]]]:
        """Every section with its heading and lines (empty ones included, so the page can say "none")."""
        return [(key, title, self.lines.get(key, [])) for key, title, _ in SECTIONS]


@dataclass(frozen=True)
class Part:
    """One component of a finished piece: the lot (with its supplier) it came from, how much, and whether it was
    taken back out."""

    lot: Lot
    item: Item | None
    pieces: int
    weight: Decimal
    taken_out: bool


@dataclass
class PieceTrace:
    """Backwards: a finished piece made at the bench and every component lot of it."""

    piece: Item
    work_order: str
    parts: list[Part] = field(default_factory=list)


@dataclass
class Trace:
    query: str
    lots: list[LotTrace]
    pieces: list[PieceTrace]
    more: bool  # more lots matched than are shown

    @property
    def empty(self) -> bool:
        return not (self.lots or self.pieces)


def clean(query: str | None) -> str:
    """The query as searched: trimmed. Refuses more than MAX_QUERY characters."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY:
        raise DomainError(f"Type at most {MAX_QUERY} characters.", field="q")
    return query


def trace(query: str, user: User) -> Trace:
    """Every lot `user` may see whose number, tag, PO, supplier invoice or certificate is `query` (or that holds
    an item with that serial or certificate), each with where it is and what happened to it; and every finished
    piece among them (or matched) with its components."""
    access.require(user, "trace")
    query = clean(query)
    if not query:
        return Trace(query, [], [], False)
    see_cost = access.can(user, "see_cost")
    items = _matching_items(query, user)
    lots = _matching_lots(query, user, [i.lot_id for i in items])
    more = len(lots) > MAX_LOTS
    traces = {lot.id: LotTrace(lot) for lot in lots[:MAX_LOTS]}
    _add_places(traces)
    _add_lines(traces, see_cost)
    pieces = _pieces(list(traces), [i.id for i in items])
    return Trace(query, list(traces.values()), pieces, more)


def _matching_items(query: str, user: User) -> list[Item]:
    """Items (of lots `user` may see) whose serial, certificate or tag code is `query`, in any case."""
    variants = {query, query.upper()}
    tagged = select(Tag.item_id).where(Tag.code == query.upper(), Tag.item_id.is_not(None))
    return list(
        db.session.scalars(
            select(Item)
            .join(Item.lot)
            .where(
                visible_lots(user.store_ids),
                or_(Item.serial.in_(variants), Item.certificate.in_(variants), Item.id.in_(tagged)),
            )
            .order_by(Item.serial)
            .limit(MAX_LOTS)
        )
    )


def _matching_lots(query: str, user: User, item_lot_ids: list[int]) -> list[Lot]:
    """Up to MAX_LOTS + 1 lots `user` may see, matched by number or tag, PO or invoice (any case), a certificate
    number in their certificates, or one of `item_lot_ids`; oldest received first."""
    low = query.lower()
    tagged = select(Tag.lot_id).where(Tag.code == query.upper(), Tag.lot_id.is_not(None))
    matches = [
        Lot.number == query.upper(),
        Lot.id.in_(tagged),
        func.lower(Lot.po_number) == low,
        func.lower(Lot.invoice_number) == low,
        Lot.id.in_(item_lot_ids),
    ]
    if len(query) >= 3:  # a shorter certificate fragment would match nearly every lot
        matches.append(Lot.certificates.ilike(like_pattern(query), escape="\\"))
    return list(
        db.session.scalars(
            select(Lot)
            .where(visible_lots(user.store_ids), or_(*matches))
            .options(joinedload(Lot.supplier), joinedload(Lot.store))
            .order_by(Lot.received_on, Lot.number)
            .limit(MAX_LOTS + 1)
        )
    )


def _add_places(traces: dict[int, LotTrace]) -> None:
    """Each lot's non-zero balances at every location except the supplier: the stores' places first."""
    rows = db.session.scalars(
        select(Balance)
        .join(Balance.location)
        .where(
            Balance.lot_id.in_(list(traces)), Location.kind != "supplier", or_(Balance.pieces != 0, Balance.weight != 0)
        )
        .options(joinedload(Balance.location).joinedload(Location.store))
    ).all()
    for b in sorted(rows, key=lambda b: (b.location.store.code, not b.location.is_physical, b.location.code)):
        place = Place(b.location.store.name, b.location.name, b.location.kind, b.pieces, b.weight)
        traces[b.lot_id].places.append(place)


def _add_lines(traces: dict[int, LotTrace], see_cost: bool) -> None:
    """The lots' movements that a recall needs (see SECTIONS), with the bench's record of each consumed line."""
    rows = db.session.execute(
        select(Movement, Component)
        .outerjoin(Component, Component.movement_id == Movement.id)
        .where(Movement.lot_id.in_(list(traces)), Movement.kind.in_(list(SECTION_OF)))
        .order_by(Movement.id)
        .options(
            joinedload(Movement.from_location).joinedload(Location.store),
            joinedload(Movement.to_location).joinedload(Location.store),
            joinedload(Movement.item),
            selectinload(Movement.reversed_by),
            joinedload(Component.item),
            joinedload(Component.work_order).joinedload(WorkOrder.tag),
        )
    ).all()
    contained: dict[tuple[int, int], list] = {}
    for m, component in rows:
        line = Line(
            m,
            work_order=component.work_order.code if component else "",
            piece=component.item if component else None,
            taken_out=bool(component and component.returned_by_id),
            amount=m.amount if see_cost else None,
        )
        traces[m.lot_id].lines.setdefault(SECTION_OF[m.kind], []).append(line)
        if line.piece is not None and m.reversed_by is None:
            sums = contained.setdefault((m.lot_id, line.piece.id), [line.piece, line.work_order, 0, ZERO, True])
            sums[2] += m.pieces
            sums[3] += m.weight
            sums[4] = sums[4] and line.taken_out
    for (lot_id, _), (piece, work_order, pieces, weight, taken_out) in contained.items():
        traces[lot_id].pieces.append(Contained(piece, work_order, pieces, weight, taken_out))


def _pieces(lot_ids: list[int], item_ids: list[int]) -> list[PieceTrace]:
    """Backwards: every finished piece among the matched items and the items of the matched lots that was made at
    the bench, with each of its components' lot and supplier."""
    if not lot_ids and not item_ids:
        return []
    candidates = select(Item.id).where(or_(Item.lot_id.in_(lot_ids), Item.id.in_(item_ids)))
    components = db.session.scalars(
        select(Component)
        .join(Component.movement)
        .where(Component.item_id.in_(candidates))
        .order_by(Component.item_id, Movement.id)
        .options(
            joinedload(Component.item),
            joinedload(Component.work_order).joinedload(WorkOrder.tag),
            joinedload(Component.movement).joinedload(Movement.lot).joinedload(Lot.supplier),
            joinedload(Component.movement).joinedload(Movement.item),
            joinedload(Component.movement).selectinload(Movement.reversed_by),
        )
    ).all()
    pieces: dict[int, PieceTrace] = {}
    for c in components:
        m = c.movement
        if m.reversed_by is not None:
            continue  # logged by mistake and undone: not part of the piece
        piece = pieces.setdefault(c.item_id, PieceTrace(c.item, c.work_order.code))
        piece.parts.append(Part(m.lot, m.item, m.pieces, m.weight, c.returned_by_id is not None))
    return list(pieces.values())


# ---------------------------------------------------------------- CSV

KIND_NAMES = {
    "sell": "Sold", "return": "Returned", "consume": "Used", "produce": "Made", "adjust": "Adjusted",
    "write_off": "Written off", "vendor_return": "Back to supplier",
}  # fmt: skip
CSV_COLUMNS = [
    Column("lot", "Lot"),
    Column("supplier", "Supplier"),
    Column("what", "What"),
    Column("when", "When", "date"),
    Column("store", "Store"),
    Column("source", "From"),
    Column("dest", "To"),
    Column("pieces", "Pieces", "int"),
    Column("weight", "Weight", "weight"),
    Column("unit", "Unit"),
    Column("reference", "Reference"),
    Column("item", "Item"),
    Column("work_order", "Work order"),
    Column("piece", "Finished piece"),
    Column("amount", "Amount", "money", cost=True),
    Column("note", "Note"),
    Column("undone", "Undone"),
]


def table(result: Trace, user: User) -> Table:
    """The whole trace as one table, for the CSV export: where each lot is now, each line of every section, and
    the components of each finished piece."""
    rows = []
    for t in result.lots:
        lot = t.lot
        head = {"lot": lot.number, "supplier": lot.supplier.name, "unit": lot.weight_unit or ""}
        for p in t.places:
            rows.append(
                {
                    **head,
                    "what": "Now at",
                    "store": p.store,
                    "dest": p.location,
                    "pieces": p.pieces,
                    "weight": p.weight if lot.weight_unit else None,
                }
            )
        for _, _, lines in t.sections:
            for line in lines:
                m = line.movement
                rows.append(
                    {
                        **head,
                        "what": KIND_NAMES[m.kind],
                        "when": m.created_at,
                        "store": m.from_location.store.name,
                        "source": m.from_location.name,
                        "dest": m.to_location.name,
                        "pieces": m.pieces,
                        "weight": m.weight if lot.weight_unit else None,
                        "reference": m.reference,
                        "item": m.item.serial if m.item else "",
                        "work_order": line.work_order,
                        "piece": line.piece.serial if line.piece else "",
                        "amount": line.amount,
                        "note": m.note,
                        "undone": line.undone,
                    }
                )
    for piece in result.pieces:
        for part in piece.parts:
            rows.append(
                {
                    "lot": part.lot.number,
                    "supplier": part.lot.supplier.name,
                    "what": "Component",
                    "pieces": part.pieces,
                    "weight": part.weight if part.lot.weight_unit else None,
                    "unit": part.lot.weight_unit or "",
                    "item": part.item.serial if part.item else "",
                    "work_order": piece.work_order,
                    "piece": piece.piece.serial,
                    "note": "taken back out" if part.taken_out else "",
                }
            )
    return table_for(user, "trace", "Trace", CSV_COLUMNS, rows)
