"""Shipping stock to another store, the open transfers, arrival by scanning what came, and settling what did not
match. Ship and arrival keep their scanned lines in a session draft, like scan-to-move (views/moves.py)."""

from decimal import Decimal
from functools import partial

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from scanapp.extensions import db
from scanapp.forms.transfers import EXTRA_CHOICES, MISSING_CHOICES, ArriveForm, DecisionForm, ResolveForm, ShipForm
from scanapp.htmx import render
from scanapp.models import Item, Lot, Store, Transfer
from scanapp.services import DomainError, access, tags
from scanapp.services.transfers import Decision, arrive, open_transfers, resolve, ship
from scanapp.views import check_store, commit_once, replayed, requires
from scanapp.views.moves import (
    add_line,
    attach_error,
    check_key,
    draft_lines,
    drop_draft,
    empty_draft,
    go,
    lines_ok,
    load_draft,
    merge_edits,
    new_draft_key,
    own_place,
    own_store,
    place_choices,
    resolve_scan,
    save_draft,
    scan_hosts,
    scan_line,
    weight_text,
)

bp = Blueprint("transfers", __name__, url_prefix="/transfers")


@bp.get("/")
def index():
    """Open transfers into and out of the current store."""
    store = own_store()
    transfers = open_transfers(store)
    incoming = [t for t in transfers if t.to_store_id == store.id]
    outgoing = [t for t in transfers if t.from_store_id == store.id]
    return render("transfers/index.html", store=store, incoming=incoming, outgoing=outgoing)


@bp.get("/<int:id>")
def detail(id: int):
    """One transfer: what was shipped, what arrived, what is missing or extra, and what may be done next."""
    transfer = _transfer(id)
    return render("transfers/detail.html", transfer=transfer, **_next_steps(transfer))


# ---------------------------------------------------------------- ship


@bp.get("/ship")
@requires("ship")
def ship_new():
    own_store()
    key = new_draft_key()
    save_draft(key, empty_draft())
    return redirect(url_for(".ship_draft", key=key))


@bp.get("/ship/<key>")
@requires("ship")
def ship_draft(key: str):
    check_key(key)
    return _ship_page(key, load_draft(key), own_store(), ShipForm(formdata=None))


@bp.post("/ship/<key>/scan")
@requires("ship")
def ship_scan(key: str):
    store, draft, form = _ship_posted(key)
    try:
        added = scan_line(draft, resolve_scan(request.form.get("code", "")), store, None)
    except DomainError as error:
        save_draft(key, draft)
        return _ship_page(key, draft, store, form, error=str(error), status=422)
    save_draft(key, draft)
    return _ship_page(key, draft, store, form, added=added)


@bp.post("/ship/<key>/update")
@requires("ship")
def ship_update(key: str):
    store, draft, form = _ship_posted(key, follow_source=True)
    save_draft(key, draft)
    return _ship_page(key, draft, store, form)


@bp.post("/ship/<key>")
@requires("ship")
def ship_confirm(key: str):
    """Send the lines to the chosen store, once."""
    store, draft, form = _ship_posted(key)
    lines = draft_lines(draft, store)
    if form.validate_on_submit() and lines_ok(lines):
        to_store = db.session.get(Store, form.to_store_id.data)
        if to_store is None:
            abort(404)
        send = partial(
            ship,
            reference=form.reference.data,
            carrier=form.carrier.data,
            event_id=form.event_id.data,
            by=current_user,
            store=store,
        )
        try:
            transfer, earlier = commit_once(form.event_id.data, send, [line.move_line for line in lines], to_store)
        except DomainError as error:
            attach_error(form, error)
        else:
            drop_draft(key)
            if earlier is not None:
                return go(replayed(earlier))
            return go(redirect(url_for(".detail", id=transfer.id)))
    save_draft(key, draft)
    return _ship_page(key, draft, store, form, status=422)


def _ship_posted(key: str, *, follow_source: bool = False):
    check_key(key)
    store, draft = own_store(), load_draft(key)
    merge_edits(draft, request.form, store, follow_source=follow_source)
    return store, draft, ShipForm()


def _ship_page(key, draft, store, form, *, added=None, error=None, status=200):
    others = db.session.scalars(select(Store).where(Store.active, Store.id != store.id).order_by(Store.name)).all()
    form.to_store_id.choices = [SelectChoice("", "Choose the store")] + [
        SelectChoice(s.id, f"{s.name} · {s.code}") for s in others
    ]
    lines = draft_lines(draft, store)
    return render(
        "transfers/ship.html",
        "ship_form",
        key=key,
        form=form,
        store=store,
        lines=lines,
        added=added,
        error=error,
        status=status,
    )


# ---------------------------------------------------------------- arrive


@bp.get("/<int:id>/arrive")
@requires("receive")
def arrival(id: int):
    transfer = _incoming(id)
    return _arrive_page(transfer, load_draft(_arrival_key(transfer)), ArriveForm(formdata=None))


@bp.post("/<int:id>/arrive/scan")
@requires("receive")
def arrive_scan(id: int):
    """One scan of what came: an item, or a lot with what is still expected of it as the default."""
    transfer, draft, form = _arrive_posted(id)
    try:
        added = _scan_arrival(draft, transfer, request.form.get("code", ""))
    except DomainError as error:
        save_draft(_arrival_key(transfer), draft)
        return _arrive_page(transfer, draft, form, error=str(error), status=422)
    save_draft(_arrival_key(transfer), draft)
    return _arrive_page(transfer, draft, form, added=added)


@bp.post("/<int:id>/arrive/update")
@requires("receive")
def arrive_update(id: int):
    transfer, draft, form = _arrive_posted(id)
    save_draft(_arrival_key(transfer), draft)
    return _arrive_page(transfer, draft, form)


@bp.post("/<int:id>/arrive")
@requires("receive")
def arrive_confirm(id: int):
    """Book what came into the chosen place, once; the transfer page then shows what is missing or extra."""
    transfer, draft, form = _arrive_posted(id)
    lines = draft_lines(draft, transfer.to_store, sources=False)
    if form.validate_on_submit() and lines_ok(lines):
        place = own_place(form.location_id.data)
        book = partial(arrive, event_id=form.event_id.data, by=current_user, store=transfer.to_store)
        try:
            _, earlier = commit_once(form.event_id.data, book, transfer, [line.move_line for line in lines], place)
        except DomainError as error:
            attach_error(form, error, {"dest": "location_id"})
        else:
            drop_draft(_arrival_key(transfer))
            if earlier is not None:
                return go(replayed(earlier))
            return go(redirect(url_for(".detail", id=transfer.id)))
    save_draft(_arrival_key(transfer), draft)
    return _arrive_page(transfer, draft, form, status=422)


def _incoming(id: int) -> Transfer:
    """A transfer to one of the user's stores; 404 for any other."""
    transfer = db.get_or_404(Transfer, id)
    check_store(transfer.to_store_id)
    return transfer


def _arrival_key(transfer: Transfer) -> str:
    return f"arrive-{transfer.id}"


def _arrive_posted(id: int):
    transfer = _incoming(id)
    draft = load_draft(_arrival_key(transfer))
    merge_edits(draft, request.form, transfer.to_store)
    return transfer, draft, ArriveForm()


def _scan_arrival(draft: dict, transfer: Transfer, raw: str) -> str:
    """Add a scanned item or lot to the arrival. The lots the transfer carries (and their items) are found though
    they still sit in the other store's transit; anything else only when the user may see it. Whatever was not
    shipped becomes an extra line on arrival."""
    tag = tags.find(tags.code_from_scan(raw, scan_hosts()))
    target = (tag.item or tag.lot) if tag is not None else None
    if target is None or _key(target)[0] not in {line.lot_id for line in transfer.lines}:
        found = resolve_scan(raw)
        if found.location is not None:
            raise DomainError(
                f"{found.location.label} is a place: choose where the shipment goes in the list, "
                "and scan the pieces that came."
            )
        target = found.item or found.lot
    if isinstance(target, Item):
        if any(line.get("item") == target.id for line in draft["lines"]):
            raise DomainError(f"Item {target.serial} is on the list already.")
        add_line(draft, item=target.id)
        return f"Item {target.serial}"
    if any(line.get("lot") == target.id for line in draft["lines"]):
        raise DomainError(f"Lot {target.number} is on the list already: change its pieces on its line.")
    expected = [x for x in transfer.lines if x.lot_id == target.id and x.item_id is None and x.is_missing]
    pieces = sum(x.missing_pieces for x in expected)
    weight = sum((x.missing_weight for x in expected), Decimal(0))
    add_line(draft, lot=target.id, p=str(pieces) if expected else "", w=weight_text(weight))
    return f"Lot {target.number}"


def _key(target: Item | Lot) -> tuple[int, int | None]:
    """The (lot, item) of the transfer line a scanned item or lot would match."""
    return (target.lot_id, target.id) if isinstance(target, Item) else (target.id, None)


def _shipped(transfer: Transfer) -> set[tuple[int, int | None]]:
    return {(line.lot_id, line.item_id) for line in transfer.lines if not line.extra}


def _arrive_page(transfer, draft, form, *, added=None, error=None, status=200):
    form.location_id.choices = place_choices(transfer.to_store, "Choose where it goes")
    lines = draft_lines(draft, transfer.to_store, sources=False)
    shipped = _shipped(transfer)
    for line in lines:
        if _key(line.item or line.lot) not in shipped:
            line.note = "Not on this shipment: it will be recorded as extra, for a manager to settle."
    return render(
        "transfers/arrive.html",
        "arrive_form",
        transfer=transfer,
        form=form,
        lines=lines,
        added=added,
        error=error,
        open=transfer.status in ("in_transit", "discrepancy"),
        status=status,
    )


# ---------------------------------------------------------------- resolve


@bp.route("/<int:id>/resolve", methods=["GET", "POST"])
@requires("resolve_transfer")
def settle(id: int):
    """For each missing line: write off (with a reason) or keep waiting; for each extra: book here or send back."""
    transfer = _transfer(id)
    form = ResolveForm()
    decisions = _decision_forms(transfer, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        valid = all([d.validate() for d in decisions.values()])
        chosen = [Decision(line_id, d.action.data, d.reason.data) for line_id, d in decisions.items() if d.action.data]
        if valid and not chosen:
            form.form_errors.append("Choose what to do with at least one line.")
        elif valid:
            store = _acting_store(transfer)
            settle_ = partial(resolve, decisions=chosen, event_id=form.event_id.data, by=current_user, store=store)
            try:
                _, earlier = commit_once(form.event_id.data, settle_, transfer)
            except DomainError as error:
                form.form_errors.append(str(error))
            else:
                if earlier is not None:
                    return go(replayed(earlier))
                return go(redirect(url_for(".detail", id=transfer.id)))
    status = 422 if request.method == "POST" else 200
    return render(
        "transfers/resolve.html", "resolve_form", transfer=transfer, form=form, decisions=decisions, status=status
    )


def _decision_forms(transfer: Transfer, formdata) -> dict[int, DecisionForm]:
    """One decision form per open line: missing lines default to keep waiting."""
    forms = {}
    for line in transfer.missing_lines + transfer.extra_lines:
        form = DecisionForm(formdata, prefix=f"line-{line.id}", data={"action": "wait"} if not line.extra else None)
        form.action.choices = EXTRA_CHOICES if line.extra else MISSING_CHOICES
        forms[line.id] = form
    return forms


def _acting_store(transfer: Transfer) -> Store:
    """The store the user settles the transfer for: their current one when it is part of the transfer."""
    ids = current_user.store_ids
    current = own_store()
    if current.id in (transfer.from_store_id, transfer.to_store_id):
        return current
    return transfer.to_store if transfer.to_store_id in ids else transfer.from_store


# ---------------------------------------------------------------- shared


def _transfer(id: int) -> Transfer:
    """A transfer from or to one of the user's stores; 404 for any other."""
    transfer = db.get_or_404(Transfer, id)
    if not {transfer.from_store_id, transfer.to_store_id} & current_user.store_ids:
        abort(404)
    return transfer


def _next_steps(transfer: Transfer) -> dict:
    ids = current_user.store_ids
    return {
        "can_arrive": transfer.status in ("in_transit", "discrepancy")
        and transfer.to_store_id in ids
        and access.can(current_user, "receive"),
        "can_resolve": transfer.status == "discrepancy" and access.can(current_user, "resolve_transfer"),
    }
