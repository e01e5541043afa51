"""Finding lots, items and suppliers by what a person types: numbers, serials, certificates, names, descriptions."""

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from scanapp.extensions import db
from scanapp.models import ATTRIBUTES, Item, Location, Lot, Supplier, User
from scanapp.services import DomainError, tags
from scanapp.services.history import visible_lots

MIN_LENGTH = 2
MAX_LENGTH = 100
LIMIT = 25
LOT_FIELDS = ("number", "description", "po_number", "invoice_number", *ATTRIBUTES)


@dataclass
class Results:
    """What matched, in three groups, each cut at LIMIT (`more` says that some were left out)."""

    lots: list[Lot]
    items: list[Item]
    suppliers: list[Supplier]
    more: bool

    @property
    def empty(self) -> bool:
        return not (self.lots or self.items or self.suppliers)


def clean(query: str | None) -> str:
    """The query as searched: trimmed and cut to a sane length."""
    return (query or "").strip()[:MAX_LENGTH]


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with the wildcards % and _ (and the escape \\) taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find(query: str, user: User) -> Results | None:
    """Lots, items and suppliers matching `query` (case-insensitive, anywhere in the text); lots and items only
    of the user's stores. None when the query is too short to search."""
    query = clean(query)
    if len(query) < MIN_LENGTH:
        return None
    pattern = like_pattern(query)

    def matches(*columns):
        return or_(*(column.ilike(pattern, escape="\\") for column in columns))

    visible = visible_lots(user.store_ids)
    lots = db.session.scalars(
        select(Lot)
        .where(visible, matches(*(getattr(Lot, name) for name in LOT_FIELDS)))
        .options(joinedload(Lot.supplier))
        .order_by(Lot.received_on.desc(), Lot.id.desc())
        .limit(LIMIT + 1)
    ).all()
    items = db.session.scalars(
        select(Item)
        .join(Item.lot)
        .where(visible, matches(Item.serial, Item.certificate, Item.description))
        .options(contains_eager(Item.lot), joinedload(Item.location).joinedload(Location.store))
        .order_by(Item.serial)
        .limit(LIMIT + 1)
    ).all()
    suppliers = db.session.scalars(
        select(Supplier).where(matches(Supplier.code, Supplier.name)).order_by(Supplier.code).limit(LIMIT + 1)
    ).all()
    more = any(len(group) > LIMIT for group in (lots, items, suppliers))
    return Results(list(lots[:LIMIT]), list(items[:LIMIT]), list(suppliers[:LIMIT]), more)


def exact(query: str, user: User) -> Lot | Item | Location | None:
    """The one lot, item or location whose tag code, lot number or serial is exactly `query` (any case), when
    `user` may see it; otherwise None."""
    query = clean(query)
    try:
        tag = tags.find(tags.normalise(query))
    except DomainError:
        tag = None
    target = tag.target if tag else None
    if target is None and len(query) >= MIN_LENGTH:
        target = db.session.scalar(select(Item).where(func.upper(Item.serial) == query.upper()))
    if isinstance(target, Location):
        return target if target.store_id in user.store_ids else None
    if isinstance(target, Item | Lot):
        lot_id = target.id if isinstance(target, Lot) else target.lot_id
        visible = db.session.scalar(select(Lot.id).where(Lot.id == lot_id, visible_lots(user.store_ids)))
        return target if visible is not None else None
    return None
