"""Browser tests: headless Debian Chromium driven by Playwright against the test app served on 127.0.0.1."""

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, **PHONE}


@pytest.fixture
def live_server(app):
    """The test's app served over HTTP on a free port in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def sign_in(live_server):
    """sign_in(page, user): sign in through the login form, as a person would."""

    def go(page, user):
        page.goto(f"{live_server}/login")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/")

    return go


def wedge_scan(page, code: str, delay: int = 5) -> None:
    """What a keyboard-wedge scanner does: the code's keys in a fast burst, then Enter.

    Waits first until scanner.js has bound the page's scanner block, as a person's first scan after a page load
    cannot arrive in the same few milliseconds."""
    page.locator("[data-scanner][data-ready]").wait_for(state="attached")
    page.keyboard.type(code, delay=delay)
    page.keyboard.press("Enter")
