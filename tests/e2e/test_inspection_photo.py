"""On a phone: inspect a new lot of rings, tick the checklist, attach a photo, hold one ring back, and see the
inspection with its thumbnail on the lot page."""

import io

from PIL import Image
from playwright.sync_api import expect

from scanapp.extensions import db


def photo_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (180, 140, 40)).save(out, "JPEG")
    return out.getvalue()


def test_phone_inspects_a_lot_with_a_photo(page, live_server, make, sign_in):
    store = make.store("A", "Avenue Jewelers")
    safe = make.location(store, "SAFE", "safe", "Main safe")
    user = make.user("vault", [store], username="vera")
    lot = make.lot(safe, pieces=6, category="finished", number="BEL-0426-FN-001", by=user)
    db.session.commit()
    sign_in(page, user)

    page.goto(f"{live_server}/lots/{lot.id}")
    page.get_by_role("link", name="Inspect").click()
    expect(page.get_by_role("heading", name="Checklist")).to_be_visible()
    for point in ("Count matches", "No damage", "Clasp and settings"):
        page.get_by_role("group", name=point).get_by_text("Pass", exact=True).click()
    page.get_by_role("group", name="Matches the order").get_by_text("Fail", exact=True).click()
    expect(page.get_by_role("group", name="Matches the order").get_by_role("radio", name="Fail")).to_be_checked()
    page.get_by_role("group", name="Result").get_by_text("Fail", exact=True).click()
    expect(page.get_by_label("Accepted pieces")).to_have_value("6")
    page.get_by_label("Pieces on hold").fill("1")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "ring.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}]
    )
    preview = page.locator("#photo-previews img")
    expect(preview).to_have_count(1)
    page.wait_for_function("() => document.querySelector('#photo-previews img').naturalWidth > 0")
    page.get_by_role("button", name="Save inspection").click()

    # Six accepted and one held is seven: refused, with what was ticked and attached kept.
    expect(page.locator("#accept_pieces-msg")).to_contain_text("add up to 7 pcs, but 6 pcs")
    expect(page.get_by_role("group", name="Matches the order").get_by_role("radio", name="Fail")).to_be_checked()
    assert page.locator("input[type=file]").evaluate("input => input.files.length") == 1
    page.get_by_label("Accepted pieces").fill("5")
    page.get_by_role("button", name="Save inspection").click()

    page.wait_for_url(f"{live_server}/lots/{lot.id}")
    history = page.locator("#inspections")
    expect(history).to_contain_text("Failed")
    expect(history).to_contain_text("Matches the order")
    expect(history).to_contain_text("Put on hold: 1 pc")
    expect(page.locator("#on-hold")).to_contain_text("1 pc in Quarantine (A)")
    thumb = history.locator(".insp-thumbs img")
    expect(thumb).to_have_count(1)
    thumb.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('.insp-thumbs img').naturalWidth === 320")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    with page.context.expect_page() as opened:
        thumb.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.evaluate("document.images[0].naturalWidth") == 1600
