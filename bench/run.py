"""`make bench`: build a large store, serve it with gunicorn as in production and measure it with wrk.

    python -m bench.run [--movements 1000000] [--items 100000] [--lots 5000] [--small 10000] [--duration 10]

1. Builds a small store (--small movements, items and lots in proportion) in a fresh database, serves it and
   measures the scan lookup (page and fragment): the baseline for "lookup time does not grow with the data".
2. Builds the large store, runs check_ledger(), counts the SQL queries each measured request makes (in process),
   then serves it with `gunicorn -c gunicorn.conf.py wsgi:app` (plain HTTP on a free 127.0.0.1 port, same workers)
   and measures, with wrk -t1 -c{4,16} after a warm-up: the ceiling (bench/ceiling.py under the same settings),
   the scan lookup (/t/<code> as a page and as an htmx fragment; POST /scan as the scanner sends it), recording a
   move (API), a count scan and each report when those are built, and the lot page of the lot with the longest
   history.
3. Checks the page weight of the scan page's first load, prints the table and the budgets (PASS/FAIL) and writes
   bench/results.json.

SQLite in a temporary folder by default; with DATABASE_URL, a database bench_scanapp on that PostgreSQL server
(made and dropped here; no other database is touched).
"""

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

from flask import got_request_exception
from sqlalchemy import event, func, insert, or_, select, update

from bench import build_data
from bench.build_data import BENCH_PASSWORD, BENCH_USER, Size
from scanapp.extensions import db
from scanapp.models import Count, CountLine, Event, Item, Location, Lot, Movement, Tag, User
from scanapp.models.types import utcnow
from scanapp.services import api_tokens, counts, history
from scanapp.services.events import new_event_id

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
AGENT = "scanapp-bench"  # the same User-Agent everywhere: sign-in is bound to the agent (strong session protection)
ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what a phone's browser sends
CONNECTIONS = (4, 16)
PAGE_WEIGHT_BUDGET = 60_000  # bytes, compressed as served
FLOOR = "floor: signed in, one ORM read, a template"  # bench/floor.py: the most a lookup of this stack could reach
SAMPLE = 20_000  # tag codes the lookups choose from


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed. On Debian or Ubuntu: sudo apt-get install -y wrk", file=sys.stderr)
        return 2
    started = time.perf_counter()
    server = os.environ.get("DATABASE_URL")
    bench = Bench(wrk, args)
    size = Size(items=args.items, lots=args.lots, movements=args.movements, seed=args.seed)
    print(f"scanapp bench · {os.cpu_count()} cores · load {_load()} · {'PostgreSQL' if server else 'SQLite'}")
    try:
        if args.small:
            bench.measure_size(size.scaled(args.small), server, small=True)
        bench.measure_size(size, server, small=False)
    finally:
        shutil.rmtree(bench.work, ignore_errors=True)  # data files and gunicorn logs of this run
    bench.results["wall_seconds"] = round(time.perf_counter() - started, 1)
    bench.report()
    print(f"\nwall time: {bench.results['wall_seconds'] / 60:.1f} min")
    return 0


def _arguments(argv):
    default = Size()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movements", type=int, default=default.movements)
    parser.add_argument("--items", type=int, default=default.items)
    parser.add_argument("--lots", type=int, default=default.lots)
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--small", type=int, default=10_000, help="movements of the small store (0: skip it)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each measured scenario")
    parser.add_argument("--keep", action="store_true", help="keep the databases (their URLs are printed)")
    parser.add_argument("--output", default=str(HERE / "results.json"))
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------------------------ measuring


@dataclass
class Measured:
    """One wrk run."""

    scenario: str
    connections: int
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors and timeouts
    unexpected: int  # responses whose status was not the one expected
    size: str = "large"
    note: str = ""
    cpu_ms: float = 0.0  # CPU time of gunicorn's workers per request: what a request costs, whatever else runs
    load: float = 0.0  # the machine's 1-minute load average when the run started
    bytes_per_request: int = 0  # bytes of a response as sent (headers and body, compressed when asked)


@dataclass
class Scenario:
    """Something to measure: a wrk script, the path it starts from, its data file and the status to expect."""

    name: str
    script: str
    path: str
    data: Path
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)  # more wrk script arguments
    connections: tuple[int, ...] = CONNECTIONS
    prepare: object = None  # called before each run (e.g. to write where the items are now)


class Bench:
    def __init__(self, wrk: str, args):
        self.wrk, self.args = wrk, args
        self.work = Path(tempfile.mkdtemp(prefix="scanapp-bench-run-"))
        self.results: dict = {
            "machine": {
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "load_at_start": _load(),
                "wrk": _wrk_version(wrk),
            },
            "backend": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite",
            "runs": [],
            "builds": {},
        }
        self.seed = int(time.time())

    # One size of store: build, check, count queries, serve, measure.

    def measure_size(self, size: Size, server: str | None, small: bool) -> None:
        label = "small" if small else "large"
        print(f"\n== {label} store: {size.items:,} items, {size.lots:,} lots, {size.movements:,} movements")
        name = build_data.PG_DATABASE + ("_small" if small else "")
        url = build_data.fresh_database(server, name)
        try:
            built, schema = build_data.build(url, size)
            build_data.report(built, schema)
            app = build_data.bench_app(url)
            with app.app_context():
                differences = build_data.check(built)
                facts = _facts(built)
                token = _api_token(facts) if not small else ""
            self.results["builds"][label] = {
                "size": asdict(size),
                "schema": schema,
                "counts": built.counts,
                "build_seconds": round(built.seconds, 1),
                "check_ledger_differences": len(differences),
                "hot_lot_movements": facts["hot_lot_movements"],
            }
            scenarios = self._scenarios(facts, token, small, app)
            if not small:
                self.results["queries"] = _count_queries(app, facts, token, scenarios)
                self.results["ceiling"] = self._reference("ceiling: minimal Flask page", "bench.ceiling:app", url)
                tags = self.work / "tag-paths.txt"  # the lookups' own paths
                self.results["floor"] = self._reference(
                    FLOOR, "bench.floor:create_app()", url, tags, sign_in=f"/sign-in/{BENCH_USER}"
                )
            with Server("wsgi:app", url, self.work / f"gunicorn-{label}.log") as live:
                session = Session(live.port)
                session.sign_in(BENCH_USER, BENCH_PASSWORD)
                for scenario in scenarios:
                    scenario.headers = {**session.headers(scenario), **scenario.headers}
                    self._run(live.port, scenario, label)
                if not small:
                    self.results["page_weight"] = page_weight(live.port, session)
                    self._reports(live.port, app, facts)
        finally:
            if self.args.keep:
                print(f"database kept: {url}")
            else:
                build_data.drop_database(url)

    def _scenarios(self, facts: dict, token: str, small: bool, app) -> list[Scenario]:
        data = self.work
        codes, pages = data / "codes.txt", data / "tag-paths.txt"
        codes.write_text("\n".join(code for code, _ in facts["sample"]) + "\n")
        pages.write_text("\n".join(f"/t/{code}" for code, _ in facts["sample"]) + "\n")
        connections = (4,) if small else CONNECTIONS
        scenarios = [
            Scenario("lookup: /t/<code> page", "get.lua", "/", pages, 200, connections=connections),
            Scenario(
                "lookup: /t/<code> fragment",
                "get.lua",
                "/",
                pages,
                200,
                headers={"HX-Request": "true"},
                connections=connections,
            ),
            Scenario("lookup: POST /scan (the scanner)", "scan.lua", "/scan", codes, 200, connections=connections),
        ]
        if small:
            return scenarios
        items, places = data / "move-items.txt", data / "move-places.txt"
        places.write_text(" ".join(facts["places"]) + "\n")
        scenarios.append(
            Scenario(
                "move: POST /api/v1/moves",
                "move.lua",
                "/api/v1/moves",
                items,
                201,
                headers={"Authorization": f"Bearer {token}"},
                extra=[str(places)],
                prepare=lambda: _write_move_items(app, facts, items),
            )
        )
        scenarios += _count_scenarios(app, facts, data)
        lot = data / "lot-path.txt"
        lot.write_text(f"/lots/{facts['hot_lot_id']}\n")
        scenarios.append(Scenario(f"lot page ({facts['hot_lot_movements']:,} movements)", "get.lua", "/", lot, 200))
        return scenarios

    def _reference(
        self, name: str, app_path: str, url: str, paths: Path | None = None, sign_in: str = ""
    ) -> list[dict]:
        """One of the apps scanapp is read against (bench/ceiling.py, bench/floor.py) under the same gunicorn
        settings, on the bench database: GET `paths` (a file of them; `/` when None), signed in first by GET
        `sign_in` when given."""
        if paths is None:
            paths = self.work / "ceiling-path.txt"
            paths.write_text("/\n")
        label = name.split(":")[0]
        with Server(app_path, url, self.work / f"gunicorn-{label}.log") as live:
            scenario = Scenario(name, "get.lua", "/", paths, 200)
            scenario.headers = {"User-Agent": AGENT, "Accept-Encoding": ACCEPT_ENCODING}
            if sign_in:
                session = Session(live.port)
                status, _, _ = session.request("GET", sign_in)
                if status != 302 or not session.cookie:
                    raise SystemExit(f"{label}: {sign_in} answered {status} without a session cookie")
                scenario.headers["Cookie"] = session.cookie
            runs = self._run(live.port, scenario, label)
        return [asdict(r) for r in runs]

    def _reports(self, port: int, app, facts: dict) -> None:
        """Each report, as the admin of every store (the largest answers), one connection, a longer timeout: the
        GET routes under /reports, a `<name>` route once per report its view knows (its CARDS), the trace of the
        lot with the longest history."""
        paths = []
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if not rule.rule.startswith("/reports") or "GET" not in rule.methods:
                continue
            if not rule.arguments:
                query = f"?q={facts['hot_lot_number']}" if rule.rule.endswith("/trace") else ""
                paths.append(rule.rule + query)
                continue
            known = getattr(sys.modules[app.view_functions[rule.endpoint].__module__], "CARDS", None)
            if rule.arguments == {"name"} and known:
                paths += [rule.rule.replace("<name>", name) for name in known]
            else:
                print(f"  report {rule.rule}: skipped: needs arguments")
        if not paths:
            print("  reports: skipped: not built")
            return
        admin = Session(port)
        admin.sign_in("bench-admin", BENCH_PASSWORD)
        for n, path in enumerate(paths):
            file = self.work / f"report-{n}.txt"
            file.write_text(path + "\n")
            scenario = Scenario(f"report: {path}", "get.lua", "/", file, 200, connections=(1,))
            scenario.headers = admin.headers(scenario)
            self._run(port, scenario, "large", timeout="30s")

    def _run(self, port: int, scenario: Scenario, size: str, timeout: str = "5s") -> list[Measured]:
        runs = []
        self.server_pid = Server.pid_on(port)
        for connections in scenario.connections:
            if scenario.prepare:
                scenario.prepare()
            if self.args.warmup:
                self._wrk(port, scenario, connections, self.args.warmup, timeout)
            if scenario.prepare:
                time.sleep(2)  # wrk stops with requests in flight: let the server finish them before looking
                scenario.prepare()
            load, cpu = os.getloadavg()[0], _cpu_seconds(self.server_pid)
            measured = self._wrk(port, scenario, connections, self.args.duration, timeout)
            measured.cpu_ms = round((_cpu_seconds(self.server_pid) - cpu) * 1000 / max(measured.requests, 1), 2)
            measured.size, measured.load = size, round(load, 2)
            runs.append(measured)
            self.results["runs"].append(asdict(measured))
            flag = "" if not (measured.errors or measured.unexpected) else "  << errors"
            print(
                f"  {scenario.name:<44} c={connections:<3} {measured.rps:>8.1f} req/s  p50 {measured.p50_ms:6.2f} ms"
                f"  p99 {measured.p99_ms:7.2f} ms  cpu {measured.cpu_ms:5.2f} ms/req  load {load:4.1f}"
                f"  {measured.bytes_per_request:,} B/req  ({measured.requests:,} requests){flag}"
            )
        return runs

    def _wrk(self, port: int, scenario: Scenario, connections: int, seconds: int, timeout: str) -> Measured:
        self.seed += 1
        command = [self.wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", f"--timeout={timeout}"]
        for name, value in scenario.headers.items():
            command += ["-H", f"{name}: {value}"]
        command += ["-s", str(HERE / scenario.script), f"http://127.0.0.1:{port}{scenario.path}", "--"]
        command += [str(scenario.data), str(scenario.status), *scenario.extra]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env={**os.environ, "BENCH_SEED": str(self.seed), "BENCH_CONNECTIONS": str(connections)},
            check=False,
        )
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
        if done.returncode or line is None:
            raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        if done.stderr.strip():
            print("    " + done.stderr.strip().replace("\n", "\n    "))
        raw = json.loads(line.removeprefix("BENCH_JSON "))
        errors = sum(raw[k] for k in ("errors_connect", "errors_read", "errors_write", "errors_timeout"))
        return Measured(
            scenario=scenario.name,
            connections=connections,
            requests=raw["requests"],
            rps=round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
            p50_ms=raw["p50_us"] / 1000,
            p90_ms=raw["p90_us"] / 1000,
            p99_ms=raw["p99_us"] / 1000,
            max_ms=raw["max_us"] / 1000,
            errors=errors,
            unexpected=raw["unexpected_status"],
            bytes_per_request=round(raw["bytes"] / max(raw["requests"], 1)),
        )

    # The report.

    def report(self) -> None:
        runs = [Measured(**r) for r in self.results["runs"]]
        ceiling = {r["connections"]: r["rps"] for r in self.results.get("ceiling", [])}
        ceiling_cpu = {r["connections"]: r["cpu_ms"] for r in self.results.get("ceiling", [])}
        head = f"{'scenario':<48} {'size':<7} {'c':>3} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ceiling':>8}"
        print(f"\n{head} {'cpu ms':>7} {'by cpu':>7} {'load':>5}")
        for r in runs:
            share = f"{r.rps / ceiling[r.connections]:.0%}" if r.connections in ceiling else ""
            by_cpu = f"{ceiling_cpu[r.connections] / r.cpu_ms:.0%}" if r.cpu_ms and r.connections in ceiling_cpu else ""
            print(
                f"{r.scenario:<48} {r.size:<7} {r.connections:>3} {r.rps:>8.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}"
                f" {share:>8} {r.cpu_ms:>7.2f} {by_cpu:>7} {r.load:>5.1f}"
            )
        if queries := self.results.get("queries"):
            failed = {name: q["failures"] for name, q in queries.items() if q.get("failures")}
            for name, failures in failed.items():
                print(f"\nSERVER ERRORS in {name}: {len(failures)} of 10 requests; the first:\n{failures[0]}")
            print(
                "\nSQL queries per request (in process, on the large store): "
                + ", ".join(f"{name} {q['mean']:.1f} (max {q['max']})" for name, q in queries.items())
            )
        if weight := self.results.get("page_weight"):
            print(f"\npage weight of the scan page's first load ({weight['encoding_asked']}):")
            for f in weight["files"]:
                how = ", ".join(x for x in (f["encoding"] or "not compressed", f["cache_control"]) if x)
                print(f"  {f['path']:<56} {f['bytes']:>7,} B  ({f['raw_bytes']:,} raw; {how})")
            print(f"  total {weight['bytes']:,} B compressed ({weight['raw_bytes']:,} B raw)")
        budgets = _budgets(runs, ceiling, self.results)
        self.results["budgets"] = budgets
        print("\nbudgets")
        for b in budgets:
            print(f"  {b['verdict']:<4} {b['budget']:<66} {b['measured']}")
        self.results["machine"]["load_at_end"] = _load()
        Path(self.args.output).write_text(json.dumps(self.results, indent=2, default=str) + "\n")
        print(f"\nwrote {self.args.output}")


def _budgets(runs: list[Measured], ceiling: dict[int, float], results: dict) -> list[dict]:
    """The issue's budgets, each PASS or FAIL with what was measured."""
    out = []

    def find(prefix: str, size: str = "large", connections: int = 4) -> Measured | None:
        return next(
            (r for r in runs if r.scenario.startswith(prefix) and (r.size, r.connections) == (size, connections)), None
        )

    def verdict(name: str, ok: bool | None, measured: str) -> None:
        out.append(
            {"budget": name, "verdict": "PASS" if ok else ("SKIP" if ok is None else "FAIL"), "measured": measured}
        )

    lookups = (("page", "lookup: /t/<code> page"), ("fragment", "lookup: /t/<code> fragment"))
    for label, prefix in (*lookups, ("scanner", "lookup: POST /scan")):
        r = find(prefix)
        if r:
            verdict(f"scan lookup ({label}) p99 < 20 ms at c=4", r.p99_ms < 20, f"p99 {r.p99_ms:.2f} ms")
        busy = find(prefix, connections=16)
        if busy and 16 in ceiling:
            share = busy.rps / ceiling[16]
            floor = find(FLOOR, size="floor", connections=16)
            verdict(
                f"scan lookup ({label}) >= 40% of the ceiling's req/s at c=16",
                share >= 0.4,
                f"{busy.rps:.0f} of {ceiling[16]:.0f} req/s = {share:.0%}"
                + (f" (the floor: {floor.rps / ceiling[16]:.0%})" if floor else ""),
            )
        small = find(prefix, size="small")
        if r and small:
            ratio = r.p50_ms / small.p50_ms
            verdict(
                f"scan lookup ({label}) p50 does not grow: large <= 1.5 x small",
                ratio <= 1.5,
                f"p50 {small.p50_ms:.2f} ms -> {r.p50_ms:.2f} ms ({ratio:.2f} x)",
            )
    move = find("move:")
    verdict(
        "recording a move p99 < 30 ms at c=4",
        move and move.p99_ms < 30,
        f"p99 {move.p99_ms:.2f} ms" if move else "not run",
    )
    scan = find("count scan")
    verdict(
        "recording a count scan p99 < 30 ms at c=4",
        (scan.p99_ms < 30) if scan else None,
        f"p99 {scan.p99_ms:.2f} ms" if scan else "skipped: not built",
    )
    lot = find("lot page")
    verdict("lot page p99 < 50 ms at c=4", lot and lot.p99_ms < 50, f"p99 {lot.p99_ms:.2f} ms" if lot else "not run")
    reports = [r for r in runs if r.scenario.startswith("report:")]
    if reports:
        slowest = max(reports, key=lambda r: r.max_ms)
        verdict(
            f"every report < 2 s ({len(reports)} measured)",
            slowest.max_ms < 2000,
            f"slowest {slowest.scenario.removeprefix('report: ')}: max {slowest.max_ms:.0f} ms",
        )
    else:
        verdict("every report < 2 s", None, "skipped: not built")
    if weight := results.get("page_weight"):
        verdict(
            "scan page first load < 60 KB compressed",
            weight["bytes"] < PAGE_WEIGHT_BUDGET,
            f"{weight['bytes']:,} B ({weight['raw_bytes']:,} B uncompressed)",
        )
        compressed = all(f["encoding"] for f in weight["files"] if f["raw_bytes"] >= 500)
        verdict(
            "responses compressed", compressed, ", ".join(sorted({f["encoding"] or "none" for f in weight["files"]}))
        )
        statics = [f for f in weight["files"] if f["path"].startswith("/static/")]
        cached = all("?v=" in f["path"] and "immutable" in f["cache_control"] for f in statics)
        verdict(
            "static files cached with versioned names",
            cached,
            f"{sum('immutable' in f['cache_control'] for f in statics)} of {len(statics)} immutable",
        )
    wrong = [
        f"{r.scenario} c={r.connections}: {r.errors} errors, {r.unexpected} unexpected"
        for r in runs
        if r.errors or r.unexpected
    ]
    failed = [
        f"{name} (in process): {len(q['failures'])} of 10 failed"
        for name, q in results.get("queries", {}).items()
        if q.get("failures")
    ]
    verdict(
        "every request answered as expected (no errors, no unexpected status)",
        not (wrong or failed),
        "; ".join(wrong + failed) or "all",
    )
    return out


# ------------------------------------------------------------------------------------------------ the data


def _facts(built: build_data.Built) -> dict:
    """What the scenarios need from the bench database: a sample of the tags the bench user may see (with the
    page each opens), the places of the main store, the lot with the longest history."""
    main = built.main_store_id
    visible = select(Lot.id).where(history.visible_lots({main}))
    rows = db.session.execute(
        select(Tag.code, Tag.lot_id, Tag.item_id, Tag.location_id)
        .outerjoin(Item, Tag.item_id == Item.id)
        .outerjoin(Location, Tag.location_id == Location.id)
        .where(or_(Tag.lot_id.in_(visible), Item.lot_id.in_(visible), Location.store_id == main))
        .order_by(Tag.id)
    ).all()
    rng = random.Random(built.counts["movements"])
    sample = rng.sample(rows, min(SAMPLE, len(rows)))
    pages = []
    for code, lot_id, item_id, location_id in sample:
        if lot_id:
            pages.append((code, f"/lots/{lot_id}"))
        elif item_id:
            pages.append((code, f"/items/{item_id}"))
        elif location_id:
            pages.append((code, f"/locations/{location_id}"))
    places = db.session.scalars(
        select(Tag.code)
        .join(Location, Tag.location_id == Location.id)
        .where(Location.store_id == main, Location.kind.in_(("safe", "vault", "showcase", "backroom")))
    ).all()
    hot_movements = db.session.scalar(select(func.count()).where(Movement.lot_id == built.hot_lot_id))
    return {
        "main_store_id": main,
        "sample": pages,
        "kinds": {
            kind: sum(1 for _, p in pages if p.startswith(f"/{kind}/")) for kind in ("lots", "items", "locations")
        },
        "places": sorted(places),
        "hot_lot_id": built.hot_lot_id,
        "hot_lot_number": db.session.get(Lot, built.hot_lot_id).number,
        "hot_lot_movements": hot_movements,
    }


def _api_token(facts: dict) -> str:
    """An API token of the bench user in the main store, made in the database as a manager would."""
    user = db.session.scalar(select(User).where(User.username == BENCH_USER))
    store = next(s for s in user.stores if s.id == facts["main_store_id"])
    _, secret = api_tokens.create_token(user, store, "bench", by=user)
    db.session.commit()
    return secret


MOVE_POOL = 2_000


def _write_move_items(app, facts: dict, path: Path) -> None:
    """The items the move scenario moves, each with the tag of the place it is in now (asked before every run)."""
    with app.app_context():
        rows = _move_pool(facts)
        db.session.remove()
    path.write_text("".join(f"{code} {place}\n" for code, place in rows))


def _move_pool(facts: dict) -> list[tuple[str, str]]:
    """Up to MOVE_POOL items in the main store's places: (item tag, tag of the place it is in now)."""
    place_tag = {
        location_id: code
        for code, location_id in db.session.execute(
            select(Tag.code, Tag.location_id).where(Tag.location_id.is_not(None))
        )
    }
    wanted = {place for place, code in place_tag.items() if code in set(facts["places"])}
    rows = db.session.execute(
        select(Tag.code, Item.location_id)
        .join(Item, Tag.item_id == Item.id)
        .where(Item.location_id.in_(wanted), Item.active)
        .order_by(Item.id)
        .limit(MOVE_POOL)
    ).all()
    if not rows:
        raise SystemExit("no item of the main store sits in one of its places: nothing for the move scenario")
    return [(code, place_tag[place]) for code, place in rows]


def _count_scenarios(app, facts: dict, data: Path) -> list[Scenario]:
    """Recording a count scan (POST /counts/<id>/lines as the count page's scanner sends it), when counts are built:
    a blind count of the whole main store, in which every item outside its fullest showcase has been counted
    already (a line each, made here in bulk), scanning the items of that showcase. So a scan goes into a count of
    some 15,600 lines at the default size, as on the last shelf of a whole-store count."""
    if "counts.add_line" not in app.view_functions:
        print("count scan: skipped: not built")
        return []
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == BENCH_USER))
        store = next(s for s in user.stores if s.id == facts["main_store_id"])
        place_id, _ = db.session.execute(
            select(Item.location_id, func.count())
            .join(Location, Item.location_id == Location.id)
            .where(Location.store_id == store.id, Location.kind == "showcase")
            .group_by(Item.location_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        count = counts.start_count(store, None, blind=True, event_id=new_event_id(), by=user)
        db.session.commit()
        counted = _fill_count(count, user, place_id)
        codes = db.session.scalars(
            select(Tag.code).join(Item, Tag.item_id == Item.id).where(Item.location_id == place_id).order_by(Item.id)
        ).all()
        path, count_id = f"/counts/{count.id}/lines", count.id
        db.session.remove()
    file, newest = data / "count-codes.txt", data / "count-newest.txt"
    file.write_text("\n".join(codes) + "\n")

    def write_newest() -> None:  # the count's newest line now: what a phone that just loaded the page shows
        with app.app_context():
            line = db.session.scalar(select(func.max(CountLine.id)).where(CountLine.count_id == count_id))
            db.session.remove()
        newest.write_text(f"{line or 0}\n")

    name = f"count scan: POST {path} ({counted:,} lines; {len(codes)} items to scan)"
    return [Scenario(name, "count.lua", path, file, 200, extra=[str(place_id), str(newest)], prepare=write_newest)]


def _fill_count(count, user: User, skip_place: int) -> int:
    """A line (and its event) for every item of the count's store outside `skip_place`, counted where it is, as
    the count's scans would have made them, in bulk; the count's totals to match. Returns the lines made."""
    places = [place.id for place in counts._scope(count) if place.id != skip_place]
    items = db.session.execute(
        select(Item.id, Item.lot_id, Item.location_id)
        .where(Item.location_id.in_(places), Item.active)
        .order_by(Item.location_id, Item.id)
    ).all()
    now = utcnow()
    for start in range(0, len(items), build_data.BATCH):
        batch = items[start : start + build_data.BATCH]
        events = [new_event_id() for _ in batch]
        db.session.execute(
            insert(Event),
            [{"id": e, "action": "count_line", "user_id": user.id, "store_id": count.store_id, "created_at": now,
              "remote_addr": "", "result": f"count:{count.id}"} for e in events],
        )  # fmt: skip
        db.session.execute(
            insert(CountLine),
            [{"count_id": count.id, "event_id": e, "location_id": place, "lot_id": lot, "item_id": item, "pieces": 1,
              "weight": 0, "repeated": False, "entered": False, "ledger_mark": count.ledger_mark,
              "counted_by_id": user.id, "counted_at": now}
             for e, (item, lot, place) in zip(events, batch, strict=True)],
        )  # fmt: skip
    db.session.execute(
        update(Count)
        .where(Count.id == count.id)
        .values(standing_lines=len(items), counted_items=len(items), counted_pieces=len(items))
    )
    db.session.commit()
    build_data.analyse()  # the lines came in at once, not over the hours of a count that autovacuum would follow
    return len(items)


def _count_queries(app, facts: dict, token: str, scenarios: list[Scenario]) -> dict:
    """SQL statements each measured request makes, in process (the same views and queries as under gunicorn):
    the way to see an N+1. Lookups are counted per kind of tag (lot, item, place)."""
    app.config.update(WTF_CSRF_ENABLED=False, SESSION_COOKIE_SECURE=False)
    out: dict[str, dict] = {}
    statements = []

    def counted(*_):
        statements.append(1)

    crashes: list[str] = []

    def crashed(sender, exception, **extra):
        crashes.append("".join(traceback.format_exception(exception))[-2000:])

    got_request_exception.connect(crashed, app)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", counted)
        client = app.test_client()
        client.post("/login", data={"username": BENCH_USER, "password": BENCH_PASSWORD}, headers={"User-Agent": AGENT})
        rng = random.Random(1)
        by_kind: dict[str, list] = {"lots": [], "items": [], "locations": []}
        for code, page in facts["sample"]:
            by_kind[page.split("/")[1]].append((code, page))

        def measure(name: str, send) -> None:
            counts_, failures = [], []
            for _ in range(10):
                statements.clear()
                crashes.clear()
                try:
                    response = send()
                except Exception as exc:  # a page that cannot even render its error page: report it, go on
                    failures.append("".join(traceback.format_exception(exc))[-2000:])
                    continue
                if response.status_code >= 400:
                    failures.append(f"{response.status_code}: " + (crashes[0] if crashes else response.text[:300]))
                    continue
                counts_.append(len(statements))
            out[name] = {"mean": sum(counts_) / max(len(counts_), 1), "max": max(counts_, default=0)}
            if failures:
                out[name]["failures"] = failures
                print(f"  {name}: {len(failures)} of 10 requests failed; the first:\n{failures[0]}")

        headers = {"User-Agent": AGENT}
        hx = {**headers, "HX-Request": "true"}
        for kind, rows in by_kind.items():
            if not rows:
                continue
            measure(f"/t/<{kind[:-1]}>", lambda rows=rows: client.get(f"/t/{rng.choice(rows)[0]}", headers=headers))
            measure(f"/t/<{kind[:-1]}> fragment", lambda rows=rows: client.get(f"/t/{rng.choice(rows)[0]}", headers=hx))
            measure(f"{kind[:-1]} page", lambda rows=rows: client.get(rng.choice(rows)[1], headers=headers))
            measure(
                f"POST /scan <{kind[:-1]}>",
                lambda rows=rows: client.post("/scan", data={"code": rng.choice(rows)[0]}, headers=hx),
            )
        measure("lot page (long history)", lambda: client.get(f"/lots/{facts['hot_lot_id']}", headers=headers))
        if token:
            api = {**headers, "Authorization": f"Bearer {token}"}
            moves = _move_pool(facts)

            def move():
                code, place = moves.pop()
                dest = rng.choice([p for p in facts["places"] if p != place])
                body = {"to": dest, "lines": [{"item": code}]}
                return client.post("/api/v1/moves", json=body, headers={**api, "Idempotency-Key": new_event_id()})

            measure("POST /api/v1/moves (one item)", move)
        for scenario in scenarios:
            if scenario.script == "count.lua":
                tags = scenario.data.read_text().split()

                def count_scan(path=scenario.path, tags=tags, place=scenario.extra[0]):
                    data = {"code": rng.choice(tags), "event_id": new_event_id(), "location_id": place}
                    return client.post(path, data=data, headers=hx)

                measure("count scan (one item)", count_scan)
        event.remove(db.engine, "before_cursor_execute", counted)
        db.session.remove()
    return out


# ------------------------------------------------------------------------------------------------ page weight

ASSET_RE = re.compile(r"<(?:link|script)\b[^>]*?\b(?:href|src)=\"([^\"]+)\"[^>]*>", re.I)
IMPORT_RE = re.compile(r"""^\s*import\s+(?:[^'"();]*?\s+from\s+)?["']([^"']+)["']""", re.M)


def page_weight(port: int, session: "Session") -> dict:
    """Bytes of the scan page's first load as served: the HTML of / (signed in) and every stylesheet, script and
    icon it names, with the modules those scripts import statically. The camera decoder is not among them: it is a
    dynamic import() made when the camera opens."""
    files = []
    queue = ["/"]
    seen = set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        status, headers, body = session.request("GET", path, accept_encoding=ACCEPT_ENCODING)
        raw_status, _, raw = session.request("GET", path, accept_encoding="identity")
        if status != 200 or raw_status != 200:
            raise SystemExit(f"page weight: GET {path} answered {status}")
        files.append(
            {
                "path": path,
                "bytes": len(body),
                "raw_bytes": len(raw),
                "encoding": headers.get("content-encoding", ""),
                "cache_control": headers.get("cache-control", ""),
            }
        )
        text = raw.decode("utf-8", "replace")
        if path == "/":
            found = [m for m in ASSET_RE.findall(text) if not m.startswith(("http:", "https:", "data:"))]
        elif urlsplit(path).path.endswith(".js"):
            found = IMPORT_RE.findall(text)
        else:
            found = []
        queue += [urljoin(path, ref) for ref in found if not ref.startswith("#")]
    return {
        "encoding_asked": ACCEPT_ENCODING,
        "bytes": sum(f["bytes"] for f in files),
        "raw_bytes": sum(f["raw_bytes"] for f in files),
        "files": files,
    }


# ------------------------------------------------------------------------------------------------ serving


class Server:
    """gunicorn as `make run` starts it (gunicorn.conf.py: its workers and worker class), on plain HTTP on a free
    127.0.0.1 port, with DATABASE_URL pointing at the bench database."""

    def __init__(self, app_path: str, url: str, log: Path):
        self.app_path, self.url, self.log = app_path, url, log

    def __enter__(self) -> "Server":
        self.port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "SCANAPP_TLS": "off",
            "SCANAPP_BIND": f"127.0.0.1:{self.port}",
        }
        self.output = self.log.open("w")
        command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", self.app_path]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.output, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn stopped:\n{self.log.read_text()[-3000:]}")
            try:
                status, _, _ = Session(self.port).request("GET", "/healthz")
                if status == 200:
                    Server._pids[self.port] = self.process.pid
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise SystemExit(f"gunicorn did not answer /healthz within 60 s:\n{self.log.read_text()[-3000:]}")

    _pids: dict[int, int] = {}

    @classmethod
    def pid_on(cls, port: int) -> int:
        """The gunicorn master serving `port` (started by this process)."""
        return cls._pids[port]

    def __exit__(self, *exc) -> None:
        Server._pids.pop(self.port, None)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.output.close()


class Session:
    """A signed-in browser, by hand: the session cookie (its Secure flag would keep http.cookiejar from sending it
    over plain HTTP) and the CSRF token of the pages."""

    def __init__(self, port: int):
        self.port, self.cookie, self.csrf = port, "", ""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        accept_encoding: str = "identity",
    ) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = {"User-Agent": AGENT, "Accept-Encoding": accept_encoding, **(headers or {})}
        if self.cookie:
            sent["Cookie"] = self.cookie
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def sign_in(self, username: str, password: str) -> None:
        _, _, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if token is None:
            raise SystemExit("sign-in: no CSRF token on /login")
        form = urlencode({"csrf_token": token.group(1).decode(), "username": username, "password": password})
        content = {"Content-Type": "application/x-www-form-urlencoded"}
        status, headers, _ = self.request("POST", "/login", form.encode(), content)
        if status != 302:
            raise SystemExit(f"sign-in as {username} failed: {status}")
        status, _, home = self.request("GET", "/")
        match = re.search(rb'"X-CSRFToken": "([^"]+)"', home)
        if status != 200 or match is None:
            raise SystemExit(f"the signed-in home page answered {status} without a CSRF token")
        self.csrf = match.group(1).decode()

    def headers(self, scenario: Scenario) -> dict[str, str]:
        """What a phone's browser sends with this scenario's requests (the API sends its token instead)."""
        sent = {"User-Agent": AGENT, "Accept-Encoding": ACCEPT_ENCODING}
        if scenario.script == "move.lua":
            return sent
        sent["Cookie"] = self.cookie
        if scenario.script in ("scan.lua", "count.lua"):
            sent |= {"HX-Request": "true", "X-CSRFToken": self.csrf}
        return sent


def _cpu_seconds(master: int) -> float:
    """User and system CPU time of gunicorn's workers (the children of `master`), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def _wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else ""


if __name__ == "__main__":
    sys.exit(main())
