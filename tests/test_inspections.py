"""Inspections: the checklist of each category, results, photos on the lot and item pages, holds from failed
inspections, partial acceptance at receiving, the receiving queue, roles, stores and replays."""

import html
import io
import re
import uuid
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Event, Inspection, Movement, Photo
from scanapp.services import DomainError, Forbidden, ledger, stores
from scanapp.services.events import new_event_id
from scanapp.services.inspections import (
    Hold,
    Quantity,
    Split,
    inspections_of,
    receiving_place,
    receiving_queue,
    record_inspection,
)

HX = {"HX-Request": "true"}


def jpeg(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def shop(make):
    a, b = make.store("A", "Avenue"), make.store("B", "Boulevard")
    places = {
        "vault_room": make.location(a, "VAULT", "vault", "Vault"),
        "safe": make.location(a, "SAFE", "safe", "Main safe"),
        "b_safe": make.location(b, "SAFE", "safe", "Their safe"),
    }
    people = {
        "vault": make.user("vault", [a], username="vera"),
        "manager": make.user("manager", [a], username="maria"),
        "associate": make.user("associate", [a], username="alex"),
        "other": make.user("manager", [b], username="otto"),
    }
    melee = make.lot(
        places["vault_room"], pieces=120, weight="3.600", weight_unit="ct", category="stone", by=people["vault"]
    )
    db.session.commit()
    return {"a": a, "b": b, **places, **people, "melee": melee}


def inspect(shop, lot, **kw):
    kw.setdefault("points", {})
    kw.setdefault("result", "pass")
    return record_inspection(lot, event_id=new_event_id(), by=kw.pop("by", shop["vault"]), store=shop["a"], **kw)


def post(client, lot, data, item=None, headers=None):
    url = f"/inspections/new?lot={lot.id}" + (f"&item={item.id}" if item else "")
    return client.post(url, data={"event_id": str(uuid.uuid4()), **data}, headers=headers or {})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("category", "points"),
    [
        ("stone", ["Count matches", "Total weight matches", "Measurements", "Certificate matches the stone"]),
        ("metal", ["Weight", "Karat stamp"]),
        ("finished", ["Count matches", "No damage", "Clasp and settings", "Matches the order"]),
        ("finding", ["Count matches", "Metal and karat"]),
    ],
)
def test_the_screen_shows_the_checklist_of_the_lots_category(shop, make, client_for, category, points):
    lot = make.lot(shop["safe"], pieces=5, category=category)
    page = client_for(shop["vault"]).get(f"/inspections/new?lot={lot.id}")
    assert page.status_code == 200
    legends = re.findall(r"<legend>([^<]+)</legend>", page.text)
    assert legends == [*points, "Result"]
    assert len(re.findall(r'<input checked[^>]*value="not_checked"', page.text)) == len(points)
    file_input = re.search(r'<input[^>]*type="file"[^>]*>', page.text).group(0)
    assert 'accept="image/*"' in file_input and 'capture="environment"' in file_input and "multiple" in file_input


def test_a_passed_inspection_with_photos_shows_on_the_lot_page(app, shop, client_for):
    melee, client = shop["melee"], client_for(shop["vault"])
    # The first inspection accepts everything where it was received; the second is a plain one.
    first = inspect(shop, melee, split=Split(Quantity(120, Decimal("3.600")), Quantity(), Quantity()))
    db.session.commit()
    second = post(
        client,
        melee,
        {
            "point_count": "pass",
            "point_weight": "pass",
            "point_certificate": "not_checked",
            "result": "pass",
            "notes": "  All there.  ",
            "photos": [(io.BytesIO(jpeg()), "IMG_1.JPG"), (io.BytesIO(jpeg((30, 30, 200))), "IMG_2.JPG")],
        },
    )
    assert second.status_code == 302 and second.headers["Location"] == f"/lots/{melee.id}"
    latest = inspections_of(melee)[0]
    assert latest.id != first.id and latest.result == "pass" and latest.notes == "All there."
    assert latest.checklist == {
        "count": "pass",
        "weight": "pass",
        "measurements": "not_checked",
        "certificate": "not_checked",
    }
    assert [p.original_filename for p in latest.photos] == ["IMG_1.JPG", "IMG_2.JPG"]
    assert (latest.store, latest.inspected_by, latest.lot, latest.item) == (shop["a"], shop["vault"], melee, None)
    page = client.get(f"/lots/{melee.id}").text
    assert 'id="inspections"' in page and "Passed" in page and "All there." in page
    for photo in latest.photos:
        assert f'href="/photos/{photo.id}"' in page and f'src="/photos/{photo.id}/thumb"' in page
    assert ledger.check_ledger() == []


def test_a_failed_point_cannot_pass_and_a_fail_must_say_what_goes_on_hold(shop):
    melee = shop["melee"]
    with pytest.raises(DomainError, match="A point failed, so the inspection cannot pass"):
        inspect(shop, melee, points={"count": "fail"}, result="pass")
    inspect(shop, melee, result="pass")  # the first inspection
    with pytest.raises(DomainError, match="Say what goes on hold"):
        inspect(shop, melee, points={"count": "fail"}, result="fail")
    with pytest.raises(DomainError, match="A passed inspection puts nothing on hold"):
        inspect(shop, melee, result="pass", hold=Hold("all"))


@pytest.mark.parametrize(
    ("points", "result", "message"),
    [
        ({"karat": "pass"}, "pass", "'karat' is not on the stone checklist"),
        ({"count": "maybe"}, "pass", "Count matches: choose pass, fail or not checked"),
        ({}, "great", "Choose the result: pass, fail or hold"),
    ],
)
def test_the_service_refuses_what_no_form_would_send(shop, points, result, message):
    with pytest.raises(DomainError, match=message):
        inspect(shop, shop["melee"], points=points, result=result)


def test_a_failed_inspection_holds_all_of_the_lot_in_the_store(make, shop):
    lot = make.lot(shop["safe"], pieces=10, serials=["R-1", "R-2"], category="finished")
    inspect(shop, lot, result="pass")
    quarantine = stores.quarantine(shop["a"])
    case = make.location(shop["a"], "SC1", "showcase")
    ledger.post(make.event(shop["vault"], shop["a"]), "move", lot, shop["safe"], case, 3)
    failed = inspect(shop, lot, points={"damage": "fail"}, result="fail", hold=Hold("all"))
    assert ledger.balance_at(lot, quarantine) == (10, 0)
    assert ledger.balance_at(lot, shop["safe"]) == (0, 0) and ledger.balance_at(lot, case) == (0, 0)
    assert {i.serial: i.location for i in lot.items} == {"R-1": quarantine, "R-2": quarantine}
    moved = failed.event.movements
    assert {m.kind for m in moved} == {"hold"} and all(m.reference == f"Inspection {failed.id}" for m in moved)
    assert sorted(((m.item.serial if m.item else "", m.pieces) for m in moved), key=str) == sorted(
        [("R-1", 1), ("R-2", 1), ("", 5), ("", 3)], key=str
    )
    # Inspecting it again while it is all on hold records the inspection and moves nothing more.
    again = inspect(shop, lot, result="hold", hold=Hold("all"))
    assert again.event.movements == []
    assert ledger.check_ledger() == []


def test_part_of_a_lot_goes_on_hold_from_the_chosen_place(shop):
    melee = shop["melee"]
    inspect(shop, melee, result="pass")
    held = inspect(shop, melee, result="hold", hold=Hold("part", shop["vault_room"], Quantity(15, Decimal("0.450"))))
    quarantine = stores.quarantine(shop["a"])
    assert ledger.balance_at(melee, quarantine) == (15, Decimal("0.450"))
    assert ledger.balance_at(melee, shop["vault_room"]) == (105, Decimal("3.150"))
    [m] = held.event.movements
    assert (m.kind, m.from_location, m.to_location, m.note) == (
        "hold",
        shop["vault_room"],
        quarantine,
        "Held at inspection",
    )
    with pytest.raises(DomainError, match="Not enough of lot"):
        inspect(shop, melee, result="fail", hold=Hold("part", shop["vault_room"], Quantity(200)))
    with pytest.raises(DomainError, match="is on hold already"):
        inspect(shop, melee, result="fail", hold=Hold("part", quarantine, Quantity(1)))
    with pytest.raises(DomainError, match="Say how many pieces"):
        inspect(shop, melee, result="fail", hold=Hold("part", shop["vault_room"], Quantity()))
    with pytest.raises(DomainError, match="not in Avenue"):
        inspect(shop, melee, result="fail", hold=Hold("part", shop["b_safe"], Quantity(1)))


def test_an_items_failed_inspection_holds_the_item_and_its_page_says_so(shop, make, client_for):
    lot = make.lot(shop["safe"], pieces=3, serials=["SOL-1", "SOL-2"], category="finished")
    ring = lot.items[0]
    client = client_for(shop["manager"])
    response = post(client, lot, {"point_damage": "fail", "result": "fail", "hold_scope": "all"}, item=ring)
    assert response.status_code == 302 and response.headers["Location"] == f"/items/{ring.id}"
    quarantine = stores.quarantine(shop["a"])
    assert ring.location == quarantine and lot.items[1].location == shop["safe"]
    assert ledger.balance_at(lot, shop["safe"]) == (2, 0)
    page = client.get(f"/items/{ring.id}").text
    assert "On hold" in page and f"/holds/{lot.id}/release?item={ring.id}" in page
    assert "Failed" in page and "No damage" in page
    lot_page = client.get(f"/lots/{lot.id}").text
    assert 'id="on-hold"' in lot_page and "1 pc in Quarantine (A)" in lot_page


def test_partial_acceptance_splits_what_arrived_in_one_event(shop, client_for):
    melee, client = shop["melee"], client_for(shop["vault"])
    page = client.get(f"/inspections/new?lot={melee.id}").text
    assert "What arrived" in page and re.search(r'<input [^>]*name="accept_pieces"[^>]*value="120"', page)
    response = post(
        client,
        melee,
        {
            "point_count": "fail",
            "result": "fail",
            "accept_pieces": "100",
            "accept_weight": "3.000",
            "hold_pieces": "15",
            "hold_weight": "0.450",
            "return_pieces": "5",
            "return_weight": "0.150",
        },
    )
    assert response.status_code == 302
    a = shop["a"]
    assert ledger.balance_at(melee, shop["vault_room"]) == (100, Decimal("3.000"))
    assert ledger.balance_at(melee, stores.quarantine(a)) == (15, Decimal("0.450"))
    assert ledger.balance_at(melee, a.virtual("vendor_return")) == (5, Decimal("0.150"))
    [inspection] = inspections_of(melee)
    assert [(m.kind, m.pieces, m.weight) for m in inspection.event.movements] == [
        ("hold", 15, Decimal("0.450")),
        ("vendor_return", 5, Decimal("0.150")),
    ]
    assert ledger.check_ledger() == []
    # Once inspected, the screen no longer offers to split what arrived.
    assert receiving_place(melee, a) is None
    assert "What arrived" not in client.get(f"/inspections/new?lot={melee.id}").text
    lot_page = client.get(f"/lots/{melee.id}").text
    assert "Put on hold: 15 pcs · 0.450 ct" in lot_page and "Sent back to supplier: 5 pcs · 0.150 ct" in lot_page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"accept_pieces": "100", "accept_weight": "3.600"}, "accept_pieces", "add up to 100 pcs, 3.600 ct, but 120"),
        (
            {
                "result": "pass",
                "accept_pieces": "110",
                "accept_weight": "3.300",
                "return_pieces": "10",
                "return_weight": "0.300",
            },
            "result",
            "A passed inspection accepts everything",
        ),  # fmt: skip
        ({"accept_pieces": "120", "accept_weight": "3.600"}, "hold_pieces", "Say how much goes on hold or back"),
        ({"accept_pieces": "12.5"}, "accept_pieces", "Pieces are whole numbers"),
        ({"hold_weight": "-1"}, "hold_weight", "cannot be negative"),
        ({"result": ""}, "result", "Choose the result."),
        ({"point_count": "perhaps", "result": "fail"}, "point_count", "Not a valid choice"),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_bad_split_is_refused_on_its_field_and_writes_nothing(shop, client_for, data, field, message, headers):
    before = (count(Inspection), count(Movement), count(Event), count(Photo))
    response = post(client_for(shop["vault"]), shop["melee"], {"result": "fail", **data}, headers=headers)
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert message in text
    if headers:
        assert response.text.lstrip().startswith('<form id="inspection-form"')
    assert re.search(rf'<p class="error" id="{field}-msg" role="alert">[^<]*{re.escape(message)}', text)
    assert (count(Inspection), count(Movement), count(Event), count(Photo)) == before


def test_htmx_submit_redirects_the_browser_and_a_replay_applies_once(shop, client_for):
    client, melee = client_for(shop["vault"]), shop["melee"]
    data = {"result": "pass", "accept_pieces": "120", "accept_weight": "3.600", "event_id": str(uuid.uuid4())}
    first = client.post(f"/inspections/new?lot={melee.id}", data=data, headers=HX)
    assert first.status_code == 204 and first.headers["HX-Redirect"] == f"/lots/{melee.id}"
    again = client.post(f"/inspections/new?lot={melee.id}", data=data)
    assert again.status_code == 302 and again.headers["Location"] == f"/lots/{melee.id}"
    assert count(Inspection) == 1


def test_only_vault_managers_and_admins_inspect(shop, client_for):
    melee = shop["melee"]
    assert client_for(shop["associate"]).get(f"/inspections/new?lot={melee.id}").status_code == 403
    assert client_for(shop["associate"]).get("/inspections/queue").status_code == 403
    with pytest.raises(Forbidden):
        inspect(shop, melee, by=shop["associate"])
    assert 'href="/inspections/new?lot=' not in client_for(shop["associate"]).get(f"/lots/{melee.id}").text
    assert f'href="/inspections/new?lot={melee.id}"' in client_for(shop["vault"]).get(f"/lots/{melee.id}").text


def test_other_stores_lots_and_items_are_not_found(shop, make, client_for):
    theirs = make.lot(shop["b_safe"], pieces=2, serials=["B-1"])
    mine = shop["melee"]
    client = client_for(shop["vault"])
    assert client.get(f"/inspections/new?lot={theirs.id}").status_code == 404
    assert client.get(f"/inspections/new?lot={mine.id}&item={theirs.items[0].id}").status_code == 404
    assert client.get("/inspections/new").status_code == 404
    with pytest.raises(Forbidden):
        record_inspection(mine, points={}, result="pass", event_id=new_event_id(), by=shop["vault"], store=shop["b"])


def test_the_receiving_queue_lists_uninspected_lots_of_the_store_newest_first(shop, make, client_for):
    older = shop["melee"]
    newer = make.lot(shop["safe"], pieces=4, number="NEW-0001")
    newer.received_on = older.received_on.replace(day=20)
    make.lot(shop["b_safe"], pieces=1, number="THEIRS-1")
    db.session.commit()
    assert receiving_queue(shop["a"]) == [newer, older]
    client = client_for(shop["vault"])
    page = client.get("/inspections/queue").text
    assert page.index("NEW-0001") < page.index(older.number) and "THEIRS-1" not in page
    assert f'href="/inspections/new?lot={newer.id}"' in page
    inspect(shop, newer, result="pass")
    db.session.commit()
    assert receiving_queue(shop["a"]) == [older]
    assert "NEW-0001" not in client.get("/inspections/queue").text
