"""The floor: the least a page of this stack does (Flask, Flask-SQLAlchemy, Jinja), served by the same gunicorn
settings as scanapp on the same bench database. `/t/<code>` reads the tag by its code through the ORM (one indexed
query) and renders a small template; no sign-in, no session, no CSRF, no compression. The ceiling (bench/ceiling.py)
says what the machine gives an app that does nothing; this says what is left once a page reads one row and renders
it, the most a scan lookup of this stack could reach (shared/research/deps.md §4 measured the same at about a
third of the ceiling).

    DATABASE_URL=... SCANAPP_TLS=off SCANAPP_BIND=127.0.0.1:8002 gunicorn -c gunicorn.conf.py 'bench.floor:create_app()'
"""

import os

from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from scanapp.config import normalise_db_url

PAGE = """<!doctype html><html lang=en><head><meta charset=utf-8><title>{{ tag.code }}</title></head>
<body><h1>Tag {{ tag.code }}</h1>
<p>A {{ tag.kind }} tag{% if tag.lot_id %} on lot {{ tag.lot_id }}{% endif %}.</p></body></html>
"""

db = SQLAlchemy()


class Tag(db.Model):
    """scanapp's tags table, as much of it as the page shows."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    lot_id: Mapped[int | None]


def create_app(url: str | None = None) -> Flask:
    """The floor on the database at `url` (DATABASE_URL when None)."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(url or os.environ["DATABASE_URL"])
    app.jinja_loader = DictLoader({"tag.html": PAGE})
    db.init_app(app)

    @app.get("/t/<code>")
    def tag(code: str):
        return render_template("tag.html", tag=db.one_or_404(select(Tag).where(Tag.code == code.upper())))

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
