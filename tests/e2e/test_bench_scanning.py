"""At the bench on a phone: open a job, scan two lots of stones and a lot of gold with a keyboard-wedge scanner,
enter how much of each was used, and see the totals in pieces, ct and g."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from scanapp.extensions import db
from scanapp.models import Movement
from scanapp.services import bench, ledger
from tests.e2e.conftest import wedge_scan as scan


@pytest.fixture
def shop(make):
    store = make.store("A", "Main Street")
    bench_place = make.location(store, "BENCH1", kind="bench", name="Bench 1")
    safe = make.location(store, "SAFE1", name="Main safe")
    make.lot(bench_place, pieces=120, weight="3.600", weight_unit="ct", category="stone", number="MEL-0426-ST-001")
    make.lot(safe, pieces=4, weight="1.000", weight_unit="ct", category="stone", number="SAP-0426-ST-002")
    make.lot(safe, pieces=0, weight="50.000", weight_unit="g", category="metal", number="AU14-0426-MT-001")
    jo = make.user("bench", [store], username="jo")
    job = bench.NewJob(kind="custom", description="Halo ring, 14K yellow", bench=bench_place, jeweler=jo)
    wo = bench.open_work_order(job, event_id="6f1c1b7e-2f7e-4a43-9d0e-2b8f4a1c0d11", by=jo, store=store)
    db.session.commit()
    return {"user": jo, "wo": wo, "bench": bench_place, "safe": safe}


def use(page, code, source, pieces=None, weight=None):
    """Scan a lot's tag, check the place it is taken from, then enter what was taken and log it."""
    scan(page, code)
    answer = page.locator("#scan-result")
    expect(answer.locator(".result-title")).to_have_text(code)
    expect(answer.get_by_label("Take from").locator("option:checked")).to_have_text(source)
    if pieces is not None:
        answer.get_by_label("Pieces").fill(pieces)
    if weight is not None:
        answer.get_by_label(re.compile("^Weight")).fill(weight)
    answer.get_by_role("button", name=re.compile("^Use for")).click()
    expect(page.locator("#scan-result .flash")).to_contain_text(f"of lot {code}.")


def test_log_two_stones_and_gold_to_a_job_by_scanning(page, live_server, sign_in, shop):
    sign_in(page, shop["user"])
    page.goto(f"{live_server}/bench/")
    page.get_by_role("link", name=re.compile(shop["wo"].code)).click()
    expect(page.locator("h1")).to_have_text(shop["wo"].code)
    expect(page.locator("[data-scanner-input]")).to_be_focused()

    use(page, "MEL-0426-ST-001", "Bench 1 · 120 pcs · 3.600 ct", pieces="3", weight="0.090")
    expect(page.locator("#bench-totals")).to_contain_text("3 pcs")
    use(page, "SAP-0426-ST-002", "Main safe · 4 pcs · 1.000 ct", pieces="1", weight="0.250")
    use(page, "AU14-0426-MT-001", "Main safe · 50.000 g", weight="4.2")

    totals = page.locator("#bench-totals")
    expect(totals).to_contain_text("4 pcs")
    expect(totals).to_contain_text("0.340 ct")
    expect(totals).to_contain_text("4.200 g")
    expect(page.locator(".bench-line")).to_have_count(3)
    expect(page.locator("[data-scanner-input]")).to_be_focused()  # ready for the next tag

    consumed = db.session.query(Movement).filter_by(kind="consume").order_by(Movement.id).all()
    assert [(m.lot.number, m.from_location, m.pieces, m.weight, m.reference) for m in consumed] == [
        ("MEL-0426-ST-001", shop["bench"], 3, Decimal("0.090"), shop["wo"].code),
        ("SAP-0426-ST-002", shop["safe"], 1, Decimal("0.250"), shop["wo"].code),
        ("AU14-0426-MT-001", shop["safe"], 0, Decimal("4.200"), shop["wo"].code),
    ]
    assert ledger.check_ledger() == []
