"""Placeholder blueprint: being built now (replace this whole file)."""

from flask import Blueprint

bp = Blueprint("locations", __name__, url_prefix="/locations")


@bp.get("/")
def index():
    return "under construction"
