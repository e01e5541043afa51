"""A vault keeper counts a showcase with a keyboard-wedge scanner, loses the signal, keeps scanning (the scans wait
on the phone), reloads the page without signal (nothing is lost), and gets the signal back: every scan is counted
exactly once."""

import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Count, CountLine, Event
from scanapp.services import counts
from scanapp.services.events import new_event_id
from tests.e2e.conftest import wedge_scan as scan


def test_a_showcase_counted_partly_without_signal_counts_every_scan_once(page, context, live_server, make, sign_in):
    store = make.store("A", "Avenue Jewelers")
    case = make.location(store, "SC1", "showcase", "Showcase 1")
    make.lot(case, pieces=5, serials=["RING-1", "RING-2", "RING-3", "RING-4", "RING-5"], number="RINGS")
    make.lot(case, pieces=20, number="BEADS")
    user = make.user("vault", [store], username="vera")
    db.session.commit()
    sign_in(page, user)

    page.goto(f"{live_server}/locations/{case.id}")
    page.get_by_role("link", name="Start a count here").click()
    expect(page.get_by_label("Blind count: hide the expected quantities from the counters")).to_be_checked()
    page.get_by_role("button", name="Start counting").click()
    expect(page.get_by_role("heading", name="Showcase 1")).to_be_visible()
    count = db.session.scalar(select(Count))
    lines, pending = page.locator("#count-lines"), page.locator("[data-count-pending]")
    # The service worker is running and has kept the page for later.
    page.wait_for_function(
        "async () => navigator.serviceWorker.controller !== null && !!(await caches.match(location.pathname))"
    )

    expect(page.locator("[data-scanner-input]")).to_be_focused()
    scan(page, "RING-1")
    expect(lines.locator(".count-answer")).to_have_text("Counted item RING-1 · Test finished.")
    scan(page, "RING-2")
    expect(lines.locator(".count-line")).to_have_count(2)
    expect(pending).to_be_hidden()

    context.set_offline(True)  # into the vault: no signal
    for code in ("RING-3", "RING-4", "BEADS"):
        scan(page, code)
    expect(pending).to_be_visible()
    expect(pending.locator("h2")).to_contain_text("Waiting for signal")
    rows = pending.locator(".count-pending-row")
    expect(rows.locator(".mono")).to_have_text(["RING-3", "RING-4", "BEADS"])
    beads = rows.filter(has_text="BEADS")
    beads.get_by_role("button", name="Pieces").click()  # the lot's pieces, entered without signal
    beads.get_by_label("Pieces").fill("20")
    beads.get_by_role("button", name="Save").click()
    expect(rows.filter(has_text="BEADS")).to_contain_text("20 pcs")
    expect(page.get_by_role("button", name="Finish counting and send to review")).to_be_disabled()
    assert db.session.scalar(select(func.count()).select_from(CountLine)) == 2  # nothing reached the server

    reloaded = page.reload()  # a refresh without signal: the page comes from the phone, the queue from IndexedDB
    assert reloaded.from_service_worker
    expect(page.get_by_role("heading", name="Showcase 1")).to_be_visible()
    expect(rows.locator(".mono")).to_have_text(["RING-3", "RING-4", "BEADS"])
    expect(page.locator("[data-scanner-input]")).to_be_focused()
    scan(page, "RING-5")  # still scanning after the reload
    expect(rows).to_have_count(4)

    context.set_offline(False)  # back out of the vault
    expect(pending).to_be_hidden(timeout=15000)
    expect(lines.locator(".count-line")).to_have_count(6)
    for code in ("RING-1", "RING-2", "RING-3", "RING-4", "RING-5", "BEADS"):
        expect(lines.locator(".count-line .mono", has_text=code)).to_have_count(1)
    expect(lines.locator(".count-line", has_text="BEADS")).to_contain_text("20 pcs")
    expect(page.get_by_role("button", name="Finish counting and send to review")).to_be_enabled()

    db.session.expire_all()
    saved = db.session.scalars(select(CountLine).where(CountLine.count_id == count.id)).all()
    assert sorted(line.item.serial if line.item else line.lot.number for line in saved) == [
        "BEADS", "RING-1", "RING-2", "RING-3", "RING-4", "RING-5",
    ]  # fmt: skip
    assert [line.pieces for line in saved if line.item is None] == [20]
    assert all(not line.repeated for line in saved)
    events = db.session.scalar(select(func.count()).select_from(Event).where(Event.action == "count_line"))
    assert events == 6

    page.reload()  # online again: the count as the server has it, nothing left on the phone
    expect(lines.locator(".count-line")).to_have_count(6)
    expect(pending).to_be_hidden()
    assert (
        page.evaluate(
            """() => new Promise((resolve) => {
             const open = indexedDB.open("scanapp-counts");
             open.onsuccess = () => {
               const all = open.result.transaction("queue").objectStore("queue").getAll();
               all.onsuccess = () => resolve(all.result.length);
             };
           })"""
        )
        == 0
    )


def test_a_scan_adds_its_line_and_those_of_other_phones_above_the_lines_shown(page, live_server, make, sign_in):
    """Each scan's answer lists only the lines newer than those the page shows (it sends the newest as `after`):
    the page puts them on top of its own, so the list reads as the whole block would, newest first."""
    store = make.store("A", "Avenue Jewelers")
    case = make.location(store, "SC1", "showcase", "Showcase 1")
    make.lot(case, pieces=4, serials=["RING-1", "RING-2", "RING-3", "RING-4"], number="RINGS")
    vera, ann = make.user("vault", [store], username="vera"), make.user("manager", [store], username="ann")
    count = counts.start_count(store, case, blind=True, event_id=new_event_id(), by=ann)
    db.session.commit()
    sign_in(page, vera)
    sent = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/lines") else None)
    page.goto(f"{live_server}/counts/{count.id}")
    lines = page.locator("#count-lines")

    scan(page, "RING-1")
    expect(lines.locator(".count-line .mono")).to_have_text(["RING-1"])
    scan(page, "RING-2")
    expect(lines.locator(".count-line .mono")).to_have_text(["RING-2", "RING-1"])
    counts.add_line(count, code="RING-3", event_id=new_event_id(), by=ann)  # Ann's phone, meanwhile
    db.session.commit()
    scan(page, "RING-4")
    expect(lines.locator(".count-line .mono")).to_have_text(["RING-4", "RING-3", "RING-2", "RING-1"])
    expect(lines).to_have_attribute("data-after", re.compile(r"^\d+$"))
    expect(lines.locator("[data-count-totals]")).to_have_text("4 items · 4 pcs · 4 lines")

    # A line taken back answers with the whole block; the next scan adds to it again.
    lines.get_by_role("button", name="Remove this line of RING-3").click()
    expect(lines.locator(".count-answer")).to_have_text("Removed the line of item RING-3.")
    expect(lines.locator(".count-line .mono")).to_have_text(["RING-4", "RING-2", "RING-1"])
    expect(lines).not_to_have_attribute("data-after", re.compile(".*"))
    scan(page, "RING-3")
    expect(lines.locator(".count-line .mono")).to_have_text(["RING-3", "RING-4", "RING-2", "RING-1"])
    expect(lines.locator("[data-count-totals]")).to_have_text("4 items · 4 pcs · 4 lines")

    first, *later = sent  # the scans (the removal goes to the line's own URL)
    assert "after=" not in first  # nothing shown yet: the whole block
    assert all(re.search(r"(^|&)after=\d+", body) for body in later), later
