"""A phone signs in and sees the home page."""

from playwright.sync_api import expect

from scanapp.extensions import db


def test_phone_signs_in(page, live_server, make, sign_in):
    store = make.store("A")
    user = make.user("associate", [store], username="alex")
    db.session.commit()
    sign_in(page, user)
    expect(page.locator("h1")).to_contain_text("Hello")
    assert page.evaluate("window.innerWidth") == 390
