"""Counts: start a count, count by scanning (online or queued offline), review, recount, approve; the service
worker that keeps the counting page working without signal."""

from functools import partial
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from scanapp.extensions import db
from scanapp.forms.counts import EventForm, LineForm, QuantityForm, RecountForm, StartForm
from scanapp.htmx import render, wants_fragment
from scanapp.models import Count, Location, Store
from scanapp.services import DomainError, counts, history, scanning, stores
from scanapp.views import check_store, commit_once, own_store, replayed, requires

bp = Blueprint("counts", __name__)

# What the counting page needs to show itself again without signal (the service worker caches these).
OFFLINE_ASSETS = (
    "css/app.css",
    "img/icon.svg",
    "vendor/htmx-2.0.11/htmx.min.js",
    "js/app.js",
    "js/scanner.js",
    "js/count-offline.js",
    "js/camera.js",
    "vendor/barcode-detector-3.2.2/es/ponyfill.js",
    "vendor/barcode-detector-3.2.2/es/zxing-exported.js",
    "vendor/zxing-wasm-3.1.3/zxing_reader.wasm",
)


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so that it may control /counts/…; never cached by the browser."""
    script = Path(current_app.static_folder, "js", "sw.js").read_bytes()
    response = Response(script, mimetype="application/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.cache_control.no_cache = True
    response.cache_control.max_age = 0
    return response


@bp.get("/counts/")
@requires("count")
def index():
    """The store's counts (of one place with ?location=), unfinished first, and the form that starts one."""
    store = own_store()
    location = _place(store, request.args.get("location", type=int))
    form = StartForm(location_id=location.id if location else None)
    return _index(store, location, form)


@bp.post("/counts/")
@requires("count")
def create():
    store, form = own_store(), StartForm()
    _choices(form, store)
    if form.validate_on_submit():
        location = _place(store, form.location_id.data)
        start = partial(counts.start_count, blind=form.blind.data, event_id=form.event_id.data, by=current_user)
        try:
            count, earlier = commit_once(form.event_id.data, start, store, location)
        except DomainError as error:
            form.location_id.errors.append(str(error))
        else:
            if earlier is not None:
                return replayed(earlier)
            flash(f"{count.number} started: scan everything in {count.place_name}.", "success")
            return redirect(url_for("counts.detail", id=count.id))
    return _index(store, None, form, status=422)


@bp.get("/counts/<int:id>")
@requires("count")
def detail(id: int):
    """The count: the counting page while open, the review once closed, the booked adjustments once approved."""
    count = _count(id)
    return render("counts/detail.html", **_page(count))


@bp.post("/counts/<int:id>/lines")
@requires("count")
def add_line(id: int):
    """One scan or entry, sent at once or later from the phone's queue: answered with the lines block."""
    count, form = _count(id), LineForm()
    if not form.validate_on_submit():
        return _answer(count, _form_error(form), status=422)
    location = _place(count.store, form.location_id.data)
    hosts = scanning.tag_hosts(current_app.config["TAG_HOST"], request.host)
    add = partial(
        counts.add_line,
        code=form.code.data or "",
        lot_number=form.lot.data or "",
        location=location,
        pieces=form.pieces.data,
        weight=form.weight.data,
        hosts=hosts,
        after=form.after.data or 0,
        event_id=form.event_id.data,
        by=current_user,
    )
    try:
        added, earlier = commit_once(form.event_id.data, add, count)
    except DomainError as error:
        return _answer(count, str(error), status=422)
    if earlier is not None:
        return _answer(count, "Already recorded: that scan was sent twice and counted once.")
    # The scan's own sheet, as it stands with the line (the live review of a count that is not blind is read now).
    sheet = added.sheet if added.sheet.blind else counts.sheet(count, after=added.sheet.after)
    return _answer(count, added.message, tone=added.tone, focus=added.focus, sheet=sheet)


@bp.post("/counts/<int:id>/lines/<line>/quantity")
@requires("count")
def quantity(id: int, line: str):
    """The pieces and weight of a scanned lot."""
    count, form = _count(id), QuantityForm()
    if not form.validate_on_submit():
        return _answer(count, _form_error(form), status=422)
    enter = partial(counts.set_quantity, event_id=form.event_id.data, by=current_user)
    try:
        saved, earlier = commit_once(form.event_id.data, enter, count, line, form.pieces.data, form.weight.data)
    except DomainError as error:
        return _answer(count, str(error), status=422)
    if earlier is not None:
        return _answer(count, "Already recorded.")
    return _answer(count, f"Lot {saved.lot.number}: {counts.quantity_text(saved.lot, saved.pieces, saved.weight)}.")


@bp.post("/counts/<int:id>/lines/<line>/remove")
@requires("count")
def remove(id: int, line: str):
    """Take back a line scanned by mistake."""
    count, form = _count(id), EventForm()
    remove_line = partial(counts.remove_line, event_id=form.event_id.data, by=current_user)
    try:
        removed, earlier = commit_once(form.event_id.data, remove_line, count, line)
    except DomainError as error:
        return _answer(count, str(error), status=422)
    if earlier is not None:
        return _answer(count, "Already recorded.")
    what = f"item {removed.item.serial}" if removed.item else f"lot {removed.lot.number}"
    return _answer(count, f"Removed the line of {what}.")


@bp.post("/counts/<int:id>/close")
@requires("count")
def close(id: int):
    return _step(id, counts.close_counting, "Counting closed: the count is ready for review.")


@bp.post("/counts/<int:id>/recount")
@requires("approve_count")
def recount(id: int):
    count, form = _count(id), RecountForm()
    keys = form.rows.data or []
    return _step(id, partial(counts.recount, keys=keys), f"Sent {len(keys)} line(s) back for counting.", count)


@bp.post("/counts/<int:id>/approve")
@requires("approve_count")
def approve(id: int):
    return _step(id, counts.approve, "Count approved: its differences are booked.")


@bp.post("/counts/<int:id>/cancel")
@requires("approve_count")
def cancel(id: int):
    return _step(id, counts.cancel, "Count cancelled: nothing was booked.")


# ---------------------------------------------------------------- helpers


def _count(id: int) -> Count:
    """The count by id, with its place, 404 unless it is of one of the user's stores."""
    count = db.session.get(Count, id, options=[joinedload(Count.location)])
    if count is None:
        abort(404)
    check_store(count.store_id)
    return count


def _place(store: Store, location_id: int | None) -> Location | None:
    """A place of the store by id, or None for the whole store; 404 for another store's place."""
    if not location_id:
        return None
    location = db.get_or_404(Location, location_id)
    check_store(location.store_id)
    return location


def _choices(form: StartForm, store: Store) -> None:
    form.location_id.choices = [("", f"The whole store ({store.name})")] + [
        (place.id, f"{place.name} · {place.code}") for place in stores.physical_locations(store)
    ]


def _index(store: Store, location: Location | None, form: StartForm, status: int = 200):
    _choices(form, store)
    rows = counts.counts_of(store, location)
    return render("counts/index.html", store=store, location=location, form=form, counts=rows, status=status)


def _page(count: Count, **extra) -> dict:
    """What the count page shows for the count's status and the user's role."""
    context = {"count": count, "assets": [url_for("static", filename=name) for name in OFFLINE_ASSETS]}
    if count.status == "open":
        context["sheet"] = counts.sheet(count)
        context["places"] = counts.places(count)
        context["recounts"] = counts.recounts(count)
    elif count.status == "review" and counts.may_see_expected(count, current_user):
        context["review"] = counts.review(count)
        context["refusal"] = counts.approval_refusal(count, current_user)
    elif count.status == "approved":
        context["booked"] = history.MovementPage(list(count.approve_event.movements), None)
    return context | extra


def _answer(count: Count, message: str, *, tone: str = "ok", status: int = 200, focus: int | None = None, sheet=None):
    """The lines block with what happened to the scan; a plain form post gets the page again. `sheet`: the block
    as the change left it, when the change made it (else it is read)."""
    if not wants_fragment():
        flash(message, "error" if status >= 400 else "success")
        return redirect(url_for("counts.detail", id=count.id), 303)
    answer = {"text": message, "tone": "bad" if status >= 400 else tone}
    context = {"sheet": sheet or counts.sheet(count), "answer": answer, "focus": focus}
    return render("counts/detail.html", "lines", status=status, **context)


def _form_error(form) -> str:
    return " ".join(error for errors in form.errors.values() for error in errors) or "That could not be read."


def _step(id: int, operation, done: str, count: Count | None = None):
    """A button that moves the count on (close, recount, approve, cancel): one service, then the page again."""
    count, form = count or _count(id), EventForm()
    step = partial(operation, event_id=form.event_id.data, by=current_user)
    try:
        _, earlier = commit_once(form.event_id.data, step, count)
    except DomainError as error:
        flash(str(error), "error")
    else:
        if earlier is not None:
            return replayed(earlier)
        flash(done, "success")
    return redirect(url_for("counts.detail", id=count.id), 303)
