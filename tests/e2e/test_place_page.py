"""On a phone: a full place's page lists its lots and items a page at a time, and "Show more" adds the next page
under the ones shown, where the thumb is, without leaving the page."""

from playwright.sync_api import expect

from scanapp.extensions import db
from scanapp.services import history


def test_show_more_adds_the_next_lots_and_items_of_a_full_place(page, live_server, make, sign_in, monkeypatch):
    monkeypatch.setattr(history, "CONTENTS_SHOWN", 2)
    store = make.store("MAIN", "Main Street")
    safe = make.location(store, "SAFE", "safe", "Main safe")
    for n in range(1, 4):
        make.lot(safe, pieces=5, number=f"SUP-0426-RG-00{n}", serials=[f"RG-00{n}"])
    user = make.user("associate", [store])
    db.session.commit()

    sign_in(page, user)
    page.goto(f"{live_server}/locations/{safe.id}")
    contents = page.locator("#contents")
    lots, items = contents.locator("ul").nth(0), contents.locator("ul").nth(1)
    expect(contents.get_by_role("heading", name="Lots here 3")).to_be_visible()
    expect(lots.locator("a.rowlink")).to_have_count(2)
    expect(items.locator("a.rowlink")).to_have_count(2)

    lots.get_by_role("link", name="Show more lots").click()
    expect(lots.locator("a.rowlink")).to_have_count(3)
    expect(lots.locator("a.rowlink").nth(2)).to_contain_text("SUP-0426-RG-003")
    expect(lots.get_by_role("link", name="Show more lots")).to_have_count(0)
    items.get_by_role("link", name="Show more items").click()
    expect(items.locator("a.rowlink")).to_have_count(3)
    expect(items.locator("a.rowlink").nth(2)).to_contain_text("RG-003")
    expect(page).to_have_url(f"{live_server}/locations/{safe.id}")  # swapped in, not a new page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
