"""The ledger's invariants: balances follow the ledger, no overdraw, events apply once, reversals."""

import threading
from decimal import Decimal

import pytest
import sqlalchemy
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Balance, Event, Movement
from scanapp.services import AlreadyApplied, DomainError, ledger
from scanapp.services.events import new_event_id, start_event
from tests.conftest import recorded_sql


@pytest.fixture
def shop(make):
    store = make.store("A")
    safe = make.location(store, "SAFE", "safe")
    case = make.location(store, "SC1", "showcase")
    user = make.user("manager", [store])
    return store, safe, case, user


def test_receive_puts_stock_in_place_and_supplier_goes_negative(make, shop):
    store, safe, _, user = shop
    lot = make.lot(safe, pieces=120, weight="3.600", weight_unit="ct", category="stone", by=user)
    assert ledger.balance_at(lot, safe) == (120, Decimal("3.600"))
    assert ledger.balance_at(lot, store.virtual("supplier")) == (-120, Decimal("-3.600"))
    assert ledger.check_ledger() == []


def test_move_changes_both_balances_in_one_row(make, shop):
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, by=user)
    event = make.event(user, store)
    movement = ledger.post(event, "move", lot, safe, case, 4)
    assert (movement.from_location, movement.to_location, movement.pieces) == (safe, case, 4)
    assert ledger.balance_at(lot, safe) == (6, 0)
    assert ledger.balance_at(lot, case) == (4, 0)
    assert ledger.check_ledger() == []


def test_weights_stay_exact(make, shop):
    """0.1 + 0.2 ct taken from 0.3 ct leaves exactly zero (no float on SQLite)."""
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=3, weight="0.300", weight_unit="ct", category="stone", by=user)
    event = make.event(user, store)
    ledger.post(event, "move", lot, safe, case, 1, Decimal("0.100"))
    ledger.post(event, "move", lot, safe, case, 2, Decimal("0.200"))
    assert ledger.balance_at(lot, safe) == (0, Decimal("0.000"))
    assert ledger.balance_at(lot, case) == (3, Decimal("0.300"))


@pytest.mark.parametrize(("pieces", "weight"), [(11, "0"), (1, "5.001"), (0, "5.001")])
def test_overdraw_is_refused_and_changes_nothing(make, shop, pieces, weight):
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, weight="5.000", weight_unit="g", category="metal", by=user)
    db.session.commit()
    event = make.event(user, store)
    with pytest.raises(DomainError, match="Not enough of lot"):
        ledger.post(event, "move", lot, safe, case, pieces, Decimal(weight))
    db.session.rollback()
    assert ledger.balance_at(lot, safe) == (10, Decimal("5.000"))
    assert db.session.scalar(select(func.count()).select_from(Movement)) == 1


@pytest.mark.parametrize(
    ("pieces", "weight", "message"),
    [
        (-1, "0", "whole number"),
        (0, "0", "Nothing to move"),
        (1, "-1", "zero or more"),
        (1, "0.0001", "three decimals"),
        (1.5, "0", "whole number"),
    ],
)
def test_bad_quantities_are_refused(make, shop, pieces, weight, message):
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, weight="5", weight_unit="g", category="metal", by=user)
    with pytest.raises(DomainError, match=message):
        ledger.post(make.event(user, store), "move", lot, safe, case, pieces, Decimal(weight))


def test_weight_on_a_pieces_only_lot_is_refused(make, shop):
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, by=user)
    with pytest.raises(DomainError, match="pieces only"):
        ledger.post(make.event(user, store), "move", lot, safe, case, 1, Decimal("1"))


def test_item_moves_as_one_piece_from_where_it_is(make, shop):
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=2, serials=["R-1", "R-2"], by=user)
    ring = lot.items[0]
    event = make.event(user, store)
    ledger.post(event, "move", lot, safe, case, 1, item=ring)
    assert ring.location == case
    with pytest.raises(DomainError, match="is in"):
        ledger.post(event, "move", lot, safe, case, 1, item=ring)
    assert ledger.check_ledger() == []


def test_same_event_id_applies_once(make, shop):
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, by=user)
    db.session.commit()
    eid = new_event_id()
    event = start_event(eid, "move", by=user, store=store)
    ledger.post(event, "move", lot, safe, case, 2)
    db.session.commit()
    with pytest.raises(AlreadyApplied) as replay:
        start_event(eid, "move", by=user, store=store)
    assert replay.value.event.id == eid
    assert ledger.balance_at(lot, case) == (2, 0)


def test_malformed_event_id_is_refused(make, shop):
    _, _, _, user = shop
    with pytest.raises(DomainError, match="event id"):
        start_event("not-a-uuid", "move", by=user, store=None)


def test_reversal_names_the_movement_and_restores_balances(make, shop):
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, by=user)
    move = ledger.post(make.event(user, store), "move", lot, safe, case, 3)
    undo = ledger.reverse(make.event(user, store), move)
    assert undo.reverses == move and move.reversed_by == undo
    assert (undo.from_location, undo.to_location) == (case, safe)
    assert ledger.balance_at(lot, safe) == (10, 0)
    with pytest.raises(DomainError, match="already undone"):
        ledger.reverse(make.event(user, store), move)
    assert ledger.check_ledger() == []


def test_check_ledger_finds_a_tampered_balance(make, shop):
    store, safe, _, user = shop
    lot = make.lot(safe, pieces=10, by=user)
    db.session.commit()
    balance = db.session.scalar(select(Balance).where(Balance.lot_id == lot.id, Balance.location_id == safe.id))
    balance.pieces = 9  # what a bug outside services/ledger.py would do
    db.session.commit()
    [difference] = ledger.check_ledger()
    assert (difference.location_id, difference.ledger_pieces, difference.balance_pieces) == (safe.id, 10, 9)


def test_check_ledger_command_exits_nonzero_on_difference(app, make, shop):
    store, safe, _, user = shop
    lot = make.lot(safe, pieces=5, by=user)
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["check-ledger"]).exit_code == 0
    db.session.execute(Balance.__table__.update().where(Balance.lot_id == lot.id).values(pieces=0))
    db.session.commit()
    result = runner.invoke(args=["check-ledger"])
    assert result.exit_code == 1 and "differ" in result.output


def test_concurrent_takes_never_overdraw(app, make, shop):
    """Eight threads each try to move 3 of the last 10 pieces: exactly three succeed, nothing goes below zero."""
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, by=user)
    db.session.commit()
    ids = (lot.id, safe.id, case.id, user.id, store.id)
    outcomes = []

    def worker():
        with app.app_context():
            from scanapp.models import Location, Lot, Store, User

            lot_, safe_, case_, user_, store_ = (
                db.session.get(Lot, ids[0]),
                db.session.get(Location, ids[1]),
                db.session.get(Location, ids[2]),
                db.session.get(User, ids[3]),
                db.session.get(Store, ids[4]),
            )
            try:
                event = start_event(new_event_id(), "move", by=user_, store=store_)
                ledger.post(event, "move", lot_, safe_, case_, 3)
                db.session.commit()
                outcomes.append("ok")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert outcomes.count("ok") == 3 and outcomes.count("refused") == 5
    assert ledger.balance_at(lot, safe) == (1, 0)
    assert ledger.check_ledger() == []
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.action == "move")) == 3


def test_a_move_touches_each_balance_with_one_statement(make, shop):
    """Taking from a place is the guarded UPDATE alone and adding to one is a single upsert, also when the row is
    new: two statements on balances a movement, where an insert-if-missing before each update made four."""
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, by=user)
    event = make.event(user, store)
    db.session.flush()
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    sqlalchemy.event.listen(db.engine, "before_cursor_execute", record)
    try:
        ledger.post(event, "move", lot, safe, case, 4)  # the showcase's row is new
        ledger.post(event, "move", lot, safe, case, 2)  # now it exists
    finally:
        sqlalchemy.event.remove(db.engine, "before_cursor_execute", record)
    assert len([s for s in sent if "balances" in s]) == 4
    assert ledger.balance_at(lot, safe) == (4, 0)
    assert ledger.balance_at(lot, case) == (6, 0)
    assert ledger.check_ledger() == []


def test_a_take_from_a_place_without_a_balance_row_is_refused(make, shop):
    """No row is the same as a row at zero: the guarded UPDATE matches nothing and the take is refused."""
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, by=user)
    with pytest.raises(DomainError, match="Not enough of lot .* it holds 0 pcs"):
        ledger.post(make.event(user, store), "move", lot, case, safe, 1)


def test_an_upsert_refreshes_a_balance_already_loaded(make, shop):
    """A Balance object read before the movement shows the new quantities after it, as with the plain UPDATE."""
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, by=user)
    ledger.post(make.event(user, store), "move", lot, safe, case, 4)
    shown = db.session.scalar(select(Balance).where(Balance.lot_id == lot.id, Balance.location_id == case.id))
    assert shown.pieces == 4
    ledger.post(make.event(user, store), "move", lot, safe, case, 3)
    assert shown.pieces == 7


def test_an_event_and_its_movements_are_one_insert_each_and_read_nothing_back(make, shop):
    """The rows every write adds go in as one INSERT each, and what they are shown with (their lot, places, user,
    event, the event's lines, what a reversal undoes) is already there: describing them reads nothing."""
    store, safe, case, user = shop
    lot = make.lot(safe, pieces=10, by=user)
    db.session.commit()
    [thing.id for thing in (store, safe, case, user, lot)]  # loaded again after the commit, before recording
    with recorded_sql() as sent:
        event = start_event(new_event_id(), "move", by=user, store=store)
        first = ledger.post(event, "move", lot, safe, case, 4, note="to the window")
        undo = ledger.reverse(event, first)
        shown = [
            (m.event.id, m.line, m.lot.number, m.from_location.code, m.to_location.code, m.user.username, m.note)
            for m in event.movements
        ]
    inserts = [s for s in sent if s.lstrip().upper().startswith("INSERT")]
    assert [s.split()[2] for s in inserts if "balances" not in s] == ["events", "movements", "movements"]
    assert len(sent) == 3 + 4  # the three rows (the event's INSERT also finds a replay); two balance statements each
    assert shown == [
        (event.id, 0, lot.number, "SAFE", "SC1", user.username, "to the window"),
        (event.id, 1, lot.number, "SC1", "SAFE", user.username, f"Undo of movement {first.id}"),
    ]
    assert undo.reverses is first and first.reversed_by is undo
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalars(select(Movement).where(Movement.event_id == event.id).order_by(Movement.line)).all()
    assert [(m.id, m.line, m.reverses_id, m.created_at) for m in stored] == [
        (first.id, 0, None, event.created_at),
        (undo.id, 1, first.id, event.created_at),
    ]
    assert db.session.get(Event, event.id).movements == stored
    assert ledger.check_ledger() == []
