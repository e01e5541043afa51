"""The transfer pages: ship by scanning, the open transfers, arrival with missing and extra lines, settling them."""

import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Transfer
from scanapp.services import ledger

HX = {"HX-Request": "true"}


@pytest.fixture
def chain(make):
    """Main Street (A) holds lot L-1: 20 pieces, three of them items R-1..R-3. Mall (B) and a third store, C."""
    a, b, c = make.store("A", "Main Street"), make.store("B", "Mall"), make.store("C", "Far Away")
    p = {
        "a_safe": make.location(a, "SAFE", "safe", "Main safe"),
        "b_safe": make.location(b, "SAFE", "safe", "Mall safe"),
        "b_sc1": make.location(b, "SC1", "showcase", "Mall showcase"),
        "c_safe": make.location(c, "SAFE", "safe", "Far safe"),
    }
    lot = make.lot(p["a_safe"], pieces=20, serials=["R-1", "R-2", "R-3"], number="L-1")
    people = {
        "a_manager": make.user("manager", [a]),
        "a_associate": make.user("associate", [a]),
        "b_vault": make.user("vault", [b]),
        "b_manager": make.user("manager", [b]),
        "b_associate": make.user("associate", [b]),
        "c_manager": make.user("manager", [c]),
        "c_vault": make.user("vault", [c]),
    }
    return {"a": a, "b": b, "c": c, "p": p, "lot": lot, **people}


def open_draft(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 302
    return response.headers["Location"]


def keys(html: str) -> list[str]:
    return re.findall(r'id="mv-line-(\d+)"', html)


def shipped(chain, client_for) -> Transfer:
    """Ship R-1, R-2 and 10 loose pieces of L-1 from A to B through the pages."""
    client = client_for(chain["a_manager"])
    url = open_draft(client, "/transfers/ship")
    for code in ("R-1", "R-2", "L-1"):
        assert client.post(f"{url}/scan", data={"code": code}, headers=HX).status_code == 200
    form = {
        "to_store_id": chain["b"].id,
        "carrier": "Sam Courier",
        "reference": "WB-1",
        "event_id": str(uuid.uuid4()),
        "line-3-pieces": "10",
    }
    answer = client.post(url, data=form, headers=HX)
    assert answer.status_code == 204, answer.text
    transfer = db.session.scalar(select(Transfer))
    assert answer.headers["HX-Redirect"] == f"/transfers/{transfer.id}"
    return transfer


def test_ship_page_scans_lines_and_ships_once(chain, client_for):
    lot, p = chain["lot"], chain["p"]
    client = client_for(chain["a_manager"])
    url = open_draft(client, "/transfers/ship")
    page = client.get(url)
    assert page.status_code == 200 and "data-scanner" in page.text and 'hx-include="#ship-form"' in page.text
    assert "Mall · B" in page.text and "Far Away · C" in page.text and "Main Street · A" not in page.text
    assert client.get(url, headers=HX).text.lstrip().startswith('<form id="ship-form"')
    answer = client.post(f"{url}/scan", data={"code": "L-1"}, headers=HX)
    assert "Lot L-1 ✓" in answer.text and 'name="line-1-pieces" type="text" value="17"' in answer.text
    place = client.post(f"{url}/scan", data={"code": "A-SAFE"}, headers=HX)
    assert place.status_code == 422 and "is a place, not a piece" in place.text and keys(place.text) == ["1"]

    form = {"to_store_id": chain["b"].id, "carrier": "", "event_id": str(uuid.uuid4()), "line-1-pieces": "4"}
    refused = client.post(url, data=form, headers=HX)
    assert refused.status_code == 422 and "Say who carries it" in refused.text
    assert 'value="4"' in refused.text  # the typed pieces stay
    own = client.post(url, data={**form, "carrier": "Sam", "to_store_id": chain["a"].id}, headers=HX)
    assert own.status_code == 422 and "Ship to another store" in own.text
    assert client.post(url, data={**form, "carrier": "Sam", "to_store_id": 999999}, headers=HX).status_code == 404

    form = {**form, "carrier": "Sam"}
    answer = client.post(url, data=form, headers=HX)
    assert answer.status_code == 204
    assert ledger.balance_at(lot, chain["a"].virtual("transit")) == (4, 0)
    assert client.post(url, data=form).status_code == 302  # replayed: applied once
    assert ledger.balance_at(lot, chain["a"].virtual("transit")) == (4, 0)
    assert ledger.balance_at(lot, p["a_safe"]) == (16, 0)
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == 1


def test_transfer_lists_and_detail(chain, client_for):
    transfer = shipped(chain, client_for)
    outgoing = client_for(chain["a_associate"]).get("/transfers/")
    assert outgoing.status_code == 200 and transfer.number in outgoing.text.split('id="outgoing"')[1]
    assert "Ship to another store" not in outgoing.text  # associates do not ship
    incoming = client_for(chain["b_vault"]).get("/transfers/", headers=HX)
    assert transfer.number in incoming.text.split('id="incoming"')[1].split('id="outgoing"')[0]
    assert "From Main Street" in incoming.text and "3 shipped" in incoming.text
    detail = client_for(chain["b_vault"]).get(f"/transfers/{transfer.id}")
    assert detail.status_code == 200 and "In transit" in detail.text and "Sam Courier" in detail.text
    assert "Arrive: scan what came" in detail.text and "shipped 10 pcs" in detail.text
    assert "Arrive: scan what came" not in client_for(chain["a_manager"]).get(f"/transfers/{transfer.id}").text
    assert client_for(chain["c_manager"]).get(f"/transfers/{transfer.id}").status_code == 404
    assert client_for(chain["c_manager"]).get("/transfers/999999").status_code == 404


def test_ship_arrive_with_missing_and_extra_then_settle(chain, client_for):
    lot, p = chain["lot"], chain["p"]
    transfer = shipped(chain, client_for)
    a_transit, a_loss = chain["a"].virtual("transit"), chain["a"].virtual("loss")
    assert ledger.balance_at(lot, a_transit) == (12, 0)

    vault = client_for(chain["b_vault"])
    url = f"/transfers/{transfer.id}/arrive"
    page = vault.get(url)
    assert page.status_code == 200 and "data-scanner" in page.text and "Shipped: 3 lines" in page.text
    assert vault.get(url, headers=HX).text.lstrip().startswith('<form id="arrive-form"')
    assert "Item R-1 ✓" in vault.post(f"{url}/scan", data={"code": "R-1"}, headers=HX).text
    answer = vault.post(f"{url}/scan", data={"code": "L-1"}, headers=HX)  # in A's transit, still found
    assert 'name="line-2-pieces" type="text" value="10"' in answer.text  # what is expected of it
    extra = vault.post(f"{url}/scan", data={"code": "R-3"}, headers=HX)
    assert "Item R-3 ✓" in extra.text and "Not on this shipment" in extra.text
    twice = vault.post(f"{url}/scan", data={"code": "R-1"}, headers=HX)
    assert twice.status_code == 422 and "on the list already" in twice.text and len(keys(twice.text)) == 3
    unknown = vault.post(f"{url}/scan", data={"code": "NOPE"}, headers=HX)
    assert unknown.status_code == 422 and "No tag NOPE" in unknown.text

    form = {"location_id": p["b_safe"].id, "event_id": str(uuid.uuid4()), "line-2-pieces": "8"}
    assert vault.post(url, data={**form, "location_id": p["c_safe"].id}, headers=HX).status_code == 404
    answer = vault.post(url, data=form, headers=HX)
    assert answer.status_code == 204 and answer.headers["HX-Redirect"] == f"/transfers/{transfer.id}"
    assert ledger.balance_at(lot, p["b_safe"]) == (9, 0) and ledger.balance_at(lot, a_transit) == (3, 0)
    assert vault.post(url, data=form).status_code == 302  # replayed, applied once
    assert ledger.balance_at(lot, p["b_safe"]) == (9, 0)

    detail = vault.get(f"/transfers/{transfer.id}").text
    missing = detail.split('id="missing"')[1].split("</section>")[0]
    assert "R-2" in missing and "2 pcs" in missing and "R-1" not in missing
    assert "R-3" in detail.split('id="extra"')[1].split("</section>")[0]
    assert "To settle" in detail and "Settle missing and extra" not in detail  # a vault keeper does not settle

    manager = client_for(chain["b_manager"])
    settle_url = f"/transfers/{transfer.id}/resolve"
    page = manager.get(settle_url)
    assert page.status_code == 200 and page.text.count("<fieldset") == 3
    assert manager.get(settle_url, headers=HX).text.lstrip().startswith('<form id="resolve-form"')
    lines = {(line.item.serial if line.item else line.lot.number): line.id for line in transfer.lines}
    r2, loose, r3 = lines["R-2"], next(x.id for x in transfer.lines if x.item is None), lines["R-3"]
    form = {
        f"line-{r2}-action": "write_off",
        f"line-{loose}-action": "wait",
        f"line-{r3}-action": "book",
        "event_id": str(uuid.uuid4()),
    }
    refused = manager.post(settle_url, data=form, headers=HX)
    assert refused.status_code == 422 and "Give the reason for the write-off" in refused.text
    answer = manager.post(settle_url, data={**form, f"line-{r2}-reason": "Lost in transit"}, headers=HX)
    assert answer.status_code == 204 and answer.headers["HX-Redirect"] == f"/transfers/{transfer.id}"
    assert ledger.balance_at(lot, a_loss) == (1, 0) and ledger.balance_at(lot, a_transit) == (2, 0)
    assert ledger.balance_at(lot, p["b_safe"]) == (10, 0) and ledger.balance_at(lot, p["a_safe"]) == (7, 0)
    db.session.refresh(transfer)
    assert transfer.status == "discrepancy"  # two pieces still awaited

    last = {f"line-{loose}-action": "write_off", f"line-{loose}-reason": "Never sent", "event_id": str(uuid.uuid4())}
    assert manager.post(settle_url, data=last).status_code == 302
    db.session.refresh(transfer)
    assert transfer.status == "resolved" and ledger.check_ledger() == []
    assert "Settled" in manager.get(f"/transfers/{transfer.id}").text
    assert "Nothing is open" in manager.get(settle_url).text


def test_role_and_store_rules(chain, client_for):
    transfer = shipped(chain, client_for)
    associate = client_for(chain["a_associate"])
    assert associate.get("/transfers/ship").status_code == 403
    assert associate.post("/transfers/ship/0123456789ab", data={"carrier": "x"}).status_code == 403
    assert associate.get(f"/transfers/{transfer.id}/resolve").status_code == 403
    assert client_for(chain["b_associate"]).get(f"/transfers/{transfer.id}/arrive").status_code == 403
    assert client_for(chain["c_vault"]).get(f"/transfers/{transfer.id}/arrive").status_code == 404
    assert client_for(chain["c_manager"]).get(f"/transfers/{transfer.id}/resolve").status_code == 404
    assert client_for(chain["a_manager"]).get(f"/transfers/{transfer.id}/arrive").status_code == 404  # not for A
    assert client_for(chain["a_manager"]).get("/transfers/ship/not-a-key").status_code == 404


def test_weighed_lot_arrival_refuses_bad_numbers(chain, make, client_for):
    melee = make.lot(chain["p"]["a_safe"], pieces=100, weight="2.500", weight_unit="ct", number="MEL-1")
    client = client_for(chain["a_manager"])
    url = open_draft(client, "/transfers/ship")
    client.post(f"{url}/scan", data={"code": "MEL-1"}, headers=HX)
    form = {"to_store_id": chain["b"].id, "carrier": "Sam", "event_id": str(uuid.uuid4())}
    assert client.post(url, data={**form, "line-1-pieces": "40", "line-1-weight": "1.000"}).status_code == 302
    transfer = db.session.scalar(select(Transfer))
    vault = client_for(chain["b_vault"])
    arrive_url = f"/transfers/{transfer.id}/arrive"
    answer = vault.post(f"{arrive_url}/scan", data={"code": "MEL-1"}, headers=HX)
    assert 'name="line-1-weight" type="text" value="1.000"' in answer.text
    for weight, message in (("abc", "must be a number"), ("1.0001", "at most 3 decimals"), ("-1", "negative")):
        form = {"location_id": chain["p"]["b_sc1"].id, "event_id": str(uuid.uuid4()), "line-1-weight": weight}
        refused = vault.post(arrive_url, data=form, headers=HX)
        assert refused.status_code == 422 and message in refused.text
    assert ledger.balance_at(melee, chain["p"]["b_sc1"]) == (0, 0)
    form = {"location_id": chain["p"]["b_sc1"].id, "event_id": str(uuid.uuid4())}
    assert vault.post(arrive_url, data=form, headers=HX).status_code == 422  # the draft keeps what was typed last
    assert vault.post(arrive_url, data={**form, "line-1-weight": "1.000"}, headers=HX).status_code == 204
    assert ledger.balance_at(melee, chain["p"]["b_sc1"]) == (40, Decimal("1.000"))
    db.session.refresh(transfer)
    assert transfer.status == "arrived"
    assert "has arrived already" in vault.get(arrive_url).text
