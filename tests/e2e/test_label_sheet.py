"""A phone opens a lot's label sheet; printed, each barbell tag comes out at its real size with readable QRs."""

import os

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from scanapp.extensions import db

SHOTS = os.environ.get("SCANAPP_SHOTS_DIR", "")
MM = 96 / 25.4  # CSS pixels per millimetre


def test_lot_sheet_prints_barbell_tags_at_real_size(page, live_server, make, sign_in, tmp_path):
    store = make.store("A", "Avenue Jewelers")
    safe = make.location(store, "SAFE", "safe", "Main safe")
    user = make.user("associate", [store], username="alex")
    lot = make.lot(safe, pieces=3, serials=["R-1001", "R-1002", "R-1003"], number="ACME-0426-FN-001", by=user)
    db.session.commit()
    sign_in(page, user)

    page.goto(f"{live_server}/labels/sheet?lot={lot.id}")
    expect(page.locator("h1")).to_contain_text("Lot ACME-0426-FN-001")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    expect(page.get_by_role("link", name="Download ZPL")).to_have_attribute("href", f"/labels/sheet.zpl?lot={lot.id}")
    labels = page.locator(".barbell")
    expect(labels).to_have_count(4)
    page.wait_for_function("[...document.images].every(img => img.complete && img.naturalWidth > 0)")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/labels-sheet-phone.png", full_page=True)

    page.set_viewport_size({"width": round(210 * MM), "height": round(297 * MM)})  # an A4 page
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    box = labels.first.bounding_box()
    assert abs(box["width"] - 55.88 * MM) < 1 and abs(box["height"] - 12.7 * MM) < 1
    qr = page.locator(".barbell img.qr").first.bounding_box()
    assert qr["width"] / MM / 37 >= 0.25  # the lot number's URL is a version 3 QR: 37 modules with quiet zone
    shot = tmp_path / "print.png"
    page.screenshot(path=str(shot), full_page=True)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/labels-sheet-print.png", full_page=True)
        page.pdf(path=f"{SHOTS}/labels-sheet.pdf", prefer_css_page_size=True)
    with Image.open(shot) as image:
        found = {r.text for r in zxingcpp.read_barcodes(image.convert("L"))}
    assert {"HTTPS://SCAN.EXAMPLE/T/ACME-0426-FN-001", "HTTPS://SCAN.EXAMPLE/T/R-1003"} <= found
