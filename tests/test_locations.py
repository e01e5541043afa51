"""Locations: the store's places with what each holds, one place's contents and movements, adding a place."""

import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Event, Location, Tag
from scanapp.services import history, ledger
from tests import test_pages
from tests.test_pages import HX, text_of

web = test_pages.web
client_as = test_pages.client_as


@pytest.fixture
def shop(make):
    """Main Street with a safe holding two lots (one with rings as items), an empty showcase, and 2 pieces sold."""
    main = make.store("MAIN", "Main Street")
    safe = make.location(main, "SAFE", "safe", "Main safe")
    case = make.location(main, "SC1", "showcase", "Showcase 1")
    manager = make.user("manager", [main])
    rings = make.lot(safe, pieces=3, serials=["R-1", "R-2"], number="BEL-0426-FN-001", by=manager)
    melee = make.lot(safe, pieces=120, weight="3.600", weight_unit="ct", category="stone", number="SUP-0426-ST-001")
    ledger.post(make.event(manager, main), "sell", melee, safe, main.virtual("customer"), 2, Decimal("0.060"))
    other = make.store("FAR", "Far Away")
    return {
        "main": main, "safe": safe, "case": case, "manager": manager, "rings": rings, "melee": melee,
        "associate": make.user("associate", [main]), "outsider": make.user("manager", [other]),
        "far_safe": make.location(other, "SAFE", "safe"),
    }  # fmt: skip


def test_index_lists_places_with_lots_and_pieces(shop, client_as):
    response = client_as(shop["associate"]).get("/locations/")
    assert response.status_code == 200
    places = text_of(response.text, "places")
    assert "Main safe SAFE safe 121 pcs 2 lots" in places  # 3 rings + 118 melee
    assert "Showcase 1 SC1 showcase 0 pcs 0 lots" in places
    assert "Customers 2 pcs 1 lot" in text_of(response.text, "elsewhere")
    assert "Suppliers" not in response.text and "Far Away" not in response.text
    assert 'id="add-location"' not in response.text  # associates cannot add places
    assert f'href="/labels/sheet?store={shop["main"].id}"' in response.text


def test_detail_shows_what_is_there_and_its_movements(shop, client_as):
    response = client_as(shop["associate"]).get(f"/locations/{shop['safe'].id}")
    assert response.status_code == 200
    contents = text_of(response.text, "contents")
    assert "BEL-0426-FN-001" in contents and "3 pcs" in contents
    assert "SUP-0426-ST-001" in contents and "118 pcs · 3.540 ct" in contents
    assert "R-1" in contents and "R-2" in contents
    movements = text_of(response.text, "history")
    assert "Sold" in movements and "Main safe (MAIN) → Customers (MAIN)" in movements
    assert "Suppliers (MAIN) → Main safe (MAIN)" in movements
    assert movements.index("Sold") < movements.index("Received")
    assert text_of(response.text, "main").count("MAIN-SAFE") == 1  # its tag code
    assert f'href="/labels/sheet?location={shop["safe"].id}"' in response.text


def test_detail_lists_a_full_place_a_page_at_a_time(shop, client_as, monkeypatch):
    """A safe holds thousands of lots and items: its page lists the first ones (a hundred) and says how many there
    are, so the page costs the same however long the store has run; "Show more" brings the next page of each,
    after the last number or serial shown, as rows for htmx or as the page from there without script."""
    monkeypatch.setattr(history, "CONTENTS_SHOWN", 1)
    client = client_as(shop["associate"])
    page = client.get(f"/locations/{shop['safe'].id}").text
    contents = text_of(page, "contents")
    assert "Lots here 2 BEL-0426-FN-001" in contents and "SUP-0426-ST-001" not in contents
    assert "Items here 2 R-1" in contents and "R-2" not in contents
    assert "Show more lots" in contents and "Show more items" in contents

    more_lots = re.search(r'hx-get="([^"]*lots_after=[^"]*)"', page).group(1).replace("&amp;", "&")
    rows = client.get(more_lots, headers=HX)
    assert rows.status_code == 200 and rows.text.lstrip().startswith("<li") and "<html" not in rows.text
    assert "SUP-0426-ST-001" in rows.text and "BEL-0426-FN-001" not in rows.text and "Show more" not in rows.text
    more_items = re.search(r'hx-get="([^"]*items_after=[^"]*)"', page).group(1).replace("&amp;", "&")
    rows = client.get(more_items, headers=HX).text
    assert "R-2" in rows and "R-1" not in rows and "Show more" not in rows

    without_script = text_of(client.get(more_lots).text, "contents")
    assert "Lots here 2 SUP-0426-ST-001 Test stone 118 pcs · 3.540 ct Items here 2 R-1" in without_script


@pytest.mark.parametrize("after", ["", "ZZZZ", "%27%3B--", "x" * 5000, "%F0%9F%92%8D"])
def test_paging_a_place_takes_any_text_after(shop, client_as, after):
    client = client_as(shop["associate"])
    for name in ("lots_after", "items_after"):
        for headers in ({}, HX):
            response = client.get(f"/locations/{shop['safe'].id}?{name}={after}", headers=headers)
            assert response.status_code == 200, (name, after)


def test_detail_pages_older_movements_as_a_fragment(shop, make, client_as):
    event = make.event(shop["manager"], shop["main"])
    for _ in range(30):
        ledger.post(event, "move", shop["melee"], shop["safe"], shop["case"], 1)
        ledger.post(event, "move", shop["melee"], shop["case"], shop["safe"], 1)
    client = client_as(shop["manager"])
    page = client.get(f"/locations/{shop['safe'].id}").text
    assert len(re.findall(r'id="movement-\d+"', page)) == 50
    more = re.search(r'hx-get="(/locations/\d+\?before=\d+)"', page).group(1)
    fragment = client.get(more, headers=HX)
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith("<tr")
    assert "<html" not in fragment.text and "HX-Request" in fragment.headers["Vary"]
    assert len(re.findall(r'id="movement-\d+"', fragment.text)) == 65 - 50  # 60 moves, 4 receipts and a sale


def test_another_stores_location_is_404(shop, client_as):
    client = client_as(shop["outsider"])
    assert client.get(f"/locations/{shop['safe'].id}").status_code == 404
    assert client.get(f"/locations/{shop['safe'].id}?before=9", headers=HX).status_code == 404
    assert client_as(shop["manager"]).get(f"/locations/{shop['far_safe'].id}").status_code == 404


def _add(client, **fields):
    data = {"code": "SC9", "name": "Showcase 9 · bracelets", "kind": "showcase", "event_id": str(uuid.uuid4())}
    return client.post("/locations/", data={**data, **fields})


def _count_locations() -> int:
    db.session.commit()  # end this session's transaction, to see what the app's requests committed
    return db.session.scalar(select(func.count()).select_from(Location))


def test_manager_adds_a_location_and_it_gets_its_tag(shop, client_as):
    before = _count_locations()
    response = _add(client_as(shop["manager"]), code=" sc9 ")
    assert response.status_code == 302
    location = db.session.scalar(select(Location).where(Location.code == "SC9"))
    assert response.headers["Location"] == f"/locations/{location.id}"
    assert (location.store_id, location.kind, location.name) == (shop["main"].id, "showcase", "Showcase 9 · bracelets")
    tag = db.session.scalar(select(Tag).where(Tag.location_id == location.id))
    assert tag.code == "MAIN-SC9" and tag.kind == "location"
    event = db.session.scalar(select(Event).where(Event.action == "add_location"))
    assert event.user_id == shop["manager"].id and event.result == f"location:{location.id}"
    assert _count_locations() == before + 1


def test_the_same_form_sent_twice_adds_one_location(shop, client_as):
    client = client_as(shop["manager"])
    event_id = str(uuid.uuid4())
    first = _add(client, event_id=event_id)
    again = _add(client, event_id=event_id)
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Location).where(Location.code == "SC9")) == 1


def test_an_associate_may_not_add_a_location(shop, client_as):
    before = _count_locations()
    response = _add(client_as(shop["associate"]))
    assert response.status_code == 403
    assert _count_locations() == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": ""}, "Give the location a short code"),
        ({"code": "SC 9!"}, "letters, digits and dashes"),
        ({"code": "SAFE"}, "MAIN already has a location SAFE"),
        ({"kind": "customer"}, "Not a valid choice"),
        ({"code": "X" * 25}, "at most 24"),
        ({"event_id": "not-a-uuid"}, "no valid event id"),
    ],
)
def test_bad_locations_are_refused_with_a_message(shop, client_as, fields, message):
    before = _count_locations()
    response = _add(client_as(shop["manager"]), **fields)
    assert response.status_code == 422
    assert message in text_of(response.text, "add-location")
    assert 'id="places"' in response.text
    assert _count_locations() == before
