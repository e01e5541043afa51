"""The API token page: the store's tokens, making one (its secret shown once), revoking one; managers and admins."""

import re
import uuid

import pytest
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import ApiToken
from scanapp.services.api_tokens import authenticate_token

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(make):
    a, b = make.store("A", "Main Street"), make.store("B", "Mall")
    return {
        "a": a,
        "manager": make.user("manager", [a], username="maria"),
        "admin": make.user("admin", [a], username="ada"),
        "till": make.user("associate", [a], username="till"),
        "outsider": make.user("manager", [b], username="otto"),
    }


def make_token(client, user, name="Till 1", event_id=None):
    return client.post(
        "/settings/tokens/", data={"user_id": user.id, "name": name, "event_id": event_id or str(uuid.uuid4())}
    )


def test_tokens_page_full_and_with_htmx(shop, client_for):
    client = client_for(shop["manager"])
    for headers in ({}, HX):
        page = client.get("/settings/tokens/", headers=headers)
        assert page.status_code == 200 and "API tokens" in page.text and 'id="token-form"' in page.text
    page = client.get("/settings/tokens/").text
    assert "Associate till" in page.split('id="user_id"')[1] and "otto" not in page
    assert "Admin ada" not in page.split('id="user_id"')[1]  # a manager cannot make an admin's token
    assert "Admin ada" in client_for(shop["admin"]).get("/settings/tokens/").text.split('id="user_id"')[1]


def test_a_token_is_shown_once_and_works(shop, client_for):
    client = client_for(shop["manager"])
    answer = make_token(client, shop["till"])
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="token-secret">(sa_[^<]+)<', answer.text).group(1)
    assert "shown only this once" in answer.text
    token = db.session.scalar(select(ApiToken))
    assert token.user == shop["till"] and token.name == "Till 1" and token.token_hash not in answer.text
    listing = client.get("/settings/tokens/").text
    assert secret not in listing and token.prefix in listing and "Till 1" in listing and "never used" in listing

    used = client.get("/api/v1/movements", headers={"Authorization": f"Bearer {secret}"})
    assert used.status_code == 200
    assert "last used" in client.get("/settings/tokens/").text


def test_a_double_tap_makes_one_token(shop, client_for):
    client = client_for(shop["manager"])
    event_id = str(uuid.uuid4())
    assert make_token(client, shop["till"], event_id=event_id).status_code == 201
    again = make_token(client, shop["till"], event_id=event_id)
    assert again.status_code == 302 and again.headers["Location"].startswith("/settings/tokens/")
    assert 'id="token-secret"' not in client.get(again.headers["Location"]).text
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1


def test_bad_token_forms(shop, client_for):
    client = client_for(shop["manager"])
    refused = make_token(client, shop["till"], name="")
    assert refused.status_code == 422 and "Name the token" in refused.text
    refused = make_token(client, shop["till"], name="x" * 81)
    assert refused.status_code == 422 and "At most 80 characters" in refused.text
    refused = client.post("/settings/tokens/", data={"user_id": "abc", "name": "x", "event_id": str(uuid.uuid4())})
    assert refused.status_code == 422 and "Choose the user" in refused.text
    assert make_token(client, shop["outsider"]).status_code == 404  # a user of another store
    admin = make_token(client, shop["admin"])  # a forged choice
    assert admin.status_code == 422 and "Only an admin" in admin.text
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_revoke(shop, client_for):
    client = client_for(shop["manager"])
    secret = re.search(r'id="token-secret">(sa_[^<]+)<', make_token(client, shop["till"]).text).group(1)
    token = db.session.scalar(select(ApiToken))
    assert client_for(shop["outsider"]).post(f"/settings/tokens/{token.id}/revoke").status_code == 404
    event_id = str(uuid.uuid4())
    answer = client.post(f"/settings/tokens/{token.id}/revoke", data={"event_id": event_id})
    assert answer.status_code == 302
    page = client.get("/settings/tokens/").text
    assert "Revoked token" in page and "revoked" in page.split(f'id="token-{token.id}"')[1]
    assert authenticate_token(secret) is None
    assert client.post(f"/settings/tokens/{token.id}/revoke", data={"event_id": event_id}).status_code == 302
    twice = client.post(f"/settings/tokens/{token.id}/revoke", data={"event_id": str(uuid.uuid4())})
    assert "is revoked already" in client.get(twice.headers["Location"]).text


def test_associates_cannot_manage_tokens(shop, client_for):
    client = client_for(shop["till"])
    assert client.get("/settings/tokens/").status_code == 403
    assert make_token(client, shop["till"]).status_code == 403
    assert client.post("/settings/tokens/1/revoke").status_code == 403
