"""Placeholder blueprint: being built now (replace this whole file)."""

from flask import Blueprint

bp = Blueprint("items", __name__, url_prefix="/items")


@bp.get("/")
def index():
    return "under construction"
