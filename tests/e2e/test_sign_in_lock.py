"""On a phone: wrong passwords lock an account with a clear message; an admin finds it locked under Users, unlocks
it, and reads it all in the audit log."""

import os

from playwright.sync_api import expect

from scanapp.extensions import db
from tests.conftest import PASSWORD
from tests.e2e.conftest import PHONE


def test_lock_out_unlock_and_the_audit_log(page, browser, live_server, make, sign_in):
    store = make.store("A", "Main Street")
    alex = make.user("associate", [store], username="alex")
    admin = make.user("admin", [store], username="ada")
    db.session.commit()
    shots = os.environ.get("SHOTS_DIR")

    page.goto(f"{live_server}/login")
    for password in ["wrong-1", "wrong-2", "wrong-3", "wrong-4", "wrong-5", PASSWORD]:
        page.get_by_label("Username").fill("alex")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Too many wrong passwords for this account. Try again in 15 minutes, or ask an admin to unlock it."
    )
    if shots:
        page.screenshot(path=f"{shots}/sign-in-locked.png", full_page=True)

    admin_page = browser.new_context(**PHONE).new_page()  # a second phone
    sign_in(admin_page, admin)
    admin_page.goto(f"{live_server}/menu")
    admin_page.get_by_role("link", name="Users").click()
    row = admin_page.locator(f"#user-{alex.id}")
    expect(row).to_contain_text("locked")
    if shots:
        admin_page.screenshot(path=f"{shots}/users-index.png", full_page=True)
    row.get_by_role("link").click()
    admin_page.get_by_role("button", name="Unlock sign-in").click()
    expect(admin_page.locator(".flash")).to_contain_text(f"Sign-in for {alex.name} is unlocked.")
    if shots:
        admin_page.screenshot(path=f"{shots}/users-edit.png", full_page=True)

    admin_page.goto(f"{live_server}/menu")
    admin_page.get_by_role("link", name="Audit log").click()
    entries = admin_page.locator("#audit-entries")
    expect(entries).to_contain_text("sign in unlocked")
    expect(entries).to_contain_text("sign in locked")
    if shots:
        admin_page.screenshot(path=f"{shots}/audit.png", full_page=True)

    page.get_by_label("Username").fill("alex")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")

    admin_page.goto(f"{live_server}/settings/users/new")
    expect(admin_page.get_by_label("Main Street")).to_be_checked(checked=False)
    if shots:
        admin_page.get_by_label("Main Street").scroll_into_view_if_needed()
        admin_page.screenshot(path=f"{shots}/users-new.png")
