"""The sale page: scan what sold, price and receipt, recorded once; the margin for those who may see cost."""

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Movement
from scanapp.services import ledger

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(make):
    """Main Street: rings (10 pieces, items R-1 and R-2, cost 1000) in the safe and 2 of them in a showcase; melee."""
    a, b = make.store("A", "Main Street"), make.store("B", "Mall")
    safe = make.location(a, "SAFE", "safe", "Main safe")
    case = make.location(a, "SC1", "showcase", "Showcase 1")
    b_safe = make.location(b, "SAFE", "safe", "Mall safe")
    manager = make.user("manager", [a])
    rings = make.lot(safe, pieces=10, serials=["R-1", "R-2"], number="L-1", cost="1000.00")
    melee = make.lot(safe, pieces=100, weight="2.000", weight_unit="ct", category="stone", number="MEL-1", cost="500")
    ledger.post(make.event(manager, a), "move", rings, safe, case, 2)
    far = make.lot(b_safe, pieces=3, serials=["FAR-1"], number="FAR-LOT")
    return {
        "a": a, "safe": safe, "case": case, "b_safe": b_safe, "rings": rings, "melee": melee, "far": far,
        "manager": manager, "associate": make.user("associate", [a]), "vault": make.user("vault", [a]),
        "outsider": make.user("manager", [b]),
    }  # fmt: skip


def sale(client, **form):
    return client.post("/sales/new", data={"event_id": str(uuid.uuid4()), **form}, headers=HX)


def test_sale_page_full_and_fragment(shop, client_for):
    client = client_for(shop["associate"])
    page = client.get("/sales/new")
    assert page.status_code == 200 and "data-scanner" in page.text and 'hx-include="#sale-form"' in page.text
    assert "Scan the tag of the item or lot being sold" in page.text
    fragment = client.get("/sales/new", headers=HX)
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<form id="sale-form"')
    assert "data-scanner" not in fragment.text


def test_sell_an_item_by_scanning(shop, client_for):
    client = client_for(shop["associate"])
    answer = client.post("/sales/new/scan", data={"code": "r-1", "price": "2500", "receipt": "R-77"}, headers=HX)
    item = shop["rings"].items[0]
    assert answer.status_code == 200 and "Item R-1 ✓" in answer.text and "in Main safe" in answer.text
    assert f'name="item_id" type="hidden" value="{item.id}"' in answer.text and 'value="R-77"' in answer.text
    form = {"item_id": item.id, "price": "2500.00", "receipt": "R-77", "event_id": str(uuid.uuid4())}
    done = client.post("/sales/new", data=form, headers=HX)
    sold = db.session.scalar(select(Movement).where(Movement.kind == "sell"))
    assert done.status_code == 204 and done.headers["HX-Redirect"] == f"/sales/{sold.id}"
    assert (
        sold.amount == Decimal("2500.00")
        and sold.reference == "R-77"
        and item.location == shop["a"].virtual("customer")
    )
    assert client.post("/sales/new", data=form).status_code == 302  # replayed: one sale
    assert db.session.scalar(select(func.count()).select_from(Movement).where(Movement.kind == "sell")) == 1

    page = client.get(f"/sales/{sold.id}")
    assert page.status_code == 200 and "R-77" in page.text and "2,500.00" in page.text
    assert 'id="margin"' not in page.text  # associates do not see cost
    manager_view = client_for(shop["manager"]).get(f"/sales/{sold.id}", headers=HX)
    assert 'id="margin"' in manager_view.text and "2,400.00" in manager_view.text  # 2500 - 1000 / 10 pieces
    assert client_for(shop["outsider"]).get(f"/sales/{sold.id}").status_code == 404

    again = client.post("/sales/new/scan", data={"code": "R-1"}, headers=HX)
    assert again.status_code == 422 and "Item R-1 is in Customers (A)" in again.text


def test_sell_pieces_and_weight_of_a_lot(shop, client_for):
    client = client_for(shop["manager"])
    scanned = client.post("/sales/new/scan", data={"code": "L-1"}, headers=HX)
    assert 'name="source_id"' in scanned.text and "Main safe · SAFE (6 pcs)" in scanned.text  # in two places
    assert 'name="pieces" type="text" value="1"' in scanned.text
    form = {"lot_id": shop["rings"].id, "source_id": shop["case"].id, "pieces": "2", "price": "300", "receipt": "R-1"}
    assert sale(client, **form).status_code == 204
    assert ledger.balance_at(shop["rings"], shop["case"]) == (0, 0)

    melee = client.post("/sales/new/scan", data={"code": "MEL-1"}, headers=HX)
    assert 'name="weight"' in melee.text and 'type="hidden" name="source_id"' in melee.text
    form = {"lot_id": shop["melee"].id, "source_id": shop["safe"].id, "pieces": "10", "weight": "0.200"}
    assert sale(client, **form, price="150.5", receipt="R-2").status_code == 204
    assert ledger.balance_at(shop["melee"], shop["safe"]) == (90, Decimal("1.800"))
    sold = db.session.scalar(select(Movement).where(Movement.kind == "sell", Movement.lot_id == shop["melee"].id))
    page = client.get(f"/sales/{sold.id}").text
    assert "10 pcs · 0.200 ct" in page and "150.50" in page and "100.50" in page  # 150.50 - 500 * 0.2 / 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": ""}, "Enter the sale price"),
        ({"price": "-5"}, "cannot be negative"),
        ({"price": "12.345"}, "at most 2 decimals"),
        ({"price": "NaN"}, "must be a number"),
        ({"price": "1e12"}, "must be a number"),
        ({"price": "99999999999"}, "must be less than"),
        ({"receipt": ""}, "Enter the receipt number"),
        ({"receipt": "x" * 81}, "At most 80 characters"),
        ({"pieces": "7"}, "Only 6 pcs of lot L-1 in Main safe (A) are loose"),
        ({"pieces": "two"}, "Pieces must be a number"),
        ({"lot_id": ""}, "Scan the item or the lot being sold"),
    ],
)
def test_bad_sales_are_refused_inline(shop, client_for, changes, message):
    form = {"lot_id": shop["rings"].id, "source_id": shop["safe"].id, "pieces": "1", "price": "10", "receipt": "R-9"}
    answer = sale(client_for(shop["manager"]), **{**form, **changes})
    assert answer.status_code == 422 and message in answer.text
    assert answer.text.lstrip().startswith('<form id="sale-form"')
    assert db.session.scalar(select(func.count()).select_from(Movement).where(Movement.kind == "sell")) == 0


def test_forged_ids_and_roles(shop, client_for):
    client = client_for(shop["manager"])
    far_item = shop["far"].items[0]
    assert sale(client, item_id=far_item.id, price="1", receipt="X").status_code == 404
    assert (
        sale(client, lot_id=shop["far"].id, source_id=shop["b_safe"].id, pieces="1", price="1", receipt="X").status_code
        == 404
    )
    assert (
        sale(
            client, lot_id=shop["rings"].id, source_id=shop["b_safe"].id, pieces="1", price="1", receipt="X"
        ).status_code
        == 404
    )
    unknown = client.post("/sales/new/scan", data={"code": "FAR-1"}, headers=HX)  # another store's: not known here
    assert unknown.status_code == 422 and "No tag FAR-1" in unknown.text
    place = client.post("/sales/new/scan", data={"code": "A-SAFE"}, headers=HX)
    assert place.status_code == 422 and "is a place" in place.text
    vault = client_for(shop["vault"])  # vault keepers do not sell
    assert vault.get("/sales/new").status_code == 403 and sale(vault, item_id=1).status_code == 403


def test_sell_from_the_lookup_page(shop, client_for):
    page = client_for(shop["associate"]).get("/sales/new?code=R-2")
    assert page.status_code == 200 and "Item R-2 ✓" in page.text
    assert f'value="{shop["rings"].items[1].id}"' in page.text
    assert "No tag NOPE" in client_for(shop["associate"]).get("/sales/new?code=NOPE").text
