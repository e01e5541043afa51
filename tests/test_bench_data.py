"""The benchmark's data builder, at a small size: a store whose balances equal its ledger, with what was asked."""

from decimal import Decimal

from sqlalchemy import func, select

from bench.build_data import Size, fill
from scanapp.extensions import db
from scanapp.models import PHYSICAL_KINDS, Balance, Event, Item, Location, Lot, Movement, Tag
from scanapp.services import ledger

SIZE = Size(items=200, lots=20, movements=2_000)


def _count(*where, model=Movement) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_builds_the_size_asked_with_a_clean_ledger(app):
    built = fill(SIZE)

    assert ledger.check_ledger() == []
    assert built.counts["lots"] == _count(model=Lot) == 20
    assert built.counts["items"] == _count(model=Item) == 200
    assert built.counts["movements"] == _count() == 2_000
    assert built.counts["events"] == _count(model=Event) < 2_000  # a receipt is one event with many lines
    # Every lot, item and physical place carries its tag.
    assert _count(Tag.lot_id.is_not(None), model=Tag) == 20
    assert _count(Tag.item_id.is_not(None), model=Tag) == 200
    places = _count(Location.kind.in_(PHYSICAL_KINDS), model=Location)
    assert _count(Tag.location_id.is_not(None), model=Tag) >= places > 0


def test_the_ledger_has_a_realistic_mix_and_follows_the_rules(app):
    built = fill(SIZE)

    kinds = dict(db.session.execute(select(Movement.kind, func.count()).group_by(Movement.kind)).all())
    assert {"receive", "move", "ship", "arrive", "sell", "return", "consume", "adjust"} <= kinds.keys()
    assert kinds["receive"] == 200 + _count(Movement.kind == "receive", Movement.item_id.is_(None))
    # Sales and returns carry money; nothing else does.
    assert _count(Movement.kind.in_(("sell", "return")), Movement.amount.is_(None)) == 0
    assert _count(Movement.kind.not_in(("sell", "return")), Movement.amount.is_not(None)) == 0
    # No physical place holds less than nothing; each item is where its last movement took it.
    physical = select(Location.id).where(Location.kind.in_(PHYSICAL_KINDS))
    negative = (Balance.pieces < 0) | (Balance.weight < 0)
    assert _count(Balance.location_id.in_(physical), negative, model=Balance) == 0
    last = select(Movement.item_id, func.max(Movement.id).label("id")).group_by(Movement.item_id).subquery()
    misplaced = (
        select(func.count())
        .select_from(Item)
        .join(last, last.c.item_id == Item.id)
        .join(Movement, Movement.id == last.c.id)
        .where(Movement.to_location_id != Item.location_id)
    )
    assert db.session.scalar(misplaced) == 0
    # Every lot's stock outside the supplier adds up to what was received (weights exact, as Decimal).
    lot = db.session.get(Lot, built.hot_lot_id)
    supplier = select(Location.id).where(Location.kind == "supplier")
    outside = select(func.sum(Balance.pieces)).where(Balance.lot_id == lot.id, Balance.location_id.not_in(supplier))
    assert db.session.scalar(outside) == lot.pieces_received
    weights = db.session.scalars(select(Balance.weight).where(Balance.lot_id == lot.id)).all()
    assert all(isinstance(w, Decimal) and w == w.quantize(Decimal("0.001")) for w in weights)
    assert sum(weights, Decimal(0)) == 0  # the supplier's balance is minus what was received
    # The lot with the long history has many more movements than an average lot.
    assert _count(Movement.lot_id == lot.id) > 2_000 / 20
