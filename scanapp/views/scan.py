"""Placeholder blueprint: being built now (replace this whole file)."""

from flask import Blueprint

bp = Blueprint("scan", __name__, url_prefix="/scan")


@bp.get("/")
def index():
    return "under construction"
