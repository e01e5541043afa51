"""SQLite writers queue for the database (scanapp/sqlite.py): a connection holds an OS lock on `<db>-writelock` from
the statement that starts its write until its COMMIT or ROLLBACK, readers take none, and several processes writing
at once neither fail nor lose a write, even with SQLite's own busy timeout at zero (so that any writer who met
another inside SQLite would fail at once with "database is locked")."""

import multiprocessing
import sqlite3
import time
from fcntl import LOCK_EX, LOCK_NB, LOCK_UN, flock
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from scanapp.extensions import db
from scanapp.models import Event, Item, Movement
from scanapp.services import ledger
from scanapp.sqlite import WAL_AUTOCHECKPOINT, Checkpointer, QueuedWriterConnection, start_checkpointer

PROCESSES, MOVES = 4, 30


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "queue.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    return path


def locked(path) -> bool:
    """Whether some connection holds the database's write lock now."""
    with open(f"{path}-writelock", "a") as probe:
        try:
            flock(probe, LOCK_EX | LOCK_NB)
        except BlockingIOError:
            return True
        flock(probe, LOCK_UN)
        return False


def test_a_writer_holds_the_lock_until_commit_or_rollback(path):
    conn = sqlite3.connect(path, factory=QueuedWriterConnection)
    conn.execute("SELECT count(*) FROM t").fetchone()
    assert not locked(path)  # reading takes no lock
    conn.execute("INSERT INTO t (v) VALUES (1)")
    assert locked(path)
    conn.execute("SELECT count(*) FROM t").fetchone()
    assert locked(path)
    conn.commit()
    assert not locked(path)
    conn.cursor().executemany("INSERT INTO t (v) VALUES (?)", [(2,), (3,)])
    assert locked(path)
    conn.rollback()
    assert not locked(path)
    conn.execute("CREATE INDEX ix_t_v ON t (v)")  # outside a transaction: locked for that statement alone
    assert not locked(path)
    conn.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_a_failed_write_keeps_the_lock_until_its_rollback(path):
    conn = sqlite3.connect(path, factory=QueuedWriterConnection)
    conn.execute("INSERT INTO t (id, v) VALUES (1, 1)")
    conn.commit()
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO t (id, v) VALUES (1, 2)")
    assert locked(path) == conn.in_transaction
    conn.rollback()
    assert not locked(path)


def test_a_second_connection_of_the_same_thread_does_not_wait_for_the_first(path):
    """Waiting for a lock that this very thread holds would never end: that write is left to SQLite's busy
    timeout, as it was before the lock (here it fails after 0.1 s instead of hanging)."""
    first = sqlite3.connect(path, factory=QueuedWriterConnection)
    second = sqlite3.connect(path, factory=QueuedWriterConnection, timeout=0.1)
    first.execute("INSERT INTO t (v) VALUES (1)")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO t (v) VALUES (2)")
    second.rollback()
    first.commit()
    second.execute("INSERT INTO t (v) VALUES (2)")
    second.commit()
    assert not locked(path)


def test_an_in_memory_database_has_no_lock():
    conn = sqlite3.connect(":memory:", factory=QueuedWriterConnection)
    conn.execute("CREATE TABLE t (v)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    assert conn.execute("SELECT v FROM t").fetchall() == [(1,)]


def test_the_app_queues_its_writers_on_sqlite_only(app):
    dbapi = db.session.connection().connection.dbapi_connection
    assert isinstance(dbapi, QueuedWriterConnection) == (db.engine.dialect.name == "sqlite")
    if db.engine.dialect.name == "sqlite":  # and the pragmas still apply to it
        assert db.session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _write_rows(path, rows: int, *, pause: float = 0.002) -> int:
    """Commit `rows` rows of 4 KiB one by one, as requests would, with the app's WAL settings; the bytes written."""
    conn = sqlite3.connect(path, factory=QueuedWriterConnection)
    conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
    for _ in range(rows):
        conn.execute("INSERT INTO t (v) VALUES (?)", ("x" * 4096,))
        conn.commit()
        time.sleep(pause)
    conn.close()
    return rows * 4096


def _wal_restarts(path) -> int:
    """How many times the WAL of the database at `path` was copied back whole and started over: its header's
    checkpoint sequence number (bytes 12-15, big-endian), which SQLite counts up at each restart."""
    return int.from_bytes(Path(f"{path}-wal").read_bytes()[12:16], "big")


def test_the_checkpoint_thread_copies_the_wal_back_so_that_no_commit_has_to(path):
    """Without the thread, the WAL holds every page written until it reaches WAL_AUTOCHECKPOINT pages (40 MB) and
    the commit that gets there checkpoints; with it, the WAL is copied back as it goes and starts over, again and
    again. (Counted by the WAL's restarts, not its size: how far it grows between two checkpoints depends on the
    machine's speed.)"""
    written = _write_rows(path, 300)
    assert Path(f"{path}-wal").stat().st_size > written  # nothing copied back: every page is still in the WAL
    assert _wal_restarts(path) == 0

    fresh = path.with_name("fresh.db")
    with sqlite3.connect(fresh) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    checkpointer = Checkpointer(str(fresh), every=0.02)
    checkpointer.start()
    try:
        _write_rows(fresh, 300)
    finally:
        checkpointer.stop()
    assert checkpointer.runs > 10 and not checkpointer.is_alive()
    assert _wal_restarts(fresh) >= 3
    assert sqlite3.connect(fresh).execute("SELECT count(*) FROM t").fetchone() == (300,)


def test_a_checkpoint_thread_is_started_for_a_sqlite_file_only(path):
    assert start_checkpointer(make_url("postgresql+psycopg://u@localhost/db")) is None
    assert start_checkpointer(make_url("sqlite://")) is None
    checkpointer = start_checkpointer(make_url(f"sqlite:///{path}"))
    assert checkpointer.is_alive() and checkpointer.path == str(path)
    checkpointer.stop()


def test_the_app_leaves_checkpoints_to_the_thread(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("checkpoints are SQLite's")
    assert db.session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_AUTOCHECKPOINT


# Several processes, each moving its own items back and forth and one piece of a shared lot each time, all at once.


def _writer(url: str, ids: dict, items: list[int], start, results) -> None:
    from scanapp import create_app
    from scanapp.models import Location, Lot, Store, User
    from scanapp.services.events import new_event_id
    from scanapp.services.movements import MoveLine, move_stock

    options = {"connect_args": {"timeout": 0, "factory": QueuedWriterConnection}}  # no waiting inside SQLite
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_ENGINE_OPTIONS": options}
    )
    done, failed = 0, []
    with app.app_context():
        start.wait()
        for n in range(MOVES):  # each a request of its own: its own session
            store, user = db.session.get(Store, ids["store"]), db.session.get(User, ids["user"])
            safe, case = db.session.get(Location, ids["safe"]), db.session.get(Location, ids["case"])
            item, lot = db.session.get(Item, items[n % len(items)]), db.session.get(Lot, ids["lot"])
            # The item to the other place; one piece of the shared lot into the showcase, and next time back.
            item_to = case if item.location_id == safe.id else safe
            piece_from, piece_to = (safe, case) if n % 2 == 0 else (case, safe)
            try:
                move_stock(item_to, [MoveLine(item=item)], event_id=new_event_id(), by=user, store=store)
                piece = MoveLine(lot=lot, source=piece_from, pieces=1)
                move_stock(piece_to, [piece], event_id=new_event_id(), by=user, store=store)
                db.session.commit()
                done += 1
            except Exception as error:  # noqa: BLE001 - any failure is what this test counts
                db.session.rollback()
                failed.append(f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()
    results.put((done, failed))


def test_writers_in_several_processes_neither_fail_nor_lose_a_write(app, make, database_url):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's; PostgreSQL has row locks")
    store = make.store("A")
    safe, case = make.location(store, "SAFE", "safe"), make.location(store, "SC1", "showcase")
    user = make.user("manager", [store])
    shared = make.lot(safe, pieces=MOVES * PROCESSES, number="SHARED")
    rings = make.lot(safe, pieces=PROCESSES * 3, number="RINGS", serials=[f"R-{n}" for n in range(PROCESSES * 3)])
    db.session.commit()
    ids = {"store": store.id, "user": user.id, "safe": safe.id, "case": case.id, "lot": shared.id}
    item_ids = [item.id for item in sorted(rings.items, key=lambda item: item.id)]
    before = db.session.scalar(select(func.count()).select_from(Movement))

    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Event(), spawn.Queue()
    workers = [
        spawn.Process(target=_writer, args=(database_url, ids, item_ids[n::PROCESSES], start, results))
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    time.sleep(0.2)
    start.set()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0

    assert [failed for _, failed in outcomes] == [[]] * PROCESSES
    assert sum(done for done, _ in outcomes) == PROCESSES * MOVES
    db.session.expire_all()
    moved = db.session.scalar(select(func.count()).select_from(Movement)) - before
    assert moved == PROCESSES * MOVES * 2  # an item and a piece of the shared lot each time
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.action == "move")) == moved
    assert ledger.check_ledger() == []
    assert ledger.balance_at(shared, safe)[0] + ledger.balance_at(shared, case)[0] == MOVES * PROCESSES
    assert not locked(database_url.removeprefix("sqlite:///"))
