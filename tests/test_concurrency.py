"""Many phones at once: sales and moves racing for the last pieces of one lot, each request in its own thread,
app context and session, as separate web requests would be."""

import threading
import time
import uuid
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import func, select, text

from scanapp.extensions import db
from scanapp.models import Event, Item, Location, Lot, Movement, Store, User
from scanapp.services import DomainError, counts, ledger
from scanapp.services.api_tokens import create_token
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine, loose_at, move_stock
from scanapp.services.sales import sell
from scanapp.views import commit_once
from tests.conftest import run_all

PIECES, REQUESTS = 6, 12


@pytest.fixture
def race(make):
    store = make.store("A")
    safe, case = make.location(store, "SAFE", "safe"), make.location(store, "SC1", "showcase")
    user = make.user("manager", [store])
    lot = make.lot(case, pieces=PIECES, weight="1.200", weight_unit="ct", category="stone", by=user, number="LAST")
    db.session.commit()
    return store, safe, case, user, lot


def test_sales_and_moves_race_for_the_last_pieces(app, race):
    """Twelve requests each take 1 piece (0.200 ct) of six; one sale is also sent twice with the same event id.
    Exactly six apply, the rest are refused with the ledger's message or recognised as a replay."""
    store, safe, case, user, lot = race
    ids = (store.id, safe.id, case.id, user.id, lot.id)
    twice = new_event_id()

    def request(kind: str, event_id: str):
        def job():
            with app.app_context():
                store_, safe_, case_, user_, lot_ = (
                    db.session.get(model, i)
                    for model, i in zip((Store, Location, Location, User, Lot), ids, strict=True)
                )
                line = MoveLine(lot=lot_, source=case_, pieces=1, weight=Decimal("0.200"))
                if kind == "sell":
                    operation = partial(sell, [line], price=Decimal("99.00"), receipt="R-1")
                else:
                    operation = partial(move_stock, safe_, [line])
                try:
                    _, earlier = commit_once(event_id, partial(operation, event_id=event_id, by=user_, store=store_))
                    return ("applied", event_id) if earlier is None else ("replayed", event_id)
                except DomainError as refused:
                    return ("refused", refused.message)
                finally:
                    db.session.remove()

        return job

    jobs = [request("sell" if n % 2 else "move", new_event_id()) for n in range(REQUESTS - 2)]
    jobs += [request("sell", twice), request("sell", twice)]
    outcomes = run_all(jobs)

    db.session.expire_all()
    applied = [o for o in outcomes if o[0] == "applied"]
    refused = [o for o in outcomes if o[0] == "refused"]
    replayed = [o for o in outcomes if o[0] == "replayed"]
    assert len(applied) == PIECES and len(applied) + len(refused) + len(replayed) == REQUESTS
    assert len(replayed) <= 1 and [o[1] for o in applied].count(twice) <= 1
    assert all(message == "Not enough of lot LAST in Sc1 (A): it holds 0 pcs, 0.000 ct." for _, message in refused)
    assert ledger.balance_at(lot, case) == (0, Decimal("0.000"))
    sold = ledger.balance_at(lot, store.virtual("customer"))
    moved = ledger.balance_at(lot, safe)
    assert sold[0] + moved[0] == PIECES and sold[1] + moved[1] == Decimal("1.200")
    assert ledger.check_ledger() == []
    events = db.session.scalar(select(func.count()).select_from(Event).where(Event.action.in_(("sell", "move"))))
    assert events == PIECES
    assert db.session.scalar(select(func.count()).select_from(Movement).where(Movement.event_id == twice)) <= 1


def test_api_requests_race_with_one_idempotency_key_sent_three_times(app, race):
    """Through the API: eight sales of 1 piece race for six, and one of them is sent three times at once with
    the same Idempotency-Key. Every answer is JSON: 201, a 200 replay, or a 422 refusal."""
    store, safe, case, user, lot = race
    _, secret = create_token(user, store, "till", by=user)
    db.session.commit()
    shared = str(uuid.uuid4())

    def request(key: str):
        def job():
            body = {"receipt": "R-7", "lines": [{"lot": "LAST", "from": "A-SC1", "pieces": 1, "weight": "0.200",
                                                 "price": "10.00"}]}  # fmt: skip
            headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": key}
            response = app.test_client().post("/api/v1/sales", json=body, headers=headers)
            return response.status_code, response.get_json()

        return job

    outcomes = run_all([request(str(uuid.uuid4())) for _ in range(7)] + [request(shared)] * 3)

    db.session.expire_all()
    statuses = sorted(status for status, _ in outcomes)
    assert set(statuses) <= {200, 201, 422} and statuses.count(201) == PIECES
    for status, body in outcomes:
        if status == 422:
            assert body["error"]["message"].startswith("Not enough of lot LAST")
        if status == 200:
            assert body["replayed"] is True and body["event_id"] == shared
    shared_applied = db.session.scalar(select(func.count()).select_from(Movement).where(Movement.event_id == shared))
    assert shared_applied <= 1
    assert ledger.balance_at(lot, case) == (0, Decimal("0.000"))
    assert ledger.balance_at(lot, store.virtual("customer")) == (PIECES, Decimal("1.200"))
    assert ledger.check_ledger() == []


def test_one_item_sold_and_moved_at_once_is_taken_once(app, make):
    """Two phones take the same ring at the same moment, one selling it and one moving it to the safe, each having
    read it in the showcase before the other wrote. The showcase holds loose pieces of its lot too, so the balance
    guard alone would let both through: one applies, the other is refused, and no piece is made up."""
    store = make.store("A")
    safe, case = make.location(store, "SAFE", "safe"), make.location(store, "SC1", "showcase")
    user = make.user("manager", [store])
    lot = make.lot(case, pieces=4, by=user, number="RING", serials=["R-1", "R-2"])
    db.session.commit()
    ids = (store.id, safe.id, user.id)
    ready = threading.Barrier(2)

    def take(kind: str):
        def job():
            with app.app_context():
                store_, safe_, user_ = (db.session.get(m, i) for m, i in zip((Store, Location, User), ids, strict=True))
                ring = db.session.scalar(select(Item).where(Item.serial == "R-1"))
                line = MoveLine(item=ring, source=ring.location)
                ready.wait()  # both have read the ring in the showcase
                if kind == "sell":
                    operation = partial(sell, [line], price=Decimal("900.00"), receipt="R-9")
                else:
                    operation = partial(move_stock, safe_, [line])
                event_id = new_event_id()
                try:
                    commit_once(event_id, partial(operation, event_id=event_id, by=user_, store=store_))
                    return "applied"
                except DomainError as refused:
                    return refused.message
                finally:
                    db.session.remove()

        return job

    outcomes = run_all([take("sell"), take("move")])

    db.session.expire_all()
    assert sorted(outcomes) == ["Item R-1 is no longer in Sc1 (A): it was moved or sold a moment ago.", "applied"]
    taken = db.session.scalars(select(Movement).where(Movement.item_id.is_not(None), Movement.kind != "receive")).all()
    assert len(taken) == 1 and db.session.get(Item, taken[0].item_id).location_id == taken[0].to_location_id
    assert ledger.balance_at(lot, case) == (3, Decimal("0.000"))
    assert sum(ledger.balance_at(lot, place)[0] for place in (safe, store.virtual("customer"))) == 1
    assert ledger.check_ledger() == []


def test_lot_lines_race_for_the_last_loose_piece_beside_items(app, make):
    """The showcase holds 3 rings of a lot: 2 tracked items and 1 loose piece. Four phones each move 1 loose piece
    to the safe at once: one applies, and the others are refused, never taking a piece that is an item."""
    store = make.store("A")
    safe, case = make.location(store, "SAFE", "safe"), make.location(store, "SC1", "showcase")
    user = make.user("manager", [store])
    lot = make.lot(case, pieces=3, by=user, number="RING", serials=["R-1", "R-2"])
    db.session.commit()
    ids = (store.id, safe.id, case.id, user.id, lot.id)

    def take():
        with app.app_context():
            loaded = zip((Store, Location, Location, User, Lot), ids, strict=True)
            store_, safe_, case_, user_, lot_ = (db.session.get(model, i) for model, i in loaded)
            event_id = new_event_id()
            move = partial(move_stock, safe_, [MoveLine(lot=lot_, source=case_, pieces=1)], by=user_, store=store_)
            try:
                commit_once(event_id, partial(move, event_id=event_id))
                return "applied"
            except DomainError as refused:
                return refused.message
            finally:
                db.session.remove()

    outcomes = run_all([take] * 4)

    db.session.expire_all()
    assert outcomes.count("applied") == 1
    assert all(o == "applied" or o.startswith("Only 0 pcs of lot RING in Sc1 (A) are loose") for o in outcomes)
    assert loose_at(lot, case) == (0, Decimal("0.000")) and ledger.balance_at(lot, case) == (2, Decimal("0.000"))
    assert ledger.check_ledger() == []


def test_count_review_while_another_phone_moves_an_item_into_the_counted_place(app, make):
    """The counting page of a showcase is being answered by a request that has read a ring in the safe; another
    phone moves the ring into the showcase before the page lists what is there: it shows the ring in the showcase,
    never a 500."""
    store = make.store("A")
    safe, case = make.location(store, "SAFE", "safe"), make.location(store, "SC1", "showcase")
    user = make.user("manager", [store])
    make.lot(safe, pieces=1, by=user, number="RING", serials=["R-1"])
    count = counts.start_count(store, case, blind=False, event_id=new_event_id(), by=user)
    db.session.commit()
    ids = (store.id, case.id, user.id)
    seen = db.session.scalar(select(Item).where(Item.serial == "R-1"))
    assert seen.location_id == safe.id  # this request has read the ring in the safe, and keeps it

    def move_it():
        with app.app_context():
            store_, case_, user_ = (db.session.get(m, i) for m, i in zip((Store, Location, User), ids, strict=True))
            ring = db.session.scalar(select(Item).where(Item.serial == "R-1"))
            event_id = new_event_id()
            commit_once(event_id, move_stock, case_, [MoveLine(item=ring)], event_id=event_id, by=user_, store=store_)
            db.session.remove()

    run_all([move_it])

    rows = counts.review(count).rows
    assert [(row.item.serial, row.location.code, row.expected_pieces) for row in rows] == [("R-1", "SC1", 1)]


def test_a_move_caught_in_a_deadlock_is_run_again_and_applies(app, make):
    """PostgreSQL breaks a deadlock by failing one transaction. Here the request is the one it fails: it holds lot
    A's balance rows and waits for lot B's, which another session holds while it waits for lot A's. commit_once
    rolls back and runs the move again once the other session is done: the move applies, once, instead of a 500."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no deadlock between row locks")
    store = make.store("A")
    safe, case = make.location(store, "SAFE", "safe"), make.location(store, "SC1", "showcase")
    user = make.user("manager", [store])
    first, second = (make.lot(safe, pieces=5, by=user, number=n) for n in ("LOT-A", "LOT-B"))
    db.session.commit()
    ids = (store.id, safe.id, case.id, user.id, first.id, second.id)
    event_id, outcome = new_event_id(), []

    def move_both():
        with app.app_context():
            loaded = zip((Store, Location, Location, User, Lot, Lot), ids, strict=True)
            store_, safe_, case_, user_, a, b = (db.session.get(model, i) for model, i in loaded)
            lines = [MoveLine(lot=a, source=safe_, pieces=1), MoveLine(lot=b, source=safe_, pieces=1)]
            move = partial(move_stock, case_, lines, event_id=event_id, by=user_, store=store_)
            try:
                outcome.append(len(commit_once(event_id, move)[0]))
            except Exception as error:  # noqa: BLE001 — the test reports what the request raised
                outcome.append(error)
            finally:
                db.session.remove()

    def rows_of(lot_id):
        return text(f"SELECT lot_id FROM balances WHERE lot_id = {int(lot_id)} FOR UPDATE")

    with db.engine.connect() as other:
        other.execute(text("SET deadlock_timeout = '20s'"))  # so that the request's session (1 s) detects the cycle
        other.execute(rows_of(second.id))  # the other session takes lot B first
        request = threading.Thread(target=move_both)
        request.start()
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            " AND datname = current_database()"
        )
        for _ in range(200):  # until the request waits for lot B, holding lot A
            other.execute(text("SELECT pg_stat_clear_snapshot()"))  # else the transaction sees its first snapshot
            if other.execute(waiting).scalar():
                break
            time.sleep(0.02)
        else:
            pytest.fail("The request never waited for lot B.")
        other.execute(rows_of(first.id))  # and now wants lot A: a cycle
        other.rollback()
        request.join(timeout=30)

    assert outcome == [2]
    assert db.session.scalar(select(func.count()).select_from(Movement).where(Movement.event_id == event_id)) == 2
    assert ledger.check_ledger() == []
