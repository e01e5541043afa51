"""The benchmark's data builder, at a small size: a store whose balances equal its ledger, with what was asked."""

from decimal import Decimal

from sqlalchemy import func, select

from bench.build_data import BENCH_USER, Size, fill
from bench.run import _fill_count
from scanapp.extensions import db
from scanapp.models import PHYSICAL_KINDS, Balance, CountLine, Event, Item, Location, Lot, Movement, Tag, User
from scanapp.services import counts, ledger
from scanapp.services.events import new_event_id

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


def test_the_count_scans_go_into_a_whole_store_count_already_full(app):
    """The count scenario's count: every item of the store outside the showcase to scan has its line (as its scans
    would have made it), the count's totals say so, and the showcase's items are still to count."""
    fill(SIZE)
    user = db.session.scalar(select(User).where(User.username == BENCH_USER))
    store = user.stores[0]
    showcase = db.session.get(Location, db.session.scalar(
        select(Item.location_id)
        .join(Location, Item.location_id == Location.id)
        .where(Location.store_id == store.id, Location.kind == "showcase")
        .group_by(Item.location_id)
        .order_by(func.count().desc())
    ))  # fmt: skip
    count = counts.start_count(store, None, blind=True, event_id=new_event_id(), by=user)
    db.session.commit()
    made = _fill_count(count, user, showcase.id)

    in_store = select(Location.id).where(Location.store_id == store.id, Location.kind.in_(PHYSICAL_KINDS))
    elsewhere = _count(Item.location_id.in_(in_store), Item.location_id != showcase.id, Item.active, model=Item)
    assert made == elsewhere > 0
    db.session.expire_all()
    assert (count.standing_lines, count.counted_items, count.counted_pieces) == (made, made, made)
    assert _count(CountLine.count_id == count.id, CountLine.location_id == showcase.id, model=CountLine) == 0
    to_scan = _count(Item.location_id == showcase.id, Item.active, model=Item)
    assert to_scan > 0
    assert [row.status for row in counts.review(count).rows if row.item is not None].count("missing") == to_scan
