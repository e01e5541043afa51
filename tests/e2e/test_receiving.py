"""A phone receives a stone lot: the number follows supplier and category, a refused save keeps what was typed
(files too), and the lot page opens."""

import re
from decimal import Decimal

from playwright.sync_api import expect
from sqlalchemy import select

from scanapp.extensions import db
from scanapp.models import Lot

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def settled(page) -> None:
    """Wait until HTMX has swapped and wired up the new content (its triggers attach when it settles)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-added, .htmx-settling')")


def test_phone_receives_a_stone_lot_and_lands_on_its_page(page, live_server, make, sign_in):
    store = make.store("A", "Avenue Jewelers")
    make.location(store, "SAFE", "safe", "Main safe")
    make.supplier("SUP", "Sunrise Gems")
    user = make.user("vault", [store], username="vera")
    db.session.commit()
    sign_in(page, user)

    page.get_by_role("link", name="Receive").click()
    expect(page.get_by_role("heading", name="Receive a shipment")).to_be_visible()
    number = page.get_by_label("Lot number")
    expect(number).to_have_value(re.compile(r"^LOT-\d{4}-ST-001$"))

    page.get_by_label("Supplier").select_option(label="Sunrise Gems · SUP")
    expect(number).to_have_value(re.compile(r"^SUP-\d{4}-ST-001$"))  # refreshed over HTMX
    settled(page)
    page.get_by_label("Category").select_option("metal")
    expect(number).to_have_value(re.compile(r"^SUP-\d{4}-MT-001$"))
    settled(page)
    expect(page.get_by_label("Unit")).to_have_value("g")  # the unit follows the category
    page.get_by_label("Category").select_option("stone")
    expect(page.get_by_label("Unit")).to_have_value("ct")
    expect(number).to_have_value(re.compile(r"^SUP-\d{4}-ST-001$"))

    page.get_by_label("Put it in").select_option(label="Main safe · SAFE")
    page.get_by_label("Pieces").fill("120")
    page.get_by_label("Weight", exact=True).fill("3.600")
    page.get_by_label("Cost", exact=True).fill("45")
    page.get_by_label("Cost is").select_option("weight")
    page.get_by_label("Documents").set_input_files(
        files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Receive lot").click()  # no description yet: refused

    error = page.locator("#description-msg")
    expect(error).to_have_text("Describe what arrived.")
    expect(page.get_by_label("Description")).to_be_focused()
    expect(page.get_by_label("Pieces")).to_have_value("120")
    assert page.get_by_label("Documents").evaluate("input => input.files.length") == 1

    page.get_by_label("Description").fill("Diamond melee, round 1.3 mm")
    page.get_by_role("button", name="Receive lot").click()
    page.wait_for_url(re.compile(r"/lots/\d+$"))

    lot = db.session.scalar(select(Lot))
    assert page.url == f"{live_server}/lots/{lot.id}"
    assert (lot.supplier.code, lot.category, lot.pieces_received) == ("SUP", "stone", 120)
    assert (lot.weight_received, lot.weight_unit, lot.cost_total) == (Decimal("3.600"), "ct", Decimal("162.00"))
    assert re.fullmatch(r"SUP-\d{4}-ST-001", lot.number)
    assert [d.filename for d in lot.documents] == ["invoice.pdf"]
    expect(page.get_by_text(f"Received lot {lot.number}")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
