"""On a phone: search for a lot as one types, open it, and see where its pieces are before anything else."""

from decimal import Decimal

from playwright.sync_api import expect

from scanapp.extensions import db
from scanapp.services import ledger


def test_phone_finds_a_lot_and_sees_where_its_pieces_are(page, live_server, make, sign_in):
    main, mall = make.store("MAIN", "Main Street"), make.store("MALL", "Galleria")
    safe = make.location(main, "SAFE", "safe", "Main safe")
    mall_case = make.location(mall, "SC2", "showcase", "Mall showcase")
    user = make.user("associate", [main, mall])
    lot = make.lot(safe, pieces=24, weight="4.800", weight_unit="ct", category="stone", number="SUN-0426-ST-001")
    lot.description = "Blue sapphires, oval 6x4"
    event = make.event(user, main)
    ledger.post(event, "ship", lot, safe, main.virtual("transit"), 12, Decimal("2.400"))
    ledger.post(event, "arrive", lot, main.virtual("transit"), mall_case, 12, Decimal("2.400"))
    ledger.post(event, "sell", lot, mall_case, mall.virtual("customer"), 2, Decimal("0.400"))
    db.session.commit()

    sign_in(page, user)
    page.get_by_role("link", name="Search").click()
    page.get_by_role("searchbox").press_sequentially("sapph", delay=30)
    result = page.locator("#lot-results").get_by_role("link", name="SUN-0426-ST-001")
    expect(result).to_be_visible()
    expect(page).to_have_url(f"{live_server}/search/?q=sapph")  # the typed search is in the address bar
    result.click()

    expect(page.locator("h1")).to_have_text("SUN-0426-ST-001")
    where = page.locator("#where")
    expect(where).to_be_in_viewport()
    expect(where).to_contain_text("12 pcs · 2.400 ct in Main Street")
    expect(where).to_contain_text("10 pcs · 2.000 ct in Galleria")
    expect(where).to_contain_text("2 pcs · 0.400 ct with customers")
    expect(where).to_contain_text("Total 24 pcs · 4.800 ct of 24 pcs · 4.800 ct received")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
