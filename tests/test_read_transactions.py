"""A request that only read ends its transaction with COMMIT on PostgreSQL, so that psycopg keeps the statements it
prepared (it forgets them all at a ROLLBACK); a request that wrote and did not commit is still rolled back, on both
databases."""

import pytest
from sqlalchemy import event, func, select, text

from scanapp import create_app
from scanapp.extensions import db
from scanapp.models import Store
from tests.conftest import PASSWORD


@pytest.fixture
def web(app):
    """A twin of the test app whose requests each get their own app context and session, as in production; with
    three pages of its own: one that reads, one that writes and does not commit, one that tells how many statements
    its connection has prepared on the server."""
    twin = create_app(dict(app.config))

    @twin.get("/_reads")
    def reads():
        return str(db.session.scalar(select(func.count()).select_from(Store)))

    @twin.get("/_writes")
    def writes():
        db.session.add(Store(code="NEW", name="Not kept"))
        db.session.flush()
        return "written, not committed"

    @twin.get("/_core_writes")
    def core_writes():
        db.session.execute(Store.__table__.update().values(name="Not kept either"))
        return "updated, not committed"

    @twin.get("/_prepared")
    def prepared():
        return str(db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements")))

    with twin.app_context():
        endings = []
        event.listen(db.engine, "commit", lambda conn: endings.append("commit"))
        event.listen(db.engine, "rollback", lambda conn: endings.append("rollback"))
    twin.config["endings"] = endings
    yield twin
    with twin.app_context():
        db.engine.dispose()


@pytest.fixture
def client(web, make):
    make.store("A", "Main Street")
    user = make.user("associate", [db.session.scalar(select(Store))], username="alex")
    db.session.commit()
    client = web.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def test_a_request_that_only_read_commits_on_postgresql(web, client):
    endings = web.config["endings"]
    endings.clear()
    assert client.get("/_reads").text == "1"
    expected = "commit" if db.engine.dialect.name == "postgresql" else "rollback"
    assert endings == [expected]


@pytest.mark.parametrize("path", ["/_writes", "/_core_writes"])
def test_a_request_that_wrote_and_did_not_commit_is_rolled_back(web, client, path):
    endings = web.config["endings"]
    endings.clear()
    assert client.get(path).status_code == 200
    assert endings == ["rollback"]
    db.session.expire_all()
    assert db.session.scalars(select(Store.name)).all() == ["Main Street"]


def test_postgresql_keeps_the_statements_it_prepared_from_request_to_request(web, client):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are psycopg's")
    for _ in range(8):  # psycopg prepares a statement at its fifth run on a connection
        assert client.get("/_reads").status_code == 200
    assert int(client.get("/_prepared").text) >= 2  # the signed-in user's, and the page's
