"""Placeholder blueprint: being built now (replace this whole file)."""

from flask import Blueprint

bp = Blueprint("lots", __name__, url_prefix="/lots")


@bp.get("/")
def index():
    return "under construction"
