"""Customer returns at the counter: scan the piece, see its sale and how its lot fared, record the return and
where it goes; a return's record; the store's list of reasons."""

from functools import partial

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from scanapp.extensions import db
from scanapp.forms.returns import ReasonForm, ReturnForm
from scanapp.htmx import render
from scanapp.models import Item, Lot, ReturnReason, Store
from scanapp.services import DomainError, history, returns, stores
from scanapp.views import check_store, commit_once, own_store, requires
from scanapp.views.moves import attach_error, go, own_place, resolve_scan

bp = Blueprint("returns", __name__, url_prefix="/returns")


@bp.get("/")
@requires("return")
def index():
    """The store's latest returns."""
    store = own_store()
    return render("returns/index.html", store=store, recent=returns.recent_returns(store))


@bp.route("/new", methods=["GET", "POST"])
@requires("return")
def new():
    """The return form (?code= a first scan, from the lookup page); posting it records the return once."""
    store = own_store()
    if request.method == "GET":
        form, error = ReturnForm(formdata=None), None
        if code := request.args.get("code", "")[:200]:
            try:
                _take_scan(form, code)
            except DomainError as exc:
                error = str(exc)
        return _page(form, store, error=error)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            made, earlier = commit_once(form.event_id.data, _operation(form, store))
        except DomainError as error:
            attach_error(form, error, {"reason": "reason_id", "dest": "dest_id", "code": "receipt"})
        else:
            if earlier is not None:
                flash("Already recorded: that was sent twice and applied once.", "info")
                made = returns.return_of_event(earlier.id)
                if made is None:
                    return go(redirect(url_for(".index")))
            return go(redirect(url_for(".detail", id=made.id)))
    return _page(form, store, status=422)


@bp.post("/new/scan")
@requires("return")
def scan():
    """A scanned item or lot becomes the piece returned (a blank code keeps it: the receipt was typed); what was
    typed so far stays."""
    store, form = own_store(), ReturnForm()
    code = request.form.get("code", "")
    try:
        if code.strip():
            _take_scan(form, code)
    except DomainError as error:
        return _page(form, store, error=str(error), status=422)
    return _page(form, store)


@bp.get("/<int:id>")
@requires("return")
def detail(id: int):
    """A return's record: the piece, its sale, reason, condition, where it went, refund, override and photos."""
    found = returns.return_for(current_user, id) or abort(404)
    return render(
        "returns/detail.html", r=found, movements=found.event.movements,
        conditions=returns.CONDITION_NAMES, dispositions=returns.DISPOSITION_NAMES,
    )  # fmt: skip


@bp.route("/reasons", methods=["GET", "POST"])
@requires("manage_return_reasons")
def reasons():
    """The store's reasons for a return; posting adds one."""
    store = own_store()
    form = ReasonForm(formdata=None) if request.method == "GET" else ReasonForm()
    if request.method == "POST" and form.validate_on_submit():
        return _save_reason(form, store, None) or _reasons_page(form, store, status=422)
    return _reasons_page(form, store, status=200 if request.method == "GET" else 422)


@bp.post("/reasons/<int:id>")
@requires("manage_return_reasons")
def reason(id: int):
    """Rename a reason, or take it out of (or back into) use."""
    store = own_store()
    found = db.get_or_404(ReturnReason, id)
    check_store(found.store_id)
    form = ReasonForm()
    if form.validate_on_submit():
        return _save_reason(form, store, found) or _reasons_page(ReasonForm(formdata=None), store, status=422)
    flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return go(redirect(url_for(".reasons")))


def _save_reason(form: ReasonForm, store: Store, found: ReturnReason | None):
    save = partial(
        returns.save_reason, found, form.label.data, form.active.data,
        event_id=form.event_id.data, by=current_user, store=store,
    )  # fmt: skip
    try:
        commit_once(form.event_id.data, save)
    except DomainError as error:
        if found is None:
            attach_error(form, error)
            return None
        flash(str(error), "error")
    return go(redirect(url_for(".reasons")))


def _reasons_page(form: ReasonForm, store: Store, *, status: int):
    listed = returns.reasons(store, active_only=False)
    return render("returns/reasons.html", "reason_add", form=form, reasons=listed, status=status)


def _take_scan(form: ReturnForm, raw: str) -> None:
    """Put the scanned item or lot into the form."""
    found = resolve_scan(raw)
    if found.item is None and found.lot is None:
        raise DomainError("Scan the tag of the item or lot the customer brought back.")
    form.item_id.data = found.item.id if found.item else None
    form.lot_id.data = None if found.item else found.lot.id


def _subject(form: ReturnForm) -> Item | Lot | None:
    """The item or lot the form names; 404 for one the user may not see (a forged id)."""
    if form.item_id.data:
        return history.item_for(current_user, form.item_id.data) or abort(404)
    if form.lot_id.data:
        return history.lot_for(current_user, form.lot_id.data) or abort(404)
    return None


def _operation(form: ReturnForm, store: Store):
    subject = _subject(form)
    if subject is None:
        raise DomainError("Scan the tag of the item or lot the customer brought back.")
    limit = current_app.config["MAX_PHOTO_BYTES"]
    uploads = [(f.filename, f.read(limit + 1)) for f in form.photos.data or [] if f and f.filename]
    return partial(
        returns.take_return,
        subject,
        reason=db.session.get(ReturnReason, form.reason_id.data) if form.reason_id.data else None,
        condition=form.condition.data,
        disposition=form.disposition.data,
        dest=own_place(form.dest_id.data),
        receipt=form.receipt.data or "",
        pieces=form.pieces.data or 0,
        weight=form.weight.data or 0,
        notes=form.notes.data or "",
        refund=form.refund.data,
        override_reason=form.override_reason.data or "",
        photo_uploads=uploads,
        event_id=form.event_id.data,
        by=current_user,
        store=store,
    )


def _page(form: ReturnForm, store: Store, *, error: str | None = None, status: int = 200):
    subject = _subject(form)
    info = None
    if subject is not None:
        try:
            info = returns.counter(subject, store, form.receipt.data or "")
        except DomainError as exc:
            error = error or str(exc)
    form.reason_id.choices = [("", "Choose a reason")] + [(r.id, r.label) for r in returns.reasons(store)]
    places = stores.physical_locations(store)
    form.dest_id.choices = [(p.id, f"{p.name} · {p.code}") for p in places]
    if form.dest_id.data is None and info is not None and info.found.sale is not None:
        came_from = info.found.sale.from_location
        form.dest_id.data = came_from.id if came_from in places else None
    return render("returns/new.html", "return_form", form=form, info=info, error=error, status=status)
