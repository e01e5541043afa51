"""Hostile input to every state-changing page: the answer is never a 5xx, and a 4xx leaves the database as it was.

The endpoints come from the app's URL map (every rule taking POST, PUT, PATCH or DELETE outside the JSON API), so
a new route is fuzzed without touching this file. For each, hypothesis builds requests from:
- the URL: ids of real objects (of the admin's stores and of a store the admin is not in), absent and huge ids,
  real and forged draft keys and count lines;
- the body: field names of the forms the view uses (and the `request.form` names it reads, and the names on its
  page), plus random ones; values plausible and hostile (tests/fuzz.py), fields left out or repeated, bytes that
  are not UTF-8, and files (random bytes, empty, large, wrong type) for the upload fields;
- or the form that posts there as its page shows it, with one or two fields spoiled: a request that gets past the
  shape checks with one bad value, so that the services and the database see hostile values too.
The world is built once per backend: a demo chain plus a store the admin is not in, with work orders, counts, a
transfer, a sale, return reasons and an API token.
"""

import inspect
import io
import re
import sys
from html.parser import HTMLParser
from urllib.parse import quote, urlencode
from uuid import uuid4

import pytest
from flask_login.utils import _create_identifier
from hypothesis import given, note
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart
from wtforms import Form
from wtforms.fields import FileField, MultipleFileField

from scanapp import create_app
from scanapp.extensions import db
from scanapp.models import (
    ApiToken,
    Count,
    CountLine,
    Item,
    Location,
    Lot,
    Movement,
    ReturnReason,
    Store,
    Supplier,
    Tag,
    Transfer,
    User,
    WorkOrder,
)
from scanapp.services import api_tokens, bench, counts, returns, sales, transfers
from scanapp.services.demo import seed_demo
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine
from tests.conftest import _empty_tables, build_app, password_hash
from tests.factories import Factory
from tests.fuzz import FUZZ, event_ids, fingerprint, hostile_text

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# The model an id in a URL names, by blueprint and argument; any other id is drawn from small numbers.
URL_MODELS = {
    ("bench", "id"): WorkOrder,
    ("bench", "movement_id"): Movement,
    ("bench", "item_id"): Item,
    ("counts", "id"): Count,
    ("inspections", "lot_id"): Lot,
    ("returns", "id"): ReturnReason,
    ("suppliers", "id"): Supplier,
    ("tokens", "id"): ApiToken,
    ("transfers", "id"): Transfer,
    ("users", "id"): User,
}
# A refused sign-in is recorded in the audit log on purpose (services/audit.py): it is the one write a 4xx may make.
WRITES_ON_REFUSAL = {"auth.login": {"audit_log"}}
# Prefixed sub-forms (line-<key>-pieces …) that no form class names in full.
LINE_FIELDS = [f"line-{n}-{name}" for n in (1, 2) for name in ("pieces", "weight", "source_id", "action", "reason")]
EXTRA_FIELDS = ["csrf_token", "next", "drop_line", "shown", "q", "x", "", "event_id[]", "a" * 300]
BOUNDS = [2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64]  # the edges of PostgreSQL's and SQLite's integers
URL_ARG_RE = re.compile(r"<(?:[^>]*:)?(\w+)>")
NAME_RE = re.compile(r'name="([^"]{1,80})"')
FORM_CALL_RE = re.compile(r"\b([A-Z]\w*Form)\(")
READ_RE = re.compile(r"request\.(?:form|files|values)(?:\.get|\.getlist)?\(?\[?[\"']([^\"']+)[\"']")


def _rules():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "collect"})
    rules = [r for r in app.url_map.iter_rules() if r.methods & WRITES and not r.endpoint.startswith("api.")]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


RULES = _rules()


# ---------------------------------------------------------------- the world


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    """An app on the backend's database with a whole chain in it; emptied again after the module."""
    app = build_app(database_url, tmp_path_factory.mktemp("media"))
    with app.app_context():
        admin = _build_world()
        db.session.commit()
        yield app, admin.id
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _build_world() -> User:
    """The demo chain, a store the admin is not in, and one of each thing a URL can name. Returns the admin."""
    people = seed_demo("fuzz-password")
    make = Factory(password_hash())
    admin, maria = people["admin"], people["maria"]
    main, mall = (db.session.scalar(select(Store).where(Store.code == code)) for code in ("MAIN", "MALL"))
    place = {loc.code: loc for loc in main.locations}

    far = make.store("FAR", "Far Away")
    far_bench, far_safe = make.location(far, "FB", "bench"), make.location(far, "FS", "safe")
    far_manager = make.user("manager", [far])
    make.lot(far_safe, pieces=5, serials=["FAR-1", "FAR-2"], by=far_manager)

    for store, bench_place, safe, by in (
        (main, place["BENCH"], place["SAFE"], admin),
        (far, far_bench, far_safe, far_manager),
    ):
        job = bench.NewJob(kind="repair", description="Resize", bench=bench_place)
        bench.open_work_order(job, event_id=new_event_id(), by=by, store=store)
        count = counts.start_count(store, safe, blind=False, event_id=new_event_id(), by=by)
        lot = db.session.scalar(select(Lot).where(Lot.store_id == store.id).order_by(Lot.id.desc()))
        counts.add_line(count, code=lot.tag.code, pieces=1, event_id=new_event_id(), by=by)

    rings = db.session.scalar(select(Lot).where(Lot.description.like("Solitaire%")))
    studs = db.session.scalar(select(Lot).where(Lot.description.like("Pearl%")))
    transfers.ship(
        [MoveLine(lot=studs, source=place["SC2"], pieces=2)],
        mall,
        reference="F-1",
        carrier="Courier",
        event_id=new_event_id(),
        by=maria,
        store=main,
    )
    sold = rings.items[-1]
    sales.sell([MoveLine(item=sold)], price=[sold.lot.unit_cost], receipt="R-1", event_id=new_event_id(), by=maria,
               store=main)  # fmt: skip
    returns.seed_reasons(main)
    api_tokens.create_token(admin, main, "till", by=admin)
    return admin


def _client(app, user_id: int | None):
    """A fresh test client, signed in as the user (as tests/conftest.py's client_for does), or anonymous."""
    if user_id is None:
        return app.test_client()
    client = app.test_client(user=db.session.get(User, user_id))
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": client.environ_base.get("HTTP_USER_AGENT", "")}
    with app.test_request_context(environ_base=environ), client.session_transaction() as session:
        session["_id"] = _create_identifier()
    return client


# ---------------------------------------------------------------- what to send


def _form_fields(view) -> tuple[set[str], set[str]]:
    """(field names, file field names) of the forms the view builds, else of every form its module uses, plus the
    names it reads from request.form or request.files itself."""
    module = sys.modules[view.__module__]
    classes = [getattr(module, name, None) for name in FORM_CALL_RE.findall(inspect.getsource(view))]
    if not any(classes):
        classes = [obj for obj in vars(module).values() if inspect.isclass(obj) and issubclass(obj, Form)]
    names, files = set(READ_RE.findall(inspect.getsource(module))), set()
    for cls in classes:
        if not (inspect.isclass(cls) and issubclass(cls, Form)):
            continue
        for name, unbound in vars(cls).items():
            field_class = getattr(unbound, "field_class", None)
            if field_class is None:
                continue
            names.add(name)
            if issubclass(field_class, FileField | MultipleFileField):
                files.add(name)
    if "photo" in names:  # request.files.get("photo")
        files.add("photo")
    return names, files


def _page_fields(client, url: str) -> set[str]:
    """The input names on the page behind the same URL, for a rule that also answers GET."""
    response = client.get(url)
    return set(NAME_RE.findall(response.get_data(as_text=True))) if response.status_code == 200 else set()


def _url_values(rule, world_ids: dict, real_keys: list[str]) -> st.SearchStrategy[dict]:
    """Values for the rule's URL arguments: real ids (own and foreign stores), absent, zero and huge ids; real and
    forged draft keys and count lines."""
    blueprint = rule.endpoint.split(".")[0]
    parts = {}
    for arg, converter in rule._converters.items():
        if type(converter).__name__ == "IntegerConverter":
            real = world_ids.get((blueprint, arg)) or list(range(1, 30))
            parts[arg] = st.one_of(
                st.sampled_from(real), st.integers(0, 10**6), st.integers(2**31, 2**80), st.sampled_from(BOUNDS)
            )
        elif hasattr(converter, "items"):  # any(a, b, c)
            parts[arg] = st.sampled_from(sorted(converter.items))
        elif arg == "key":
            parts[arg] = st.one_of(
                st.sampled_from(real_keys or ["0" * 12]),
                st.sampled_from(["0" * 12, "ffffffffffff", "ABCDEFABCDEF", "../../..", "x" * 500]),
                st.text(min_size=1, max_size=20),
            )
        else:
            real = world_ids.get((blueprint, arg)) or ["1"]
            parts[arg] = st.one_of(st.sampled_from(real), st.text(min_size=1, max_size=40), st.sampled_from(
                ["0", "-1", "9" * 40, "%00", "..", "' OR 1=1 --"]))  # fmt: skip
    return st.fixed_dictionaries(parts)


def _files() -> st.SearchStrategy:
    """An upload: random bytes, empty, large, a tiny valid PNG, under hostile names and content types."""
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    data = st.one_of(
        st.binary(max_size=200),
        st.just(b""),
        st.just(png),
        st.just(b"%PDF-1.4\n" + b"0" * 2_000_000),
        st.just(png[:30]),
        st.just(b"\xff\xd8\xff\xe0" + b"\x00" * 100),
    )
    names = st.sampled_from(["a.png", "a.pdf", "", "../../x.png", "💍.jpg", "a" * 300 + ".png", "x.exe", "\x00.png"])
    types = st.sampled_from(["image/png", "application/pdf", "text/html", "application/octet-stream", "", "x/y"])
    return st.tuples(data, names, types)


def _body(names: list[str], files: set[str], plausible: list[str]) -> st.SearchStrategy[list]:
    """A list of (name, value) pairs: some of the form's fields (maybe none, maybe repeated) and some random
    names, with hostile values; event_id from event ids most of the time."""

    def value_for(name: str) -> st.SearchStrategy:
        if name in files:
            return _files()
        if name == "event_id":
            return st.one_of(event_ids(), hostile_text())
        if name.endswith("_id") or name in ("rows", "components"):
            return hostile_text(plausible=[str(n) for n in range(1, 30)])
        return hostile_text(plausible=plausible)

    known = st.lists(st.sampled_from(names), max_size=len(names) + 3) if names else st.just([])
    random_names = st.lists(st.one_of(st.sampled_from(EXTRA_FIELDS), st.text(max_size=20)), max_size=2)
    return (
        st.tuples(known, random_names)
        .flatmap(lambda picked: st.tuples(*[st.tuples(st.just(n), value_for(n)) for n in picked[0] + picked[1]]))
        .map(list)
    )


def _request_kwargs(pairs: list, raw_bytes: bytes | None) -> dict:
    """The test client's arguments for a body, encoded here (so that repeated fields and bytes that are not UTF-8 go
    through as they are): multipart when it carries a file, else url-encoded. (Encoded in memory: the test client
    would spool a large multipart body to a temporary file that it never closes.)"""
    if any(isinstance(value, tuple) for _, value in pairs):
        fields = MultiDict()
        for name, value in pairs:
            if isinstance(value, tuple):
                content, filename, content_type = value
                value = FileStorage(io.BytesIO(content), filename, name, content_type)
            fields.add(name, value)
        boundary, body = encode_multipart(fields)
        return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}
    body = urlencode(pairs).encode()
    if raw_bytes:
        body += b"&code=" + quote(raw_bytes).encode() + b"&event_id=" + quote(raw_bytes).encode()
    return {"data": body, "content_type": "application/x-www-form-urlencoded"}


class _Forms(HTMLParser):
    """The forms of a page: each one's action and the (name, value) pairs a browser would send as it stands (the
    first option of a select, the first of a group of radio buttons, ticked boxes; no files)."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str | None, list]] = []
        self._select = self._textarea = None
        self._radios: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a.get("action"), []))
        elif not self.forms or not a.get("name") and tag != "option":
            return
        fields = self.forms[-1][1]
        kind = a.get("type", "text")
        if tag == "input" and kind not in ("submit", "button", "file", "image", "reset"):
            if kind == "radio" and a["name"] in self._radios or kind == "checkbox" and "checked" not in a:
                return
            self._radios.add(a["name"]) if kind == "radio" else None
            fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and a.get("value"):
            fields.append((self._select, a["value"]))
            self._select = None
        elif tag == "textarea":
            self._textarea = a["name"]
            fields.append((a["name"], ""))

    def handle_data(self, data):
        if self._textarea and self.forms:
            name, text = self.forms[-1][1].pop()
            self.forms[-1][1].append((name, text + data))

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def _baseline(client, url: str) -> list | None:
    """The form that posts to `url` as its page shows it (the page at `url` or one of its parents), empty inputs
    filled with "1": a request that mostly passes the shape checks, for hypothesis to spoil one field at a time."""
    path = url
    for _ in range(3):
        response = client.get(path)
        if response.status_code == 200:
            reader = _Forms()
            reader.feed(response.get_data(as_text=True))
            for action, fields in reader.forms:
                if (action or path) == url and fields:
                    return [(name, value or "1") for name, value in fields]
        path = path.rstrip("/").rsplit("/", 1)[0] or "/"
    return None


def _spoiled(baseline: list, plausible: list[str]) -> st.SearchStrategy[list]:
    """The baseline with a fresh event id, and one or two of its fields given hostile values or left out."""
    names = sorted({name for name, _ in baseline} - {"event_id"})

    def spoil(fresh: str, victims: list[str], values: list[str], drop: bool) -> list:
        pairs = [(n, fresh if n == "event_id" else v) for n, v in baseline if n not in victims]
        return pairs if drop else pairs + list(zip(victims, values, strict=False))

    victims = st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True) if names else st.just([])
    return st.builds(
        spoil, st.uuids().map(str), victims, st.lists(hostile_text(plausible), min_size=2, max_size=2), st.booleans()
    )


def _url(rule, args: dict) -> str:
    """The rule's URL with `args` put in as they are (url_for would refuse the ones that are out of range)."""
    return URL_ARG_RE.sub(lambda m: quote(str(args[m.group(1)]), safe=""), rule.rule)


def _short(value):
    """A value as the failure report shows it: long strings and files cut down to what tells them apart."""
    if isinstance(value, tuple):
        return (f"<{len(value[0])} bytes>", *value[1:])
    return value if len(value) <= 80 else f"{value[:40]!r}… ({len(value)} chars)"


# ---------------------------------------------------------------- the test


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{sorted(r.methods & WRITES)[0]} {r.rule}")
def test_hostile_form_input_never_fails_and_writes_nothing_when_refused(world, rule):
    app, admin_id = world
    anonymous = rule.endpoint == "auth.login"  # signed in, the login page only sends you home
    user_id = None if anonymous else admin_id
    view = app.view_functions[rule.endpoint]
    names, files = _form_fields(view)
    world_ids = {
        key: list(db.session.scalars(select(model.id).order_by(model.id))) for key, model in URL_MODELS.items()
    }
    world_ids[("counts", "line")] = list(db.session.scalars(select(CountLine.event_id)))
    world_ids[("users", "id")].remove(admin_id)  # the fuzzing admin stays who they are, for the tests after
    codes = list(db.session.scalars(select(Tag.code).order_by(Tag.code)))
    plausible = codes + [str(n) for n in range(0, 4)] + ["1.250", "Courier", "repair", "pass", "2026-04-15"]
    plausible += [loc.code for loc in db.session.scalars(select(Location))]

    first = _client(app, user_id)
    prefix = rule.rule.split("/<key>")[0] if "<key>" in rule.rule else None
    real_keys = []
    if prefix is not None:  # a real draft of this page, with a line scanned in
        response = first.get(prefix, query_string={"code": codes[0]})
        real_keys.append(response.location.rsplit("/", 1)[-1])
    args = {arg: (world_ids.get((rule.endpoint.split(".")[0], arg)) or real_keys or [1])[0] for arg in rule.arguments}
    if "GET" in rule.methods:
        names |= _page_fields(first, _url(rule, args))
    baseline = _baseline(first, _url(rule, args)) if "<any" not in rule.rule else None
    names |= set(LINE_FIELDS) if prefix is not None or rule.endpoint.startswith("transfers.") else set()
    db.session.remove()

    @FUZZ
    @given(
        request=st.one_of(
            st.tuples(_url_values(rule, world_ids, real_keys), _body(sorted(names), files, plausible)),
            *([st.tuples(st.just(args), _spoiled(baseline, plausible))] if baseline else []),
        ),
        raw=st.one_of(st.none(), st.binary(min_size=1, max_size=8)),
        method=st.sampled_from(sorted(rule.methods & WRITES)),
        htmx=st.booleans(),
    )
    def attempt(request, raw, method, htmx):
        url_args, pairs = request
        client = first if real_keys else _client(app, user_id)  # drafts live in the first client's session
        url = _url(rule, url_args)
        note(f"{method} {url} htmx={htmx} raw={raw!r} fields={[(n, _short(v)) for n, v in pairs]}")
        before = fingerprint()
        db.session.remove()
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.open(url, method=method, headers=headers, **_request_kwargs(pairs, raw))
        db.session.remove()
        after = fingerprint()
        db.session.remove()
        assert response.status_code < 500, f"{method} {url} {pairs!r:.2000} -> {response.status_code}"
        if response.status_code >= 400:
            allowed = WRITES_ON_REFUSAL.get(rule.endpoint, set())
            changed = {b[0] for b, a in zip(before, after, strict=True) if b != a and isinstance(b, tuple)}
            changed |= {"balances"} if before[-2:] != after[-2:] else set()
            assert not changed - allowed, f"{method} {url} answered {response.status_code} but wrote {changed}"
            assert response.data, "a refusal says why"

    attempt()


def test_without_a_csrf_token_every_write_is_refused_and_writes_nothing(world):
    """With CSRF protection on (as in production), a post of hostile fields but no token changes nothing: the
    page is sent back with a message (a redirect, or a 400 for HTMX)."""
    app, admin_id = world
    client = _client(app, admin_id)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for rule in RULES:
            args = {arg: 1 for arg in rule.arguments} | {"key": "0" * 12, "change": "unlock", "line": "x"}
            for htmx in (False, True):
                before = fingerprint()
                db.session.remove()
                headers = {"HX-Request": "true"} if htmx else {}
                response = client.post(
                    _url(rule, args), data={"event_id": str(uuid4()), "name": "<b>"}, headers=headers
                )
                db.session.remove()
                assert response.status_code in ((400,) if htmx else (302, 400)), (rule.rule, response.status_code)
                assert fingerprint() == before, rule.rule
                db.session.remove()
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
        db.session.remove()  # no transaction left open to block the next test's TRUNCATE


# ---------------------------------------------------------------- findings, each fixed, each kept by a test


def test_a_method_a_page_does_not_take_is_a_405_naming_the_ones_it_does(app, make, client_for):
    """Found by schemathesis (the same error page serves the API's routing errors): a 405 without `Allow`."""
    client = client_for(make.user("admin", [make.store()]))
    response = client.open("/moves/undo", method="TRACE")
    assert response.status_code == 405 and set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    assert "not available here" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "method, url",
    [
        ("POST", "/suppliers/18446744073709551616/deactivate"),
        ("GET", "/lots/9223372036854775808"),
        ("POST", "/bench/2147483648/status"),
        ("GET", "/counts/3000000000"),
    ],
)
def test_an_id_too_large_for_the_database_is_a_404(app, make, client_for, method, url):
    """Found by fuzzing: an id too large for an id column in a URL reached the database: above 2**63 - 1 SQLite's
    driver raised OverflowError, above 2**31 - 1 PostgreSQL said integer out of range (a 500 either way)."""
    client = client_for(make.user("admin", [make.store()]))
    assert client.open(url, method=method, data={"event_id": "0b5e2a38-7d1c-4a55-9a43-2f1c3d4e5f60"}).status_code == 404


def test_text_with_a_nul_character_is_refused_before_it_reaches_the_database(app, make, client_for):
    """Found by fuzzing: PostgreSQL cannot store NUL in text (psycopg raised DataError, a 500), and SQLite stored it.
    Forms, query strings and upload names are refused whole with a 400."""
    store = make.store()
    client = client_for(make.user("admin", [store]))
    before = fingerprint()
    response = client.post(
        "/locations/", data={"code": "X1", "name": "Sa\x00fe", "kind": "safe", "event_id": str(uuid4())}
    )
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert client.get("/search/?q=a%00b").status_code == 400
    upload = {"photo": (io.BytesIO(b"x"), "a\x00.png", "image/png")}
    assert client.post("/scan/photo", data=upload, content_type="multipart/form-data").status_code == 400
    assert fingerprint() == before


def test_a_users_stores_posted_empty_are_no_stores_not_a_500(app, make, client_for):
    """Found by fuzzing: a POST without any field (Flask-WTF then reads no form at all) left the store tick boxes
    at None, and the view iterated it (TypeError, a 500). No store ticked is refused as the service says."""
    store = make.store()
    admin, clerk = make.user("admin", [store]), make.user("associate", [store])
    client = client_for(admin)
    before = fingerprint()
    assert client.post(f"/settings/users/{clerk.id}/stores").status_code == 422
    assert fingerprint() == before


def test_a_chosen_place_id_too_large_for_the_database_is_no_choice(app, make, client_for):
    """Found by fuzzing on PostgreSQL: a form's place id of 10 or 11 digits was looked up (integer out of range, a
    500); as the forms' id parsers always meant, it now reads as nothing chosen."""
    client = client_for(make.user("admin", [make.store()]))
    before = fingerprint()
    data = {"source_id": "9999999999", "dest_id": "99999999999", "event_id": str(uuid4())}
    response = client.post("/moves/location", data=data)
    assert response.status_code == 422 and "Choose the place" in response.get_data(as_text=True)
    assert fingerprint() == before


def test_a_form_part_whose_name_does_not_parse_is_no_500(app, make, client_for):
    """Found by fuzzing: a multipart part named with a bare carriage return comes out of the form without a name
    (None), and the check for NUL characters in the fields' names tried to look into it (TypeError, a 500)."""
    client = client_for(make.user("admin", [make.store()]))
    before = fingerprint()
    body = (
        b'--b\r\nContent-Disposition: form-data; name="\r"\r\n\r\nAUR-1026-MT-001\r\n'
        b'--b\r\nContent-Disposition: form-data; name="photos"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\r\n--b--\r\n"
    )
    response = client.post("/inspections/new", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code < 500
    assert fingerprint() == before
