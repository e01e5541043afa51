"""At the counter on a phone: a customer brings back a ring. The associate scans its tag with a keyboard-wedge
scanner, sees its sale and how the rest of its lot fared, chooses a reason and "restock to the showcase", and
sees the ring back in the showcase."""

import os
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from scanapp.extensions import db
from scanapp.models import Return
from scanapp.services import ledger
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine
from scanapp.services.sales import sell
from tests.e2e.conftest import wedge_scan


@pytest.fixture
def counter(make):
    store = make.store("A", "Main Street")
    showcase = make.location(store, "SC1", kind="showcase", name="Showcase 1")
    lot = make.lot(showcase, pieces=3, serials=["R-1", "R-2", "R-3"], number="SOL-0426-FN-001")
    clerk = make.user("associate", [store], username="ann")
    for item, price in ((lot.items[0], "1250.00"), (lot.items[1], "1300.00")):
        sell([MoveLine(item=item)], price=Decimal(price), receipt=f"RC-{item.serial}", event_id=new_event_id(),
             by=clerk, store=store)  # fmt: skip
    db.session.commit()
    return {"user": clerk, "showcase": showcase, "item": lot.items[0]}


def test_a_return_at_the_counter_restocks_the_showcase(page, live_server, sign_in, counter):
    sign_in(page, counter["user"])
    page.goto(f"{live_server}/returns/new")
    page.locator("[data-scanner-input]").focus()
    wedge_scan(page, "R-1")

    form = page.locator("#return-form")
    expect(form.locator("#return-sale")).to_contain_text("1,250.00")
    expect(form.locator("#return-sale")).to_contain_text("RC-R-1")
    expect(form.locator("#lot-summary")).to_contain_text("2 sold")
    expect(form).not_to_contain_text("Cost")

    form.get_by_label("Reason").select_option(label="Size")
    form.get_by_label("Restock").check()
    form.get_by_label("Place").select_option(label="Showcase 1 · SC1")
    if shots := os.environ.get("SHOTS_DIR"):
        page.screenshot(path=f"{shots}/returns-counter.png", full_page=True)
    form.get_by_role("button", name="Record the return").click()

    record = page.locator("#return-record")
    expect(record).to_contain_text("Size")
    expect(record).to_contain_text("Customers → Showcase 1")
    if shots:
        page.screenshot(path=f"{shots}/returns-detail.png", full_page=True)
    record.get_by_role("link", name="R-1").click()
    expect(page.locator("body")).to_contain_text("Showcase 1")

    db.session.expire_all()
    assert counter["item"].location == counter["showcase"]
    assert db.session.query(Return).one().sale.reference == "RC-R-1"
    assert ledger.check_ledger() == []
