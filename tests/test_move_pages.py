"""The move pages: scan-to-move with its draft of lines, confirming once, undo, and moving everything at a place."""

import re
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
    """Main Street: a safe with rings (8 loose, items R-1 and R-2) and melee; two showcases. Another store, Mall."""
    a, b = make.store("A", "Main Street"), make.store("B", "Mall")
    p = {
        "safe": make.location(a, "SAFE", "safe", "Main safe"),
        "sc1": make.location(a, "SC1", "showcase", "Showcase 1"),
        "sc2": make.location(a, "SC2", "showcase", "Showcase 2"),
        "b_safe": make.location(b, "SAFE", "safe", "Mall safe"),
    }
    rings = make.lot(p["safe"], pieces=10, serials=["R-1", "R-2"], number="L-1")
    melee = make.lot(p["safe"], pieces=120, weight="3.600", weight_unit="ct", category="stone", number="MEL-1")
    far = make.lot(p["b_safe"], pieces=5, serials=["FAR-1"], number="FAR-LOT")
    people = {
        "associate": make.user("associate", [a]),
        "manager": make.user("manager", [a]),
        "both": make.user("manager", [a, b]),
        "outsider": make.user("manager", [b]),
    }
    return {"a": a, "b": b, "p": p, "rings": rings, "melee": melee, "far": far, **people}


def start(client) -> str:
    """Open a fresh move; the URL of its draft page."""
    response = client.get("/moves/new")
    assert response.status_code == 302
    return response.headers["Location"]


def scan(client, url, code, **form):
    return client.post(f"{url}/scan", data={"code": code, **form}, headers=HX)


def line_keys(html: str) -> list[str]:
    return re.findall(r'id="mv-line-(\d+)"', html)


def test_move_page_full_and_as_fragment(shop, client_for):
    client = client_for(shop["associate"])
    url = start(client)
    page = client.get(url)
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert "data-scanner" in page.text and 'data-target="#move-form"' in page.text
    assert 'hx-include="#move-form"' in page.text and 'id="move-form"' in page.text
    assert "Main safe · SAFE" in page.text and "Mall safe" not in page.text  # this store's places only
    fragment = client.get(url, headers=HX)
    assert fragment.text.lstrip().startswith('<form id="move-form"') and "data-scanner" not in fragment.text


def test_each_scan_adds_a_line_at_once(shop, client_for):
    client = client_for(shop["associate"])
    url = start(client)
    answer = scan(client, url, "a-sc1")
    assert answer.status_code == 200 and "Going to Showcase 1" in answer.text
    assert f'<option selected value="{shop["p"]["sc1"].id}">' in answer.text
    answer = scan(client, url, "R-1", dest_id=shop["p"]["sc1"].id)
    assert answer.text.lstrip().startswith('<form id="move-form"') and "Item R-1 ✓" in answer.text
    assert "in Main safe" in answer.text and len(line_keys(answer.text)) == 1
    answer = scan(client, url, "L-1", dest_id=shop["p"]["sc1"].id)
    assert "Lot L-1 ✓" in answer.text and len(line_keys(answer.text)) == 2
    assert 'name="line-2-pieces" type="text" value="8"' in answer.text  # the loose pieces at the source
    answer = scan(client, url, "https://scan.example/T/MEL-1", dest_id=shop["p"]["sc1"].id)  # a tag's QR URL
    assert 'name="line-3-pieces" type="text" value="120"' in answer.text
    assert 'name="line-3-weight" type="text" value="3.600"' in answer.text and "Weight (ct)" in answer.text
    assert "Move 3 lines to Showcase 1" in answer.text
    reloaded = client.get(url)  # the draft survives a reload
    assert len(line_keys(reloaded.text)) == 3 and "Move 3 lines to Showcase 1" in reloaded.text


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("NO-SUCH-TAG", "No tag NO-SUCH-TAG"),
        ("FAR-1", "No tag FAR-1"),  # another store's item is not even confirmed to exist
        ("A-SC2", "is a place: scan the lots and items to move"),
        ("R-2", "Item R-2 is already in Showcase 1"),
        ("R-1", "Item R-1 is on the list already"),
        ("bad code!", "A tag code has 1 to 32 letters"),
        ("https://evil.example/t/R-1", "points to another site"),
    ],
)
def test_bad_scans_show_at_once_and_keep_the_lines(shop, make, client_for, code, message):
    rings, p = shop["rings"], shop["p"]
    ledger.post(make.event(shop["manager"], shop["a"]), "move", rings, p["safe"], p["sc1"], 1, item=rings.items[1])
    client = client_for(shop["associate"])
    url = start(client)
    scan(client, url, "A-SC1")
    scan(client, url, "R-1", dest_id=p["sc1"].id)
    answer = scan(client, url, code, dest_id=p["sc1"].id)
    assert answer.status_code == 422 and 'role="alert"' in answer.text
    assert message in answer.text.replace("&#39;", "'")
    assert len(line_keys(answer.text)) == 1  # the line scanned before is still there


def test_scans_refused_for_wrong_store_and_nothing_here(shop, make, client_for):
    p = shop["p"]
    sold = make.lot(p["safe"], pieces=1, number="SOLD-1")
    ledger.post(make.event(shop["manager"], shop["a"]), "sell", sold, p["safe"], shop["a"].virtual("customer"), 1)
    client = client_for(shop["both"])
    url = start(client)
    answer = scan(client, url, "B-SAFE")  # a place of the user's other store
    assert answer.status_code == 422 and "Mall safe (B) is not a place of Main Street" in answer.text
    answer = scan(client, url, "FAR-1")  # visible to this user, but in the other store
    assert answer.status_code == 422 and "Item FAR-1 is in Mall safe (B), not in a place of Main Street" in answer.text
    answer = scan(client, url, "SOLD-1")
    assert answer.status_code == 422 and "Lot SOLD-1 has nothing in Main Street" in answer.text


def test_confirm_moves_the_stock_once(shop, client_for):
    rings, melee, p = shop["rings"], shop["melee"], shop["p"]
    client = client_for(shop["associate"])
    url = start(client)
    for code in ("A-SC1", "R-1", "L-1", "MEL-1"):
        scan(client, url, code, dest_id=p["sc1"].id)
    form = {
        "dest_id": p["sc1"].id,
        "event_id": str(uuid.uuid4()),
        "line-2-pieces": "3",
        "line-3-pieces": "20",
        "line-3-weight": "0.600",
        "note": "Morning display",
    }
    answer = client.post(url, data=form, headers=HX)
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"] == f"/moves/done/{form['event_id']}"
    assert ledger.balance_at(rings, p["safe"]) == (6, 0) and ledger.balance_at(rings, p["sc1"]) == (4, 0)
    assert ledger.balance_at(melee, p["sc1"]) == (20, Decimal("0.600"))
    assert rings.items[0].location_id == p["sc1"].id
    assert ledger.check_ledger() == []
    moves = db.session.scalar(select(func.count()).select_from(Movement).where(Movement.kind == "move"))
    assert moves == 3

    again = client.post(url, data=form)  # a double tap: the same event id
    assert again.status_code == 302 and again.headers["Location"] == f"/locations/{p['sc1'].id}"
    assert db.session.scalar(select(func.count()).select_from(Movement).where(Movement.kind == "move")) == 3
    assert ledger.balance_at(rings, p["sc1"]) == (4, 0)

    done = client.get(answer.headers["HX-Redirect"])
    assert done.status_code == 200 and "Moved 3 to Showcase 1" in done.text
    assert "R-1" in done.text and "20 pcs · 0.600 ct" in done.text and "Undo this move" in done.text
    assert client.get(url).text.count('id="mv-line-') == 0  # the draft is gone once confirmed


@pytest.mark.parametrize(
    ("pieces", "weight", "message"),
    [
        ("abc", "", "Pieces must be a number"),
        ("-1", "", "Pieces cannot be negative"),
        ("1.5", "", "Pieces are whole numbers"),
        ("99999999999", "", "At most 1,000,000 pieces"),
        ("1", "1.2345", "at most 3 decimals"),
        ("1", "NaN", "must be a number"),
        ("1", "Infinity", "must be a number"),
        ("1", "1e3", "must be a number"),
        ("1", "-0.1", "cannot be negative"),
        ("0", "", "Give the pieces"),
        ("500", "", "Not enough of lot MEL-1 in Main safe"),
    ],
)
def test_bad_quantities_are_refused_inline_and_nothing_moves(shop, client_for, pieces, weight, message):
    p = shop["p"]
    client = client_for(shop["associate"])
    url = start(client)
    scan(client, url, "A-SC1")
    scan(client, url, "MEL-1", dest_id=p["sc1"].id)
    form = {"dest_id": p["sc1"].id, "event_id": str(uuid.uuid4()), "line-1-pieces": pieces, "line-1-weight": weight}
    answer = client.post(url, data=form, headers=HX)
    assert answer.status_code == 422 and message in answer.text
    assert answer.text.lstrip().startswith('<form id="move-form"') and len(line_keys(answer.text)) == 1
    assert f'value="{pieces}"' in answer.text  # what was typed stays
    assert ledger.balance_at(shop["melee"], p["sc1"]) == (0, 0)


def test_a_draft_holds_at_most_30_lines(shop, make, client_for):
    lots = [make.lot(shop["p"]["safe"], pieces=1, number=f"BULK-{n:02d}") for n in range(31)]
    client = client_for(shop["associate"])
    url = start(client)
    for lot in lots[:30]:
        assert scan(client, url, lot.number).status_code == 200
    refused = scan(client, url, lots[30].number)
    assert refused.status_code == 422 and "At most 30 lines at once" in refused.text
    assert len(line_keys(refused.text)) == 30
    typed = client.post(f"{url}/update", data={"line-1-pieces": "１２"}, headers=HX)  # not plain digits
    assert "Pieces must be a number" in typed.text
    assert len(client.get_cookie("session").value) < 3000  # the session is a cookie: the draft stays small


def test_lot_items_are_not_loose_stock(shop, client_for):
    p = shop["p"]
    client = client_for(shop["associate"])
    url = start(client)
    scan(client, url, "A-SC1")
    scan(client, url, "L-1", dest_id=p["sc1"].id)
    form = {"dest_id": p["sc1"].id, "event_id": str(uuid.uuid4()), "line-1-pieces": "10"}
    answer = client.post(url, data=form, headers=HX)
    assert answer.status_code == 422 and "Only 8 pcs of lot L-1 in Main safe (A) are loose" in answer.text


def test_remove_a_line_and_change_the_source(shop, make, client_for):
    rings, p = shop["rings"], shop["p"]
    ledger.post(make.event(shop["manager"], shop["a"]), "move", rings, p["safe"], p["sc2"], 2)
    client = client_for(shop["associate"])
    url = start(client)
    scan(client, url, "A-SC1")
    scan(client, url, "R-1", dest_id=p["sc1"].id)
    answer = scan(client, url, "L-1", dest_id=p["sc1"].id)
    assert 'name="line-2-source_id"' in answer.text  # in two places: a picker, the larger first
    assert 'name="line-2-pieces" type="text" value="6"' in answer.text
    changed = client.post(
        f"{url}/update",
        data={"dest_id": p["sc1"].id, "line-2-source_id": p["sc2"].id, "line-2-pieces": "6"},
        headers=HX,
    )
    assert 'name="line-2-pieces" type="text" value="2"' in changed.text  # all that is loose there
    removed = client.post(f"{url}/update", data={"dest_id": p["sc1"].id, "drop_line": "1"}, headers=HX)
    assert line_keys(removed.text) == ["2"] and "R-1" not in removed.text
    assert client.post(f"{url}/update", data={"line-2-source_id": p["b_safe"].id}, headers=HX).status_code == 404


def test_forged_ids_of_another_store_are_not_found(shop, client_for):
    p = shop["p"]
    client = client_for(shop["associate"])
    url = start(client)
    scan(client, url, "R-1")
    form = {"dest_id": p["b_safe"].id, "event_id": str(uuid.uuid4())}
    assert client.post(url, data=form, headers=HX).status_code == 404
    assert client.post(f"{url}/scan", data={"code": "R-2", "dest_id": p["b_safe"].id}, headers=HX).status_code == 404
    assert client.get("/moves/new/not-a-draft").status_code == 404
    assert client.post(url, data={**form, "dest_id": "99999999999999999999"}, headers=HX).status_code == 422


def test_confirm_refusals_keep_the_form(shop, client_for):
    p = shop["p"]
    client = client_for(shop["associate"])
    url = start(client)
    answer = client.post(url, data={"event_id": str(uuid.uuid4())}, headers=HX)
    assert answer.status_code == 422 and "Scan or choose where it goes" in answer.text
    answer = client.post(url, data={"dest_id": p["sc1"].id, "event_id": str(uuid.uuid4())}, headers=HX)
    assert answer.status_code == 422 and "Scan at least one lot or item" in answer.text
    scan(client, url, "R-1")
    answer = client.post(url, data={"dest_id": p["sc1"].id, "event_id": "not-a-uuid"}, headers=HX)
    assert answer.status_code == 422 and "no valid event id" in answer.text and len(line_keys(answer.text)) == 1


def test_lookup_page_offers_move_and_sell(shop, client_for):
    client = client_for(shop["associate"])
    found = client.post("/scan", data={"code": "R-1"}, headers=HX)
    assert 'href="/moves/new?code=R-1"' in found.text and 'href="/sales/new?code=R-1"' in found.text
    place = client.post("/scan", data={"code": "A-SAFE"}, headers=HX)
    assert f'href="/moves/location?source={shop["p"]["safe"].id}"' in place.text
    assert f'href="/moves/new?dest={shop["p"]["safe"].id}"' in place.text
    draft = client.get("/moves/new?code=R-1", follow_redirects=True)
    assert len(line_keys(draft.text)) == 1 and "R-1" in draft.text
    draft = client.get(f"/moves/new?dest={shop['p']['sc2'].id}", follow_redirects=True)
    assert f'<option selected value="{shop["p"]["sc2"].id}">' in draft.text
    assert "Move" in client.get("/").text.split('class="tabbar"')[1]


def test_undo_the_last_move(shop, client_for):
    rings, p = shop["rings"], shop["p"]
    client = client_for(shop["associate"])
    url = start(client)
    scan(client, url, "A-SC1")
    scan(client, url, "R-1", dest_id=p["sc1"].id)
    scan(client, url, "L-1", dest_id=p["sc1"].id)
    event_id = str(uuid.uuid4())
    client.post(url, data={"dest_id": p["sc1"].id, "event_id": event_id, "line-2-pieces": "5"})
    assert ledger.balance_at(rings, p["sc1"]) == (6, 0)

    undo_id = str(uuid.uuid4())
    answer = client.post("/moves/undo", data={"event_id": undo_id, "shown": event_id})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/moves/done/{undo_id}"
    assert ledger.balance_at(rings, p["sc1"]) == (0, 0) and ledger.balance_at(rings, p["safe"]) == (10, 0)
    assert rings.items[0].location_id == p["safe"].id and ledger.check_ledger() == []
    undone = client.get(answer.headers["Location"])
    assert "Undone: 2 back where they were" in undone.text and "Undo this move" not in undone.text
    shown = client.get(f"/moves/done/{event_id}")
    assert "undone" in shown.text and "Undo this move" not in shown.text

    again = client.post("/moves/undo", data={"event_id": str(uuid.uuid4()), "shown": event_id})
    assert again.status_code == 422 and "no move in this store left to undo" in again.text
    replay = client.post("/moves/undo", data={"event_id": undo_id, "shown": event_id})
    assert replay.status_code == 302 and ledger.balance_at(rings, p["safe"]) == (10, 0)


def test_undo_is_offered_only_for_your_latest_move(shop, client_for):
    p = shop["p"]
    client = client_for(shop["associate"])
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for code, event_id in (("R-1", first), ("R-2", second)):
        url = start(client)
        scan(client, url, code)
        client.post(url, data={"dest_id": p["sc1"].id, "event_id": event_id})
    assert "Undo this move" not in client.get(f"/moves/done/{first}").text
    assert "Undo this move" in client.get(f"/moves/done/{second}").text
    assert "Undo this move" not in client_for(shop["manager"]).get(f"/moves/done/{second}").text  # not theirs
    assert client_for(shop["outsider"]).get(f"/moves/done/{second}").status_code == 404
    assert client.get("/moves/done/not-an-id").status_code == 404
    assert client.get(f"/moves/done/{uuid.uuid4()}").status_code == 404


def test_move_everything_at_a_place(shop, client_for):
    rings, melee, p = shop["rings"], shop["melee"], shop["p"]
    client = client_for(shop["associate"])
    page = client.get(f"/moves/location?source={p['safe'].id}")
    assert page.status_code == 200 and "data-scanner" in page.text
    assert "At Main safe now" in page.text and "R-1" in page.text and "120 pcs · 3.600 ct" in page.text
    preview = client.get(f"/moves/location?source_id={p['safe'].id}&dest_id=", headers=HX)
    assert preview.text.lstrip().startswith('<form id="location-form"') and "Move everything (4 lines)" in preview.text

    scanned = client.post("/moves/location/scan", data={"code": "A-SAFE"}, headers=HX)
    assert f'<option selected value="{p["safe"].id}">' in scanned.text and "R-2" in scanned.text
    scanned = client.post("/moves/location/scan", data={"code": "A-SC2", "source_id": p["safe"].id}, headers=HX)
    assert f'<option selected value="{p["sc2"].id}">' in scanned.text
    refused = client.post("/moves/location/scan", data={"code": "R-1"}, headers=HX)
    assert refused.status_code == 422 and "Scan the tag of a place" in refused.text

    form = {"source_id": p["safe"].id, "dest_id": p["sc2"].id, "event_id": str(uuid.uuid4())}
    answer = client.post("/moves/location", data=form, headers=HX)
    assert answer.status_code == 204 and answer.headers["HX-Redirect"] == f"/moves/done/{form['event_id']}"
    assert ledger.balance_at(rings, p["sc2"]) == (10, 0) and ledger.balance_at(melee, p["sc2"]) == (120, Decimal("3.6"))
    assert ledger.balance_at(rings, p["safe"]) == (0, 0) and all(i.location_id == p["sc2"].id for i in rings.items)
    assert client.post("/moves/location", data=form).status_code == 302  # the replay applies once
    assert ledger.balance_at(rings, p["sc2"]) == (10, 0)

    empty = client.post("/moves/location", data={**form, "event_id": str(uuid.uuid4())}, headers=HX)
    assert empty.status_code == 422 and "Main safe (A) is empty" in empty.text
    same = {"source_id": p["sc2"].id, "dest_id": p["sc2"].id, "event_id": str(uuid.uuid4())}
    assert "Choose a destination other than" in client.post("/moves/location", data=same, headers=HX).text
    forged = {"source_id": p["b_safe"].id, "dest_id": p["sc1"].id, "event_id": str(uuid.uuid4())}
    assert client.post("/moves/location", data=forged, headers=HX).status_code == 404
