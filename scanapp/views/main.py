"""The home page, the health check and search."""

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from scanapp.extensions import db
from scanapp.htmx import render
from scanapp.views import requires

bp = Blueprint("main", __name__)


@bp.get("/")
@requires("look_up")
def index():
    """The lookup page: the scanner, and the answer to each scan below it (see views/scan.py)."""
    return render("main/index.html")


@bp.get("/menu")
def menu():
    """Every workflow this user may use, for the phone's "More" tab."""
    return render("main/menu.html")


@bp.get("/healthz")
def healthz():
    """Public: is the app up, and can it reach its database at the current schema revision?"""
    backend = db.engine.dialect.name
    try:
        db.session.execute(text("SELECT 1"))
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        db.session.rollback()
        state = {"ok": False, "backend": backend, "error": type(exc).__name__}
        return jsonify(status="error", database=state), 503
    return jsonify(status="ok", database={"ok": True, "backend": backend, "revision": revision})
