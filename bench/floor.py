"""The floor: the least a scan lookup does on this stack (Flask, Flask-Login, Flask-SQLAlchemy, Jinja), served by
the same gunicorn settings as scanapp on the same bench database. `/t/<code>` reads the signed-in user from the
session cookie (Flask-Login, one query), reads the tag by its code through the ORM (one indexed query) and renders a
small template; no CSRF token, no compression, no stores, nothing about what the tag is on. The ceiling
(bench/ceiling.py) says what the machine gives an app that does nothing; this says what is left once a page signs
its user in and reads and renders one row: the most a lookup of this stack could reach, as stock and costs are
shown only to staff who signed in. (shared/research/deps.md §4 measured the same without the sign-in at about a
third of the ceiling.)

`/sign-in/<username>` signs in without a password: the bench's way to a session cookie. The floor is served only
by the bench, on 127.0.0.1.

    DATABASE_URL=... SCANAPP_TLS=off SCANAPP_BIND=127.0.0.1:8002 gunicorn -c gunicorn.conf.py 'bench.floor:create_app()'
"""

import os

from flask import Flask, redirect, render_template
from flask_login import LoginManager, UserMixin, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from scanapp.config import normalise_db_url

PAGE = """<!doctype html><html lang=en><head><meta charset=utf-8><title>{{ tag.code }}</title></head>
<body><h1>Tag {{ tag.code }}</h1><p>Signed in as {{ current_user.username }}.</p>
<p>A {{ tag.kind }} tag{% if tag.lot_id %} on lot {{ tag.lot_id }}{% endif %}.</p></body></html>
"""

db = SQLAlchemy()
login = LoginManager()


class User(UserMixin, db.Model):
    """scanapp's users table, as much of it as signing in needs."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool]

    @property
    def is_active(self) -> bool:
        return self.active


class Tag(db.Model):
    """scanapp's tags table, as much of it as the page shows."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    lot_id: Mapped[int | None]


@login.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def create_app(url: str | None = None) -> Flask:
    """The floor on the database at `url` (DATABASE_URL when None)."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(url or os.environ["DATABASE_URL"])
    app.config["SECRET_KEY"] = "bench-floor"  # the same in every worker, so that each reads the others' cookies
    app.jinja_loader = DictLoader({"tag.html": PAGE})
    db.init_app(app)
    login.init_app(app)

    @app.get("/sign-in/<username>")
    def sign_in(username: str):
        login_user(db.one_or_404(select(User).where(User.username == username)))
        return redirect("/healthz")

    @app.get("/t/<code>")
    @login_required
    def tag(code: str):
        return render_template("tag.html", tag=db.one_or_404(select(Tag).where(Tag.code == code.upper())))

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
