"""Extension objects, created unbound and bound to the app in create_app()."""

import sqlite3
from functools import cache

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import Insert, MetaData, event, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from scanapp.sqlite import WAL_AUTOCHECKPOINT, writes

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def add_inserted(cls: type[Base], values: dict, **related: object) -> Base:
    """Write one row of `cls` with a single Core INSERT and return it as a persistent object of the session, with
    the relationships in `related` set as if loaded (nothing is read again). For the rows every write adds, an
    event and its movements: the ORM's unit of work costs more than the INSERT itself. `values` holds every column
    (but an integer key the database numbers); each later change of the object is flushed as usual."""
    stmt, numbered, key = _inserts_of(cls)
    if key.name in values:
        db.session.execute(stmt, values)
    else:
        values = {**values, key.name: db.session.execute(numbered, values).scalar_one()}
    return add_loaded(cls, values, **related)


def add_loaded(cls: type[Base], values: dict, **related: object) -> Base:
    """The row of `cls` with these `values`, just written, as a persistent object of the session (see
    add_inserted), without reading it."""
    row = cls(**values)
    make_transient_to_detached(row)
    session = db.session()
    session.add(row)
    for name, value in related.items():
        set_committed_value(row, name, value)
    session.info.setdefault(INSERTED, []).append(row)
    return row


INSERTED = "scanapp.inserted"  # in Session.info: the rows add_loaded put in the session during this transaction


@event.listens_for(Session, "after_rollback")
def _forget_inserted(session) -> None:
    """A rolled-back INSERT leaves no row: take its object out of the session, as the ORM does with the objects it
    inserted itself (else a retry of the same event would find the old one in the identity map)."""
    for row in session.info.pop(INSERTED, ()):
        if row in session:
            session.expunge(row)


@event.listens_for(Session, "after_commit")
def _keep_inserted(session) -> None:
    session.info.pop(INSERTED, None)


def dialect_insert():
    """The INSERT of the session's database, which has ON CONFLICT (PostgreSQL's or SQLite's)."""
    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


@cache
def _inserts_of(cls: type[Base]) -> tuple[Insert, Insert, object]:
    """The INSERT of `cls`'s table, the same returning the key the database numbers, and that key's column; built
    once (a statement built anew has its cache key computed anew)."""
    table = cls.__table__
    key = table.primary_key.columns[0]
    return insert(table), insert(table).returning(key), key


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx_ext = Htmx()  # request.htmx (its module name would clash with scanapp.htmx)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Foreign keys on, WAL and its checkpoints for every SQLite connection; a no-op on other databases."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")  # see scanapp/sqlite.py
        cursor.close()


# ---------------------------------------------------------------- prepared statements on PostgreSQL
#
# psycopg prepares a statement on the server once a connection has run it five times, and PostgreSQL then stops
# planning it again: for the ledger of a lot page that is 10 ms of planning (nine tables joined) for 1 ms of work.
# But psycopg forgets every prepared statement at each ROLLBACK, and a request that only read ends in one (the
# session's close), so on PostgreSQL no statement of the app was ever prepared. A request that wrote nothing
# therefore ends with a COMMIT instead, which for a transaction that only read is the same thing. Whether anything
# was written is known from the statements themselves (below), not guessed: a request that wrote and did not commit
# is still rolled back.

WROTE = "scanapp.wrote"  # in Connection.info: a statement that writes ran in this transaction


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(conn, cursor, statement, parameters, context, executemany):
    if WROTE not in conn.info and writes(statement):
        conn.info[WROTE] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_ended(conn):
    conn.info.pop(WROTE, None)


def commit_reads(error: BaseException | None) -> None:
    """Teardown: end a PostgreSQL transaction that only read with COMMIT (see above); the session's close then has
    nothing to roll back. Anything else is left to the close as before."""
    session = db.session()
    if error is not None or not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql" or connection.info.get(WROTE):
        return
    try:
        session.commit()
    except SQLAlchemyError:  # the connection went away after the answer was made: nothing to keep
        session.rollback()
