"""Selling, margins and simple returns."""

from decimal import Decimal

import pytest

from scanapp.extensions import db
from scanapp.services import AlreadyApplied, DomainError, Forbidden, ledger
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine
from scanapp.services.sales import margin_of, return_sale, sell


@pytest.fixture
def shop(make):
    a, b = make.store("A", "Main Street"), make.store("B", "Mall")
    places = {
        "safe": make.location(a, "SAFE", "safe", "Safe"),
        "sc1": make.location(a, "SC1", "showcase", "Showcase 1"),
        "b_safe": make.location(b, "SAFE", "safe", "Mall safe"),
    }
    return a, b, places, make.user("associate", [a])


def sale(lines, user, store, price, receipt="R-100"):
    return sell(lines, price=price, receipt=receipt, event_id=new_event_id(), by=user, store=store)


def give_back(sold, dest, user, store, **kw):
    return return_sale(sold, dest, event_id=new_event_id(), by=user, store=store, **kw)


def test_sell_moves_to_the_customer_with_price_and_receipt(make, shop):
    a, _, p, clerk = shop
    lot = make.lot(p["sc1"], pieces=10, cost="1000.00")
    [m] = sale([MoveLine(lot=lot, source=p["sc1"], pieces=3)], clerk, a, Decimal("450.00"), receipt=" R-100 ")
    assert (m.kind, m.to_location, m.pieces, m.amount, m.reference) == (
        "sell", a.virtual("customer"), 3, Decimal("450.00"), "R-100"
    )  # fmt: skip
    assert ledger.balance_at(lot, p["sc1"]) == (7, 0) and ledger.balance_at(lot, a.virtual("customer")) == (3, 0)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(m), m.id).amount == Decimal("450.00")
    assert ledger.check_ledger() == []


def test_several_lines_carry_their_own_price(make, shop):
    a, _, p, clerk = shop
    lot = make.lot(p["sc1"], pieces=10, serials=["R-1"])
    sold = sale(
        [MoveLine(item=lot.items[0]), MoveLine(lot=lot, source=p["sc1"], pieces=2)], clerk, a, ["1200", "80.50"]
    )
    assert [m.amount for m in sold] == [Decimal("1200.00"), Decimal("80.50")]
    assert lot.items[0].location == a.virtual("customer")


@pytest.mark.parametrize(
    ("price", "receipt", "message"),
    [
        (Decimal("10"), "", "Enter the receipt number"),
        ([Decimal("1"), Decimal("2")], "R-1", "one price for each of the 1 lines"),
        (Decimal("-1"), "R-1", "zero or more"),
        (Decimal("1.005"), "R-1", "at most two decimals"),
        (Decimal("NaN"), "R-1", "zero or more"),
        ("ten", "R-1", "not an amount of money"),
        (1.5, "R-1", "not a float"),
    ],
)
def test_sell_refuses_bad_price_or_receipt(make, shop, price, receipt, message):
    a, _, p, clerk = shop
    lot = make.lot(p["sc1"], pieces=10)
    with pytest.raises(DomainError, match=message):
        sale([MoveLine(lot=lot, source=p["sc1"], pieces=1)], clerk, a, price, receipt=receipt)


def test_selling_more_than_the_place_holds_is_refused(make, shop):
    a, _, p, clerk = shop
    lot = make.lot(p["sc1"], pieces=2, number="L-9")
    with pytest.raises(DomainError, match=r"Not enough of lot L-9 in Showcase 1 \(A\): it holds 2 pcs"):
        sale([MoveLine(lot=lot, source=p["sc1"], pieces=3)], clerk, a, Decimal("10"))


@pytest.mark.parametrize("role", ["vault", "bench"])
def test_roles_that_may_not_sell(make, shop, role):
    a, _, p, _ = shop
    lot = make.lot(p["sc1"], pieces=2)
    with pytest.raises(Forbidden, match="role"):
        sale([MoveLine(lot=lot, source=p["sc1"], pieces=1)], make.user(role, [a]), a, Decimal("10"))


def test_a_user_of_another_store_cannot_sell_its_stock(make, shop):
    a, b, p, _ = shop
    lot = make.lot(p["sc1"], pieces=2)
    mall_clerk = make.user("associate", [b])
    with pytest.raises(Forbidden):
        sale([MoveLine(lot=lot, source=p["sc1"], pieces=1)], mall_clerk, a, Decimal("10"))
    with pytest.raises(DomainError, match="not in Mall"):
        sale([MoveLine(lot=lot, source=p["sc1"], pieces=1)], mall_clerk, b, Decimal("10"))
    with pytest.raises(DomainError, match="not in Mall"):
        sale([MoveLine(item=make.lot(p["sc1"], pieces=1, serials=["R-7"]).items[0])], mall_clerk, b, Decimal("1"))
    assert ledger.balance_at(lot, p["sc1"]) == (2, 0)


def test_the_same_sale_sent_twice_applies_once(make, shop):
    a, _, p, clerk = shop
    lot = make.lot(p["sc1"], pieces=5)
    db.session.commit()
    eid = new_event_id()
    line = MoveLine(lot=lot, source=p["sc1"], pieces=1)
    sell([line], price=Decimal("9"), receipt="R-1", event_id=eid, by=clerk, store=a)
    db.session.commit()
    with pytest.raises(AlreadyApplied):
        sell([line], price=Decimal("9"), receipt="R-1", event_id=eid, by=clerk, store=a)
    db.session.rollback()
    assert ledger.balance_at(lot, p["sc1"]) == (4, 0)


def test_margin_of_a_pieces_lot(make, shop):
    """10 rings cost 1000.00 (100.00 each); 3 sold for 450.00 and 1 for 180.00: cost 400.00, margin 230.00."""
    a, _, p, clerk = shop
    lot = make.lot(p["sc1"], pieces=10, cost="1000.00")
    sale([MoveLine(lot=lot, source=p["sc1"], pieces=3)], clerk, a, Decimal("450.00"), receipt="R-1")
    sale([MoveLine(lot=lot, source=p["sc1"], pieces=1)], clerk, a, Decimal("180.00"), receipt="R-2")
    m = margin_of(lot)
    assert (m.pieces, m.weight, m.revenue, m.cost, m.margin) == (4, 0, Decimal("630.00"), Decimal("400.00"), 230)


def test_margin_of_a_weighed_lot_net_of_a_return(make, shop):
    """120 melee, 3.600 ct, cost 162.00 (45.00/ct). Sold 10 pcs 0.300 ct for 60.00; 5 pcs 0.150 ct come back,
    refunded pro rata 30.00. Net: 5 pcs, 0.150 ct, revenue 30.00, cost 0.150 x 45 = 6.75, margin 23.25."""
    a, _, p, clerk = shop
    melee = make.lot(p["sc1"], pieces=120, weight="3.600", weight_unit="ct", category="stone", cost="162.00")
    line = MoveLine(lot=melee, source=p["sc1"], pieces=10, weight=Decimal("0.300"))
    sale([line], clerk, a, Decimal("60.00"), receipt="R-5")
    assert margin_of(melee).cost == Decimal("13.50")
    back = give_back(melee, p["safe"], clerk, a, receipt="R-5", pieces=5, weight=Decimal("0.150"))
    assert back.amount == Decimal("30.00")
    m = margin_of(melee)
    assert (m.pieces, m.weight, m.revenue, m.cost, m.margin) == (
        5, Decimal("0.150"), Decimal("30.00"), Decimal("6.75"), Decimal("23.25")
    )  # fmt: skip


def test_cost_of_a_third_is_exact(make, shop):
    """3 pieces cost 1000.00: selling all three costs 1000.00, not 3 x 333.33."""
    a, _, p, clerk = shop
    lot = make.lot(p["sc1"], pieces=3, cost="1000.00")
    sale([MoveLine(lot=lot, source=p["sc1"], pieces=3)], clerk, a, Decimal("1500"))
    assert margin_of(lot).cost == Decimal("1000.00") and margin_of(lot).margin == Decimal("500.00")


def test_an_item_returns_from_its_last_sale(make, shop):
    a, _, p, clerk = shop
    lot = make.lot(p["sc1"], pieces=1, serials=["R-1"], cost="800.00")
    ring = lot.items[0]
    [sold] = sale([MoveLine(item=ring)], clerk, a, Decimal("1200.00"), receipt="R-77")
    back = give_back(ring, p["safe"], clerk, a)
    assert (back.kind, back.from_location, back.to_location, back.amount, back.reference) == (
        "return", a.virtual("customer"), p["safe"], Decimal("1200.00"), "R-77"
    )  # fmt: skip
    assert back.note == f"Return of sale movement {sold.id}" and ring.location == p["safe"]
    assert margin_of(lot).revenue == 0 and margin_of(lot).pieces == 0
    with pytest.raises(DomainError, match="not with the customer: it came back already"):
        give_back(ring, p["safe"], clerk, a)
    assert ledger.check_ledger() == []


def test_a_partial_refund_can_be_given(make, shop):
    a, _, p, clerk = shop
    ring = make.lot(p["sc1"], pieces=1, serials=["R-1"]).items[0]
    sale([MoveLine(item=ring)], clerk, a, Decimal("1200.00"))
    assert give_back(ring, p["sc1"], clerk, a, refund=Decimal("1000")).amount == Decimal("1000.00")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("never_sold", "was never sold"),
        ("wrong_receipt", "was sold on receipt R-1, not R-2"),
        ("lot_without_receipt", "Enter the receipt number"),
        ("lot_other_receipt", "No sale of lot L-1 on receipt R-9"),
        ("lot_too_many", "Receipt R-1 has 2 pcs of lot L-1 left to return"),
        ("virtual_dest", "not a place to put stock"),
        ("other_store_dest", "not a place of Main Street"),
    ],
)
def test_return_refuses(make, shop, case, message):
    a, _, p, clerk = shop
    lot = make.lot(p["sc1"], pieces=5, serials=["R-1", "R-2"], number="L-1")
    sale([MoveLine(item=lot.items[0]), MoveLine(lot=lot, source=p["sc1"], pieces=2)], clerk, a, ["100", "20"], "R-1")
    sold, dest, kw = lot.items[0], p["safe"], {}
    if case == "never_sold":
        sold = lot.items[1]
    elif case == "wrong_receipt":
        kw = {"receipt": "R-2"}
    elif case == "lot_without_receipt":
        sold, kw = lot, {"pieces": 1}
    elif case == "lot_other_receipt":
        sold, kw = lot, {"pieces": 1, "receipt": "R-9"}
    elif case == "lot_too_many":
        sold, kw = lot, {"pieces": 3, "receipt": "R-1"}
    elif case == "virtual_dest":
        dest = a.virtual("loss")
    elif case == "other_store_dest":
        dest = p["b_safe"]
    with pytest.raises(DomainError, match=message):
        give_back(sold, dest, clerk, a, **kw)


def test_lot_returns_count_what_came_back_already(make, shop):
    a, _, p, clerk = shop
    lot = make.lot(p["sc1"], pieces=5, number="L-1")
    sale([MoveLine(lot=lot, source=p["sc1"], pieces=3)], clerk, a, Decimal("90.00"), "R-1")
    assert give_back(lot, p["sc1"], clerk, a, receipt="R-1", pieces=2).amount == Decimal("60.00")
    with pytest.raises(DomainError, match="has 1 pcs of lot L-1 left"):
        give_back(lot, p["sc1"], clerk, a, receipt="R-1", pieces=2)
    give_back(lot, p["sc1"], clerk, a, receipt="R-1", pieces=1)
    assert ledger.balance_at(lot, p["sc1"]) == (5, 0) and ledger.balance_at(lot, a.virtual("customer")) == (0, 0)
    assert ledger.check_ledger() == []


def test_roles_and_stores_for_returns(make, shop):
    a, b, p, clerk = shop
    ring = make.lot(p["sc1"], pieces=1, serials=["R-1"]).items[0]
    sale([MoveLine(item=ring)], clerk, a, Decimal("10"))
    with pytest.raises(Forbidden, match="role"):
        give_back(ring, p["safe"], make.user("bench", [a]), a)
    with pytest.raises(Forbidden):
        give_back(ring, p["safe"], make.user("associate", [b]), a)
    give_back(ring, p["safe"], make.user("vault", [a]), a)
    assert ring.location == p["safe"]
