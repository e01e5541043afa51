"""Holds: every store has a quarantine; held stock cannot be moved, sold, shipped or consumed until a manager
releases it, with a reason, as a `release` movement (or sends it back to the supplier)."""

import html
import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import MOVEMENT_KINDS, Event, Location, Movement
from scanapp.services import DomainError, Forbidden, ledger, stores
from scanapp.services.events import new_event_id
from scanapp.services.inspections import Hold, Quantity, Split, record_inspection, release
from scanapp.services.movements import MoveLine, lines_for_scan, move_location_contents, move_stock
from scanapp.services.sales import sell
from scanapp.services.transfers import ship

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(make):
    """Store A with a safe and a showcase; a lot of 10 rings (R-1 and R-2 tracked on their own) with 4 loose
    pieces and item R-1 on hold after a failed inspection; store B."""
    a, b = make.store("A", "Avenue"), make.store("B", "Boulevard")
    safe, case = make.location(a, "SAFE", "safe", "Main safe"), make.location(a, "SC1", "showcase", "Showcase")
    people = {role: make.user(role, [a], username=role) for role in ("associate", "vault", "manager", "admin")}
    lot = make.lot(safe, pieces=10, serials=["R-1", "R-2"], number="RINGS-1")
    ring = lot.items[0]
    for kw in (
        {"result": "pass", "split": Split(Quantity(8), Quantity(), Quantity())},
        {"result": "fail", "hold": Hold("part", safe, Quantity(4))},
        {"result": "hold", "hold": Hold("item"), "item": ring},
    ):
        record_inspection(lot, points={}, event_id=new_event_id(), by=people["vault"], store=a, **kw)
    db.session.commit()
    return {"a": a, "b": b, "safe": safe, "case": case, "lot": lot, "ring": ring, "q": stores.quarantine(a), **people}


def held_line(shop, pieces=1):
    return MoveLine(lot=shop["lot"], source=shop["q"], pieces=pieces)


def let_go(shop, *, by="manager", dest="safe", reason="Checked again: fine.", **kw):
    dest = shop[dest] if isinstance(dest, str) else dest
    return release(shop["lot"], dest=dest, reason=reason, event_id=new_event_id(), by=shop[by], store=shop["a"], **kw)


def test_every_store_has_one_quarantine_with_its_tag(shop, make):
    quarantine = shop["q"]
    assert (quarantine.code, quarantine.kind, quarantine.is_physical) == ("QUARANTINE", "quarantine", True)
    assert quarantine.tag.code == "A-QUARANTINE"
    assert stores.quarantine(shop["a"]) is quarantine
    assert quarantine not in stores.physical_locations(shop["a"])  # not a place to choose for stock
    with pytest.raises(DomainError, match="Choose one of"):
        stores.create_location(shop["a"], "Q2", "Second quarantine", "quarantine")
    assert "quarantine" not in stores.PLACE_KINDS


def test_a_store_made_before_holds_gets_its_quarantine_when_first_needed(make):
    store = make.store("OLD")
    old = stores.quarantine(store)
    db.session.delete(old.tag)
    db.session.delete(old)
    db.session.flush()
    db.session.expire(store)
    assert all(loc.kind != "quarantine" for loc in store.locations)
    made = stores.quarantine(store)
    assert (made.kind, made.tag.code) == ("quarantine", "OLD-QUARANTINE")
    assert db.session.scalar(select(func.count()).select_from(Location).where(Location.kind == "quarantine")) == 1


def test_the_fixture_holds_four_pieces_and_one_item(shop):
    lot, q = shop["lot"], shop["q"]
    assert ledger.balance_at(lot, q) == (5, 0) and shop["ring"].location == q
    assert ledger.balance_at(lot, shop["safe"]) == (5, 0)
    assert ledger.check_ledger() == []


MESSAGE = r"^RINGS-1 is on hold in Quarantine \(A\): a manager must release it first\.$"
ITEM_MESSAGE = r"^R-1 is on hold in Quarantine \(A\): a manager must release it first\.$"


@pytest.mark.parametrize("what", ["lot", "item"])
def test_held_stock_cannot_be_moved(shop, what):
    line = MoveLine(item=shop["ring"]) if what == "item" else held_line(shop)
    with pytest.raises(DomainError, match=ITEM_MESSAGE if what == "item" else MESSAGE):
        move_stock(shop["case"], [line], event_id=new_event_id(), by=shop["manager"], store=shop["a"])
    with pytest.raises(DomainError, match=ITEM_MESSAGE):  # the item sorts first of what sits there
        move_location_contents(shop["q"], shop["case"], event_id=new_event_id(), by=shop["manager"], store=shop["a"])


@pytest.mark.parametrize("what", ["lot", "item"])
def test_held_stock_cannot_be_sold(shop, what):
    line = MoveLine(item=shop["ring"]) if what == "item" else held_line(shop)
    with pytest.raises(DomainError, match=ITEM_MESSAGE if what == "item" else MESSAGE):
        sell([line], price=Decimal("100"), receipt="R-1", event_id=new_event_id(), by=shop["manager"], store=shop["a"])


@pytest.mark.parametrize("what", ["lot", "item"])
def test_held_stock_cannot_be_shipped(shop, what):
    line = MoveLine(item=shop["ring"]) if what == "item" else held_line(shop)
    with pytest.raises(DomainError, match=ITEM_MESSAGE if what == "item" else MESSAGE):
        ship([line], shop["b"], reference="WB", carrier="Courier", event_id=new_event_id(), by=shop["manager"],
             store=shop["a"])  # fmt: skip


@pytest.mark.parametrize("kind", sorted(set(MOVEMENT_KINDS) - {"release", "vendor_return", "adjust"}))
def test_the_ledger_lets_only_release_vendor_return_and_adjust_out_of_quarantine(shop, make, kind):
    """consume (the bench), sell, ship, move and every other kind are refused in ledger.post itself."""
    event = make.event(shop["manager"], shop["a"])
    dest = {"consume": "production", "sell": "customer", "ship": "transit", "write_off": "loss"}.get(kind)
    target = shop["a"].virtual(dest) if dest else shop["case"]
    with pytest.raises(DomainError, match=MESSAGE):
        ledger.post(event, kind, shop["lot"], shop["q"], target, 1)


def test_a_count_can_still_correct_what_is_in_quarantine(shop, make):
    event = make.event(shop["manager"], shop["a"])
    ledger.post(event, "adjust", shop["lot"], shop["q"], shop["a"].virtual("loss"), 1, note="Count: one missing")
    assert ledger.balance_at(shop["lot"], shop["q"]) == (4, 0)


def test_nothing_is_moved_into_quarantine_except_by_a_hold(shop):
    line = MoveLine(lot=shop["lot"], source=shop["safe"], pieces=1)
    with pytest.raises(DomainError, match=r"Quarantine \(A\) is for stock on hold: record an inspection"):
        move_stock(shop["q"], [line], event_id=new_event_id(), by=shop["manager"], store=shop["a"])


def test_a_scan_offers_stock_outside_quarantine_first(shop):
    line = lines_for_scan(shop["lot"], shop["a"])
    assert (line.source, line.pieces) == (shop["safe"], 4)  # 5 pieces there, one of them item R-2


def test_a_manager_releases_part_of_a_lot_with_a_reason(shop):
    movement = let_go(shop, quantity=Quantity(3), reason="  Re-measured: within tolerance.  ")
    assert (movement.kind, movement.from_location, movement.to_location, movement.pieces) == (
        "release", shop["q"], shop["safe"], 3
    )  # fmt: skip
    assert (movement.note, movement.user) == ("Re-measured: within tolerance.", shop["manager"])
    assert ledger.balance_at(shop["lot"], shop["q"]) == (2, 0)
    # Released stock may be sold again.
    line = MoveLine(lot=shop["lot"], source=shop["safe"], pieces=7)
    sell([line], price=Decimal("700"), receipt="R-9", event_id=new_event_id(), by=shop["manager"], store=shop["a"])
    assert ledger.check_ledger() == []


def test_releasing_the_item_and_sending_the_rest_back(shop):
    ring = shop["ring"]
    let_go(shop, item=ring, dest="case", by="admin")
    assert ring.location == shop["case"]
    back = let_go(shop, quantity=Quantity(4), dest=shop["a"].virtual("vendor_return"), reason="Wrong size")
    assert (back.kind, back.pieces) == ("vendor_return", 4)
    assert ledger.balance_at(shop["lot"], shop["q"]) == (0, 0)
    assert ledger.check_ledger() == []


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"reason": "   "}, "Give the reason for the release."),
        ({"quantity": Quantity(5)}, r"Only 4 pcs of lot RINGS-1 in Quarantine \(A\) are loose"),
        ({"quantity": Quantity()}, "Say how many pieces"),
        ({"quantity": Quantity(1, Decimal("0.5"))}, "counted in pieces only"),
        ({"item": "R-2"}, "Item R-2 is not on hold in Avenue."),
        ({"dest": "q"}, r"is for stock on hold"),
    ],
)
def test_bad_releases_are_refused(shop, kw, message):
    if kw.get("item") == "R-2":
        kw["item"] = shop["lot"].items[1]
    kw.setdefault("quantity", Quantity(1))
    with pytest.raises(DomainError, match=message):
        let_go(shop, **kw)


@pytest.mark.parametrize("role", ["associate", "vault"])
def test_only_managers_and_admins_release(shop, client_for, role):
    with pytest.raises(Forbidden):
        let_go(shop, by=role, quantity=Quantity(1))
    assert client_for(shop[role]).get(f"/holds/{shop['lot'].id}/release").status_code == 403
    assert f"/holds/{shop['lot'].id}/release" not in client_for(shop[role]).get(f"/lots/{shop['lot'].id}").text


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_release_screen(shop, client_for):
    lot, client = shop["lot"], client_for(shop["manager"])
    lot_page = client.get(f"/lots/{lot.id}").text
    assert 'id="on-hold"' in lot_page and "5 pcs in Quarantine (A)" in lot_page
    url = f"/holds/{lot.id}/release"
    assert f'href="{url}"' in lot_page
    page = client.get(url).text
    assert (
        "<strong>4 pcs</strong> loose and <strong>1 item</strong>" in page
        and "Item R-1" in page
        and "Back to the supplier" in page
    )
    assert re.search(r'<input [^>]*name="pieces"[^>]*value="4"', page)
    data = {"item_id": "", "pieces": "2", "dest_id": str(shop["case"].id), "reason": "Fine after all"}
    response = client.post(url, data={**data, "event_id": str(uuid.uuid4())})
    assert response.status_code == 302 and response.headers["Location"] == f"/lots/{lot.id}"
    assert ledger.balance_at(lot, shop["case"]) == (2, 0)
    item = client.post(
        url,
        data={"item_id": str(shop["ring"].id), "dest_id": str(shop["safe"].id), "reason": "Polished",
              "event_id": str(uuid.uuid4())},
        headers=HX,
    )  # fmt: skip
    assert item.status_code == 204 and item.headers["HX-Redirect"] == f"/items/{shop['ring'].id}"
    assert shop["ring"].location == shop["safe"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": ""}, "reason", "Give the reason for the release."),
        ({"dest_id": ""}, "dest_id", "Choose where it goes."),
        ({"pieces": "9"}, None, "Only 4 pcs of lot RINGS-1 in Quarantine (A) are loose"),
        ({"pieces": "two"}, "pieces", "Pieces must be a number"),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_bad_release_input_is_refused_and_writes_nothing(shop, client_for, data, field, message, headers):
    before = (count(Movement), count(Event))
    form = {"item_id": "", "pieces": "1", "dest_id": str(shop["safe"].id), "reason": "Fine", **data}
    response = client_for(shop["manager"]).post(
        f"/holds/{shop['lot'].id}/release", data={**form, "event_id": str(uuid.uuid4())}, headers=headers
    )
    assert response.status_code == 422 and message in html.unescape(response.text)
    if field:
        assert f'id="{field}-msg" role="alert"' in response.text
    if headers:
        assert response.text.lstrip().startswith('<div id="release-form">')
    assert (count(Movement), count(Event)) == before


def test_release_of_another_stores_lot_is_not_found(shop, make, client_for):
    theirs = make.lot(make.location(shop["b"], "SAFE"), pieces=1)
    assert client_for(shop["manager"]).get(f"/holds/{theirs.id}/release").status_code == 404
