"""Placeholder blueprint: being built now (replace this whole file)."""

from flask import Blueprint

bp = Blueprint("labels", __name__, url_prefix="/labels")


@bp.get("/")
def index():
    return "under construction"
