"""Receiving a supplier shipment as a new lot in one of the current store's places."""

from datetime import date
from decimal import Decimal
from functools import partial

from flask import Blueprint, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from scanapp.extensions import db
from scanapp.forms.receiving import ReceiveForm
from scanapp.htmx import render, wants_fragment
from scanapp.models import ATTRIBUTES, CATEGORIES, DEFAULT_WEIGHT_UNIT, Location, Store, Supplier
from scanapp.services import DomainError, receiving, stores, suppliers, tags
from scanapp.views import commit_once, own_store, replayed, requires

bp = Blueprint("receiving", __name__, url_prefix="/receive")


@bp.route("/", methods=["GET", "POST"])
@requires("receive")
def new():
    store = own_store()
    form = _form(store)
    if request.method == "GET":
        _prefill(form, store)
    elif form.validate_on_submit():
        try:
            shipment = _shipment(form)
            receive = partial(receiving.receive_lot, event_id=form.event_id.data, by=current_user, store=store)
            lot, earlier = commit_once(form.event_id.data, receive, shipment)
        except DomainError as error:
            target = form._fields.get(error.field or "")
            (target.errors if target is not None else form.form_errors).append(str(error))
        else:
            if earlier is not None:
                return _go(replayed(earlier))
            flash(f"Received lot {lot.number} into {lot.store.code} · {shipment.location.name}.", "success")
            return _go(redirect(url_for("lots.detail", id=lot.id)))
    status = 422 if form.errors else 200
    return render("receiving/new.html", "receive_form", form=form, store=store, status=status)


@bp.get("/number")
@requires("receive")
def number():
    """The lot number field again, with a fresh suggestion for the chosen supplier, category and date.

    A number the person typed themselves (not the last suggestion) is kept as it is.
    """
    store = own_store()
    form = _form(store, formdata=request.args)
    if not form.number.data or form.number.data.upper() == (form.suggested.data or "").upper():
        _suggest(form, store)
    return render("receiving/new.html", "lot_number", form=form, store=store)


def _form(store: Store, formdata=None) -> ReceiveForm:
    """The form with its choices: active suppliers, and the store's physical places."""
    form = ReceiveForm(formdata=formdata, meta={"csrf": False}) if formdata is not None else ReceiveForm()
    form.supplier_id.choices = [SelectChoice("", "Choose the supplier…")] + [
        SelectChoice(s.id, f"{s.name} · {s.code}") for s in suppliers.active_suppliers()
    ]
    form.location_id.choices = [SelectChoice("", "Choose a place…")] + [
        SelectChoice(loc.id, f"{loc.name} · {loc.code}") for loc in stores.physical_locations(store)
    ]
    return form


def _prefill(form: ReceiveForm, store: Store) -> None:
    """A fresh form: ?supplier_id= (back from adding a supplier) and ?number= (an unknown tag that was scanned)."""
    form.supplier_id.data = form.supplier_id.coerce(request.args.get("supplier_id"))
    scanned = request.args.get("number", "")[:32]
    try:
        form.number.data = tags.normalise(scanned) if scanned else ""
    except DomainError:
        form.number.data = scanned.strip()
    if not form.number.data:
        _suggest(form, store)


def _suggest(form: ReceiveForm, store: Store) -> None:
    supplier = db.session.get(Supplier, form.supplier_id.data) if form.supplier_id.data else None
    category = form.category.data if form.category.data in CATEGORIES else "stone"
    received_on = form.received_on.data or date.today()
    form.number.data = form.suggested.data = receiving.suggest_lot_number(store, supplier, category, received_on)


def _shipment(form: ReceiveForm) -> receiving.Shipment:
    """What the form describes, with its supplier and place loaded. DomainError for ids that do not exist."""
    supplier = db.session.get(Supplier, form.supplier_id.data)
    if supplier is None:
        raise DomainError("That supplier does not exist; choose one from the list.", field="supplier_id")
    location = db.session.get(Location, form.location_id.data)
    if location is None:
        raise DomainError("That place does not exist; choose one from the list.", field="location_id")
    weight = form.weight.data or Decimal(0)
    unit = form.weight_unit.data or (DEFAULT_WEIGHT_UNIT.get(form.category.data) if weight else None)
    # An untouched suggestion is taken afresh when saving, so two people receiving at once do not collide.
    number = "" if form.number.data == form.suggested.data else form.number.data
    return receiving.Shipment(
        supplier=supplier,
        location=location,
        category=form.category.data,
        description=form.description.data,
        received_on=form.received_on.data,
        pieces=form.pieces.data,
        cost=form.cost.data,
        cost_basis=form.cost_basis.data,
        weight=weight,
        weight_unit=unit,
        number=number,
        po_number=form.po_number.data,
        invoice_number=form.invoice_number.data,
        notes=form.notes.data,
        attributes={name: form[name].data for name in ATTRIBUTES},
        items=receiving.parse_items(form.items.data),
        documents=_uploads(form),
    )


def _uploads(form: ReceiveForm) -> list[receiving.Upload]:
    """The chosen files, each read up to one byte past the size limit (enough to refuse it, never more)."""
    limit = current_app.config["MAX_DOCUMENT_BYTES"]
    files = [f for f in form.documents.data or [] if f and f.filename]
    return [receiving.Upload(f.filename, f.read(limit + 1)) for f in files]


def _go(response):
    """A redirect that also works for an HTMX form post: the browser goes to the page (the flash shows there)."""
    if not wants_fragment():
        return response
    answer = make_response("", 204)
    answer.headers["HX-Redirect"] = response.location
    return answer
