"""Signing in and out, what needs sign-in, CSRF, store switching, security headers and cookies."""

import re
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from scanapp import create_app
from scanapp.extensions import db
from scanapp.models import User
from scanapp.services import users
from tests.conftest import PASSWORD, recorded_sql

PUBLIC = {"auth.login", "main.healthz", "static"}


@pytest.fixture
def web(app):
    """A twin of the test app on the same database whose requests each get their own app context and database
    session, as in production (the `app` fixture's requests share the test's context and session)."""
    twin = create_app(dict(app.config))
    yield twin
    with twin.app_context():
        db.engine.dispose()


@pytest.fixture
def shop(make):
    store = make.store("A")
    user = make.user("associate", [store], username="alex")
    db.session.commit()
    return store, user


def sign_in(client, username, password=PASSWORD, next_url=None):
    query = {"next": next_url} if next_url else {}
    return client.post("/login", query_string=query, data={"username": username, "password": password})


def signed_in_user_id(client):
    with client.session_transaction() as session:
        return session.get("_user_id")


def test_login_page_renders(web):
    response = web.test_client().get("/login")
    assert response.status_code == 200
    assert "<h1>Sign in</h1>" in response.text
    assert 'name="username"' in response.text and 'type="password"' in response.text


def test_sign_in_lands_on_home(web, shop):
    client = web.test_client()
    response = sign_in(client, "ALEX ")  # usernames are case- and space-insensitive
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert signed_in_user_id(client) == str(shop[1].id)


@pytest.mark.parametrize(("username", "password"), [("alex", "wrong-password"), ("nobody", PASSWORD)])
def test_wrong_credentials_are_refused_without_a_session(web, shop, username, password):
    client = web.test_client()
    response = sign_in(client, username, password)
    assert response.status_code == 422
    assert "Wrong username or password." in response.text
    assert signed_in_user_id(client) is None
    assert client.get("/").headers["Location"].startswith("/login")


def test_deactivated_user_cannot_sign_in(web, shop):
    users.deactivate_user(shop[1])
    db.session.commit()
    client = web.test_client()
    response = sign_in(client, "alex")
    assert response.status_code == 422 and "Wrong username or password." in response.text
    assert signed_in_user_id(client) is None


def test_signed_in_user_is_dropped_once_deactivated(web, shop):
    client = web.test_client()
    sign_in(client, "alex")
    assert client.get("/").status_code == 200
    users.deactivate_user(shop[1])
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_each_request_reads_the_user_with_their_stores_in_one_query(web, shop):
    """Every signed-in request needs who is signed in and their stores (store checks, the store menu): one query,
    not one for the user and another for the stores."""
    client = web.test_client()
    sign_in(client, "alex")
    with recorded_sql() as sent:
        assert client.get("/").status_code == 200
    reads = [statement for statement in sent if "FROM users" in statement or "user_stores" in statement]
    assert len(reads) == 1 and "user_stores" in reads[0]


def test_logout_ends_the_session(web, shop):
    client = web.test_client()
    sign_in(client, "alex")
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert signed_in_user_id(client) is None
    assert client.get("/").headers["Location"].startswith("/login")


def test_logout_needs_a_post(web, shop):
    client = web.test_client()
    sign_in(client, "alex")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/lots/?q=ring", "/lots/?q=ring"),
        ("//evil.com", "/"),
        ("https://evil.com/x", "/"),
        ("http:evil.com", "/"),
        ("javascript:alert(1)", "/"),
        (" //evil.com", "/"),
        ("/\\evil.com", "/%5Cevil.com"),  # the backslash is escaped, so browsers see a local path
    ],
)
def test_next_follows_only_local_paths(web, shop, next_url, expected):
    response = sign_in(web.test_client(), "alex", next_url=next_url)
    location = response.headers["Location"]
    assert location == expected
    assert not urlsplit(location).netloc and not location.startswith("//")


def _dummy(converter) -> str | int | float:
    """A value that fits a URL rule's converter, to reach every route without real data."""
    name = type(converter).__name__
    if name == "AnyConverter":
        return next(iter(converter.items))
    if isinstance(converter, IntegerConverter):  # the app's <int:…> is a subclass (web.IdConverter)
        return 1
    return {"IntegerConverter": 1, "FloatConverter": 1.0, "UUIDConverter": str(uuid.uuid4())}.get(name, "X1")


def test_every_route_needs_sign_in(web):
    """Walk the whole URL map: anonymous GETs are sent to sign in, anonymous writes never succeed or crash,
    and the JSON API answers 401 without its token."""
    client = web.test_client()
    checked, wrong = 0, []
    for rule in web.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        _, path = rule.build({name: _dummy(conv) for name, conv in rule._converters.items()})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            location = response.headers.get("Location", "")
            if rule.endpoint.startswith("api."):  # token sign-in: a 401, never the login page
                ok = response.status_code == 401 and response.is_json
            elif method == "GET":
                ok = response.status_code == 302 and location.startswith("/login?next=")
            else:
                ok = response.status_code in (400, 401) or (response.status_code == 302 and "/login" in location)
            checked += 1
            if not ok:
                wrong.append(f"{method} {path} ({rule.endpoint}) -> {response.status_code} {location}")
    assert checked >= 10
    assert wrong == []


@pytest.mark.parametrize("path", ["/login", "/healthz", "/static/css/app.css"])
def test_public_paths_need_no_sign_in(web, path):
    with web.test_client().get(path) as response:
        assert response.status_code == 200


# --- CSRF, as the app runs outside tests ----------------------------------------------------------------


@pytest.fixture
def csrf_web(app):
    twin = create_app({**app.config, "WTF_CSRF_ENABLED": True})
    yield twin
    with twin.app_context():
        db.engine.dispose()


def _token(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    assert match, f"no CSRF token in the page ({pattern})"
    return match.group(1)


def _csrf_sign_in(client):
    page = client.get("/login").text
    token = _token(page, r'name="csrf_token" type="hidden" value="([^"]+)"')
    response = client.post("/login", data={"username": "alex", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_sign_in_form_without_token_is_refused(csrf_web, shop):
    client = csrf_web.test_client()
    response = client.post("/login", data={"username": "alex", "password": PASSWORD})
    assert response.status_code == 302 and signed_in_user_id(client) is None
    assert "This page was open too long or came from elsewhere" in client.get("/login").text


def test_htmx_post_without_token_is_400_with_a_message(csrf_web, shop):
    client = csrf_web.test_client()
    _csrf_sign_in(client)
    response = client.post("/logout", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "This page was open too long or came from elsewhere. Reload it and try again." in response.text
    assert client.get("/").status_code == 200  # still signed in


def test_form_post_without_token_changes_nothing(csrf_web, shop):
    client = csrf_web.test_client()
    _csrf_sign_in(client)
    response = client.post("/logout", headers={"Referer": "http://localhost/"})
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200  # still signed in
    assert "This page was open too long or came from elsewhere" in page.text


def test_post_with_the_header_token_from_a_page_is_accepted(csrf_web, shop):
    """HTMX sends the token of the page's <body hx-headers> as X-CSRFToken."""
    client = csrf_web.test_client()
    _csrf_sign_in(client)
    token = _token(client.get("/").text, r'"X-CSRFToken": "([^"]+)"')
    response = client.post("/logout", headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert signed_in_user_id(client) is None


# --- Stores ----------------------------------------------------------------------------------------------


def test_store_switch_only_to_own_stores(web, make):
    main, mall, other = make.store("MAIN"), make.store("MALL"), make.store("ELSE")
    make.user("manager", [main, mall], username="maria")
    db.session.commit()
    client = web.test_client()
    sign_in(client, "maria")
    response = client.post("/store", data={"store_id": mall.id, "next": "/lots/"})
    assert response.status_code == 302 and response.headers["Location"] == "/lots/"
    with client.session_transaction() as session:
        assert session["store_id"] == mall.id
    assert f'<option value="{mall.id}" selected>' in client.get("/").text

    assert client.post("/store", data={"store_id": other.id}).status_code == 404
    assert client.post("/store", data={"store_id": "not-a-number"}).status_code == 404
    with client.session_transaction() as session:
        assert session["store_id"] == mall.id


def test_next_after_store_switch_stays_local(web, make):
    main, mall = make.store("MAIN"), make.store("MALL")
    make.user("manager", [main, mall], username="maria")
    db.session.commit()
    client = web.test_client()
    sign_in(client, "maria")
    response = client.post("/store", data={"store_id": mall.id, "next": "//evil.com"})
    assert response.headers["Location"] == "/"


# --- Headers, cookies, passwords -------------------------------------------------------------------------


def test_security_headers(web):
    response = web.test_client().get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "'wasm-unsafe-eval'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS


def test_hsts_only_over_https(web):
    response = web.test_client().get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_is_secure_by_default(app, shop):
    """With the shipped cookie settings (the test app relaxes Secure to run over plain HTTP)."""
    overrides = {k: v for k, v in app.config.items() if not k.startswith(("SESSION_COOKIE", "REMEMBER_COOKIE"))}
    twin = create_app(overrides)
    try:
        client = twin.test_client()
        response = sign_in(client, "alex")
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}
        assert twin.config["REMEMBER_COOKIE_SECURE"] and twin.config["REMEMBER_COOKIE_HTTPONLY"]
    finally:
        with twin.app_context():
            db.engine.dispose()


def test_remember_me_cookie_is_httponly(web, shop):
    response = web.test_client().post("/login", data={"username": "alex", "password": PASSWORD, "remember": "y"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    assert {"HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}


def test_passwords_are_stored_hashed(app, make):
    store = make.store("A")
    users.create_user("newbie", "New Bie", "associate", "plain-secret-1", [store])
    db.session.commit()
    stored = db.session.scalar(select(User.password_hash).where(User.username == "newbie"))
    assert stored.startswith(("scrypt:", "pbkdf2:"))
    assert "plain-secret-1" not in stored
    assert users.authenticate("newbie", "plain-secret-1") is not None
    assert users.authenticate("newbie", "plain-secret-2") is None
