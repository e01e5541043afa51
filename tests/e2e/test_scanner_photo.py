"""A photo of a tag, read on the server, when the live camera cannot read it."""

import io

from playwright.sync_api import expect

from scanapp.extensions import db
from tests.e2e.camera import frames, qr_image


def test_a_photo_of_a_tag_is_read_and_looked_up(page, sign_in, make):
    store = make.store("A")
    safe = make.location(store, "SAFE1", name="Main safe")
    make.lot(safe, pieces=2, number="ACME-0426-FN-001", serials=["IT-000123"])
    user = make.user("manager", [store], username="mia")
    db.session.commit()
    photo = io.BytesIO()
    next(frames(qr_image("HTTPS://SCAN.EXAMPLE/T/IT-000123", module=3), count=1)).save(photo, format="PNG")

    sign_in(page, user)
    page.locator("[data-scanner-photo]").set_input_files(
        {"name": "tag.png", "mimeType": "image/png", "buffer": photo.getvalue()}
    )
    result = page.locator("#scan-result")
    expect(result.locator(".result-title")).to_have_text("IT-000123")
    expect(result.locator(".result-where")).to_have_text("Main safe (A)")

    page.locator("[data-scanner-photo]").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"}
    )
    expect(page.locator("[data-scanner-status]")).to_have_text(
        "That file is not a photo. Take or choose a picture of the tag."
    )
    expect(result.locator(".result-title")).to_have_text("IT-000123")  # the last answer stays
