"""The phone camera reads tags: Chromium's fake camera plays a video of a QR URL, a Code 128 or a DataMatrix tag,
and the lookup page shows what it is on. Each test launches its own Chromium, since the video is a launch flag."""

import pytest
from playwright.sync_api import expect

from scanapp.extensions import db
from tests.e2e.camera import code128_image, datamatrix_image, qr_image, write_y4m
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE

FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture
def camera_page(playwright, tmp_path):
    """camera_page(symbol): a phone-sized page in a Chromium whose camera films `symbol` (a PIL image)."""
    browsers = []

    def open_page(symbol):
        video = write_y4m(tmp_path / f"camera-{len(browsers)}.y4m", symbol)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}"]
        )
        browsers.append(browser)
        return browser.new_context(**PHONE).new_page()

    yield open_page
    for browser in browsers:
        browser.close()


@pytest.fixture
def shop(make):
    store = make.store("A")
    safe = make.location(store, "SAFE1", name="Main safe")
    lot = make.lot(safe, pieces=12, number="ACME-0426-FN-001", serials=["IT-000123"])
    user = make.user("vault", [store], username="vera")
    db.session.commit()
    return {"user": user, "lot": lot}


def test_camera_reads_a_qr_url_tag_and_shows_the_lot(camera_page, live_server, sign_in, shop):
    page = camera_page(qr_image("HTTPS://SCAN.EXAMPLE/T/ACME-0426-FN-001", module=3))
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in(page, shop["user"])
    assert not any("camera.js" in url or ".wasm" in url for url in requests), "decoder loaded before the camera"

    page.get_by_role("button", name="Camera").click()
    result = page.locator("#scan-result")
    expect(result.locator(".result-title")).to_have_text("ACME-0426-FN-001", timeout=20_000)
    expect(result).to_contain_text("Main safe (A)")
    expect(result).to_contain_text("12 pcs")

    assert any(url.endswith("/static/vendor/zxing-wasm-3.1.3/zxing_reader.wasm") for url in requests)
    assert all(url.startswith(live_server) for url in requests), "everything must come from the app"
    page.get_by_role("button", name="Close camera").click()
    expect(page.locator("[data-scanner-view]")).to_be_hidden()
    assert page.evaluate("document.querySelector('[data-scanner-video]').srcObject") is None


def test_camera_reads_a_code_128_and_shows_the_item(camera_page, sign_in, shop):
    page = camera_page(code128_image("IT-000123", module=3))
    sign_in(page, shop["user"])
    page.get_by_role("button", name="Camera").click()
    result = page.locator("#scan-result")
    expect(result.locator(".result-title")).to_have_text("IT-000123", timeout=20_000)
    expect(result.locator(".result-where")).to_have_text("Main safe (A)")


def test_camera_reads_a_datamatrix_and_shows_the_place(camera_page, sign_in, shop):
    page = camera_page(datamatrix_image("A-SAFE1", module=4))
    sign_in(page, shop["user"])
    page.get_by_role("button", name="Camera").click()
    result = page.locator("#scan-result")
    expect(result.locator(".result-title")).to_have_text("Main safe", timeout=20_000)
    expect(result).to_contain_text("ACME-0426-FN-001")
    expect(result).to_contain_text("IT-000123")


def test_a_phone_without_a_camera_is_told_what_to_do(page, sign_in, shop):
    """The shared headless browser has no camera at all: the scanner says so and offers the other ways."""
    sign_in(page, shop["user"])
    page.get_by_role("button", name="Camera").click()
    status = page.locator("[data-scanner-status]")
    expect(status).to_contain_text("No camera was found on this device")
    expect(status).to_contain_text("type the code")
    expect(page.locator("[data-scanner-view]")).to_be_hidden()
    expect(page.get_by_role("button", name="Camera")).to_be_visible()
