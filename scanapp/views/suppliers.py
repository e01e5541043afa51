"""Suppliers: everyone may look; vault staff and managers add, edit and deactivate them."""

from functools import partial
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from scanapp.extensions import db
from scanapp.forms.suppliers import SupplierForm, SupplierStateForm
from scanapp.htmx import render
from scanapp.models import Supplier
from scanapp.services import DomainError, suppliers
from scanapp.views import commit_once, replayed, requires
from scanapp.web import current_store

bp = Blueprint("suppliers", __name__, url_prefix="/suppliers")


@bp.get("/")
@requires("look_up")
def index():
    query = request.args.get("q", "")[:60]
    found = suppliers.find_suppliers(query)
    return render("suppliers/index.html", "supplier_list", suppliers=found, q=query)


@bp.get("/<int:id>")
@requires("look_up")
def detail(id: int):
    supplier = db.get_or_404(Supplier, id)
    lots = suppliers.supplier_lots(supplier, current_user)
    return render("suppliers/detail.html", supplier=supplier, lots=lots, state_form=SupplierStateForm())


@bp.route("/new", methods=["GET", "POST"])
@requires("manage_suppliers")
def new():
    form = SupplierForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            supplier, earlier = commit_once(
                form.event_id.data, _acting(suppliers.create_supplier, form), **form.details()
            )
        except DomainError as error:
            _show(form, error)
        else:
            if earlier is not None:
                return replayed(earlier)
            flash(f"Supplier {supplier.code} · {supplier.name} added.", "success")
            back = _local(form.next.data)
            return redirect(_with_supplier(back, supplier.id) if back else url_for(".detail", id=supplier.id))
    cancel = _local(form.next.data) or url_for(".index")
    status = 422 if form.errors else 200
    return render("suppliers/form.html", "supplier_form", form=form, supplier=None, cancel=cancel, status=status)


@bp.route("/<int:id>/edit", methods=["GET", "POST"])
@requires("manage_suppliers")
def edit(id: int):
    supplier = db.get_or_404(Supplier, id)
    form = SupplierForm(obj=supplier)
    if form.validate_on_submit():
        try:
            update = _acting(suppliers.update_supplier, form)
            _, earlier = commit_once(form.event_id.data, update, supplier, **form.details())
        except DomainError as error:
            _show(form, error)
        else:
            if earlier is not None:
                return replayed(earlier)
            flash(f"Supplier {supplier.code} saved.", "success")
            return redirect(url_for(".detail", id=supplier.id))
    cancel = url_for(".detail", id=supplier.id)
    status = 422 if form.errors else 200
    return render("suppliers/form.html", "supplier_form", form=form, supplier=supplier, cancel=cancel, status=status)


@bp.post("/<int:id>/deactivate")
@requires("manage_suppliers")
def deactivate(id: int):
    return _set_state(id, suppliers.deactivate_supplier, "deactivated: it is no longer offered when receiving")


@bp.post("/<int:id>/reactivate")
@requires("manage_suppliers")
def reactivate(id: int):
    return _set_state(id, suppliers.reactivate_supplier, "is active again")


def _set_state(id: int, operation, done: str):
    supplier = db.get_or_404(Supplier, id)
    form = SupplierStateForm()
    if not form.validate_on_submit():
        flash("That form was incomplete; try again.", "error")
        return redirect(url_for(".detail", id=id))
    try:
        _, earlier = commit_once(form.event_id.data, _acting(operation, form), supplier)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for(".detail", id=id))
    if earlier is not None:
        return replayed(earlier)
    flash(f"Supplier {supplier.code} {done}.", "success")
    return redirect(url_for(".detail", id=id))


def _acting(operation, form):
    """`operation` with the request's event id, the signed-in user and their current store filled in."""
    return partial(operation, event_id=form.event_id.data, by=current_user, store=current_store())


def _show(form, error: DomainError) -> None:
    """Put a service's refusal on the field it is about, or above the form."""
    target = form._fields.get(error.field or "")
    (target.errors if target is not None else form.form_errors).append(str(error))


def _local(target: str | None) -> str | None:
    """`target` when it is a path of this site, never another site (no scheme, host, `//` or backslash)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target


def _with_supplier(path: str, supplier_id: int) -> str:
    """`path` with ?supplier_id= set, so the page that sent us here selects the new supplier."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "supplier_id"] + [("supplier_id", str(supplier_id))]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))
