"""Placeholder blueprint: being built now (replace this whole file)."""

from flask import Blueprint

bp = Blueprint("search", __name__, url_prefix="/search")


@bp.get("/")
def index():
    return "under construction"
