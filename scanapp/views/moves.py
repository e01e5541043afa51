"""Moving stock: scan-to-move, moving everything at a place, and undoing the last move.

A scan-to-move page keeps its scanned lines in a draft in the session (`session["move_drafts"][key]`, the key in
the page's URL), so that each scan is one request and a reload keeps the lines. The draft helpers here serve the
ship and arrival pages too (views/transfers.py) and the sale page reuses the scan and place helpers.
"""

import copy
import re
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from scanapp.extensions import db
from scanapp.forms import id_or_none
from scanapp.forms.moves import LineForm, LocationMoveForm, MoveForm
from scanapp.htmx import render, wants_fragment
from scanapp.models import PHYSICAL_KINDS, Balance, Event, Item, Location, Lot, Movement, Store
from scanapp.services import DomainError, scanning, stores
from scanapp.services.events import parse_event_id
from scanapp.services.movements import (
    MoveLine,
    check_destination,
    contents_of,
    lines_for_scan,
    loose_at,
    move_location_contents,
    move_stock,
    undo_last_move,
)
from scanapp.views import check_store, commit_once, own_store, replayed, requires

bp = Blueprint("moves", __name__, url_prefix="/moves")

DRAFTS = "move_drafts"
MAX_DRAFTS = 3  # the session is a cookie: keep it small
MAX_LINES = 30
DRAFT_KEY = re.compile(r"^[0-9a-f]{12}$")


# ---------------------------------------------------------------- helpers shared with transfers and sales


def go(response):
    """A redirect that also works for an HTMX post: the browser goes to the page (a flash shows there)."""
    if not wants_fragment():
        return response
    answer = make_response("", 204)
    answer.headers["HX-Redirect"] = response.location
    return answer


def place_choices(store: Store, prompt: str) -> list[SelectChoice]:
    """The store's active safes, vaults, showcases, benches and back rooms, after a prompt."""
    return [SelectChoice("", prompt)] + [
        SelectChoice(place.id, f"{place.name} · {place.code}") for place in stores.physical_locations(store)
    ]


def own_place(location_id: int | None) -> Location | None:
    """The chosen location, None when nothing is chosen; 404 for one of a store the user is not in."""
    if location_id is None:
        return None
    place = db.session.get(Location, location_id)
    if place is None:
        abort(404)
    check_store(place.store_id)
    return place


def scan_hosts() -> set[str]:
    """The host names a scanned tag URL may carry."""
    return scanning.tag_hosts(current_app.config["TAG_HOST"], request.host)


def resolve_scan(raw: str) -> scanning.Found:
    """What a scanned or typed code stands for, among what the user may see."""
    return scanning.resolve(raw, by=current_user, hosts=scan_hosts())


def attach_error(form, error: DomainError, fields: dict | None = None) -> None:
    """Show a service's message at its field when the form has one (`fields` maps a service's field name to the
    form's), else above the form."""
    name = (fields or {}).get(error.field, f"{error.field}_id" if error.field else "")
    target = form._fields.get(name)
    target = form._fields.get(error.field or "") if target is None else target
    (target.errors if target is not None else form.form_errors).append(str(error))


@dataclass(frozen=True)
class Source:
    """A place holding loose stock of a lot (pieces that are not items tracked on their own)."""

    place: Location
    pieces: int
    weight: Decimal


def lot_sources(lot: Lot, store: Store) -> list[Source]:
    """The places of `store` holding loose stock of `lot`, most first."""
    places = db.session.scalars(
        select(Location)
        .join(Balance, Balance.location_id == Location.id)
        .where(
            Balance.lot_id == lot.id,
            Location.store_id == store.id,
            Location.kind.in_(PHYSICAL_KINDS),
            (Balance.pieces > 0) | (Balance.weight > 0),
        )
        .order_by(Location.code)
    ).all()
    found = [Source(place, *loose_at(lot, place)) for place in places]
    return sorted((s for s in found if s.pieces > 0 or s.weight > 0), key=lambda s: (-s.pieces, -s.weight))


# ---------------------------------------------------------------- drafts of scanned lines


def new_draft_key() -> str:
    return secrets.token_hex(6)


def check_key(key: str) -> None:
    """404 for anything in a draft's place in a URL that is not a draft key."""
    if not DRAFT_KEY.match(key):
        abort(404)


def empty_draft() -> dict:
    """No destination yet, no lines; `next` is the key the next line gets (keys are never reused)."""
    return {"dest": None, "lines": [], "next": 1}


def load_draft(key: str) -> dict:
    """The draft `key` of this session: its destination and lines; an empty one when new or expired."""
    draft = session.get(DRAFTS, {}).get(key)
    return copy.deepcopy(draft) if draft else empty_draft()


def save_draft(key: str, draft: dict) -> None:
    """Keep the draft; only the most recently used few are kept."""
    drafts = {k: v for k, v in session.get(DRAFTS, {}).items() if k != key}
    drafts[key] = {**draft, "t": int(time.time())}
    for old in sorted(drafts, key=lambda k: drafts[k].get("t", 0))[:-MAX_DRAFTS]:
        del drafts[old]
    session[DRAFTS] = drafts


def drop_draft(key: str) -> None:
    session[DRAFTS] = {k: v for k, v in session.get(DRAFTS, {}).items() if k != key}


def add_line(draft: dict, **line) -> None:
    """Append a line (an item, or a lot with raw pieces and weight and maybe a source) under a fresh key."""
    if len(draft["lines"]) >= MAX_LINES:
        raise DomainError(f"At most {MAX_LINES} lines at once: confirm these first, then scan the rest.")
    draft["lines"].append({"k": draft["next"], **line})
    draft["next"] += 1


def weight_text(weight: Decimal) -> str:
    """A weight as the line's input shows it: empty for none."""
    return str(weight) if weight else ""


def merge_edits(draft: dict, form: MultiDict, store: Store, *, follow_source: bool = False) -> None:
    """Take what the person typed or chose on the page into the draft: each lot line's pieces, weight and source,
    and a line to remove. With `follow_source`, a line whose source changed takes all that is loose there."""
    for line in draft["lines"]:
        if "lot" not in line:
            continue
        prefix = f"line-{line['k']}-"
        for field, key in (("pieces", "p"), ("weight", "w")):
            if prefix + field in form:
                text = form[prefix + field].strip()[:12]
                line[key] = text if text.isascii() else "?"  # kept short and plain: the session is a cookie
        source = id_or_none(form.get(prefix + "source_id"))
        if source is not None and source != line.get("src"):
            place = db.session.get(Location, source)
            if place is None or place.store_id != store.id or not place.is_physical:
                abort(404)
            line["src"] = source
            if follow_source:
                pieces, weight = loose_at(db.session.get(Lot, line["lot"]), place)
                line["p"], line["w"] = str(pieces), weight_text(weight)
    drop = id_or_none(form.get("drop_line"))
    draft["lines"] = [line for line in draft["lines"] if line["k"] != drop]


@dataclass
class DraftLine:
    """One line of a draft as the page shows it: what it is, where from, and its quantity form (lots)."""

    key: int
    lot: Lot
    item: Item | None = None
    source: Location | None = None
    form: LineForm | None = None
    note: str = ""

    @property
    def move_line(self) -> MoveLine:
        if self.item is not None:
            return MoveLine(item=self.item)
        return MoveLine(
            lot=self.lot, source=self.source, pieces=self.form.pieces.data or 0, weight=self.form.weight.data or 0
        )


def draft_lines(draft: dict, store: Store, *, sources: bool = True) -> list[DraftLine]:
    """The draft's lines with their lots, items and places, each lot line's quantities checked as typed."""
    lines = []
    for raw in draft["lines"]:
        if "item" in raw:
            item = db.session.get(Item, raw["item"])
            if item is None:  # a draft older than the database it was made on
                continue
            lines.append(DraftLine(raw["k"], item.lot, item=item, source=item.location if sources else None))
            continue
        lot = db.session.get(Lot, raw["lot"])
        if lot is None:
            continue
        source = db.session.get(Location, raw["src"]) if raw.get("src") else None
        data = MultiDict({"pieces": raw.get("p", ""), "weight": raw.get("w", ""), "source_id": raw.get("src", "")})
        form = LineForm(MultiDict({f"line-{raw['k']}-{k}": v for k, v in data.items()}), prefix=f"line-{raw['k']}")
        if lot.weight_unit:
            form.weight.label.text = f"Weight ({lot.weight_unit})"
        form.source_id.choices = []
        if sources:
            places = [s.place for s in lot_sources(lot, store)]
            places += [source] if source is not None and source not in places else []
            form.source_id.choices = [SelectChoice(p.id, f"{p.name} · {p.code}") for p in places]
        form.validate()
        lines.append(DraftLine(raw["k"], lot, source=source, form=form))
    return lines


def scan_line(draft: dict, found: scanning.Found, store: Store, dest: Location | None) -> str:
    """Add the lot or item a scan found as a line taken from where it is in `store` (a lot: from the place that
    holds most of it and is not `dest`, all that is loose there). Returns what was added."""
    if found.location is not None:
        raise DomainError(f"{found.location.label} is a place, not a piece: scan the lots and items themselves.")
    line = lines_for_scan(found.item or found.lot, store)
    if line.item is not None:
        if any(raw.get("item") == line.item.id for raw in draft["lines"]):
            raise DomainError(f"Item {line.item.serial} is on the list already.")
        if dest is not None and line.item.location_id == dest.id:
            raise DomainError(f"Item {line.item.serial} is already in {dest.label}.")
        add_line(draft, item=line.item.id)
        return f"Item {line.item.serial}"
    lot = line.lot
    listed = {raw.get("src") for raw in draft["lines"] if raw.get("lot") == lot.id}
    sources = lot_sources(lot, store)
    sources.sort(key=lambda s: s.place.id != line.source.id)  # lines_for_scan's choice first
    free = [s for s in sources if s.place.id not in listed and (dest is None or s.place.id != dest.id)]
    if not free:
        where = f"already in {dest.label}" if dest is not None and not listed else "on the list already"
        raise DomainError(f"Lot {lot.number} is {where}: change its pieces on its line.")
    source = free[0]
    add_line(draft, lot=lot.id, src=source.place.id, p=str(source.pieces), w=weight_text(source.weight))
    return f"Lot {lot.number}"


def lines_ok(lines: list[DraftLine]) -> bool:
    """True when every lot line's quantities are well formed."""
    return all(line.form is None or not line.form.errors for line in lines)


# ---------------------------------------------------------------- scan-to-move


@bp.get("/new")
@requires("move")
def new():
    """Start a move in a fresh draft (?dest= a place, ?code= a first scan, from the lookup page)."""
    store, key, draft = own_store(), new_draft_key(), empty_draft()
    dest = own_place(id_or_none(request.args.get("dest")))
    if dest is not None and dest.store_id == store.id and dest.is_physical:
        draft["dest"] = dest.id
    if code := request.args.get("code", "")[:200]:
        try:
            scan_line(draft, resolve_scan(code), store, dest)
        except DomainError as error:
            flash(str(error), "error")
    save_draft(key, draft)
    return redirect(url_for(".draft", key=key))


@bp.get("/new/<key>")
@requires("move")
def draft(key: str):
    check_key(key)
    return _move_page(key, load_draft(key), own_store(), MoveForm(formdata=None))


@bp.post("/new/<key>/scan")
@requires("move")
def scan(key: str):
    """One scan: a place sets where the lines go (the first time), a lot or an item adds a line at once."""
    store, draft, form = _posted(key)
    dest = db.session.get(Location, draft["dest"]) if draft["dest"] else None
    try:
        found = resolve_scan(request.form.get("code", ""))
        if found.location is not None and dest is None:
            check_destination(found.location, store)
            draft["dest"] = found.location.id
            added = f"Going to {found.location.name}"
        else:
            if found.location is not None:
                raise DomainError(
                    f"{found.location.label} is a place: scan the lots and items to move "
                    f"(they go to {dest.name}; choose another place in the list to change that)."
                )
            added = scan_line(draft, found, store, dest)
    except DomainError as error:
        save_draft(key, draft)
        return _move_page(key, draft, store, form, error=str(error), status=422)
    save_draft(key, draft)
    return _move_page(key, draft, store, form, added=added)


@bp.post("/new/<key>/update")
@requires("move")
def update(key: str):
    """Keep what was typed or chosen (a new destination or source, a line removed) and show the lines again."""
    store, draft, form = _posted(key, follow_source=True)
    save_draft(key, draft)
    return _move_page(key, draft, store, form)


@bp.post("/new/<key>")
@requires("move")
def confirm(key: str):
    """Move every line to the destination, once."""
    store, draft, form = _posted(key)
    lines = draft_lines(draft, store)
    if form.validate_on_submit() and lines_ok(lines):
        dest = own_place(form.dest_id.data)
        move = partial(move_stock, event_id=form.event_id.data, by=current_user, store=store, note=form.note.data)
        try:
            _, earlier = commit_once(form.event_id.data, move, dest, [line.move_line for line in lines])
        except DomainError as error:
            attach_error(form, error)
        else:
            drop_draft(key)
            if earlier is not None:
                return go(replayed(earlier))
            return go(redirect(url_for(".done", event_id=form.event_id.data)))
    save_draft(key, draft)
    return _move_page(key, draft, store, form, status=422)


def _posted(key: str, *, follow_source: bool = False) -> tuple[Store, dict, MoveForm]:
    """The store, the draft with what the request carries merged in (destination, quantities), and the form."""
    check_key(key)
    store, draft, form = own_store(), load_draft(key), MoveForm()
    if "dest_id" in request.form:
        dest = own_place(form.dest_id.data)
        draft["dest"] = dest.id if dest is not None else None
    merge_edits(draft, request.form, store, follow_source=follow_source)
    return store, draft, form


def _move_page(key, draft, store, form, *, added=None, error=None, status=200):
    form.dest_id.choices = place_choices(store, "Scan or choose the place")
    form.dest_id.data = draft["dest"]
    dest = db.session.get(Location, draft["dest"]) if draft["dest"] else None
    lines = draft_lines(draft, store)
    return render(
        "moves/new.html",
        "move_form",
        key=key,
        form=form,
        dest=dest,
        lines=lines,
        added=added,
        error=error,
        status=status,
    )


# ---------------------------------------------------------------- what moved, and undo


@bp.get("/done/<event_id>")
@requires("move")
def done(event_id: str):
    """What one move (or undo) moved, with Undo while it is the user's latest move."""
    event = _move_event(event_id)
    return render("moves/done.html", event=event, undoable=_undoable(event))


@bp.post("/undo")
@requires("move")
def undo():
    """Undo the user's latest move in this store (the one the page showed)."""
    store, form = own_store(), MoveForm()
    shown = _move_event(request.form.get("shown", ""))
    try:
        _, earlier = commit_once(
            form.event_id.data, partial(undo_last_move, event_id=form.event_id.data, by=current_user, store=store)
        )
    except DomainError as error:
        return render("moves/done.html", event=shown, undoable=False, error=str(error), status=422)
    if earlier is not None:
        return replayed(earlier)
    return redirect(url_for(".done", event_id=form.event_id.data))


def _move_event(event_id: str) -> Event:
    try:
        event = db.session.get(Event, parse_event_id(event_id))
    except DomainError:
        abort(404)
    if event is None or event.action not in ("move", "undo_move") or event.store_id is None:
        abort(404)
    check_store(event.store_id)
    return event


def _undoable(event: Event) -> bool:
    """Whether Undo would undo this very move: the user's own, not undone, and no later move of theirs in the
    store that is still standing."""
    if event.action != "move" or event.user_id != current_user.id or not event.movements:
        return False
    if all(m.reversed_by is not None for m in event.movements):
        return False
    undone = aliased(Movement)
    later = db.session.scalar(
        select(Movement.id)
        .where(
            Movement.kind == "move",
            Movement.user_id == event.user_id,
            Movement.store_id == event.store_id,
            Movement.reverses_id.is_(None),
            Movement.id > max(m.id for m in event.movements),
            ~exists().where(undone.reverses_id == Movement.id),
        )
        .limit(1)
    )
    return later is None


# ---------------------------------------------------------------- everything at a place


@bp.route("/location", methods=["GET", "POST"])
@requires("move")
def location():
    """Move everything at one place to another: choose (or scan) both, see what is there, confirm once."""
    store = own_store()
    if request.method == "GET":
        form = LocationMoveForm(formdata=request.args or None, meta={"csrf": False})
        form.source_id.data = form.source_id.data or id_or_none(request.args.get("source"))
        return _location_page(store, form)
    form = LocationMoveForm()
    if form.validate_on_submit():
        source, dest = own_place(form.source_id.data), own_place(form.dest_id.data)
        move = partial(move_location_contents, event_id=form.event_id.data, by=current_user, store=store)
        try:
            _, earlier = commit_once(form.event_id.data, move, source, dest)
        except DomainError as error:
            attach_error(form, error)
        else:
            if earlier is not None:
                return go(replayed(earlier))
            return go(redirect(url_for(".done", event_id=form.event_id.data)))
    return _location_page(store, form, status=422)


@bp.post("/location/scan")
@requires("move")
def location_scan():
    """A scanned place fills the first of the two that is still empty."""
    store, form = own_store(), LocationMoveForm()
    try:
        place = resolve_scan(request.form.get("code", "")).location
        if place is None:
            raise DomainError("Scan the tag of a place (a safe, a showcase, a tray…), not of a lot or an item.")
        if place.store_id != store.id:
            raise DomainError(f"{place.label} is not a place of {store.name}.")
        if not form.source_id.data:
            form.source_id.data = place.id
        elif not form.dest_id.data:
            form.dest_id.data = place.id
        else:
            raise DomainError("Both places are chosen: change them in the lists.")
    except DomainError as error:
        return _location_page(store, form, error=str(error), status=422)
    return _location_page(store, form)


def _location_page(store, form, *, error=None, status=200):
    form.source_id.choices = place_choices(store, "Scan or choose the place to empty")
    form.dest_id.choices = place_choices(store, "Scan or choose where it all goes")
    source = own_place(form.source_id.data)
    contents = contents_of(source) if source is not None and source.store_id == store.id else None
    return render(
        "moves/location.html", "location_form", form=form, source=source, contents=contents, error=error, status=status
    )
