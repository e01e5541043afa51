"""The item page: one piece, where it is now and its whole path from receipt to today."""

from flask import Blueprint, abort
from flask_login import current_user

from scanapp.htmx import render
from scanapp.services import history

bp = Blueprint("items", __name__, url_prefix="/items")


@bp.get("/<int:id>")
def detail(id: int):
    item = history.item_for(current_user, id) or abort(404)
    return render("items/detail.html", item=item, path=history.item_path(item))
