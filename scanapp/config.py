"""Default settings. The environment overrides them: DATABASE_URL, SECRET_KEY and any SCANAPP_<NAME>."""

import os
import secrets
from pathlib import Path

from scanapp.sqlite import QueuedWriterConnection


class Config:
    SQLALCHEMY_DATABASE_URI = "sqlite:///scanapp.db"  # relative: lands in instance/
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # a form left open on a counter all day must still submit
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
    MAX_PHOTO_BYTES = 15 * 1024 * 1024  # one inspection photo as uploaded (a phone's HEIC or JPEG)
    # Host printed in tag QR codes (HTTPS://<TAG_HOST>/T/<CODE>); the request's host when empty.
    TAG_HOST = ""
    MEDIA_DIR = ""  # instance/media when empty
    PG_BIN = ""  # directory of pg_dump, pg_restore and psql for `flask backup`/`restore`; the PATH when empty
    DEMO_PASSWORD = "scan-demo"
    # Sign-in limits (services/sign_in.py): this many wrong passwords for one account, or from one address, within
    # the window lock further tries for that account or address until the window has passed.
    SIGN_IN_ACCOUNT_LIMIT = 5
    SIGN_IN_ADDRESS_LIMIT = 20
    SIGN_IN_WINDOW_MINUTES = 15
    # How many proxies (nginx, Caddy, a load balancer) stand in front of the app. Behind them every request comes
    # from the proxy's address; with this set, the client's is read from X-Forwarded-For, so that the audit log
    # and the sign-in limit per address see the phone, not the proxy.
    PROXY_HOPS = 0


def load(app, overrides: dict | None) -> None:
    """Apply defaults, then the environment, then test overrides."""
    app.config.from_object(Config)
    if url := os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(url)
    app.config.from_prefixed_env("SCANAPP")
    if key := os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = key
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("MEDIA_DIR"):
        app.config["MEDIA_DIR"] = str(Path(app.instance_path) / "media")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    chosen = "SQLALCHEMY_ENGINE_OPTIONS" in (overrides or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not chosen:
        # SQLite keeps one writer at a time: writers queue for it (scanapp/sqlite.py), and a writer from outside the
        # app is waited for rather than failing with "database is locked".
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30, "factory": QueuedWriterConnection}}


def normalise_db_url(url: str) -> str:
    """Accept the postgres:// and postgresql:// forms that hosting tools print; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(instance: Path) -> str:
    """A secret key kept in instance/ so that sign-ins survive a restart without configuration."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
