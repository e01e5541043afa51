"""/healthz: public, says whether the app reaches its database and at which schema revision."""

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import Migrate

from scanapp import create_app
from scanapp.extensions import db


def twin(app, **overrides):
    """An app like the test app; its requests get their own app context, as in production."""
    config = {k: v for k, v in app.config.items() if k != "SQLALCHEMY_ENGINE_OPTIONS"}  # made from the URL
    return create_app({**config, **overrides})


@pytest.fixture
def web(app):
    web = twin(app)
    yield web
    with web.app_context():
        db.engine.dispose()


def head_revision(app) -> str:
    migrate: Migrate = app.extensions["migrate"].migrate
    return ScriptDirectory.from_config(migrate.get_config()).get_current_head()


def test_healthz_without_sign_in(web, database_url):
    response = web.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["backend"] == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    assert body["database"]["revision"] == head_revision(web)


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres@127.0.0.1:1/scanapp", "sqlite:////nonexistent-dir/scanapp.db"],
    ids=["closed-port", "missing-dir"],
)
def test_healthz_is_503_when_the_database_is_unreachable(app, url):
    down = twin(app, SQLALCHEMY_DATABASE_URI=url)
    try:
        response = down.test_client().get("/healthz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "error"
        assert body["database"]["ok"] is False
        assert body["database"]["error"] == "OperationalError"
    finally:
        with down.app_context():
            db.engine.dispose()


def test_healthz_is_503_before_the_first_migration(app, tmp_path):
    """A database without the alembic_version table has not been migrated: not healthy."""
    fresh = twin(app, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'new.db'}")
    try:
        response = fresh.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["database"]["ok"] is False
    finally:
        with fresh.app_context():
            db.engine.dispose()
