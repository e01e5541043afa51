"""The bench: my open jobs, a new job, a job page where the jeweler scans the stones and metal used, status
changes, finishing a custom piece, collecting, and taking a piece made here apart."""

from datetime import date
from decimal import Decimal
from functools import partial

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from scanapp.extensions import db
from scanapp.forms.bench import (
    CollectForm,
    EventForm,
    FinishForm,
    JobForm,
    PieceForm,
    StatusForm,
    TakeApartForm,
    UseForm,
)
from scanapp.htmx import render
from scanapp.models import Event, Location, Lot, Movement, Store, WorkOrder
from scanapp.models.bench import ACTIVE_STATUSES
from scanapp.services import DomainError, bench, history, scanning, stores
from scanapp.services.events import parse_event_id
from scanapp.services.movements import MoveLine
from scanapp.views import check_store, commit_once, own_store, replayed, requires

bp = Blueprint("bench", __name__, url_prefix="/bench")
ZERO = Decimal(0)
REPLAYED = "Already recorded: that was sent twice and applied once."
WORK = ["work", "job_head", "status_card"]  # after a line is logged or undone; the first line starts the job

# The lot and item pages show what a piece was made from and where a lot went (templates/bench/_trace.html).
bp.add_app_template_global(bench.made_from, "bench_made_from")
bp.add_app_template_global(bench.used_in, "bench_used_in")
bp.add_app_template_global(bench.maker_of, "bench_maker_of")


@bp.get("/")
def index():
    """My open jobs, then the store's other open jobs and those ready to collect."""
    store = own_store()
    others = [wo for wo in bench.jobs(store, ACTIVE_STATUSES) if wo.jeweler_id != current_user.id]
    return render(
        "bench/index.html",
        store=store,
        mine=bench.jobs(store, ACTIVE_STATUSES, jeweler=current_user),
        others=others,
        ready=bench.jobs(store, ("done",)),
        names=bench.STATUS_NAMES,
        today=date.today(),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("bench")
def new():
    """Open a repair or a custom job; a store piece scanned into the form moves to the bench."""
    store = own_store()
    form = _job_form(store)
    if request.method == "GET":
        form.jeweler_id.data = current_user.id if current_user in bench.jewelers(store) else None
    elif form.validate_on_submit():
        try:
            job = _new_job(form, store)
            open_job = partial(bench.open_work_order, event_id=form.event_id.data, by=current_user, store=store)
            wo, earlier = commit_once(form.event_id.data, open_job, job)
        except DomainError as error:
            _attach(form, error)
        else:
            if earlier is not None:
                return replayed(earlier)
            flash(f"Opened job {wo.code}.", "success")
            return redirect(url_for("bench.detail", id=wo.id))
    return render("bench/new.html", form=form, store=store, status=422 if form.errors or form.form_errors else 200)


@bp.get("/<int:id>")
def detail(id: int):
    """The job page: what it is, the scanner, what it used with totals, status, finish or collect."""
    return _page(_job(id))


@bp.post("/<int:id>/scan")
@requires("bench")
def scan(id: int):
    """The scanner's answer on the job page: the form to log how much of the scanned lot (or which item) was used."""
    wo = _job(id)
    try:
        panel = bench.use_panel(_resolve(request.form.get("code", "")), wo)
    except scanning.UnknownCode as error:
        return _page(wo, "scan_result", status=404, message=str(error))
    except DomainError as error:
        return _page(wo, "scan_result", status=422, message=str(error))
    return _page(wo, "scan_result", panel=panel, use_form=_use_form(panel))


@bp.post("/<int:id>/use")
@requires("bench")
def use(id: int):
    """Log a material used: a consume movement into production; answers with the job's work area."""
    wo = _job(id)
    form, panel = UseForm(), None
    if _applied(form.event_id.data):  # a double tap on the last of a lot must not read as "nothing left"
        return _page(wo, WORK, notice=REPLAYED, oob=True)
    try:
        panel = bench.use_panel(_resolve(form.code.data or ""), wo)
        if form.validate_on_submit():
            used = partial(bench.use_material, wo, event_id=form.event_id.data, by=current_user, store=wo.store)
            movement, earlier = commit_once(form.event_id.data, used, _line(panel, form))
            notice = REPLAYED if earlier else f"Used {_qty(movement)} of lot {movement.lot.number}."
            return _page(wo, WORK, notice=notice, oob=True)
    except DomainError as error:
        _attach(form, error)
    if panel is None:
        return _page(wo, "work", status=422, message=" ".join(form.form_errors))
    return _page(wo, "work", status=422, panel=panel, use_form=_use_form(panel, form))


@bp.post("/<int:id>/lines/<int:movement_id>/undo")
@requires("bench")
def undo(id: int, movement_id: int):
    """Undo a line logged by mistake (reversed in the ledger, never edited)."""
    wo = _job(id)
    movement = db.get_or_404(Movement, movement_id)
    check_store(movement.store_id)  # another store's line is not even confirmed to exist
    form = EventForm()
    try:
        undo_line = partial(bench.undo_material, wo, event_id=form.event_id.data, by=current_user, store=wo.store)
        back, earlier = commit_once(form.event_id.data, undo_line, movement)
    except DomainError as error:
        return _page(wo, "work", status=422, message=str(error))
    notice = REPLAYED if earlier else f"Undone: {_qty(back)} of lot {back.lot.number} back in {back.to_location.name}."
    return _page(wo, WORK, notice=notice, oob=True)


@bp.post("/<int:id>/piece")
@requires("bench")
def piece(id: int):
    """The scanned item is the store's piece this job works on: it moves to the bench."""
    wo = _job(id)
    form = PieceForm()
    try:
        found = _resolve(form.code.data or "")
        if found.item is None:
            raise DomainError("Scan the tag of the piece itself.")
        bring = partial(bench.bring_piece, wo, event_id=form.event_id.data, by=current_user, store=wo.store)
        _, earlier = commit_once(form.event_id.data, bring, found.item)
    except DomainError as error:
        return _page(wo, status=422, error=str(error))
    return _done(earlier, f"{found.item.serial} is the piece of job {wo.code}, at {wo.bench_location.name}.", wo)


@bp.post("/<int:id>/status")
@requires("bench")
def status(id: int):
    """Move the job to another status."""
    wo = _job(id)
    form = StatusForm()
    try:
        change = partial(bench.set_status, wo, event_id=form.event_id.data, by=current_user, store=wo.store)
        _, earlier = commit_once(form.event_id.data, change, form.status.data or "")
    except DomainError as error:
        return _page(wo, status=422, error=str(error))
    return _done(earlier, f"Job {wo.code} is {bench.STATUS_NAMES[wo.status].lower()}.", wo)


@bp.post("/<int:id>/finish")
@requires("bench")
def finish(id: int):
    """Make the custom job's piece from what it used."""
    wo = _job(id)
    form = _finish_form(wo, posted=True)
    if form.validate_on_submit():
        try:
            product = _product(form, wo.store)
            make = partial(bench.finish_custom_job, wo, event_id=form.event_id.data, by=current_user, store=wo.store)
            item, earlier = commit_once(form.event_id.data, make, product)
        except DomainError as error:
            _attach(form, error)
        else:
            return _done(earlier, f"Made {item.serial} in lot {item.lot.number}.", wo)
    return _page(wo, status=422, finish_form=form)


@bp.post("/<int:id>/collect")
@requires("bench")
def collect(id: int):
    """Close a done job as collected; a store piece goes back to the place chosen."""
    wo = _job(id)
    form = _collect_form(wo, posted=True)
    try:
        dest = _place(form.location_id.data)
        close = partial(bench.collect, wo, event_id=form.event_id.data, by=current_user, store=wo.store)
        _, earlier = commit_once(form.event_id.data, close, dest)
    except DomainError as error:
        _attach(form, error)
        return _page(wo, status=422, collect_form=form)
    return _done(earlier, f"Job {wo.code} was collected.", wo)


@bp.route("/items/<int:item_id>/take-apart", methods=["GET", "POST"])
@requires("bench")
def take_apart(item_id: int):
    """Take a piece made at the bench apart: the components ticked go back into their own lots."""
    piece = history.item_for(current_user, item_id) or abort(404)
    check_store(piece.location.store_id)
    store = piece.location.store
    rows = bench.made_from(piece)
    form = TakeApartForm()
    form.location_id.choices = _places(store)
    if request.method == "GET":
        form.components.data = [r.component.id for r in rows if not r.returned and r.lot.category != "metal"]
    elif form.validate_on_submit():
        try:
            dest = _place(form.location_id.data)
            if dest is None:
                raise DomainError("Choose where they go.", field="location_id")
            apart = partial(bench.disassemble, piece, event_id=form.event_id.data, by=current_user, store=store)
            _, earlier = commit_once(form.event_id.data, apart, form.components.data or [], dest)
        except DomainError as error:
            _attach(form, error)
        else:
            if earlier is not None:
                return replayed(earlier)
            flash(f"{piece.serial} was taken apart; its components are back in their lots.", "success")
            return redirect(url_for("items.detail", id=piece.id))
    status = 422 if form.errors or form.form_errors else 200
    return render("bench/take_apart.html", piece=piece, rows=rows, form=form, status=status)


# ---------------------------------------------------------------- helpers


def _place(location_id: int | None) -> Location | None:
    """The chosen place, None when none is; DomainError when it does not exist or is of a store the user is not
    in (whose places are not even confirmed to exist)."""
    if not location_id:
        return None
    place = db.session.get(Location, location_id)
    if place is None or place.store_id not in current_user.store_ids:
        raise DomainError("That place does not exist; choose one from the list.", field="location_id")
    return place


def _job(id: int) -> WorkOrder:
    wo = db.get_or_404(WorkOrder, id)
    check_store(wo.store_id)
    return wo


def _page(wo: WorkOrder, block: str | list[str] | None = None, *, status: int = 200, **overrides):
    """The job page (or one block of it) with everything it shows; `overrides` replace the defaults."""
    lines = bench.lines_of(wo)
    context = {
        "wo": wo,
        "lines": lines,
        "totals": bench.totals(lines),
        "panel": None,
        "use_form": None,
        "message": "",
        "notice": "",
        "error": "",
        "oob": False,
        "names": bench.STATUS_NAMES,
        "kinds": bench.KIND_NAMES,
        "statuses": [s for s in ACTIVE_STATUSES + ("done",) if s != "done" or wo.kind == "repair"],
    }
    context.update(overrides)
    if block is None:
        context.setdefault("finish_form", _finish_form(wo) if wo.kind == "custom" and wo.active else None)
        context.setdefault("collect_form", _collect_form(wo) if wo.status == "done" else None)
    return render("bench/detail.html", block, status=status, **context)


def _done(earlier, message: str, wo: WorkOrder):
    """After a plain form post: say what happened (or that it was a replay) on the job page."""
    if earlier is not None:
        return replayed(earlier)
    flash(message, "success")
    return redirect(url_for("bench.detail", id=wo.id))


def _attach(form, error: DomainError) -> None:
    target = form._fields.get(error.field or "")
    if target is None:
        form.form_errors.append(str(error))
    else:  # a form that was not validated holds its errors in a tuple
        target.errors = [*target.errors, str(error)]


def _applied(event_id: str | None) -> bool:
    """Was a request with this event id applied already?"""
    try:
        return db.session.get(Event, parse_event_id(event_id)) is not None
    except DomainError:
        return False


def _resolve(code: str) -> scanning.Found:
    hosts = scanning.tag_hosts(current_app.config["TAG_HOST"], request.host)
    return scanning.resolve(code, by=current_user, hosts=hosts)


def _places(store: Store) -> list[SelectChoice]:
    return [SelectChoice("", "Choose a place…")] + [
        SelectChoice(loc.id, f"{loc.name} · {loc.code}") for loc in stores.physical_locations(store)
    ]


def _use_form(panel: bench.UsePanel, form: UseForm | None = None) -> UseForm:
    """The form for one scanned lot or item: where from (the default picked), and the unit in the weight label."""
    if form is None:
        form = UseForm(formdata=None)
        form.location_id.data = panel.default.id
    unit = panel.lot.weight_unit
    form.location_id.choices = [
        SelectChoice(s.location.id, f"{s.location.name} · {_amount(s.pieces, s.weight, unit)}") for s in panel.sources
    ]
    form.weight.label.text = f"Weight ({unit})" if unit else "Weight"
    return form


def _line(panel: bench.UsePanel, form: UseForm) -> MoveLine:
    """The line the form asks for: the scanned item, or pieces and weight of the lot from a listed place."""
    if panel.item is not None:
        return MoveLine(item=panel.item)
    source = next((s.location for s in panel.sources if s.location.id == form.location_id.data), None)
    if source is None:
        raise DomainError("Choose one of the places listed.", field="location_id")
    return MoveLine(lot=panel.lot, source=source, pieces=form.pieces.data or 0, weight=form.weight.data or ZERO)


def _amount(pieces: int, weight: Decimal, unit: str | None) -> str:
    parts = [f"{pieces} pcs"] if pieces or not unit else []
    return " · ".join(parts + ([f"{weight} {unit}"] if unit else []))


def _qty(m: Movement) -> str:
    return _amount(m.pieces, m.weight, m.lot.weight_unit)


def _job_form(store: Store) -> JobForm:
    form = JobForm()
    form.jeweler_id.choices = [SelectChoice("", "Nobody yet")] + [
        SelectChoice(u.id, u.name) for u in bench.jewelers(store)
    ]
    form.bench_location_id.choices = [SelectChoice(b.id, f"{b.name} · {b.code}") for b in bench.benches(store)]
    return form


def _new_job(form: JobForm, store: Store) -> bench.NewJob:
    """What the form describes, with its bench, jeweler and scanned piece loaded."""
    place = db.session.get(Location, form.bench_location_id.data)
    if place is None:
        raise DomainError(f"Choose a bench of {store.name}.", field="bench_location_id")
    jeweler = None
    if form.jeweler_id.data:
        jeweler = next((u for u in bench.jewelers(store) if u.id == form.jeweler_id.data), None)
        if jeweler is None:  # someone of another store is not even confirmed to exist
            raise DomainError(f"Choose a jeweler of {store.name} from the list.", field="jeweler_id")
    item = None
    if form.piece_code.data:
        found = _resolve(form.piece_code.data)
        if found.item is None:
            raise DomainError("Scan the tag of the piece itself (an item), or describe the customer's piece.")
        item = found.item
    return bench.NewJob(
        kind=form.kind.data,
        description=form.description.data,
        bench=place,
        customer_reference=form.customer_reference.data,
        promised_on=form.promised_on.data,
        item=item,
        customer_piece=form.customer_piece.data,
        jeweler=jeweler,
        labour_cost=form.labour_cost.data or ZERO,
    )


def _finish_form(wo: WorkOrder, posted: bool = False) -> FinishForm:
    """The finish form, blank (labour and description from the job) or as posted."""
    form = FinishForm() if posted else FinishForm(formdata=None)
    form.lot_id.choices = [SelectChoice("", "A new lot (made in house)")] + [
        SelectChoice(lot.id, f"{lot.number} · {lot.description}") for lot in bench.finished_lots(wo.store)
    ]
    form.location_id.choices = _places(wo.store)
    if not posted:
        form.labour_cost.data = wo.labour_cost
        form.description.data = wo.description[:200]
    return form


def _product(form: FinishForm, store: Store) -> bench.Product:
    dest = _place(form.location_id.data)
    if dest is None:
        raise DomainError("Choose where the piece goes.", field="location_id")
    lot = db.session.get(Lot, form.lot_id.data) if form.lot_id.data else None
    if form.lot_id.data and lot is None:
        raise DomainError("That lot does not exist; choose one from the list.", field="lot_id")
    return bench.Product(
        dest=dest,
        labour_cost=form.labour_cost.data,
        lot=lot,
        serial=form.serial.data,
        description=form.description.data,
        weight=form.weight.data or ZERO,
    )


def _collect_form(wo: WorkOrder, posted: bool = False) -> CollectForm:
    form = CollectForm() if posted else CollectForm(formdata=None)
    form.location_id.choices = _places(wo.store)
    return form
