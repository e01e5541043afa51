"""Search: active search as one types, and a jump straight to the thing when a code matches exactly."""

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from scanapp.htmx import render, wants_fragment
from scanapp.models import Item, Location, Lot
from scanapp.services import search

bp = Blueprint("search", __name__, url_prefix="/search")

PAGES = {Lot: "lots.detail", Item: "items.detail", Location: "locations.detail"}


@bp.get("/")
def index():
    """Results for `q`; a submitted (not typed-ahead) exact lot number, serial or tag code opens its page."""
    q = search.clean(request.args.get("q"))
    if not wants_fragment() and (target := search.exact(q, current_user)) is not None:
        return redirect(url_for(PAGES[type(target)], id=target.id))
    return render("search/index.html", "results", q=q, results=search.find(q, current_user))
