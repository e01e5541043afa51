"""Recording a sale by scanning: the item (or a lot with pieces, weight and the place it comes from), the price
and the receipt number; then what sold, and the lot's margin for those who may see cost."""

from functools import partial

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from scanapp.extensions import db
from scanapp.forms.sales import SaleForm
from scanapp.htmx import render
from scanapp.models import Item, Lot, Movement, Store
from scanapp.services import DomainError, access, history
from scanapp.services.movements import MoveLine, lines_for_scan
from scanapp.services.sales import margin_of, sell
from scanapp.views import check_store, commit_once, own_store, replayed, requires
from scanapp.views.moves import attach_error, go, lot_sources, own_place, resolve_scan

bp = Blueprint("sales", __name__, url_prefix="/sales")


@bp.route("/new", methods=["GET", "POST"])
@requires("sell")
def new():
    """The sale form (?code= a first scan, from the lookup page); posting it records the sale once."""
    store = own_store()
    if request.method == "GET":
        form, added, error = SaleForm(formdata=None), None, None
        if code := request.args.get("code", "")[:200]:
            try:
                added = _take_scan(form, code, store)
            except DomainError as exc:
                error = str(exc)
        return _sale_page(form, store, added=added, error=error)
    form = SaleForm()
    if form.validate_on_submit():
        record = partial(
            sell,
            price=form.price.data,
            receipt=form.receipt.data,
            event_id=form.event_id.data,
            by=current_user,
            store=store,
        )
        try:
            sold, earlier = commit_once(form.event_id.data, record, [_line(form)])
        except DomainError as error:
            attach_error(form, error)
        else:
            if earlier is not None:
                return go(replayed(earlier))
            return go(redirect(url_for(".detail", id=sold[0].id)))
    return _sale_page(form, store, status=422)


@bp.post("/new/scan")
@requires("sell")
def scan():
    """A scanned item or lot becomes the line being sold; the price and receipt typed so far stay."""
    store, form = own_store(), SaleForm()
    try:
        added = _take_scan(form, request.form.get("code", ""), store)
    except DomainError as error:
        return _sale_page(form, store, error=str(error), status=422)
    return _sale_page(form, store, added=added)


@bp.get("/<int:id>")
def detail(id: int):
    """A sale (every line of its event), with each lot's margin so far for roles that may see cost."""
    movement = db.get_or_404(Movement, id)
    check_store(movement.store_id)
    if movement.kind != "sell":
        return redirect(url_for("lots.detail", id=movement.lot_id))
    sold = [m for m in movement.event.movements if m.kind == "sell"]
    lots = list(dict.fromkeys(m.lot for m in sold))
    margins = [(lot, margin_of(lot)) for lot in lots] if access.can(current_user, "see_cost") else []
    return render("sales/detail.html", event=movement.event, sold=sold, margins=margins)


def _take_scan(form: SaleForm, raw: str, store: Store) -> str:
    """Put what a scan names into the form: an item, or a lot from the place holding most of it, one piece."""
    found = resolve_scan(raw)
    if found.location is not None:
        raise DomainError(f"{found.location.label} is a place: scan the item or the lot being sold.")
    line = lines_for_scan(found.item or found.lot, store)
    form.item_id.data = line.item.id if line.item else None
    form.lot_id.data = None if line.item else line.lot.id
    form.source_id.data = None if line.item else line.source.id
    form.pieces.data, form.weight.data = (None, None) if line.item else (1, None)
    form.pieces.raw_data = form.weight.raw_data = []
    return line.subject


def _subject(form: SaleForm) -> tuple[Item | None, Lot | None]:
    """The item or lot the form names; 404 for one the user may not see (a forged id)."""
    item = history.item_for(current_user, form.item_id.data) if form.item_id.data else None
    lot = history.lot_for(current_user, form.lot_id.data) if form.lot_id.data and not form.item_id.data else None
    if (form.item_id.data and item is None) or (lot is None and form.lot_id.data and not form.item_id.data):
        abort(404)
    return item, lot


def _line(form: SaleForm) -> MoveLine:
    item, lot = _subject(form)
    if item is not None:
        return MoveLine(item=item)
    if lot is not None:
        source = own_place(form.source_id.data)
        return MoveLine(lot=lot, source=source, pieces=form.pieces.data or 0, weight=form.weight.data or 0)
    raise DomainError("Scan the item or the lot being sold.", field="lines")


def _sale_page(form, store, *, added=None, error=None, status=200):
    item, lot = _subject(form)
    sources = lot_sources(lot, store) if lot is not None else []
    form.source_id.choices = [(s.place.id, f"{s.place.name} · {s.place.code} ({s.pieces} pcs)") for s in sources]
    return render(
        "sales/new.html", "sale_form", form=form, item=item, lot=lot, sources=sources, added=added, error=error,
        status=status,
    )  # fmt: skip
