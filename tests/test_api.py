"""The JSON API: tokens, auth, look-ups, writes with idempotency, the movements feed, and the contract (every
response is checked against the schema the OpenAPI document names for it)."""

import hashlib
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import event, select

from scanapp import create_app
from scanapp.api import openapi
from scanapp.extensions import db
from scanapp.models import ApiToken, Movement
from scanapp.services import DomainError, Forbidden, ledger
from scanapp.services.api_tokens import authenticate_token, create_token, revoke_token
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine, move_stock
from scanapp.services.users import deactivate_user


@pytest.fixture
def shop(make):
    a, b = make.store("A", "Main Street"), make.store("B", "Mall")
    p = {
        "safe": make.location(a, "SAFE", "safe", "Safe"),
        "sc1": make.location(a, "SC1", "showcase", "Showcase 1"),
        "b_safe": make.location(b, "SAFE", "safe", "Mall safe"),
    }
    people = {
        "manager": make.user("manager", [a]),
        "associate": make.user("associate", [a]),
        "vault": make.user("vault", [a]),
        "b_manager": make.user("manager", [b]),
    }
    lot = make.lot(p["safe"], pieces=10, weight="5.000", weight_unit="g", category="metal", number="GOLD-1",
                   serials=["R-1", "R-2"], cost="500.00")  # fmt: skip
    return a, b, p, people, lot


@pytest.fixture
def tokens(shop):
    a, b, _, people, _ = shop
    made = {
        role: create_token(people[role], a, f"{role} till", by=people["manager"])[1]
        for role in people
        if role[0] != "b"
    }
    made["b_manager"] = create_token(people["b_manager"], b, "mall", by=people["b_manager"])[1]
    db.session.commit()
    return made


@pytest.fixture
def call(app, tokens):
    """call(method, path, token_role=..., json=..., headers=...) -> response, checked to be JSON."""
    client = app.test_client()

    def request(method, path, role="manager", json=None, headers=None, **kw):
        headers = dict(headers or {})
        if role is not None:
            headers.setdefault("Authorization", f"Bearer {tokens[role]}")
        response = client.open(f"/api/v1{path}", method=method, json=json, headers=headers, **kw)
        assert response.content_type == "application/json", response.data[:200]
        return response

    return request


def contract(response, path: str, method: str):
    """Validate a response against the schema that the OpenAPI document gives for its path, method, status."""
    operation = openapi.DOCUMENT["paths"][path][method]
    schema = operation["responses"][str(response.status_code)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator(
        {**schema, "components": openapi.DOCUMENT["components"]}, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(response.get_json())
    return response.get_json()


def key() -> dict:
    return {"Idempotency-Key": str(uuid.uuid4())}


# Tokens


def test_a_token_is_shown_once_and_kept_as_a_hash(shop):
    a, _, _, people, _ = shop
    token, secret = create_token(people["associate"], a, " POS till 1 ", by=people["manager"])
    assert secret.startswith("sa_") and len(secret) > 40
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest() and token.prefix == secret[:10]
    assert (token.name, token.user, token.store, token.created_by, token.last_used_at) == (
        "POS till 1", people["associate"], a, people["manager"], None
    )  # fmt: skip
    assert authenticate_token(secret) == token and token.last_used_at is not None
    assert authenticate_token(secret + "x") is None and authenticate_token("") is None
    revoke_token(token, by=people["manager"])
    assert token.revoked_by == people["manager"] and authenticate_token(secret) is None
    with pytest.raises(DomainError, match="revoked already"):
        revoke_token(token, by=people["manager"])


def test_a_token_stops_working_when_its_user_leaves(make, shop):
    a, b, _, people, _ = shop
    user = make.user("associate", [a, b])
    _, secret = create_token(user, a, "till", by=people["manager"])
    user.stores = [b]
    assert authenticate_token(secret) is None
    user.stores = [a, b]
    assert authenticate_token(secret) is not None
    deactivate_user(user)
    assert authenticate_token(secret) is None


def test_a_tokens_use_is_written_at_most_once_a_minute(shop, tokens, call):
    """Writing "last used" on every request would make every read a write, and every move two commits."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "manager till"))
    writes = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert call("GET", "/movements").status_code == 200
        assert len(writes) == 1 and "api_tokens" in writes[0]
        db.session.refresh(token)
        first = token.last_used_at
        assert first is not None
        for _ in range(3):
            assert call("GET", "/movements").status_code == 200
        assert len(writes) == 1
        db.session.refresh(token)
        assert token.last_used_at == first
        token.last_used_at = first - timedelta(minutes=2)
        db.session.commit()
        writes.clear()
        assert call("GET", "/movements").status_code == 200
        assert len(writes) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    db.session.refresh(token)
    assert token.last_used_at >= first


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("associate_makes", Forbidden, "role"),
        ("other_store_manager", Forbidden, "store you are not a member of"),
        ("user_not_in_store", DomainError, "is not a member of Main Street"),
        ("admin_token_by_manager", Forbidden, "Only an admin"),
        ("no_name", DomainError, "Name the token"),
        ("deactivated_user", DomainError, "deactivated"),
    ],
)
def test_create_token_refuses(make, shop, case, error, message):
    a, _, _, people, _ = shop
    user, by, name = people["associate"], people["manager"], "till"
    if case == "associate_makes":
        by = people["associate"]
    elif case == "other_store_manager":
        by = people["b_manager"]
    elif case == "user_not_in_store":
        user = people["b_manager"]
    elif case == "admin_token_by_manager":
        user = make.user("admin", [a])
    elif case == "no_name":
        name = "  "
    elif case == "deactivated_user":
        deactivate_user(user)
    with pytest.raises(error, match=message):
        create_token(user, a, name, by=by)


# Authentication


@pytest.mark.parametrize("case", ["missing", "garbage", "basic", "revoked", "deactivated"])
@pytest.mark.parametrize("path", ["/movements", "/openapi.json", "/tags/GOLD-1", "/nowhere"])
def test_requests_without_a_valid_token_get_a_json_401(shop, tokens, call, case, path):
    _, _, _, people, _ = shop
    headers = {
        "missing": {},
        "garbage": {"Authorization": "Bearer sa_nonsense"},
        "basic": {"Authorization": f"Basic {tokens['manager']}"},
    }.get(case, {"Authorization": f"Bearer {tokens['manager']}"})
    if case == "revoked":
        revoke_token(db.session.scalars(db.select(ApiToken).where(ApiToken.user == people["manager"])).one(),
                     by=people["manager"])  # fmt: skip
    elif case == "deactivated":
        deactivate_user(people["manager"])
    db.session.commit()
    response = call("GET", path, role=None, headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    body = contract(response, "/movements", "get")
    assert ("Send an API token" in body["error"]["message"]) == (case == "missing")


def test_a_signed_in_browser_session_is_not_a_token(shop, client_for):
    _, _, _, people, _ = shop
    response = client_for(people["manager"]).get("/api/v1/movements")
    assert response.status_code == 401 and response.is_json


def test_post_is_not_blocked_by_csrf(database_url, shop, tokens, tmp_path):
    """The API is exempt from the CSRF check that guards forms; a token is its protection."""
    _, _, p, _, lot = shop
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "t",
                      "WTF_CSRF_ENABLED": True, "MEDIA_DIR": str(tmp_path)})  # fmt: skip
    body = {"to": "A-SC1", "lines": [{"lot": "GOLD-1", "from": "A-SAFE", "pieces": 1}]}
    with app.app_context():
        response = app.test_client().post(
            "/api/v1/moves", json=body, headers={"Authorization": f"Bearer {tokens['manager']}", **key()}
        )
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 201


# The document


def test_the_openapi_document_is_served_and_its_schemas_are_sound(call):
    response = call("GET", "/openapi.json")
    assert response.status_code == 200 and response.get_json() == openapi.DOCUMENT
    assert response.get_json()["openapi"] == "3.1.0"
    for name, schema in openapi.SCHEMAS.items():
        Draft202012Validator.check_schema(schema)
        list(openapi.validator(name).iter_errors({}))  # every $ref resolves within the document
    for path, operations in openapi.DOCUMENT["paths"].items():
        for operation in operations.values():
            for answer in operation["responses"].values():
                schema = answer["content"]["application/json"]["schema"]
                list(Draft202012Validator({**schema, "components": openapi.DOCUMENT["components"]}).iter_errors({}))
            assert path == "/openapi.json" or "401" in operation["responses"]


# Look-ups


def test_look_up_a_lot_with_cost_for_a_manager_only(shop, call):
    _, _, p, _, lot = shop
    body = contract(call("GET", "/tags/gold-1"), "/tags/{code}", "get")
    assert (body["kind"], body["number"], body["weight_unit"]) == ("lot", "GOLD-1", "g")
    assert [(b["location"]["code"], b["pieces"], b["weight"]) for b in body["balances"]] == [("SAFE", 10, "5.000")]
    assert body["cost"] == {"total": "500.00", "per_piece": "50.00", "per_weight": "100.00"}
    body = contract(call("GET", "/tags/GOLD-1", role="associate"), "/tags/{code}", "get")
    assert "cost" not in body


def test_look_up_an_item_and_a_location(shop, call):
    body = contract(call("GET", "/tags/R-1", role="associate"), "/tags/{code}", "get")
    assert (body["kind"], body["serial"], body["lot"], body["location"]["code"]) == ("item", "R-1", "GOLD-1", "SAFE")
    body = contract(call("GET", "/tags/A-SAFE"), "/tags/{code}", "get")
    assert (body["kind"], body["location_kind"], body["balances"]) == (
        "location", "safe", [{"lot": "GOLD-1", "pieces": 10, "weight": "5.000"}]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("code", "role", "status"),
    [("NOPE", "manager", 404), ("B-SAFE", "manager", 404), ("GOLD-1", "b_manager", 404), ("a_b", "manager", 400)],
)
def test_look_up_refusals(shop, call, code, role, status):
    response = call("GET", f"/tags/{code}", role=role)
    assert response.status_code == status
    contract(response, "/tags/{code}", "get")


# Writes


def move_body(**extra):
    return {"to": "A-SC1", "lines": [{"lot": "GOLD-1", "from": "A-SAFE", "pieces": 3, "weight": "1.500"}], **extra}


def test_move_then_replay_with_the_same_idempotency_key(shop, call):
    _, _, p, _, lot = shop
    headers = key()
    first = call("POST", "/moves", json=move_body(), headers=headers)
    assert first.status_code == 201
    body = contract(first, "/moves", "post")
    assert body["replayed"] is False and body["event_id"] == headers["Idempotency-Key"]
    [m] = body["movements"]
    assert (m["kind"], m["pieces"], m["weight"], m["from"]["code"], m["to"]["code"]) == (
        "move", 3, "1.500", "SAFE", "SC1"
    )  # fmt: skip
    again = call("POST", "/moves", json=move_body(), headers=headers)
    assert again.status_code == 200
    replay = contract(again, "/moves", "post")
    assert replay["replayed"] is True and replay["movements"] == body["movements"]
    assert ledger.balance_at(lot, p["sc1"]) == (3, Decimal("1.500"))


def test_a_move_is_answered_without_reading_it_again_after_its_commit(app, shop, call):
    """The answer describes the movements while they are still in the session: read back after the commit, each
    movement, its lot, item, places and their store would cost a query each."""
    sent = []

    def statement(conn, cursor, text, parameters, context, executemany):
        sent.append(text.split(None, 1)[0].upper())

    def committed(conn):
        sent.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", committed)
    try:
        response = call("POST", "/moves", json={"to": "A-SC1", "lines": [{"item": "R-1"}]}, headers=key())
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", committed)
    assert response.status_code == 201 and response.get_json()["movements"][0]["item"] == "R-1"
    assert sent[-1] == "COMMIT"  # nothing read after it


def test_an_item_move_costs_seven_statements(app, shop, call):
    """The token with its user (one query), every tag the body names with what it is on (one query), the event
    (written unless its key is taken: one statement), the two balances, the item's place and the movement: nothing
    read twice, no place, item or lot read on its own."""
    call("GET", "/tags/A-SC1")  # the token's first use is recorded (at most once a minute): not part of a move
    sent = []

    def statement(conn, cursor, text, parameters, context, executemany):
        verb = text.split(None, 1)[0].upper()
        table = re.search(r"(?:FROM|INTO|UPDATE)\s+(\w+)", text).group(1)
        sent.append(f"{verb} {table}")

    event.listen(db.engine, "before_cursor_execute", statement)
    try:
        response = call("POST", "/moves", json={"to": "A-SC1", "lines": [{"item": "R-1"}]}, headers=key())
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
    assert response.status_code == 201 and response.get_json()["movements"][0]["to"]["code"] == "SC1"
    assert sent[:3] == ["SELECT api_tokens", "SELECT tags", "INSERT events"]
    # The two balances in the order of their places' ids (see ledger.post), then the item and the movement.
    assert sorted(sent[3:5]) == ["INSERT balances", "UPDATE balances"]
    assert sent[5:] == ["UPDATE items", "INSERT movements"]


def test_event_id_in_the_body_works_as_the_key(shop, call):
    _, _, p, _, lot = shop
    eid = str(uuid.uuid4())
    assert call("POST", "/moves", json=move_body(event_id=eid)).status_code == 201
    assert call("POST", "/moves", json=move_body(event_id=eid)).get_json()["replayed"] is True
    assert ledger.balance_at(lot, p["safe"]) == (7, Decimal("3.500"))


def test_a_key_used_by_someone_else_or_elsewhere_is_a_conflict(shop, call):
    headers = key()
    assert call("POST", "/moves", json=move_body(), headers=headers).status_code == 201
    response = call("POST", "/moves", json=move_body(), headers=headers, role="associate")
    assert response.status_code == 409
    sale = {"receipt": "R-1", "lines": [{"item": "R-1", "price": "10.00"}]}
    assert call("POST", "/sales", json=sale, headers=headers).status_code == 409
    contract(response, "/moves", "post")


@pytest.mark.parametrize(
    ("body", "headers", "field"),
    [
        (move_body(), {}, "event_id"),
        (move_body(), {"Idempotency-Key": "not-a-uuid"}, "event_id"),
        (move_body(event_id="nope"), {}, "event_id"),
        (move_body(event_id=str(uuid.uuid4())), key(), "event_id"),
        ({"to": "A-SC1", "lines": [{"lot": "GOLD-1", "from": "A-SAFE", "weight": 1.5}]}, key(), "lines/0"),
        ({"to": "A-SC1", "lines": [{"lot": "GOLD-1", "from": "A-SAFE", "pieces": -1}]}, key(), "lines/0"),
        ({"to": "A-SC1", "lines": []}, key(), "lines"),
        ({"lines": [{"item": "R-1"}]}, key(), None),
        (move_body(colour="red"), key(), None),
        ([], key(), None),
    ],
)
def test_malformed_writes_get_a_400_and_write_nothing(shop, call, body, headers, field):
    response = call("POST", "/moves", json=body, headers=headers)
    assert response.status_code == 400
    error = contract(response, "/moves", "post")["error"]
    assert error["field"] == field or (field and error["field"].startswith(field)), error
    assert db.session.scalar(db.select(db.func.count()).select_from(Movement).where(Movement.kind == "move")) == 0


def test_a_body_that_is_not_json_gets_a_400(call):
    response = call("POST", "/moves", data="to=A-SC1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"to": "A-SC1", "lines": [{"lot": "GOLD-1", "from": "A-SAFE", "pieces": 20}]}, 422, "loose"),
        ({"to": "A-SC1", "lines": [{"lot": "GOLD-1", "from": "A-SAFE", "pieces": 9}]}, 422, "are loose"),
        ({"to": "A-SAFE", "lines": [{"item": "R-1"}]}, 422, "already in Safe"),
        ({"to": "B-SAFE", "lines": [{"item": "R-1"}]}, 404, "No location B-SAFE in this store"),
        ({"to": "A-SC1", "lines": [{"lot": "GOLD-1", "from": "B-SAFE", "pieces": 1}]}, 404, "No location B-SAFE"),
        ({"to": "A-SC1", "lines": [{"item": "R-9"}]}, 404, "No item R-9"),
    ],
)
def test_refused_moves_say_why(shop, call, body, status, message):
    response = call("POST", "/moves", json=body, headers=key())
    assert response.status_code == status and message in response.get_json()["error"]["message"]
    contract(response, "/moves", "post")


def test_not_enough_stock_is_a_422_with_the_ledgers_message(make, shop, call):
    _, _, p, _, _ = shop
    make.lot(p["safe"], pieces=2, number="PLAIN-1")
    db.session.commit()
    body = {"to": "A-SC1", "lines": [{"lot": "PLAIN-1", "from": "A-SAFE", "pieces": 3}]}
    response = call("POST", "/moves", json=body, headers=key())
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "Not enough of lot PLAIN-1 in Safe (A): it holds 2 pcs."


def test_a_store_b_token_cannot_touch_store_a_stock(shop, call):
    body = {"to": "B-SAFE", "lines": [{"lot": "GOLD-1", "from": "A-SAFE", "pieces": 1}]}
    assert call("POST", "/moves", json=body, headers=key(), role="b_manager").status_code == 404
    sale = {"receipt": "R-1", "lines": [{"item": "R-1", "price": "10.00"}]}
    assert call("POST", "/sales", json=sale, headers=key(), role="b_manager").status_code == 404


def test_sale_and_return_through_the_api(shop, call):
    _, _, p, _, lot = shop
    sale = {
        "receipt": "R-9",
        "lines": [
            {"item": "R-1", "price": "1200.00"},
            {"lot": "GOLD-1", "from": "A-SAFE", "pieces": 2, "weight": "1.000", "price": "80"},
        ],
    }
    response = call("POST", "/sales", json=sale, headers=key(), role="associate")
    assert response.status_code == 201
    sold = contract(response, "/sales", "post")["movements"]
    assert [(m["kind"], m["amount"], m["reference"]) for m in sold] == [
        ("sell", "1200.00", "R-9"), ("sell", "80.00", "R-9")
    ]  # fmt: skip
    back = call("POST", "/returns", json={"item": "R-1", "to": "A-SC1"}, headers=key(), role="associate")
    assert back.status_code == 201
    [m] = contract(back, "/returns", "post")["movements"]
    assert (m["kind"], m["amount"], m["to"]["code"]) == ("return", "1200.00", "SC1")
    body = {"lot": "GOLD-1", "pieces": 1, "weight": "0.500", "receipt": "R-9", "to": "A-SAFE"}
    [m] = contract(call("POST", "/returns", json=body, headers=key()), "/returns", "post")["movements"]
    assert (m["pieces"], m["weight"], m["amount"]) == (1, "0.500", "40.00")
    assert ledger.check_ledger() == []


def test_a_vault_token_may_not_sell(shop, call):
    sale = {"receipt": "R-1", "lines": [{"item": "R-1", "price": "10.00"}]}
    response = call("POST", "/sales", json=sale, headers=key(), role="vault")
    assert response.status_code == 403
    contract(response, "/sales", "post")


def test_a_return_without_a_receipt_for_a_lot_fails_the_schema(call):
    response = call("POST", "/returns", json={"lot": "GOLD-1", "pieces": 1, "to": "A-SAFE"}, headers=key())
    assert response.status_code == 400


# The feed


def test_movements_feed_pages_by_cursor(make, shop, call):
    a, b, p, people, lot = shop
    mall_lot = make.lot(p["b_safe"], pieces=4)
    for _ in range(3):
        move_stock(p["sc1"], [MoveLine(lot=lot, source=p["safe"], pieces=1)], event_id=new_event_id(),
                   by=people["manager"], store=a)  # fmt: skip
    db.session.commit()
    ours = db.session.scalars(db.select(Movement.id).where(Movement.store_id == a.id).order_by(Movement.id)).all()
    seen, cursor = [], 0
    while True:
        page = contract(call("GET", f"/movements?since={cursor}&limit=2"), "/movements", "get")
        assert len(page["movements"]) <= 2
        if not page["movements"]:
            assert page["next_cursor"] == cursor
            break
        seen += [m["id"] for m in page["movements"]]
        cursor = page["next_cursor"]
        assert cursor == seen[-1]
    assert seen == ours and len(ours) == 6  # 3 receive lines (two items, the rest) + 3 moves; not the mall's
    mall = call("GET", "/movements", role="b_manager").get_json()["movements"]
    assert {m["lot"] for m in mall} == {mall_lot.number}


@pytest.mark.parametrize(
    "query", ["since=-1", "since=x", "limit=0", "limit=501", "since=1.5", "since=%C2%B2", "since=" + "9" * 30]
)
def test_movements_feed_rejects_bad_cursors(call, query):
    response = call("GET", f"/movements?{query}")
    assert response.status_code == 400
    contract(response, "/movements", "get")


# Never HTML


@pytest.mark.parametrize(("method", "path"), [("GET", "/nothing/here"), ("GET", "/")])
def test_unknown_endpoints_answer_json_404(call, method, path):
    response = call(method, path)
    assert response.status_code == 404 and "There is no" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "allow"), [("GET", "/moves", "OPTIONS, POST"), ("DELETE", "/tags/R-1", "GET, HEAD, OPTIONS")]
)
def test_a_method_a_path_does_not_take_answers_json_405(call, method, path, allow):
    response = call(method, path)
    assert response.status_code == 405 and response.headers["Allow"] == allow
    assert f"not {method}" in response.get_json()["error"]["message"]
