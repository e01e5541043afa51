"""Inspecting a lot or an item with photos, the receiving queue, releasing stock on hold, and serving photos."""

from decimal import Decimal
from functools import partial

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, send_file, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from scanapp.forms.inspections import InspectionForm, ReleaseForm, inspection_form
from scanapp.htmx import render, wants_fragment
from scanapp.models import Item, Location, Lot, Store
from scanapp.services import DomainError, history, inspections, photos, stores
from scanapp.services.movements import loose_at
from scanapp.views import commit_once, own_store, replayed, requires
from scanapp.views.moves import own_place

bp = Blueprint("inspections", __name__)
RESULT_WORDS = {"pass": "passed", "fail": "failed", "hold": "held"}
# The lot and item pages show inspections and holds through these.
bp.add_app_template_global(inspections.inspections_of, "inspections_of")
bp.add_app_template_global(inspections.holds_of, "holds_of")
bp.add_app_template_global(inspections.point_label, "point_label")


@bp.route("/inspections/new", methods=["GET", "POST"])
@requires("inspect")
def new():
    """Inspect ?lot= (or its ?item=): checklist, result, notes, photos, and what goes on hold or back."""
    store = own_store()
    lot, item = _subject()
    place = None if item else inspections.receiving_place(lot, store)
    sources = inspections.hold_sources(lot, store)
    form = _inspection_form(lot, place, sources)
    if form.validate_on_submit():
        try:
            done, earlier = commit_once(form.event_id.data, _record(form, lot, item, place, store))
        except DomainError as error:
            _attach(form, error)
        else:
            if earlier is not None:
                return _go(replayed(earlier))
            flash(f"Inspection recorded: {RESULT_WORDS[done.result]}.", "success")
            target = url_for("items.detail", id=item.id) if item else url_for("lots.detail", id=lot.id)
            return _go(redirect(target))
    return render(
        "inspections/new.html",
        "inspection_form",
        form=form,
        lot=lot,
        item=item,
        place=place,
        sources=sources,
        store=store,
        status=422 if form.errors else 200,
    )


@bp.get("/inspections/queue")
@requires("inspect")
def queue():
    """Lots received by the current store and not inspected yet, newest first."""
    store = own_store()
    return render("inspections/queue.html", store=store, lots=inspections.receiving_queue(store))


@bp.route("/holds/<int:lot_id>/release", methods=["GET", "POST"])
@requires("release")
def release(lot_id: int):
    """Release stock of the lot on hold in the current store: to a place, or back to the supplier."""
    store = own_store()
    lot = history.lot_for(current_user, lot_id) or abort(404)
    on_hold, held_items = inspections.held(lot, store)
    form = _release_form(lot, store, on_hold, held_items)
    if form.validate_on_submit():
        item = (history.item_for(current_user, form.item_id.data) or abort(404)) if form.item_id.data else None
        quantity = inspections.Quantity(form.pieces.data or 0, form.weight.data or Decimal(0))
        operation = partial(
            inspections.release,
            lot,
            item=item,
            quantity=quantity if item is None else inspections.Quantity(),
            dest=own_place(form.dest_id.data),
            reason=form.reason.data,
            event_id=form.event_id.data,
            by=current_user,
            store=store,
        )
        try:
            movement, earlier = commit_once(form.event_id.data, operation)
        except DomainError as error:
            _attach(form, error)
        else:
            if earlier is not None:
                return _go(replayed(earlier))
            sent_back = movement.kind == "vendor_return"
            flash(
                "Sent back to the supplier." if sent_back else f"Released to {movement.to_location.label}.", "success"
            )
            return _go(redirect(url_for("items.detail", id=item.id) if item else url_for("lots.detail", id=lot.id)))
    return render(
        "inspections/release.html",
        "release_form",
        form=form,
        lot=lot,
        store=store,
        on_hold=on_hold,
        held_items=held_items,
        status=422 if form.errors else 200,
    )


@bp.get("/photos/<int:id>")
def photo(id: int):
    """A stored photo, to signed-in users of its store."""
    return _send_photo(id, thumb=False)


@bp.get("/photos/<int:id>/thumb")
def thumb(id: int):
    """A photo's thumbnail, to signed-in users of its store."""
    return _send_photo(id, thumb=True)


def _send_photo(id: int, *, thumb: bool):
    found = photos.photo_for(current_user, id) or abort(404)
    path = photos.photo_path(found.sha256, thumb=thumb)
    if not path.is_file():
        abort(404, "The file of this photo is missing from storage.")
    response = send_file(path, mimetype=found.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def _subject() -> tuple[Lot, Item | None]:
    """The lot of ?lot= and the item of ?item=, both visible to the user; 404 otherwise."""
    lot = history.lot_for(current_user, request.args.get("lot", type=int) or 0) or abort(404)
    item_id = request.args.get("item", type=int)
    if item_id is None:
        return lot, None
    item = history.item_for(current_user, item_id)
    if item is None or item.lot_id != lot.id:
        abort(404)
    return lot, item


def _inspection_form(lot: Lot, place: Location | None, sources: list) -> InspectionForm:
    """The form of the lot's checklist; a fresh one accepts everything where the lot was received."""
    form = inspection_form(inspections.checklist(lot.category))
    form.hold_from.choices = [SelectChoice(loc.id, f"{loc.name} · {qty.pieces} pcs") for loc, qty in sources]
    if request.method == "GET":
        if place is not None:
            form.accept_pieces.data, form.accept_weight.data = loose_at(lot, place)
        if sources:
            form.hold_from.data = sources[0][0].id
    return form


def _record(form: InspectionForm, lot: Lot, item: Item | None, place: Location | None, store: Store):
    """The service call the submitted form asks for."""
    hold = split = None
    if place is not None:
        split = inspections.Split(
            accept=_quantity(form.accept_pieces, form.accept_weight),
            hold=_quantity(form.hold_pieces, form.hold_weight),
            send_back=_quantity(form.return_pieces, form.return_weight),
        )
    elif form.result.data != "pass":
        source = own_place(form.hold_from.data)
        scope = "item" if item else form.hold_scope.data
        hold = inspections.Hold(scope, source, _quantity(form.hold_pieces, form.hold_weight))
    limit = current_app.config["MAX_PHOTO_BYTES"]
    uploads = [(f.filename, f.read(limit + 1)) for f in form.photos.data or [] if f and f.filename]
    return partial(
        inspections.record_inspection,
        lot,
        item=item,
        points={point: form[f"point_{point}"].data for point, _ in form.points},
        result=form.result.data,
        notes=form.notes.data,
        photo_uploads=uploads,
        hold=hold,
        split=split,
        event_id=form.event_id.data,
        by=current_user,
        store=store,
    )


def _quantity(pieces, weight) -> inspections.Quantity:
    return inspections.Quantity(pieces.data or 0, weight.data or Decimal(0))


def _release_form(lot: Lot, store: Store, on_hold, held_items: list[Item]) -> ReleaseForm:
    """The release form with its choices: the loose pieces or a held item, and where it goes."""
    form = ReleaseForm()
    form.item_id.choices = [SelectChoice("", f"Loose pieces · {on_hold.pieces} on hold")] + [
        SelectChoice(i.id, f"Item {i.serial}") for i in held_items
    ]
    form.dest_id.choices = (
        [SelectChoice("", "Choose a place…")]
        + [SelectChoice(loc.id, f"{loc.name} · {loc.code}") for loc in stores.physical_locations(store)]
        + [SelectChoice(store.virtual("vendor_return").id, "Back to the supplier")]
    )
    if request.method == "GET":
        form.item_id.data = request.args.get("item", type=int)
        form.pieces.data, form.weight.data = on_hold.pieces, on_hold.weight
    return form


def _attach(form, error: DomainError) -> None:
    """Show a service's refusal on its field, or above the form."""
    target = form._fields.get(error.field or "")
    (target.errors if target is not None else form.form_errors).append(str(error))


def _go(response):
    """A redirect that also works for an HTMX form post: the browser goes to the page (the flash shows there)."""
    if not wants_fragment():
        return response
    answer = make_response("", 204)
    answer.headers["HX-Redirect"] = response.location
    return answer
