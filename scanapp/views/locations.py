"""Locations: the store's places with what each holds, one place's contents and movements, adding a place."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from scanapp.extensions import db
from scanapp.forms.locations import LocationForm
from scanapp.htmx import render, wants_fragment
from scanapp.models import Location, Store, User
from scanapp.services import DomainError, history, stores
from scanapp.services.events import start_event
from scanapp.views import check_store, commit_once, own_store, replayed, requires

bp = Blueprint("locations", __name__, url_prefix="/locations")


@bp.get("/")
def index():
    store = own_store()
    return render("locations/index.html", store=store, places=history.places(store), form=LocationForm())


@bp.post("/")
@requires("manage_locations")
def create():
    """Add a physical location (and its tag) to the current store."""
    store, form = own_store(), LocationForm()
    if form.validate_on_submit():
        try:
            location, earlier = commit_once(form.event_id.data, _add_location, store, form, current_user)
        except DomainError as exc:
            target = getattr(form, exc.field or "", None)
            (target.errors if target is not None else form.form_errors).append(str(exc))
        else:
            if earlier is not None:
                return replayed(earlier)
            flash(f"Added {location.name}; its tag is {location.tag.code}.", "success")
            return redirect(url_for("locations.detail", id=location.id))
    places = history.places(store)
    return render("locations/index.html", store=store, places=places, form=form, status=422)


def _add_location(store: Store, form: LocationForm, user: User) -> Location:
    """Record the request as an event, then create the location with its tag."""
    event = start_event(form.event_id.data, "add_location", by=user, store=store)
    location = stores.create_location(store, form.code.data, form.name.data or "", form.kind.data)
    event.result = f"location:{location.id}"
    return location


@bp.get("/<int:id>")
def detail(id: int):
    """What is at the location now (a hundred lots and a hundred items at a time) and its recent movements. "Show
    more lots", "Show more items" (`lots_after`, `items_after`: the last lot number or serial shown) and "Show
    older" (`before`) get only the next rows when htmx asks, else the page from there."""
    location = db.get_or_404(Location, id)
    check_store(location.store_id)
    lots_after, items_after = request.args.get("lots_after", ""), request.args.get("items_after", "")
    if lots_after and wants_fragment():
        lots = history.lots_at(location, lots_after)
        return render("locations/detail.html", "lot_rows", location=location, lots=lots)
    if items_after and wants_fragment():
        items = history.items_at(location, items_after)
        return render("locations/detail.html", "item_rows", location=location, items=items)
    before = request.args.get("before", type=int)
    page = history.location_movements(location, before)
    if before is not None and wants_fragment():
        return render("locations/detail.html", "history_rows", location=location, history=page)
    contents = history.contents(location, lots_after, items_after)
    return render("locations/detail.html", location=location, contents=contents, history=page)
