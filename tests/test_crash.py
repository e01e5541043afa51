"""A real server (gunicorn, three workers) under a burst of clients moving, selling, counting and consuming the same
lots at once, and the same burst with the server killed hard (SIGKILL to the master and its workers) half-way.

Afterwards: every acknowledged request is one event with its rows, a request sent twice applied once, a refused
request wrote nothing, no physical place below zero, items where their last movement put them, and
`flask check-ledger` clean; after the crash the database opens, the server serves again, and requests that were
in flight when it died are applied at most once when the clients send them again with their keys.

Runs on SQLite (a file) and, with TEST_DATABASE_URL, on PostgreSQL (a database of its own, made and dropped here).
"""

import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from flask_migrate import stamp
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from scanapp import create_app
from scanapp.extensions import db
from scanapp.models import PHYSICAL_KINDS, Balance, CountLine, Event, Item, Location, Movement
from scanapp.services import bench, counts
from scanapp.services.api_tokens import create_token
from scanapp.services.events import new_event_id
from tests.conftest import BACKENDS, PASSWORD, password_hash
from tests.factories import Factory

pytestmark = pytest.mark.slow_server

ROOT = Path(__file__).resolve().parent.parent
CLIENTS, WORKERS, BURST_SECONDS, KILL_AFTER = 10, 3, 3.0, 1.8
ITEMS = [f"RING-{n:02d}" for n in range(1, 9)]
SUCCESS = {200, 201}
REFUSED = {409, 422}
# What each kind of request leaves behind when applied: its event's action, and its movements.
ACTIONS = {"move": ("move", 1), "sell": ("sell", 1), "consume": ("use_material", 1), "scan": ("count_line", 0)}


# ---------------------------------------------------------------- the database and the server


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    """A fresh database with the schema: a SQLite file, or a PostgreSQL database of its own named after the test one
    (`test` gives `test_crash`), dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.db'}"
        create_schema(url)
        yield url
        return
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{base.database}_crash"
    url = base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        create_schema(url)
        yield url
    finally:
        with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(url: str, tmp_path: Path, port: int = 0) -> dict:
    """The environment of a production app server on `url`, listening on 127.0.0.1:`port` over plain HTTP."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SCANAPP_")}
    return env | {
        "DATABASE_URL": url,
        "SECRET_KEY": "crash-test",
        "SCANAPP_MEDIA_DIR": str(tmp_path / "media"),
        "SCANAPP_TLS": "off",
        "SCANAPP_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(WORKERS),
        "FLASK_APP": "scanapp:create_app",
    }


def flask(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "flask", *args]
    return subprocess.run(command, cwd=ROOT, env=server_env(url, tmp_path), capture_output=True, text=True)


def create_schema(url: str) -> None:
    """The schema of the models, stamped at the newest migration (tests/test_migrations.py shows the two agree)."""
    with opened(url):
        db.create_all()
        stamp()


@contextmanager
def opened(url: str):
    """An app context on `url`, for setting up and for looking at what the server wrote."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MEDIA_DIR": "", "SECRET_KEY": "crash-test"})
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn -c gunicorn.conf.py wsgi:app in a process group of its own, so that one signal kills it all."""

    def __init__(self, url: str, tmp_path: Path):
        self.port = free_port()
        self.env = server_env(url, tmp_path, self.port)
        self.log = tmp_path / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not self._healthy():
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 60 s"
            time.sleep(0.1)

    def _healthy(self) -> bool:
        try:
            return request(self.port, "GET", "/healthz")[0] == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: no shutdown, no rollback, no flush."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 10
        while self._listening():  # the workers die with the master; their socket closes when the last one has
            assert time.monotonic() < deadline, "a gunicorn worker outlived SIGKILL"
            time.sleep(0.05)

    def _listening(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text()


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One HTTP request on a connection of its own (gunicorn's sync workers close every connection)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode(), response.headers
    finally:
        connection.close()


# ---------------------------------------------------------------- the store the clients work in


@dataclass
class World:
    """Codes and ids of what was set up, and how each user signs in to the API and the web pages."""

    tokens: dict[str, str]
    places: dict[str, str]  # SAFE, SC1, BENCH -> tag code
    place_ids: dict[str, int]
    work_order: int
    count: int
    cookies: dict[str, str] = field(default_factory=dict)  # role -> Cookie header
    csrf: dict[str, str] = field(default_factory=dict)


def build(url: str) -> World:
    """A store A with a safe, a showcase and a bench; one user of each role with an API token; CLASP (120 loose
    pieces in the safe), RING (8 items and 4 loose pieces in the showcase), GOLD (200 g in the safe), SPARE (5 in
    the safe, which no client touches); an open repair job on the bench and an open count of the showcase."""
    with opened(url):
        make = Factory(password_hash())
        store = make.store("A", "Main Street")
        safe, case = make.location(store, "SAFE", "safe"), make.location(store, "SC1", "showcase")
        bench_place = make.location(store, "BENCH", "bench")
        people = {role: make.user(role, [store], username=role) for role in ("associate", "vault", "bench", "manager")}
        manager = people["manager"]
        make.lot(safe, pieces=120, category="finding", by=manager, number="CLASP")
        make.lot(case, pieces=12, category="finished", by=manager, number="RING", serials=ITEMS)
        make.lot(safe, pieces=0, weight="200.000", weight_unit="g", category="metal", by=manager, number="GOLD")
        make.lot(safe, pieces=5, category="finding", by=manager, number="SPARE")  # the burst leaves it alone
        tokens = {role: create_token(user, store, f"till {role}", by=manager)[1] for role, user in people.items()}
        job = bench.NewJob(kind="repair", description="Resize a ring", bench=bench_place)
        wo = bench.open_work_order(job, event_id=new_event_id(), by=people["bench"], store=store)
        count = counts.start_count(store, case, blind=False, event_id=new_event_id(), by=people["vault"])
        places = {"SAFE": safe, "SC1": case, "BENCH": bench_place}
        world = World(
            tokens=tokens,
            places={name: place.tag.code for name, place in places.items()},
            place_ids={name: place.id for name, place in places.items()},
            work_order=wo.id,
            count=count.id,
        )
        db.session.commit()
    return world


def sign_in(port: int, world: World, role: str) -> None:
    """Sign in through the login form as a phone would, keep the session cookie and a CSRF token for its forms."""
    status, body, headers = request(port, "GET", "/login")
    cookie = _session_cookie(headers)
    form = {"username": role, "password": PASSWORD, "csrf_token": _csrf(body)}
    status, body, headers = request(port, "POST", "/login", _form(form), {"Cookie": cookie} | FORM)
    assert status == 302, body
    world.cookies[role] = _session_cookie(headers)
    status, body, _ = request(port, "GET", f"/bench/{world.work_order}", headers={"Cookie": world.cookies[role]})
    assert status == 200, body
    world.csrf[role] = _csrf(body)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _session_cookie(headers) -> str:
    return next(c.split(";")[0] for c in headers.get_all("Set-Cookie") if c.startswith("session="))


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _form(data: dict) -> bytes:
    return urllib.parse.urlencode(data).encode()


# ---------------------------------------------------------------- the burst


@dataclass(frozen=True)
class Call:
    """One request a client makes: its kind (a key of ACTIONS), its key, and how to send it."""

    kind: str
    key: str
    method: str
    path: str
    body: bytes
    headers: dict


@dataclass(frozen=True)
class Outcome:
    call: Call
    status: int | None  # None: no answer (the connection failed or broke)
    sent: bool  # the request went out before the connection failed: it may have been applied
    text: str = ""


def api(kind: str, path: str, role: str, payload: dict, world: World) -> Call:
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {world.tokens[role]}", "Idempotency-Key": key}
    headers["Content-Type"] = "application/json"
    return Call(kind, key, "POST", path, json.dumps(payload).encode(), headers)


def web(kind: str, path: str, role: str, data: dict, world: World) -> Call:
    key = str(uuid.uuid4())
    body = _form(data | {"event_id": key, "csrf_token": world.csrf[role]})
    headers = {"Cookie": world.cookies[role], "HX-Request": "true"} | FORM
    return Call(kind, key, "POST", path, body, headers)


def random_call(rng: random.Random, world: World) -> Call:
    """A request of the mix: loose pieces and items moved and sold, gold and clasps used at the bench, scans."""
    p = world.places
    there, back = rng.sample(["SAFE", "SC1"], 2)
    anyone, seller = rng.choice(["associate", "vault", "manager"]), rng.choice(["associate", "manager"])
    choice = rng.random()
    if choice < 0.25:
        line = {"lot": "CLASP", "from": p[there], "pieces": rng.randint(1, 3)}
        return api("move", "/api/v1/moves", anyone, {"to": p[back], "lines": [line]}, world)
    if choice < 0.35:
        line = {"lot": "CLASP", "from": p[there], "pieces": 1, "price": "4.50"}
        return api("sell", "/api/v1/sales", seller, {"receipt": "R-1", "lines": [line]}, world)
    if choice < 0.55:
        line = {"item": rng.choice(ITEMS)}
        return api("move", "/api/v1/moves", seller, {"to": p[there], "lines": [line]}, world)
    if choice < 0.60:
        line = {"item": rng.choice(ITEMS), "price": "950.00"}
        return api("sell", "/api/v1/sales", "associate", {"receipt": "R-2", "lines": [line]}, world)
    if choice < 0.62:
        line = {"lot": "GOLD", "from": p["SAFE"], "weight": "1.500"}
        return api("move", "/api/v1/moves", "manager", {"to": p["BENCH"], "lines": [line]}, world)
    if choice < 0.67:
        line = {"lot": "RING", "from": p[there], "pieces": 1}  # loose rings, beside the items
        return api("move", "/api/v1/moves", "vault", {"to": p[back], "lines": [line]}, world)
    if choice < 0.82:
        use = {"code": "GOLD", "weight": "0.750"} if rng.random() < 0.5 else {"code": "CLASP", "pieces": "1"}
        use["location_id"] = world.place_ids["SAFE"]
        return web("consume", f"/bench/{world.work_order}/use", "bench", use, world)
    scan = {"code": rng.choice(ITEMS)} if rng.random() < 0.7 else {"code": "CLASP", "pieces": str(rng.randint(1, 9))}
    return web("scan", f"/counts/{world.count}/lines", "vault", scan, world)


def send(port: int, call: Call) -> Outcome:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sent = False
    try:
        connection.connect()
        connection.request(call.method, call.path, body=call.body, headers=call.headers)
        sent = True
        response = connection.getresponse()
        return Outcome(call, response.status, True, response.read().decode(errors="replace"))
    except (OSError, http.client.HTTPException) as error:
        return Outcome(call, None, sent, repr(error))
    finally:
        connection.close()


def burst(port: int, world: World, seconds: float, on_the_way=None) -> list[Outcome]:
    """CLIENTS threads send requests for `seconds`, each with a fresh key; some are sent again with the same key
    (a retry after the answer) and some twice at once (a double tap). `on_the_way()` runs in the middle."""
    outcomes: list[Outcome] = []
    stop_at = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop_at:
            call = random_call(rng, world)
            if rng.random() < 0.07:
                twin = threading.Thread(target=lambda c=call: outcomes.append(send(port, c)))
                twin.start()
                outcomes.append(send(port, call))
                twin.join()
            else:
                outcomes.append(first := send(port, call))
                if rng.random() < 0.15:
                    outcomes.append(send(port, call))
                if first.status is None:
                    time.sleep(0.25)  # a phone without its server waits before trying again

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(CLIENTS)]
    for t in threads:
        t.start()
    if on_the_way is not None:
        time.sleep(KILL_AFTER)
        on_the_way()
    for t in threads:
        t.join()
    return outcomes


# ---------------------------------------------------------------- what must hold afterwards


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    return {
        "requests": len(outcomes),
        "acknowledged": sum(o.status in SUCCESS for o in outcomes),
        "refused": sum(o.status in REFUSED for o in outcomes),
        "no answer": sum(o.status is None for o in outcomes),
        "distinct keys": len({o.call.key for o in outcomes}),
    }


def by_key(outcomes: list[Outcome]) -> dict[str, list[Outcome]]:
    keyed = defaultdict(list)
    for o in outcomes:
        keyed[o.call.key].append(o)
    return keyed


def was_replay(o: Outcome) -> bool:
    """A success that says the key was applied before: the API's `replayed`, the pages' "Already recorded"."""
    if o.call.kind in ("move", "sell"):
        return o.status == 200 and json.loads(o.text)["replayed"]
    return o.status == 200 and "Already recorded" in o.text


def check_answers(outcomes: list[Outcome]) -> None:
    """Every answer is a success or a refusal (never a 500, never a 'database is locked')."""
    answered = [o for o in outcomes if o.status is not None]
    assert [(o.call.kind, o.status, o.text) for o in answered if o.status not in SUCCESS | REFUSED] == []


def check_recorded(url: str, keys: dict[str, list[Outcome]], setup_events: set[str]) -> set[str]:
    """Each acknowledged key is one event of its action with its movements (or its count line); a key whose every
    attempt was refused wrote nothing; no event exists that no client sent. Returns the keys applied."""
    with opened(url):
        events = {e.id: e for e in db.session.scalars(select(Event)).all() if e.id not in setup_events}
        moved = Counter(db.session.scalars(select(Movement.event_id)).all())
        scanned = Counter(db.session.scalars(select(CountLine.event_id)).all())
        for key, attempts in keys.items():
            kind = attempts[0].call.kind
            if any(o.status in SUCCESS for o in attempts):
                action, lines = ACTIONS[kind]
                assert key in events and events[key].action == action, (kind, attempts)
                assert moved[key] == lines and scanned[key] == (kind == "scan"), (kind, attempts)
            elif all(o.status in REFUSED for o in attempts):
                assert key not in events and moved[key] == 0 and scanned[key] == 0, (kind, attempts)
        assert set(events) <= set(keys)
        for key in events:
            action, lines = ACTIONS[keys[key][0].call.kind]
            assert events[key].action == action and moved[key] == lines and scanned[key] == (action == "count_line")
        return set(events)


def check_stock(url: str, tmp_path: Path) -> None:
    """No physical place below zero; each item where its last movement put it, and never more items in a place
    than the pieces its lot has there; `flask check-ledger` agrees."""
    with opened(url):
        negative = db.session.execute(
            select(Balance.lot_id, Location.code, Balance.pieces, Balance.weight)
            .join(Location)
            .where(Location.kind.in_(PHYSICAL_KINDS), (Balance.pieces < 0) | (Balance.weight < 0))
        ).all()
        assert negative == []
        last = (
            select(Movement.item_id, func.max(Movement.id).label("id"))
            .where(Movement.item_id.is_not(None))
            .group_by(Movement.item_id)
        ).subquery()
        misplaced = db.session.execute(
            select(Item.serial, Item.location_id, Movement.to_location_id)
            .join(last, last.c.item_id == Item.id)
            .join(Movement, Movement.id == last.c.id)
            .where(Movement.to_location_id != Item.location_id)
        ).all()
        assert misplaced == []
        items_at = (
            select(Item.lot_id, Item.location_id, func.count().label("n")).group_by(Item.lot_id, Item.location_id)
        ).subquery()
        overfull = db.session.execute(
            select(items_at.c.lot_id, items_at.c.location_id, items_at.c.n, Balance.pieces)
            .join(Location, Location.id == items_at.c.location_id)
            .outerjoin(Balance, (Balance.lot_id == items_at.c.lot_id) & (Balance.location_id == items_at.c.location_id))
            .where(Location.kind.in_(PHYSICAL_KINDS), func.coalesce(Balance.pieces, 0) < items_at.c.n)
        ).all()
        assert overfull == []
    checked = flask(url, tmp_path, "check-ledger")
    assert checked.returncode == 0 and "Ledger and balances agree." in checked.stdout, checked.stdout + checked.stderr


def setup_event_ids(url: str) -> set[str]:
    with opened(url):
        return set(db.session.scalars(select(Event.id)).all())


@pytest.fixture
def server(database, tmp_path):
    """The store built in `database`, served by gunicorn; yields (server, world) and stops the server after."""
    world = build(database)
    live = Server(database, tmp_path)
    live.start()
    try:
        for role in ("bench", "vault"):
            sign_in(live.port, world, role)
        yield live, world
    finally:
        live.stop()


def report(label: str, counts_: dict, seconds: float) -> None:
    print(f"\n{label}: {counts_} in {seconds:.1f} s")


# ---------------------------------------------------------------- the tests


def test_burst_against_a_real_server_applies_each_acknowledged_request_once(server, database, tmp_path):
    """Ten clients for three seconds on three workers: moves, sales, bench use and count scans of the same lots
    and items; then every acknowledged key is recorded once, refusals wrote nothing, and the stock adds up."""
    live, world = server
    before = setup_event_ids(database)
    started = time.monotonic()
    outcomes = burst(live.port, world, BURST_SECONDS)
    report(f"burst on {make_url(database).get_backend_name()}", tally(outcomes), time.monotonic() - started)

    check_answers(outcomes)
    assert all(o.status is not None for o in outcomes), [o.text for o in outcomes if o.status is None][:3]
    keys = by_key(outcomes)
    applied = check_recorded(database, keys, before)
    assert applied == {k for k, attempts in keys.items() if any(o.status in SUCCESS for o in attempts)}
    assert any(len(attempts) > 1 for attempts in keys.values())  # retries and double taps happened
    assert Counter(o.status for o in outcomes)[422] > 0  # the lots ran short somewhere: refusals were exercised
    check_stock(database, tmp_path)
    assert "Traceback" not in live.log_text()


def test_server_killed_mid_burst_loses_no_acknowledged_request(server, database, tmp_path):
    """The same burst, with gunicorn's master and workers killed by SIGKILL after 1.8 s while clients keep sending.
    The database opens cleanly, every acknowledged request is there once, and after a restart the server serves
    again and the requests left without an answer, sent again with their keys, are applied at most once."""
    live, world = server
    before = setup_event_ids(database)
    started = time.monotonic()
    outcomes = burst(live.port, world, BURST_SECONDS, on_the_way=live.kill)
    report(f"crash burst on {make_url(database).get_backend_name()}", tally(outcomes), time.monotonic() - started)
    check_answers(outcomes)
    in_flight = [o for o in outcomes if o.status is None and o.sent]
    assert in_flight and any(o.status is None and not o.sent for o in outcomes)

    if database.startswith("sqlite"):
        with sqlite3.connect(make_url(database).database) as raw:  # replays the WAL the dead workers left
            assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    keys = by_key(outcomes)
    applied_before = check_recorded(database, keys, before)
    check_stock(database, tmp_path)

    started = time.monotonic()
    live.start()
    sign_in(live.port, world, "bench")  # signing in works again (the sessions of before the crash still do too)
    restarted = time.monotonic() - started
    unanswered = [attempts[0].call for attempts in keys.values() if not any(o.status is not None for o in attempts)]
    again = [send(live.port, call) for call in unanswered]
    check_answers(again)
    assert all(o.status is not None for o in again)
    applied = check_recorded(database, by_key(outcomes + again), before)
    # Those applied before the kill, whose answer was lost, are answered as replays; the others are applied now.
    replayed = {o.call.key for o in again if was_replay(o)}
    assert replayed == {o.call.key for o in again} & applied_before
    assert {o.call.key for o in again if o.status in SUCCESS} <= applied
    print(
        f"restart {restarted:.1f} s; {len(in_flight)} in flight at the kill, {len(unanswered)} keys without an "
        f"answer sent again: {dict(Counter(o.status for o in again))}, {len(replayed)} of them applied before the kill"
    )

    spare = {"to": world.places["SC1"], "lines": [{"lot": "SPARE", "from": world.places["SAFE"], "pieces": 1}]}
    moved = send(live.port, api("move", "/api/v1/moves", "manager", spare, world))
    assert moved.status == 201, moved.text
    assert check_recorded(database, {moved.call.key: [moved]}, before | applied) == {moved.call.key}
    check_stock(database, tmp_path)
    assert "Traceback" not in live.log_text()
