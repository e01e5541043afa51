"""Many phones at once: sales and moves racing for the last pieces of one lot, each request in its own thread,
app context and session, as separate web requests would be."""

import threading
import uuid
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Event, Location, Lot, Movement, Store, User
from scanapp.services import DomainError, ledger
from scanapp.services.api_tokens import create_token
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine, move_stock
from scanapp.services.sales import sell
from scanapp.views import commit_once

PIECES, REQUESTS = 6, 12


@pytest.fixture
def race(make):
    store = make.store("A")
    safe, case = make.location(store, "SAFE", "safe"), make.location(store, "SC1", "showcase")
    user = make.user("manager", [store])
    lot = make.lot(case, pieces=PIECES, weight="1.200", weight_unit="ct", category="stone", by=user, number="LAST")
    db.session.commit()
    return store, safe, case, user, lot


def run_all(jobs):
    """Start every job at once (a barrier), wait for all; return their outcomes."""
    barrier, outcomes = threading.Barrier(len(jobs)), []

    def run(job):
        barrier.wait()
        outcomes.append(job())

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


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
