"""Placeholder blueprint: being built now (replace this whole file)."""

from flask import Blueprint

bp = Blueprint("suppliers", __name__, url_prefix="/suppliers")


@bp.get("/")
def index():
    return "under construction"
