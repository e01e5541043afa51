"""Hostile input to the JSON API (/api/v1): never a 5xx, always a JSON error for a refusal, nothing written by it.

Two kinds of attack: hypothesis bodies built by hand (wrong types, huge numbers, nested junk, bodies that are not
JSON, wrong content types, bad Idempotency-Key headers), and schemathesis, which reads /api/v1/openapi.json and
sends each operation examples that fit the document and examples that break it, checking every response against
the document (status codes, content types, response schemas) and that no answer is a server error.
"""

import json
import uuid

import pytest
import schemathesis
from hypothesis import given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select

from scanapp.api import openapi
from scanapp.extensions import db
from scanapp.models import Tag
from scanapp.services.api_tokens import create_token
from tests.fuzz import FUZZ, NUMBERS, TEXTS, event_ids, fingerprint, hostile_text

WRITES = ["/moves", "/sales", "/returns"]
JSON_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/merge-patch+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
]


@pytest.fixture
def api_shop(make):
    """One store with a safe, a showcase, a lot of loose pieces and a lot with items, and a manager's token."""
    store, other = make.store("A", "Main Street"), make.store("B", "Mall")
    safe, showcase = make.location(store, "SAFE", "safe"), make.location(store, "SC1", "showcase")
    make.location(other, "FAR", "safe")
    manager = make.user("manager", [store])
    make.lot(
        safe, pieces=10, weight="5.000", weight_unit="g", category="metal", number="GOLD-1", serials=["R-1", "R-2"]
    )
    make.lot(showcase, pieces=4, number="STUDS-1")
    _, secret = create_token(manager, store, "till", by=manager)
    db.session.commit()
    codes = list(db.session.scalars(select(Tag.code).order_by(Tag.code))) + ["NOPE"]
    return {"auth": {"Authorization": f"Bearer {secret}"}, "codes": codes}


def _json_junk() -> st.SearchStrategy:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(NUMBERS + TEXTS),
        st.text(max_size=20),
    )
    containers = lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)  # noqa: E731
    return st.recursive(scalars, containers, max_leaves=15)


def _near_valid(codes: list[str]) -> st.SearchStrategy[dict]:
    """Bodies with the document's field names and hostile values, so that requests reach the services."""
    code = st.one_of(st.sampled_from(codes), hostile_text(), st.integers(), st.none())
    quantity = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from(NUMBERS), st.floats(), st.none(), st.just([]))
    line = st.fixed_dictionaries(
        {},
        optional={"lot": code, "item": code, "from": code, "pieces": quantity, "weight": quantity, "price": quantity},
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "to": code,
            "lines": st.one_of(st.lists(line, max_size=3), st.just([{"item": "R-1", "price": "1"}] * 501), code),
            "item": code,
            "lot": code,
            "pieces": quantity,
            "weight": quantity,
            "receipt": hostile_text(plausible=["R-1", "R-2"]),
            "refund": quantity,
            "note": hostile_text(),
            "event_id": st.one_of(event_ids(), st.integers(), st.none()),
            "extra": _json_junk(),
        },
    )


def _raw_body(codes: list[str]) -> st.SearchStrategy[bytes]:
    """What is sent: JSON of junk or of near-valid bodies, or bytes that are not JSON at all."""
    as_json = st.one_of(_json_junk(), _near_valid(codes)).map(lambda body: json.dumps(body).encode())
    broken = st.sampled_from(
        [b"", b"{", b"[" * 100_000, b'{"a":' * 50_000, b"NaN", b'{"to": NaN, "lines": [Infinity]}', b"\xff\xfe{}",
         b'{"to": "SAFE", "to": "SC1", "lines": []}', b"null", b'"' + b"x" * 100_000 + b'"', b"\x00",
         b'{"lines": [{"lot": "GOLD-1", "from": "SAFE", "pieces": 1e999}], "to": "SC1"}']
    )  # fmt: skip
    return st.one_of(as_json, broken, st.binary(max_size=50))


def _idempotency_headers() -> st.SearchStrategy[dict]:
    key = st.one_of(event_ids(), st.sampled_from(["", " ", "x" * 10_000, "\u202e", "1; DROP TABLE events"]))
    return st.one_of(st.just({}), key.map(lambda value: {"Idempotency-Key": value}))


def _check(response, before: tuple) -> None:
    """Never a 5xx; a refusal is a JSON error and leaves every table as it was."""
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        assert response.is_json and response.get_json()["error"]["message"], response.data[:300]
        assert fingerprint() == before, f"answered {response.status_code} but wrote"


def test_hostile_bodies_to_every_write(app, api_shop):
    client = app.test_client()

    @FUZZ
    @given(
        path=st.sampled_from(WRITES),
        body=_raw_body(api_shop["codes"]),
        content_type=st.sampled_from(JSON_TYPES),
        headers=_idempotency_headers(),
        signed=st.booleans(),
    )
    def attempt(path, body, content_type, headers, signed):
        note(f"POST {path} {content_type!r} {headers} signed={signed} body={body[:200]!r} ({len(body)} bytes)")
        before = fingerprint()
        headers = {**headers, "Content-Type": content_type, **(api_shop["auth"] if signed else {})}
        response = client.post(f"/api/v1{path}", data=body, headers=headers)
        db.session.remove()
        _check(response, before)

    attempt()


def test_hostile_reads(app, api_shop):
    client = app.test_client()
    arg = st.one_of(st.sampled_from(NUMBERS + TEXTS), st.text(max_size=30), st.integers(-(2**70), 2**70).map(str))

    @FUZZ
    @given(code=st.one_of(st.sampled_from(api_shop["codes"]), arg), since=arg, limit=arg, method=st.sampled_from(
        ["GET", "POST", "PUT", "PATCH", "DELETE"]))  # fmt: skip
    def attempt(code, since, limit, method):
        before = fingerprint()
        for path, query in ((f"/api/v1/tags/{code}", None), ("/api/v1/movements", {"since": since, "limit": limit})):
            response = client.open(path, method=method, query_string=query, headers=api_shop["auth"])
            db.session.remove()
            _check(response, before)

    attempt()


# ---------------------------------------------------------------- schemathesis, from the OpenAPI document


# The document the app serves at /api/v1/openapi.json is this very data (tests/test_api.py checks it). It is read
# here rather than fetched, because fetching needs a token, which needs a database, which exists only inside a test.
schema = schemathesis.openapi.from_dict(openapi.DOCUMENT)
schema.config.generation.update(
    modes=["positive", "negative"], max_examples=FUZZ.max_examples, with_security_parameters=False
)


@schema.parametrize()
@settings(FUZZ)
def test_the_api_keeps_its_openapi_document(app, api_shop, case):
    """Every operation, with examples that fit the document and examples that break it, signed with a valid token
    and, as the document asks of a write, with an idempotency key in the header unless the body carries one."""
    # The checks' own probes (the same request without the token, …) go to this app too, not to the network.
    case.operation.schema.app = case.operation.app = app
    headers = {**api_shop["auth"], "Accept-Encoding": "identity"}
    if case.method == "POST" and isinstance(case.body, dict) and "event_id" in case.body:
        (case.headers or {}).pop("Idempotency-Key", None)  # the key goes in one place or the other
    elif case.method == "POST" and not (case.headers or {}).get("Idempotency-Key"):
        headers["Idempotency-Key"] = str(uuid.uuid4())
    before = fingerprint()
    db.session.remove()
    response = case.call(headers=headers)
    db.session.remove()
    case.validate_response(response, headers=headers)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert fingerprint() == before


# ---------------------------------------------------------------- findings, each fixed, each kept by a test


@pytest.mark.parametrize("method", ["DELETE", "PUT", "TRACE", "GET"])
def test_a_method_an_api_path_does_not_take_is_a_json_405_naming_the_ones_it_does(app, api_shop, method):
    """Found by schemathesis: TRACE /api/v1/moves answered the HTML error page without `Allow`, and DELETE
    /api/v1/moves said there is no such endpoint (404)."""
    response = app.test_client().open("/api/v1/moves", method=method, headers=api_shop["auth"])
    assert response.status_code == 405 and response.headers["Allow"] == "OPTIONS, POST"
    assert "POST" in response.get_json()["error"]["message"]


def test_options_lists_only_the_methods_the_api_path_takes(app, api_shop):
    """Found by schemathesis: OPTIONS /api/v1/moves listed the catch-all's GET, PUT, PATCH, DELETE and TRACE too."""
    response = app.test_client().options("/api/v1/moves", headers=api_shop["auth"])
    assert response.status_code == 200 and response.headers["Allow"] == "OPTIONS, POST"


def test_the_document_bounds_the_movements_cursor_as_the_api_does(app, api_shop):
    """Found by schemathesis: the document let `since` be any integer >= 0; the API refuses one above 2**62."""
    bound = openapi.DOCUMENT["paths"]["/movements"]["get"]["parameters"][0]["schema"]["maximum"]
    client = app.test_client()
    assert client.get(f"/api/v1/movements?since={bound}", headers=api_shop["auth"]).status_code == 200
    assert client.get(f"/api/v1/movements?since={bound + 1}", headers=api_shop["auth"]).status_code == 400


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"lines": ' * 50_000])
def test_json_nested_too_deep_to_read_is_a_400(app, api_shop, body):
    """Found by fuzzing: the JSON decoder's RecursionError is not a ValueError, so get_json(silent=True) let it
    through (a 500)."""
    headers = {**api_shop["auth"], "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    response = app.test_client().post("/api/v1/moves", data=body, headers=headers)
    assert response.status_code == 400 and "nested" in response.get_json()["error"]["message"]


def test_an_unknown_api_path_is_still_a_json_404(app, api_shop):
    response = app.test_client().open("/api/v1/nowhere", method="TRACE", headers=api_shop["auth"])
    assert response.status_code == 404 and response.get_json()["error"]["message"]


@pytest.mark.parametrize("field", ["receipt", "note"])
def test_text_with_a_nul_character_is_a_400_and_writes_nothing(app, api_shop, field):
    """Found by fuzzing: PostgreSQL cannot store NUL in text, and a sale's receipt or a move's note with one was a
    500 there (SQLite stored it). The document says so now: these strings match a pattern without NUL."""
    body = {"lines": [{"item": "R-1", "price": "1.00"}], "receipt": "R-1"}
    body = (
        {**body, field: "R\x00-1"} if field == "receipt" else {"to": "A-SC1", "lines": [{"item": "R-1"}], field: "\x00"}
    )
    path = "/api/v1/sales" if field == "receipt" else "/api/v1/moves"
    before = fingerprint()
    response = app.test_client().post(
        path, json=body, headers={**api_shop["auth"], "Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    assert fingerprint() == before
