"""A keyboard-wedge scanner (a USB or Bluetooth scanner that types the code and Enter) and a person typing."""

import pytest
from playwright.sync_api import expect

from scanapp.extensions import db
from tests.e2e.conftest import wedge_scan as scan


@pytest.fixture
def shop(make):
    store = make.store("A")
    safe = make.location(store, "SAFE1", name="Main safe")
    make.lot(safe, pieces=3, number="ACME-0426-FN-001")
    make.lot(safe, pieces=5, number="ACME-0426-FN-002", serials=["IT-000123"])
    user = make.user("associate", [store], username="alex")
    db.session.commit()
    return {"user": user}


def test_wedge_bursts_are_looked_up_wherever_the_focus_is_and_repeats_ignored(page, sign_in, shop):
    lookups = []
    page.on(
        "request", lambda r: lookups.append(r.post_data) if r.method == "POST" and r.url.endswith("/scan") else None
    )
    sign_in(page, shop["user"])
    code_input = page.locator("[data-scanner-input]")
    expect(code_input).to_be_focused()  # ready for the scanner at once
    assert code_input.get_attribute("inputmode") == "none"  # no soft keyboard popping up

    scan(page, "ACME-0426-FN-001")
    title = page.locator("#scan-result .result-title")
    expect(title).to_have_text("ACME-0426-FN-001")
    expect(code_input).to_be_focused()  # ready for the next one
    expect(code_input).to_have_value("")

    scan(page, "ACME-0426-FN-001")  # the trigger held, or the same tag read twice: one lookup
    page.wait_for_timeout(400)
    assert len(lookups) == 1

    page.locator("h1").click()  # focus away from the input: the burst is still caught
    scan(page, "it-000123")
    expect(title).to_have_text("IT-000123")
    expect(page.locator("#scan-result .result-where")).to_have_text("Main safe (A)")
    assert len(lookups) == 2

    page.wait_for_timeout(1600)  # after 1.5 s the same code is a new scan
    with page.expect_response(lambda response: response.url.endswith("/scan")):
        scan(page, "it-000123")
    assert len(lookups) == 3

    recent = page.locator("[data-scan-recent] li")
    expect(recent).to_have_text(["Item IT-000123 · Test finished", "Lot ACME-0426-FN-001 · Test finished"])
    recent.nth(1).get_by_role("button").click()  # look the lot up again with one tap
    expect(title).to_have_text("ACME-0426-FN-001")


def test_a_person_types_a_code_slowly(page, sign_in, shop):
    sign_in(page, shop["user"])
    page.get_by_role("button", name="Type a code").click()
    code_input = page.locator("[data-scanner-input]")
    expect(code_input).to_be_focused()
    assert code_input.get_attribute("inputmode") == "text"  # now the soft keyboard may show
    scan(page, "acme-0426-fn-002", delay=120)
    expect(page.locator("#scan-result .result-title")).to_have_text("ACME-0426-FN-002")
    assert code_input.get_attribute("inputmode") == "none"  # and it hides again for the next scan

    code_input.fill("NO-SUCH-TAG")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#scan-result .result-title")).to_have_text("NO-SUCH-TAG")
    expect(page.locator("#scan-result")).to_contain_text("Unknown code")
    expect(page.get_by_role("link", name="Receive as a new lot")).to_have_count(0)  # associates do not receive
