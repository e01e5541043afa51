"""A phone moves two rings from the safe to a showcase by scanning with a keyboard-wedge scanner: the showcase's tag,
then each ring's; a wrong tag in between is refused at once and loses nothing; one tap confirms."""

from playwright.sync_api import expect

from scanapp.extensions import db
from scanapp.models import Item
from tests.e2e.conftest import wedge_scan as scan


def test_phone_moves_two_items_to_a_showcase_by_scanning(page, live_server, sign_in, make):
    store = make.store("A", "Avenue Jewelers")
    safe = make.location(store, "SAFE", "safe", "Main safe")
    case = make.location(store, "SC1", "showcase", "Showcase 1")
    make.lot(safe, pieces=3, serials=["RING-001", "RING-002"], number="BEL-0426-FN-001")
    user = make.user("associate", [store], username="alex")
    db.session.commit()
    sign_in(page, user)
    assert page.viewport_size == {"width": 390, "height": 844}

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Move").click()
    expect(page.get_by_role("button", name="Move 0 lines")).to_be_visible()
    expect(page.locator("[data-scanner-input]")).to_be_focused()  # ready for the scanner at once

    form = page.locator("#move-form")
    scan(page, "A-SC1")
    expect(form.get_by_role("status")).to_have_text("Going to Showcase 1 ✓")
    expect(page.get_by_label("Move to")).to_have_value(str(case.id))
    scan(page, "RING-001")
    expect(form.get_by_role("status")).to_have_text("Item RING-001 ✓")
    scan(page, "NO-SUCH-TAG")
    expect(form.get_by_role("alert")).to_contain_text("No tag NO-SUCH-TAG")
    scan(page, "RING-002")
    expect(form.get_by_role("status")).to_have_text("Item RING-002 ✓")
    lines = form.locator(".mv-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("RING-001")
    expect(lines.nth(1)).to_contain_text("RING-002")

    page.get_by_role("button", name="Move 2 lines to Showcase 1").click()
    expect(page.get_by_role("heading", name="Moved 2 to Showcase 1")).to_be_visible()
    result = page.locator("#move-result")
    expect(result).to_contain_text("RING-001")
    expect(result).to_contain_text("RING-002")
    expect(result).to_contain_text("Main safe → Showcase 1")
    expect(page.get_by_role("button", name="Undo this move")).to_be_visible()

    db.session.expire_all()
    rings = db.session.scalars(db.select(Item).where(Item.serial.in_(["RING-001", "RING-002"]))).all()
    assert len(rings) == 2 and {ring.location_id for ring in rings} == {case.id}
