"""SQLite connections whose writers queue for the database instead of polling for it.

SQLite lets one connection write at a time. A writer that finds the database locked waits in SQLite's busy
handler, which sleeps in steps (1, 2, 5, 10 … 100 ms) and tries again: with several gunicorn workers posting at once,
a writer can sleep 100 ms when the lock was free after 1 ms, and lose the race again and again, which is where
SQLite's long latency tail came from. Python's sqlite3 offers no finer handler.

So every connection the app opens takes an exclusive OS file lock (flock on `<database>-writelock`, beside the
database) before the statement that starts its write transaction, and lets go right after the COMMIT or ROLLBACK.
Writers then wait in the kernel, which wakes the next one the moment the lock is free; SQLite's own lock is never
contended between them, and its busy timeout remains for writers outside the app (the sqlite3 shell, a restore).
Readers take no lock: in WAL mode they never wait for a writer.

Python's sqlite3 (in its default, legacy transaction mode, which SQLAlchemy uses) opens a transaction only right
before an INSERT, UPDATE, DELETE or REPLACE, and reads before that run outside any transaction: no transaction
reads a snapshot and then has to upgrade it to a write, so a write transaction never fails for having started as
a read, and BEGIN IMMEDIATE is not needed. Statements that write outside a transaction (DDL, VACUUM…) take the
lock for themselves alone.
"""

import os
import re
import sqlite3
import threading
from fcntl import LOCK_EX, LOCK_UN, flock
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

# The first word of a statement that writes (or opens a transaction that will); a WITH writes when a write follows.
WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "BEGIN", "SAVEPOINT",
                    "VACUUM", "REINDEX", "ANALYZE"})  # fmt: skip
FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")
WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# Which thread of this process holds a database's lock, through which connection: {lock path: (thread, connection)}.
_holders: dict[str, tuple[int, "QueuedWriterConnection"]] = {}


class QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection that takes the database's write lock before writing (see the module's docstring).
    Give it to sqlite3.connect(factory=...); an in-memory or temporary database has no file to lock and none
    is taken."""

    def __init__(self, *args, **kwargs):
        self._lock_fd: int | None = None
        self._lock_pid = 0
        self._holding = False
        self._lock_path: str | None = None
        super().__init__(*args, **kwargs)
        main = next((row[2] for row in self.execute("PRAGMA database_list") if row[1] == "main"), "")
        self._lock_path = f"{main}-writelock" if main else None

    def cursor(self, factory=None):
        return super().cursor(factory or QueuedWriterCursor)

    # The shortcuts make their cursor in C, not through cursor() above.
    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, sql_script, /):
        return self.cursor().executescript(sql_script)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()
            if self._lock_fd is not None and self._lock_pid == os.getpid():
                os.close(self._lock_fd)
            self._lock_fd = None

    def _before(self, sql: str) -> None:
        """Take the write lock before a statement that writes, unless it is held already."""
        if self._holding or self._lock_path is None or self.in_transaction:
            return
        if not writes(sql):
            return
        me = threading.get_ident()
        holder = _holders.get(self._lock_path)
        if holder is not None and holder[0] == me:
            # This thread writes through another connection already: waiting for it here would never end. Leave
            # this write to SQLite's busy timeout, as it was before the lock.
            return
        flock(self._fd(), LOCK_EX)
        self._holding = True
        _holders[self._lock_path] = (me, self)

    def _after(self) -> None:
        """Let go of the lock once no transaction is open (a statement that ran outside one, or one that failed to
        open one)."""
        if self._holding and not self.in_transaction:
            self._release()

    def _release(self) -> None:
        if not self._holding:
            return
        self._holding = False
        if _holders.get(self._lock_path, (None, None))[1] is self:
            del _holders[self._lock_path]
        flock(self._lock_fd, LOCK_UN)

    def _fd(self) -> int:
        """This connection's own descriptor of the lock file (flock locks belong to an open file: two connections,
        in one process or two, exclude each other). Opened again in a forked child, which must not share it."""
        if self._lock_fd is None or self._lock_pid != os.getpid():
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._lock_pid = os.getpid()
        return self._lock_fd


def writes(sql: str) -> bool:
    """Whether a statement writes, by its first word."""
    first = FIRST_WORD.match(sql)
    word = first.group(1).upper() if first else ""
    return word in WRITES or (word == "WITH" and WRITE_WORD.search(sql) is not None)


class QueuedWriterCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        self.connection._before(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection._after()

    def executemany(self, sql, seq_of_parameters, /):
        self.connection._before(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection._after()

    def executescript(self, sql_script, /):
        # A script may write anywhere in it, and commits what was open first: it runs under the lock, whole.
        self.connection._before("BEGIN")
        try:
            return super().executescript(sql_script)
        finally:
            self.connection._after()


# ---------------------------------------------------------------- checkpoints off the request path

# In WAL mode every commit appends to `<database>-wal`, and the pages there are copied back into the database by a
# checkpoint. By default the commit that takes the WAL past 1,000 pages runs that checkpoint itself, inside its
# request and still holding the write lock, with an fsync of the database: about one write in a hundred took three
# times as long as the others (16.8 ms instead of 5.1 ms, single-threaded, on the bench store), and every writer
# queued behind it waited too. So a thread of each app process copies the WAL back every CHECKPOINT_EVERY seconds
# with a PASSIVE checkpoint, which waits for no one and no one waits for; a commit's own checkpoint remains only as
# the fallback past WAL_AUTOCHECKPOINT pages (for a process without the thread, such as a flask command).
CHECKPOINT_EVERY = 0.5  # seconds
WAL_AUTOCHECKPOINT = 10_000  # pages (40 MB at 4 KiB): a commit checkpoints only when the thread has fallen behind


class Checkpointer(threading.Thread):
    """Copies the WAL of the SQLite database at `path` back into it every `every` seconds, until stop()."""

    def __init__(self, path: str, every: float = CHECKPOINT_EVERY):
        super().__init__(name=f"sqlite-checkpoint {path}", daemon=True)
        self.path, self.every = path, every
        self._stopped = threading.Event()
        self.runs = 0  # checkpoints made, for tests and curiosity

    def run(self) -> None:
        # A plain connection with no busy wait: a checkpoint that meets another simply does less this time.
        conn = sqlite3.connect(self.path, timeout=0, check_same_thread=False, isolation_level=None)
        try:
            while not self._stopped.wait(self.every):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # the database is busy being restored, or a checkpoint is running elsewhere
                self.runs += 1
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def start_checkpointer(url: "URL") -> Checkpointer | None:
    """Start the checkpoint thread of this process for the database at `url` (an engine's), if it is a SQLite
    file; gunicorn.conf.py calls this in each worker, after the fork."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    checkpointer = Checkpointer(url.database)
    checkpointer.start()
    return checkpointer
