"""Placeholder blueprint: being built now (replace this whole file)."""

from flask import Blueprint

bp = Blueprint("receiving", __name__, url_prefix="/receive")


@bp.get("/")
def new():
    return "under construction"
