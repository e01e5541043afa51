"""Fixtures: every test runs on SQLite and, when TEST_DATABASE_URL is set, again on PostgreSQL.

The schema is built once per database and session; after each test every table is emptied.
"""

import os
import threading
from contextlib import contextmanager
from functools import cache
from importlib.metadata import version

import pytest
from flask import Flask, g
from flask_login import FlaskLoginClient
from flask_login.utils import _create_identifier
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from werkzeug.security import generate_password_hash

from scanapp import create_app
from scanapp.extensions import db
from tests.factories import Factory

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
PASSWORD = "correct-horse"


@cache
def password_hash() -> str:
    """Hashing is deliberately slow; hash the test password once."""
    return generate_password_hash(PASSWORD)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = os.environ["TEST_DATABASE_URL"]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # Start from an empty schema, whatever tables an earlier run or an older model left behind.
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
            db.session.commit()
        db.create_all()
        from flask_migrate import stamp

        stamp()
        db.engine.dispose()
    return url


def build_app(database_url: str, media_dir) -> Flask:
    """The app as the tests use it: on `database_url`, CSRF off (tests/test_auth.py turns it on), plain-HTTP
    cookies, media in `media_dir`, and each request forgetting the signed-in user and store (see below)."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "MEDIA_DIR": str(media_dir),
            "SECRET_KEY": "test",
            "TAG_HOST": "scan.example",
        }
    )
    app.test_client_class = FlaskLoginClient

    @app.teardown_request
    def _forget_request_state(exc):
        # The test holds an app context open, so every test-client request shares its `g`; forget who was
        # signed in and which store was chosen, as a fresh request in production would.
        g.pop("_login_user", None)
        g.pop("store", None)

    return app


@pytest.fixture
def app(database_url, tmp_path):
    app = build_app(database_url, tmp_path / "media")
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in reversed(tables):
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


@pytest.fixture
def make(app):
    """Factories that add and flush: make.store(), make.user(), make.lot(), …"""
    return Factory(password_hash())


@pytest.fixture
def client_for(app):
    """client_for(user): a test client signed in as `user`."""

    def client(user):
        db.session.commit()
        test_client = app.test_client(user=user)
        # Flask-Login's "strong" session protection also wants the session bound to the client's address and agent.
        environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": f"Werkzeug/{version('werkzeug')}"}
        with app.test_request_context(environ_base=environ), test_client.session_transaction() as session:
            session["_id"] = _create_identifier()
        return test_client

    return client


def run_all(jobs):
    """Start every job at once (a barrier), each in its own thread, wait for all; return their outcomes."""
    barrier, outcomes = threading.Barrier(len(jobs)), []

    def run(job):
        barrier.wait()
        outcomes.append(job())

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@contextmanager
def recorded_sql():
    """The SQL statements run inside the block, in order, by any app's engine."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)
