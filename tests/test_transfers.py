"""Shipping between stores: ship into transit, arrive with missing and extra, resolve."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from scanapp.extensions import db
from scanapp.models import Movement, Transfer
from scanapp.services import AlreadyApplied, DomainError, Forbidden, ledger
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine
from scanapp.services.transfers import Decision, arrive, open_transfers, resolve, ship


@pytest.fixture
def chain(make):
    a, b = make.store("A", "Main Street"), make.store("B", "Mall")
    places = {
        "a_safe": make.location(a, "SAFE", "safe", "Safe"),
        "b_safe": make.location(b, "SAFE", "safe", "Mall safe"),
        "b_sc1": make.location(b, "SC1", "showcase", "Mall showcase"),
    }
    people = {
        "a_manager": make.user("manager", [a]),
        "b_manager": make.user("manager", [b]),
        "b_vault": make.user("vault", [b]),
    }
    lot = make.lot(places["a_safe"], pieces=20, serials=["R-1", "R-2"], number="L-1")
    return a, b, places, people, lot


def send(chain, lines, **kw):
    a, b, _, people, _ = chain
    kw = {"reference": "WB-1", "carrier": "Sam Courier", "by": people["a_manager"], "store": a, **kw}
    return ship(lines, b, event_id=new_event_id(), **kw)


def receive(chain, transfer, scans, where="b_safe", who="b_vault"):
    _, b, p, people, _ = chain
    return arrive(transfer, scans, p[where], event_id=new_event_id(), by=people[who], store=b)


def settle(chain, transfer, decisions, who="b_manager"):
    _, b, _, people, _ = chain
    return resolve(transfer, decisions=decisions, event_id=new_event_id(), by=people[who], store=b)


def shipped(chain):
    """10 loose pieces of L-1 and item R-1 on their way from A to B."""
    _, _, p, _, lot = chain
    return send(chain, [MoveLine(lot=lot, source=p["a_safe"], pieces=10), MoveLine(item=lot.items[0])])


def test_ship_puts_the_lines_in_the_origins_transit(chain):
    a, b, p, people, lot = chain
    transfer = shipped(chain)
    assert (transfer.status, transfer.from_store, transfer.to_store, transfer.carrier, transfer.reference) == (
        "in_transit", a, b, "Sam Courier", "WB-1"
    )  # fmt: skip
    assert transfer.shipped_by == people["a_manager"] and transfer.shipped_at is not None
    assert [(x.lot, x.item, x.pieces_shipped, x.pieces_arrived) for x in transfer.lines] == [
        (lot, None, 10, 0), (lot, lot.items[0], 1, 0)
    ]  # fmt: skip
    assert ledger.balance_at(lot, p["a_safe"]) == (9, 0)
    assert ledger.balance_at(lot, a.virtual("transit")) == (11, 0)
    assert lot.items[0].location == a.virtual("transit")
    assert {m.kind for m in transfer_movements(transfer)} == {"ship"}
    assert ledger.check_ledger() == []


def test_a_complete_arrival(chain):
    a, _, p, _, lot = chain
    transfer = shipped(chain)
    receive(chain, transfer, [MoveLine(lot=lot, pieces=6), MoveLine(lot=lot, pieces=4), MoveLine(item=lot.items[0])])
    assert transfer.status == "arrived" and transfer.arrival_location == p["b_safe"]
    assert ledger.balance_at(lot, a.virtual("transit")) == (0, 0)
    assert ledger.balance_at(lot, p["b_safe"]) == (11, 0) and lot.items[0].location == p["b_safe"]
    with pytest.raises(DomainError, match="has arrived already"):
        receive(chain, transfer, [MoveLine(lot=lot, pieces=1)])
    assert ledger.check_ledger() == []


def test_ship_arrive_with_missing_and_extra_then_resolve(chain):
    a, b, p, people, lot = chain
    r1, r2 = lot.items
    transfer = shipped(chain)

    # 8 of the 10 pieces arrive, R-1 arrives, and R-2 (never shipped, still in A's safe) turns up too.
    receive(chain, transfer, [MoveLine(lot=lot, pieces=8), MoveLine(item=r1), MoveLine(item=r2)])
    assert transfer.status == "discrepancy"
    [missing] = transfer.missing_lines
    [extra] = transfer.extra_lines
    assert (missing.item, missing.missing_pieces, missing.pieces_arrived) == (None, 2, 8)
    assert (extra.item, extra.extra, extra.pieces_arrived) == (r2, True, 1)
    assert ledger.balance_at(lot, a.virtual("transit")) == (2, 0)
    assert ledger.balance_at(lot, p["b_safe"]) == (9, 0)  # 8 loose and R-1
    assert ledger.balance_at(lot, p["a_safe"]) == (9, 0) and r2.location == p["a_safe"]  # nothing moved for R-2
    assert ledger.check_ledger() == []

    settle(chain, transfer, [Decision(missing.id, "write_off", "Lost by courier"), Decision(extra.id, "book")])
    assert transfer.status == "resolved" and transfer.resolved_by == people["b_manager"]
    assert (missing.resolution, missing.reason, extra.resolution) == ("written_off", "Lost by courier", "booked")
    assert ledger.balance_at(lot, a.virtual("transit")) == (0, 0)
    assert ledger.balance_at(lot, a.virtual("loss")) == (2, 0)
    assert ledger.balance_at(lot, p["a_safe"]) == (8, 0)
    assert ledger.balance_at(lot, p["b_safe"]) == (10, 0) and r2.location == p["b_safe"]
    kinds = sorted((m.kind, m.reference) for m in transfer_movements(transfer))
    assert ("adjust", transfer.number) in kinds and ("write_off", transfer.number) in kinds
    assert ledger.check_ledger() == []


def transfer_movements(transfer):
    return db.session.scalars(select(Movement).where(Movement.reference == transfer.number)).all()


def test_extra_lot_pieces_are_booked_from_where_the_ledger_has_them(chain):
    a, _, p, _, lot = chain
    transfer = send(chain, [MoveLine(lot=lot, source=p["a_safe"], pieces=5)])
    receive(chain, transfer, [MoveLine(lot=lot, pieces=7)])
    [extra] = transfer.extra_lines
    assert (transfer.missing_lines, extra.pieces_arrived) == ([], 2)
    assert ledger.balance_at(lot, p["b_safe"]) == (5, 0)
    settle(chain, transfer, [Decision(extra.id, "book", "Packed but not scanned")])
    assert ledger.balance_at(lot, p["a_safe"]) == (13, 0)  # 20 received - 5 shipped - 2 booked away
    assert ledger.balance_at(lot, p["b_safe"]) == (7, 0)
    assert transfer.status == "resolved" and ledger.check_ledger() == []


def test_wait_then_the_rest_arrives_and_extras_are_sent_back(chain):
    a, _, p, _, lot = chain
    transfer = shipped(chain)
    receive(chain, transfer, [MoveLine(item=lot.items[0]), MoveLine(lot=lot, pieces=7), MoveLine(item=lot.items[1])])
    [missing], [extra] = transfer.missing_lines, transfer.extra_lines
    settle(chain, transfer, [Decision(missing.id, "wait", "Second bag"), Decision(extra.id, "send_back")])
    assert transfer.status == "discrepancy" and extra.resolution == "sent_back"
    assert lot.items[1].location == p["a_safe"]
    receive(chain, transfer, [MoveLine(lot=lot, pieces=3)], where="b_sc1")
    assert transfer.status == "arrived" and transfer.missing_lines == []
    assert ledger.balance_at(lot, p["b_sc1"]) == (3, 0) and ledger.balance_at(lot, a.virtual("transit")) == (0, 0)
    assert ledger.check_ledger() == []


def test_a_missing_item_is_written_off(chain):
    a, _, p, _, lot = chain
    transfer = send(chain, [MoveLine(item=lot.items[0]), MoveLine(item=lot.items[1])])
    receive(chain, transfer, [MoveLine(item=lot.items[1])])
    [missing] = transfer.missing_lines
    settle(chain, transfer, [Decision(missing.id, "write_off", "Not in the box")])
    assert lot.items[0].location == a.virtual("loss") and transfer.status == "resolved"


@pytest.mark.parametrize("role", ["associate", "vault", "bench"])
def test_only_managers_ship(make, chain, role):
    a, _, p, _, lot = chain
    with pytest.raises(Forbidden, match="role"):
        send(chain, [MoveLine(lot=lot, source=p["a_safe"], pieces=1)], by=make.user(role, [a]))
    assert ledger.balance_at(lot, p["a_safe"]) == (20, 0)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("same_store", "Ship to another store"),
        ("no_carrier", "who carries"),
        ("other_store_source", "not in Main Street"),
        ("not_enough", r"Not enough of lot L-2 in Safe \(A\): it holds 2 pcs"),
        ("closed_store", "Mall is closed"),
    ],
)
def test_ship_refuses(make, chain, case, message):
    a, b, p, people, lot = chain
    lines, kw = [MoveLine(lot=lot, source=p["a_safe"], pieces=1)], {}
    if case == "same_store":
        with pytest.raises(DomainError, match=message):
            ship(lines, a, reference="", carrier="x", event_id=new_event_id(), by=people["a_manager"], store=a)
        return
    if case == "no_carrier":
        kw = {"carrier": "  "}
    elif case == "other_store_source":
        lines = [MoveLine(lot=make.lot(p["b_safe"], pieces=2), source=p["b_safe"], pieces=1)]
    elif case == "not_enough":
        lines = [MoveLine(lot=make.lot(p["a_safe"], pieces=2, number="L-2"), source=p["a_safe"], pieces=3)]
    elif case == "closed_store":
        b.active = False
    with pytest.raises(DomainError, match=message):
        send(chain, lines, **kw)


def test_a_manager_of_another_store_cannot_ship_its_stock(chain):
    a, b, p, people, lot = chain
    with pytest.raises(Forbidden):
        send(chain, [MoveLine(lot=lot, source=p["a_safe"], pieces=1)], by=people["b_manager"])
    with pytest.raises(DomainError, match="Ship to another store"):
        ship([MoveLine(lot=lot, source=p["a_safe"], pieces=1)], b, reference="", carrier="x",
             event_id=new_event_id(), by=people["b_manager"], store=b)  # fmt: skip


def test_the_same_shipment_sent_twice_applies_once(chain):
    a, b, p, people, lot = chain
    db.session.commit()
    eid = new_event_id()
    line = [MoveLine(lot=lot, source=p["a_safe"], pieces=4)]
    ship(line, b, reference="", carrier="Sam", event_id=eid, by=people["a_manager"], store=a)
    db.session.commit()
    with pytest.raises(AlreadyApplied) as replay:
        ship(line, b, reference="", carrier="Sam", event_id=eid, by=people["a_manager"], store=a)
    db.session.rollback()
    assert replay.value.event.result.startswith("transfer:")
    assert db.session.query(Transfer).count() == 1 and ledger.balance_at(lot, a.virtual("transit")) == (4, 0)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong_store", "is going to Mall, not to Main Street"),
        ("virtual_dest", "not a place to put stock"),
        ("twice", "Item R-1 is scanned twice"),
        ("nothing", "Scan what arrived"),
        ("bad_weight", "zero or more"),
    ],
)
def test_arrive_refuses(make, chain, case, message):
    a, b, p, people, lot = chain
    transfer = shipped(chain)
    scans, dest, store, user = [MoveLine(lot=lot, pieces=10)], p["b_safe"], b, people["b_vault"]
    if case == "wrong_store":
        store, dest, user = a, p["a_safe"], make.user("manager", [a])
    elif case == "virtual_dest":
        dest = b.virtual("customer")
    elif case == "twice":
        scans = [MoveLine(item=lot.items[0]), MoveLine(item=lot.items[0])]
    elif case == "nothing":
        scans = []
    elif case == "bad_weight":
        scans = [MoveLine(lot=lot, pieces=1, weight=Decimal("-1"))]
    with pytest.raises(DomainError, match=message):
        arrive(transfer, scans, dest, event_id=new_event_id(), by=user, store=store)


def test_arrival_needs_a_member_of_the_destination_who_may_receive(make, chain):
    a, b, p, people, lot = chain
    transfer = shipped(chain)
    with pytest.raises(Forbidden):  # A's manager names B
        arrive(transfer, [MoveLine(lot=lot, pieces=10)], p["b_safe"], event_id=new_event_id(),
               by=people["a_manager"], store=b)  # fmt: skip
    with pytest.raises(Forbidden, match="role"):
        arrive(transfer, [MoveLine(lot=lot, pieces=10)], p["b_safe"], event_id=new_event_id(),
               by=make.user("associate", [b]), store=b)  # fmt: skip


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not_manager", "role"),
        ("no_reason", "reason for the write-off"),
        ("wrong_action_missing", "written off or waited for"),
        ("wrong_action_extra", "booked here or sent back"),
        ("foreign_line", "is not part of"),
        ("closed_line", "has nothing open"),
        ("no_decisions", "Choose what to do"),
        ("twice", "two decisions"),
    ],
)
def test_resolve_refuses(make, chain, case, message):
    a, b, p, people, lot = chain
    transfer = shipped(chain)
    receive(chain, transfer, [MoveLine(lot=lot, pieces=8), MoveLine(item=lot.items[0]), MoveLine(item=lot.items[1])])
    [missing], [extra] = transfer.missing_lines, transfer.extra_lines
    arrived_item_line = transfer.lines[1]
    decisions, who = [Decision(missing.id, "write_off", "Lost")], "b_manager"
    if case == "not_manager":
        who = "b_vault"
    elif case == "no_reason":
        decisions = [Decision(missing.id, "write_off", " ")]
    elif case == "wrong_action_missing":
        decisions = [Decision(missing.id, "book")]
    elif case == "wrong_action_extra":
        decisions = [Decision(extra.id, "write_off", "x")]
    elif case == "foreign_line":
        decisions = [Decision(999999, "wait")]
    elif case == "closed_line":
        decisions = [Decision(arrived_item_line.id, "wait")]
    elif case == "no_decisions":
        decisions = []
    elif case == "twice":
        decisions = [Decision(missing.id, "wait"), Decision(missing.id, "write_off", "x")]
    with pytest.raises(DomainError, match=message):
        settle(chain, transfer, decisions, who=who)


def test_resolve_needs_a_discrepancy_and_a_store_of_the_transfer(make, chain):
    a, b, p, people, lot = chain
    transfer = shipped(chain)
    with pytest.raises(DomainError, match="nothing to resolve"):
        settle(chain, transfer, [Decision(transfer.lines[0].id, "wait")])
    third = make.store("C", "Airport")
    outsider = make.user("manager", [third])
    with pytest.raises(DomainError, match="not a shipment of Airport"):
        resolve(transfer, decisions=[], event_id=new_event_id(), by=outsider, store=third)
    with pytest.raises(Forbidden):
        resolve(transfer, decisions=[], event_id=new_event_id(), by=outsider, store=b)


def test_open_transfers_are_listed_at_both_ends_until_settled(make, chain):
    a, b, p, _, lot = chain
    transfer = shipped(chain)
    assert open_transfers(a) == [transfer] and open_transfers(b) == [transfer]
    assert open_transfers(make.store("C")) == []
    receive(chain, transfer, [MoveLine(lot=lot, pieces=10), MoveLine(item=lot.items[0])])
    assert transfer.status == "arrived" and open_transfers(b) == []
