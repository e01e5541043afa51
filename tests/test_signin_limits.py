"""Sign-in limits: wrong passwords lock an account (and, separately, a network address) for a while; the lock is
kept in the audit log, so every worker sees it; while locked the form answers 429 and the password is not checked;
a success or an admin's unlock starts the count again."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scanapp import create_app
from scanapp.extensions import db
from scanapp.models import AuditEntry
from scanapp.models.types import utcnow
from scanapp.models.users import _unknown_user_hash
from scanapp.services import sign_in as signing
from scanapp.services.events import new_event_id
from tests.conftest import PASSWORD

ACCOUNT_LOCKED = "Too many wrong passwords for this account. Try again in {} minutes, or ask an admin to unlock it."


@pytest.fixture
def web(app):
    """A twin of the test app on the same database whose requests each get their own app context and session,
    as in production."""
    twin = create_app(dict(app.config))
    yield twin
    with twin.app_context():
        db.engine.dispose()


@pytest.fixture
def shop(make):
    store = make.store("A")
    people = {
        "alex": make.user("associate", [store], username="alex"),
        "ben": make.user("bench", [store], username="ben"),
        "root": make.user("admin", [store], username="root"),
    }
    db.session.commit()
    return people


def attempt(client, username, password=PASSWORD, addr="10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": addr})


def signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def actions(**where) -> list[str]:
    db.session.commit()  # a fresh snapshot: the twin app wrote these
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return list(db.session.scalars(query))


def failures_ago(username: str, minutes: list[float], addr: str = "10.0.0.1") -> None:
    """Failed sign-ins as if they had happened that many minutes ago."""
    now = utcnow()
    for m in minutes:
        db.session.add(
            AuditEntry(
                action="sign_in_failed", username=username, remote_addr=addr, created_at=now - timedelta(minutes=m)
            )
        )
    db.session.commit()


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(web, shop):
    client = web.test_client()
    for _ in range(5):
        response = attempt(client, "alex", "wrong-password")
        assert response.status_code == 422 and "Wrong username or password." in response.text
    response = attempt(client, "alex", PASSWORD)
    assert response.status_code == 429 and response.headers["Retry-After"] == "900"
    assert ACCOUNT_LOCKED.format(15) in response.text
    assert not signed_in(client)
    assert actions(username="alex") == ["sign_in_failed"] * 5 + ["sign_in_locked"]


def test_while_locked_the_password_is_not_checked_and_the_try_is_not_a_failure(web, shop):
    failures_ago("alex", [1, 2, 3, 4, 5])
    client = web.test_client()
    for password in ("wrong-password", PASSWORD, "another-wrong"):
        assert attempt(client, "alex", password).status_code == 429
    assert actions(username="alex", action="sign_in_failed") == ["sign_in_failed"] * 5  # none added
    assert actions(username="alex", action="sign_in_locked") == ["sign_in_locked"] * 3
    locked = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sign_in_locked")).first()
    assert locked.user_id is None and locked.remote_addr == "10.0.0.1" and "account locked until" in locked.detail


def test_the_lock_lasts_until_the_failures_leave_the_window(web, shop):
    failures_ago("alex", [14.5, 10, 9, 8, 7])
    response = attempt(web.test_client(), "alex")
    assert response.status_code == 429
    assert "Try again in 1 minute, or ask an admin" in response.text  # the oldest failure leaves in 30 s

    failures_ago("ben", [15.5, 10, 9, 8, 7])  # the oldest is outside the window: four count
    client = web.test_client()
    assert attempt(client, "ben").status_code == 302 and signed_in(client)


def test_a_successful_sign_in_starts_the_count_again(web, shop):
    failures_ago("alex", [6, 5, 4, 3])
    client = web.test_client()
    assert attempt(client, "alex").status_code == 302
    client.post("/logout")
    for _ in range(4):  # eight failures in the window, four since the success
        assert attempt(client, "alex", "wrong-password").status_code == 422
    assert attempt(client, "alex").status_code == 302


def test_an_admin_unlocks_the_account(web, shop, client_for):
    failures_ago("alex", [5, 4, 3, 2, 1])
    assert attempt(web.test_client(), "alex").status_code == 429
    assert signing.account_lock("alex") is not None
    admin = client_for(shop["root"])
    page = admin.get(f"/settings/users/{shop['alex'].id}")
    assert "Unlock sign-in" in page.text and "locked" in page.text
    response = admin.post(f"/settings/users/{shop['alex'].id}/unlock", data={"event_id": new_event_id()})
    assert response.status_code == 302
    assert signing.account_lock("alex") is None
    client = web.test_client()
    assert attempt(client, "alex").status_code == 302 and signed_in(client)
    unlocked = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sign_in_unlocked")).one()
    assert (unlocked.user_id, unlocked.username, unlocked.subject) == (
        shop["root"].id,
        "alex",
        f"user:{shop['alex'].id}",
    )


def test_unknown_names_lock_the_same_way_so_the_lock_reveals_no_accounts(web, shop):
    client = web.test_client()
    for _ in range(5):
        assert attempt(client, "nobody", "guess").status_code == 422
    response = attempt(client, "nobody", "guess")
    assert response.status_code == 429 and ACCOUNT_LOCKED.format(15) in response.text
    assert "Wrong username or password." in attempt(client, "alex", "wrong", addr="10.0.0.2").text


def test_names_are_counted_as_typed_in_any_case(web, shop):
    client = web.test_client()
    for name in ("ALEX", " alex", "Alex ", "aLeX", "alex"):
        attempt(client, name, "wrong-password")
    assert attempt(client, "alex").status_code == 429


def test_one_address_is_locked_across_usernames_and_others_are_not(web, shop):
    now = utcnow()
    for i in range(20):
        db.session.add(AuditEntry(action="sign_in_failed", username=f"guess{i}", remote_addr="10.9.9.9",
                                  created_at=now - timedelta(minutes=10, seconds=-i)))  # fmt: skip
    db.session.commit()
    locked = web.test_client()
    response = attempt(locked, "alex", addr="10.9.9.9")
    assert response.status_code == 429 and not signed_in(locked)
    assert "Too many wrong passwords from this network. Try again in 5 minutes." in response.text
    other = web.test_client()
    assert attempt(other, "alex", addr="10.0.0.7").status_code == 302 and signed_in(other)


def test_the_address_limit_through_the_form(web, shop):
    twin = create_app({**web.config, "SIGN_IN_ADDRESS_LIMIT": 3})
    try:
        client = twin.test_client()
        for name in ("a1", "a2", "a3"):
            assert attempt(client, name, "x", addr="10.5.5.5").status_code == 422
        assert attempt(client, "ben", addr="10.5.5.5").status_code == 429
        assert attempt(client, "ben", addr="10.5.5.6").status_code == 302
    finally:
        with twin.app_context():
            db.engine.dispose()


def test_limits_come_from_the_settings(app):
    assert (app.config["SIGN_IN_ACCOUNT_LIMIT"], app.config["SIGN_IN_ADDRESS_LIMIT"]) == (5, 20)
    assert app.config["SIGN_IN_WINDOW_MINUTES"] == 15


def test_the_lock_is_shared_by_separate_apps_as_by_gunicorn_workers(web, app, shop):
    """Two app instances (two workers): failures sent to one lock the account on the other."""
    other = create_app(dict(app.config))
    try:
        for _ in range(5):
            attempt(other.test_client(), "alex", "wrong-password")
        assert attempt(web.test_client(), "alex").status_code == 429
    finally:
        with other.app_context():
            db.engine.dispose()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 6


def test_behind_a_proxy_the_clients_address_counts(app, shop):
    """With PROXY_HOPS=1 the address is the one the proxy puts in X-Forwarded-For, not the proxy's own."""
    twin = create_app({**app.config, "PROXY_HOPS": 1})
    try:
        client = twin.test_client()
        headers = {"X-Forwarded-For": "192.168.7.20"}
        client.post("/login", data={"username": "alex", "password": "nope"}, headers=headers,
                    environ_base={"REMOTE_ADDR": "127.0.0.1"})  # fmt: skip
    finally:
        with twin.app_context():
            db.engine.dispose()
    db.session.commit()
    assert db.session.scalars(select(AuditEntry.remote_addr)).all() == ["192.168.7.20"]


def test_an_unknown_username_is_refused_after_hashing_the_password_as_a_wrong_one_is(web, shop):
    """So that the time of a refusal does not tell which usernames are accounts: the typed password is checked
    against a hash even when there is no account to check it against."""
    _unknown_user_hash.cache_clear()
    with web.test_client() as client:
        assert attempt(client, "nobody-here", "guess-1234").status_code == 422
    assert _unknown_user_hash.cache_info().misses == 1
    assert actions(username="nobody-here") == ["sign_in_failed"]
