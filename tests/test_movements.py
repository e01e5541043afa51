"""Moving stock within a store: move_stock, whole-location moves, undo, and the default line for a scan."""

from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from scanapp.extensions import db
from scanapp.models import Event, Location, Movement
from scanapp.services import AlreadyApplied, DomainError, Forbidden, ledger
from scanapp.services.events import new_event_id
from scanapp.services.movements import (
    MoveLine,
    contents_of,
    lines_for_scan,
    loose_at,
    move_location_contents,
    move_stock,
    undo_last_move,
)
from tests.conftest import recorded_sql


@pytest.fixture
def shop(make):
    a, b = make.store("A", "Main Street"), make.store("B", "Mall")
    places = {
        "safe": make.location(a, "SAFE", "safe", "Safe"),
        "sc1": make.location(a, "SC1", "showcase", "Showcase 1"),
        "sc2": make.location(a, "SC2", "showcase", "Showcase 2"),
        "b_safe": make.location(b, "SAFE", "safe", "Mall safe"),
    }
    people = {"associate": make.user("associate", [a]), "other": make.user("manager", [b])}
    return a, b, places, people


def move(dest, lines, user, store, **kw):
    return move_stock(dest, lines, event_id=new_event_id(), by=user, store=store, **kw)


def test_move_stock_moves_lot_pieces_and_items(make, shop):
    a, _, p, people = shop
    lot = make.lot(p["safe"], pieces=10, serials=["R-1", "R-2"])
    ring = lot.items[0]
    moved = move(p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=4), MoveLine(item=ring)], people["associate"], a)
    assert [(m.kind, m.pieces, m.item) for m in moved] == [("move", 4, None), ("move", 1, ring)]
    assert {m.event_id for m in moved} == {moved[0].event.id} and moved[0].event.result == f"location:{p['sc1'].id}"
    assert ring.location == p["sc1"]
    assert ledger.balance_at(lot, p["safe"]) == (5, 0) and ledger.balance_at(lot, p["sc1"]) == (5, 0)
    assert ledger.check_ledger() == []


def test_weighed_lot_moves_exact_weight(make, shop):
    a, _, p, people = shop
    melee = make.lot(p["safe"], pieces=120, weight="3.600", weight_unit="ct", category="stone")
    move(p["sc1"], [MoveLine(lot=melee, source=p["safe"], pieces=20, weight=Decimal("0.600"))], people["associate"], a)
    assert ledger.balance_at(melee, p["safe"]) == (100, Decimal("3.000"))
    assert ledger.balance_at(melee, p["sc1"]) == (20, Decimal("0.600"))


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other_store_dest", "is in another store: use Ship to send to another store"),
        ("virtual_dest", "is not a place to put stock"),
        ("inactive_dest", "no longer in use"),
        ("other_store_source", r"is in Mall safe \(B\), not in Main Street"),
        ("virtual_source", "stock leaves only from a safe"),
        ("item_already_there", r"Item R-1 is already in Showcase 1 \(A\)"),
        ("lot_already_there", r"Lot L-1 is already in Safe \(A\)"),
        ("duplicate_item", "Item R-2 is listed twice"),
        ("duplicate_lot", r"Lot L-1 from Safe \(A\) is listed twice"),
        ("not_enough", r"Not enough of lot L-2 in Safe \(A\): it holds 2 pcs"),
        ("items_not_loose", r"Only 8 pcs of lot L-1 in Safe \(A\) are loose"),
        ("no_lines", "Scan at least one"),
        ("no_source", "Say where lot L-1 is taken from"),
        ("nothing", "Nothing to move"),
    ],
)
def test_move_stock_refuses(make, shop, case, message):
    a, b, p, people = shop
    lot = make.lot(p["safe"], pieces=10, serials=["R-1", "R-2"], number="L-1")
    mall_lot = make.lot(p["b_safe"], pieces=3)
    small = make.lot(p["safe"], pieces=2, number="L-2")
    move(p["sc1"], [MoveLine(item=lot.items[0])], people["associate"], a)
    db.session.commit()
    ring, ring2 = lot.items
    dest, lines = p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=1)]
    if case == "other_store_dest":
        dest = p["b_safe"]
    elif case == "virtual_dest":
        dest = a.virtual("customer")
    elif case == "inactive_dest":
        p["sc2"].active, dest = False, p["sc2"]
    elif case == "other_store_source":
        lines = [MoveLine(lot=mall_lot, source=p["b_safe"], pieces=1)]
    elif case == "virtual_source":
        lines = [MoveLine(lot=lot, source=a.virtual("supplier"), pieces=1)]
    elif case == "item_already_there":
        lines = [MoveLine(item=ring)]
    elif case == "lot_already_there":
        dest = p["safe"]
    elif case in ("duplicate_item", "duplicate_lot"):
        line = MoveLine(item=ring2) if case == "duplicate_item" else lines[0]
        lines = [line, line]
    elif case == "not_enough":
        lines = [MoveLine(lot=small, source=p["safe"], pieces=3)]
    elif case == "items_not_loose":
        lines = [MoveLine(lot=lot, source=p["safe"], pieces=9)]
    elif case == "no_lines":
        lines = []
    elif case == "no_source":
        lines = [MoveLine(lot=lot, pieces=1)]
    elif case == "nothing":
        lines = [MoveLine(lot=lot, source=p["safe"], pieces=0)]
    before = db.session.scalar(select(func.count()).select_from(Movement))
    with pytest.raises(DomainError, match=message):
        move(dest, lines, people["associate"], a)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Movement)) == before
    assert ledger.balance_at(lot, p["safe"]) == (9, 0)


def test_a_user_of_another_store_cannot_move_its_stock(make, shop):
    """Forging ids: store B's manager names store A, or names A's stock while acting in B."""
    a, b, p, people = shop
    lot = make.lot(p["safe"], pieces=5)
    with pytest.raises(Forbidden, match="store you are not a member of"):
        move(p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=1)], people["other"], a)
    with pytest.raises(DomainError, match="not in Mall"):
        move(p["b_safe"], [MoveLine(lot=lot, source=p["safe"], pieces=1)], people["other"], b)
    with pytest.raises(Forbidden):
        move_location_contents(p["safe"], p["sc1"], event_id=new_event_id(), by=people["other"], store=a)
    with pytest.raises(Forbidden):
        undo_last_move(event_id=new_event_id(), by=people["other"], store=a)
    assert ledger.balance_at(lot, p["safe"]) == (5, 0)


def test_the_same_move_sent_twice_applies_once(make, shop):
    a, _, p, people = shop
    lot = make.lot(p["safe"], pieces=5)
    db.session.commit()
    eid = new_event_id()
    move_stock(p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=2)], event_id=eid, by=people["associate"], store=a)
    db.session.commit()
    with pytest.raises(AlreadyApplied):
        move_stock(
            p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=2)], event_id=eid, by=people["associate"], store=a
        )
    db.session.rollback()
    assert ledger.balance_at(lot, p["sc1"]) == (2, 0)


def test_move_location_contents_empties_a_tray_into_the_safe(make, shop):
    a, _, p, people = shop
    rings = make.lot(p["sc1"], pieces=5, serials=["R-1", "R-2"])
    melee = make.lot(p["sc1"], pieces=30, weight="0.900", weight_unit="ct", category="stone")
    other = make.lot(p["sc2"], pieces=4)
    moved = move_location_contents(p["sc1"], p["safe"], event_id=new_event_id(), by=people["associate"], store=a)
    assert len(moved) == 4  # two items on their own, the rings' loose 3, the melee
    assert {m.event_id for m in moved} == {moved[0].event_id} and all(m.kind == "move" for m in moved)
    assert [i.location for i in rings.items] == [p["safe"], p["safe"]]
    assert ledger.balance_at(rings, p["safe"]) == (5, 0) and ledger.balance_at(rings, p["sc1"]) == (0, 0)
    assert ledger.balance_at(melee, p["safe"]) == (30, Decimal("0.900"))
    assert ledger.balance_at(other, p["sc2"]) == (4, 0)
    assert contents_of(p["sc1"]) == []
    assert ledger.check_ledger() == []


def test_the_contents_of_a_full_place_are_read_in_two_statements(make, shop):
    """The "Move everything" list of a place: its balances with their lots, then its items, however many lots
    (a safe holds thousands). Each lot's loose pieces and weight are what is not an item of it there."""
    a, _, p, _ = shop
    for n in range(6):
        make.lot(p["safe"], pieces=3, serials=[f"S{n}-1", f"S{n}-2"], number=f"L{n}")
    gold = make.lot(p["safe"], pieces=4, weight="20.000", weight_unit="g", serials=["G-1"], number="GOLD")
    gold.items[0].weight = Decimal("4.500")
    make.lot(p["sc1"], pieces=2, serials=["ELSEWHERE"], number="OTHER")
    safe_id = p["safe"].id
    db.session.commit()
    db.session.expunge_all()  # nothing in the session: what contents_of needs, it reads
    safe = db.session.get(Location, safe_id)
    with recorded_sql() as statements:
        lines = contents_of(safe)
    assert len(statements) == 2
    listed = [(line.item.serial if line.item else None, line.lot.number, line.pieces, line.weight) for line in lines]
    assert listed == [("G-1", "GOLD", 1, Decimal("4.500")), (None, "GOLD", 3, Decimal("15.500"))] + [
        row for n in range(6) for row in ((f"S{n}-1", f"L{n}", 1, 0), (f"S{n}-2", f"L{n}", 1, 0), (None, f"L{n}", 1, 0))
    ]
    assert all(line.source is safe for line in lines)
    assert [(line.pieces, line.weight) for line in lines if not line.item] == [
        loose_at(line.lot, safe) for line in lines if not line.item
    ]  # as a lot's loose stock is counted everywhere else


@pytest.mark.parametrize(
    ("source", "dest", "message"),
    [
        ("sc2", "safe", "is empty"),
        ("sc1", "sc1", "other than the place being emptied"),
        ("b_safe", "safe", "is not a place of Main Street"),
        ("sc1", "b_safe", "use Ship"),
        ("sc1", "loss", "not a place to put stock"),
    ],
)
def test_move_location_contents_refuses(make, shop, source, dest, message):
    a, _, p, people = shop
    p["loss"] = a.virtual("loss")
    make.lot(p["sc1"], pieces=2)
    with pytest.raises(DomainError, match=message):
        move_location_contents(p[source], p[dest], event_id=new_event_id(), by=people["associate"], store=a)


def test_undo_reverses_the_users_last_move_then_the_one_before(make, shop):
    a, _, p, people = shop
    user = people["associate"]
    lot = make.lot(p["safe"], pieces=10, serials=["R-1"])
    ring = lot.items[0]
    first = move(p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=3)], user, a)
    second = move(p["sc2"], [MoveLine(lot=lot, source=p["safe"], pieces=2), MoveLine(item=ring)], user, a)
    undone = undo_last_move(event_id=new_event_id(), by=user, store=a)
    assert sorted(m.reverses.id for m in undone) == sorted(m.id for m in second)
    assert ring.location == p["safe"] and ledger.balance_at(lot, p["sc2"]) == (0, 0)
    undone = undo_last_move(event_id=new_event_id(), by=user, store=a)
    assert [m.reverses for m in undone] == first
    assert ledger.balance_at(lot, p["safe"]) == (10, 0)
    with pytest.raises(DomainError, match="no move in this store left to undo"):
        undo_last_move(event_id=new_event_id(), by=user, store=a)
    assert ledger.check_ledger() == []


def test_undoing_two_moves_to_the_same_place(make, shop):
    """The later move and its undo cancel out: they do not block undoing the earlier one."""
    a, _, p, people = shop
    lot = make.lot(p["safe"], pieces=10)
    for _ in range(2):
        move(p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=2)], people["associate"], a)
    undo_last_move(event_id=new_event_id(), by=people["associate"], store=a)
    undo_last_move(event_id=new_event_id(), by=people["associate"], store=a)
    assert ledger.balance_at(lot, p["safe"]) == (10, 0) and ledger.check_ledger() == []


def test_undo_touches_only_the_users_own_moves(make, shop):
    a, _, p, people = shop
    colleague = make.user("vault", [a])
    lot = make.lot(p["safe"], pieces=10)
    mine = move(p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=3)], people["associate"], a)
    move(p["sc2"], [MoveLine(lot=lot, source=p["safe"], pieces=2)], colleague, a)
    [undo] = undo_last_move(event_id=new_event_id(), by=people["associate"], store=a)
    assert undo.reverses == mine[0]
    assert ledger.balance_at(lot, p["sc2"]) == (2, 0)


def test_undo_finds_the_last_move_through_the_users_own_moves(make, shop):
    """SQLite has no statistics: asked for `reverses_id IS NULL` it reads every movement without a reversal
    through the unique index on reverses_id (the whole ledger, 4 s at 1,000,000 movements, when the user has no
    move left). The query must walk the user's own moves in the store instead."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a plan of SQLite's; PostgreSQL picks the index from its statistics")
    a, _, p, people = shop
    move(p["sc1"], [MoveLine(lot=make.lot(p["safe"], pieces=10), source=p["safe"], pieces=3)], people["associate"], a)
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        undo_last_move(event_id=new_event_id(), by=people["associate"], store=a)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    statement, parameters = next((s, p) for s, p in sent if "ORDER BY movements.id DESC" in s)
    plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    assert "USING INDEX ix_movements_user_id_store_id_kind_id" in plan[0][-1]


@pytest.mark.parametrize("later", ["lot", "item"])
def test_undo_is_refused_once_something_has_moved_since(make, shop, later):
    a, _, p, people = shop
    user, colleague = people["associate"], make.user("vault", [a])
    lot = make.lot(p["safe"], pieces=10, serials=["R-1"])
    ring = lot.items[0]
    mine = [MoveLine(lot=lot, source=p["safe"], pieces=3)] if later == "lot" else [MoveLine(item=ring)]
    move(p["sc1"], mine, user, a)
    if later == "lot":
        move(p["sc2"], [MoveLine(lot=lot, source=p["sc1"], pieces=1)], colleague, a)
        message = "Lot .* has moved since \\(move by"
    else:
        move(p["sc2"], [MoveLine(item=ring)], colleague, a)
        message = "Item R-1 has moved since"
    with pytest.raises(DomainError, match=message):
        undo_last_move(event_id=new_event_id(), by=user, store=a)


def test_lines_for_scan_defaults(make, shop):
    a, b, p, people = shop
    lot = make.lot(p["safe"], pieces=10, weight="5.000", weight_unit="g", category="metal", serials=["R-1"])
    move(p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=6, weight=Decimal("3.000"))], people["associate"], a)
    line = lines_for_scan(lot, a)
    assert (line.source, line.pieces, line.weight) == (p["sc1"], 6, Decimal("3.000"))
    line = lines_for_scan(lot.items[0], a)
    assert (line.item, line.source, line.pieces) == (lot.items[0], p["safe"], 1)
    with pytest.raises(DomainError, match="has nothing in Mall"):
        lines_for_scan(lot, b)
    with pytest.raises(DomainError, match="not in a place of Mall"):
        lines_for_scan(lot.items[0], b)
    with pytest.raises(DomainError, match="Scan a lot or an item"):
        lines_for_scan(p["safe"], a)


def test_move_events_record_who_and_where(make, shop):
    a, _, p, people = shop
    lot = make.lot(p["safe"], pieces=2)
    [m] = move(p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=1)], people["associate"], a, note="for display")
    event = db.session.get(Event, m.event_id)
    assert (event.action, event.user, event.store, m.store_id, m.user_id, m.note) == (
        "move", people["associate"], a, a.id, people["associate"].id, "for display"
    )  # fmt: skip


def test_a_move_writes_its_event_once(make, shop):
    """The event's result (where the stock went) is known before the move and goes in with the event's row: an
    item's move is the event's INSERT, its balances (a guarded UPDATE and an upsert), the item and the movement,
    with no UPDATE of the event afterwards."""
    a, _, p, people = shop
    ring = make.lot(p["safe"], pieces=1, serials=["R-1"]).items[0]
    db.session.commit()
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement.split()[0] + " " + statement.split()[2 if statement.startswith("INSERT") else 1])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        moved = move(p["sc1"], [MoveLine(item=ring)], people["associate"], a)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    writes = [s for s in sent if not s.startswith("SELECT")]
    assert writes == ["INSERT events", "UPDATE balances", "INSERT balances", "UPDATE items", "INSERT movements"]
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Event, moved[0].event_id).result == f"location:{p['sc1'].id}"
