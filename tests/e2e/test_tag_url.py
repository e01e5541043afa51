"""A phone's own camera app reads a printed QR and opens the tag's URL: after sign-in, the lookup page shows what
the tag is on, and the page's scanner is ready for the next tag."""

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import wedge_scan as scan
from tests.e2e.test_scanner_wedge import shop  # noqa: F401  (the same shop: a safe, a lot, an item, an associate)


def test_a_tag_url_signs_in_then_shows_the_lookup_and_scans_on(page, live_server, shop):  # noqa: F811
    page.goto(f"{live_server}/T/ACME-0426-FN-001")  # as printed in the QR: upper case
    page.get_by_label("Username").fill(shop["user"].username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server}/T/ACME-0426-FN-001")
    title = page.locator("#scan-result .result-title")
    expect(title).to_have_text("ACME-0426-FN-001")
    expect(page.locator("#scan-result .scan-where")).to_contain_text("Main safe (A)")
    result = page.locator("#scan-result")
    expect(result.get_by_role("link", name="Open lot")).to_be_visible()
    expect(result.get_by_role("link", name="Move")).to_be_visible()

    scan(page, "IT-000123")  # the next tag, with the scanner of the same page
    expect(title).to_have_text("IT-000123")
    expect(page.locator("#scan-result .result-where")).to_have_text("Main safe (A)")

    page.goto(f"{live_server}/t/NOPE-1")
    expect(page.locator("#scan-result .result-heading")).to_have_text("Unknown code")
