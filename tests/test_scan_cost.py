"""What a scan costs: the SQL statements of a signed-in request's fixed part, of a lookup fragment and of a tag's
URL; and that the cheaper paths still refuse at once a user who was deactivated or taken out of a store."""

import pytest
from sqlalchemy import select

from scanapp import create_app
from scanapp.extensions import db
from scanapp.models import Location
from scanapp.services import ledger
from tests.conftest import PASSWORD, recorded_sql

HX = {"HX-Request": "true", "HX-Target": "scan-result"}


@pytest.fixture
def web(app):
    """A twin of the test app whose requests get their own app context and session, as in production; with a
    signed-in page that does nothing, to measure what every signed-in request pays."""
    twin = create_app(dict(app.config))

    @twin.get("/_probe")
    def probe():
        return "ok"

    yield twin
    with twin.app_context():
        db.engine.dispose()


@pytest.fixture
def shop(make):
    """Store A (a safe with a lot of one item, a showcase), store B (a lot), a manager of A and B, an associate of
    A."""
    store, other = make.store("A", "Main Street"), make.store("B", "Boulevard")
    safe = make.location(store, "SAFE1", name="Main safe")
    case = make.location(store, "CASE2", kind="showcase", name="Window case")
    manager = make.user("manager", [store, other], username="mona")
    lot = make.lot(safe, pieces=5, number="ACME-0426-FN-001", serials=["IT-000123"], cost="500.00", by=manager)
    ledger.post(make.event(manager, store), "move", lot, safe, case, 2)
    other_lot = make.lot(make.location(other, "SAFE1", name="B safe"), pieces=3, number="ZED-0426-ST-001")
    associate = make.user("associate", [store], username="alex")
    db.session.commit()
    return {
        "store": store, "other": other, "safe": safe, "lot": lot, "item": lot.items[0], "other_lot": other_lot,
        "manager": manager, "associate": associate,
    }  # fmt: skip


def signed_in(web, user):
    client = web.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def test_a_signed_in_request_reads_only_the_user_with_their_stores(web, shop):
    client = signed_in(web, shop["associate"])
    with recorded_sql() as sent:
        assert client.get("/_probe").text == "ok"
    assert len(sent) == 1 and "FROM users" in sent[0] and "user_stores" in sent[0]


@pytest.mark.parametrize(
    ("code", "count", "shows"),
    [
        ("IT-000123", 2, "Item"),  # the user; the tag with the item, its lot, supplier and place
        ("ACME-0426-FN-001", 3, "Where every piece is"),  # … and the lot's balances
        ("A-SAFE1", 4, "Here now"),  # … and the lots and the items there
        ("NEW-0426-XX", 2, "Unknown code"),
    ],
)
def test_a_lookup_fragment_takes_two_to_four_statements(web, shop, code, count, shows):
    client = signed_in(web, shop["manager"])
    with recorded_sql() as sent:
        response = client.post("/scan", data={"code": code}, headers=HX)
    assert shows in response.text
    assert len(sent) == count, sent


def test_a_lot_of_another_store_is_seen_without_a_statement_of_its_own(web, shop):
    """Whether a lot received elsewhere holds stock here is asked in the same statement as the tag."""
    client = signed_in(web, shop["manager"])
    with recorded_sql() as sent:
        response = client.post("/scan", data={"code": "ZED-0426-ST-001"}, headers=HX)
    assert response.status_code == 200 and "ZED-0426-ST-001" in response.text
    assert len(sent) == 3  # the user, the tag, the lot's balances


def test_an_item_in_a_place_of_a_store_the_user_is_not_in_is_read_with_that_store(web, shop, make):
    """An item of the user's lot may sit in another store (sent there, or sold by it): its place comes with its
    store in the tag's statement, not read after it."""
    b_safe = db.session.scalar(select(Location).where(Location.store_id == shop["other"].id, Location.code == "SAFE1"))
    ledger.post(make.event(shop["manager"], shop["store"]), "move", shop["lot"], shop["safe"], b_safe, 1,
                item=shop["item"])  # fmt: skip
    db.session.commit()
    client = signed_in(web, shop["associate"])
    with recorded_sql() as sent:
        response = client.post("/scan", data={"code": "IT-000123"}, headers=HX)
    assert response.status_code == 200 and "B safe (B)" in response.text
    assert len(sent) == 2, sent  # the user, the tag with the item, its place and the place's store


@pytest.mark.parametrize(("code", "count"), [("IT-000123", 2), ("ACME-0426-FN-001", 3), ("A-SAFE1", 4)])
def test_a_tag_url_takes_the_statements_of_a_scan(web, shop, code, count):
    client = signed_in(web, shop["manager"])
    with recorded_sql() as sent:
        assert client.get(f"/t/{code}").status_code == 200
    assert len(sent) == count, sent


def test_a_user_taken_out_of_a_store_no_longer_sees_its_things_on_the_next_request(web, shop):
    client = signed_in(web, shop["manager"])
    assert client.post("/scan", data={"code": "B-SAFE1"}, headers=HX).status_code == 200
    assert client.get("/t/ZED-0426-ST-001").status_code == 200
    shop["manager"].stores = [shop["store"]]
    db.session.commit()
    assert client.post("/scan", data={"code": "B-SAFE1"}, headers=HX).status_code == 404
    assert client.post("/scan", data={"code": "ZED-0426-ST-001"}, headers=HX).status_code == 404
    assert client.get("/t/ZED-0426-ST-001").status_code == 404
    assert client.get("/t/IT-000123").status_code == 200


def test_a_deactivated_user_is_refused_on_the_next_scan(web, shop):
    client = signed_in(web, shop["associate"])
    assert client.post("/scan", data={"code": "IT-000123"}, headers=HX).status_code == 200
    shop["associate"].active = False
    db.session.commit()
    for response in (client.post("/scan", data={"code": "IT-000123"}, headers=HX), client.get("/t/IT-000123")):
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
