"""The JSON API, /api/v1: look up tags, move, sell, take back, and follow the ledger of one store.

Every request carries `Authorization: Bearer <token>`; the token acts as its user in its one store (the
OpenAPI document too needs one). Writes are idempotent: an `Idempotency-Key` header or an `event_id` in the
body (a UUID); a replay answers 200 with the original result and `"replayed": true`. Errors are always JSON,
`{"error": {"message": ..., "field": ...}}`.
"""

from decimal import Decimal
from functools import partial, wraps

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import HTTPException, InternalServerError

from scanapp.api import openapi
from scanapp.extensions import csrf, db, login_manager
from scanapp.models import Balance, Item, Location, Lot, Movement, Tag
from scanapp.services import DomainError, Forbidden, access, api_tokens, ledger, sales, tags
from scanapp.services.events import parse_event_id
from scanapp.services.movements import MoveLine, move_stock
from scanapp.views import commit_once

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
DEFAULT_LIMIT, MAX_LIMIT, MAX_CURSOR = 100, 500, openapi.MAX_CURSOR
TOKEN_KEY = "scanapp.api_token"
ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "TRACE"]


class ApiError(Exception):
    """An answer other than success: HTTP status, a message for a person, and the field it is about."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


@bp.record_once
def _wire_sign_in(state) -> None:
    """The app signs in every request; for the API that is the token (Flask-Login's request loader), and a
    request without one gets a 401, never the login page."""
    login_manager.request_loader(_user_from_token)
    login_manager.blueprint_login_views["api"] = None


def _user_from_token(req):
    token = _token() if req.blueprint == "api" else None
    return token.user if token else None


def _token():
    """The request's valid token, or None. Looked up once per request: kept in the request's environ, not in
    `g`, which outlives a request when an app context is already pushed (as in tests)."""
    if TOKEN_KEY not in request.environ:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        request.environ[TOKEN_KEY] = api_tokens.authenticate_token(secret) if scheme.lower() == "bearer" else None
    return request.environ[TOKEN_KEY]


@bp.before_request
def _authenticate():
    token = _token()
    if token is None:
        raise ApiError(401, _auth_problem())
    if db.session.is_modified(token):  # its last use, recorded at most once a minute
        db.session.commit()
    g.api_user, g.api_store = token.user, token.store


def _auth_problem() -> str:
    if "Authorization" not in request.headers:
        return "Send an API token: Authorization: Bearer <token>."
    return "That API token is not valid: it is wrong, revoked, or its user is deactivated."


# Errors: JSON, whatever went wrong.


def _error(status: int, message: str, field: str | None = None):
    response = jsonify(error={"message": message, "field": field})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="scanapp"'
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return _error(error.status, error.message, error.field)


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    return _error(403, error.message, error.field)


@bp.errorhandler(DomainError)
def _refused(error: DomainError):
    return _error(422, error.message, error.field)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if error.code == 401:
        return _error(401, _auth_problem())
    if isinstance(error, InternalServerError):
        return _error(500, "Something went wrong on our side; nothing was saved.")
    return _error(error.code or 400, error.description or error.name)


@bp.route("/", defaults={"path": ""}, methods=ANY_METHOD)
@bp.route("/<path:path>", methods=ANY_METHOD)
def no_such_endpoint(path: str):
    """A path the API does not have (404), or a method that one of its paths does not take (405, with Allow)."""
    if allowed := _methods_at(request.path):
        response = _error(405, f"/api/v1/{path} takes {', '.join(allowed)}, not {request.method}.")
        response.headers["Allow"] = ", ".join(allowed)
        return response
    raise ApiError(404, f"There is no {request.method} /api/v1/{path}; see /api/v1/openapi.json.")


def _methods_at(path: str) -> list[str]:
    """The methods that the API's own endpoints (not the catch-all above) answer at `path`."""
    adapter, methods = current_app.url_map.bind("api"), set()
    for method in ANY_METHOD:
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint != "api.no_such_endpoint":
            methods |= rule.methods
    return sorted(methods)


@bp.after_request
def _allow_what_the_path_takes(response):
    """Werkzeug's automatic answer to OPTIONS lists the catch-all's methods too; list only the path's own."""
    if request.method == "OPTIONS" and "Allow" in response.headers and (allowed := _methods_at(request.path)):
        response.headers["Allow"] = ", ".join(allowed)
    return response


# Reading.


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.DOCUMENT)


@bp.get("/tags/<code>")
def tag(code: str):
    """A lot, item or location by its tag code, with its balances in this store."""
    try:
        code = tags.normalise(code)
    except DomainError as exc:
        raise ApiError(400, exc.message, "code") from None
    found = _tags(code).get(code)
    target = found.target if found is not None else None
    # Only lots, items and places are answered here; a job's or a count's tag is no more found than a wrong code.
    if not isinstance(target, (Lot, Item, Location)) or not _visible(target):
        raise ApiError(404, f"No tag {code} in this store.", "code")
    return jsonify(_describe(target))


@bp.get("/movements")
def movements():
    """The store's movements with an id above `since`, oldest first, at most `limit`."""
    since, limit = _int_arg("since", 0, 0, MAX_CURSOR), _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    rows = db.session.scalars(
        select(Movement)
        .order_by(Movement.id)
        .where(Movement.store_id == g.api_store.id, Movement.id > since)
        .limit(limit)
    ).all()
    return jsonify(movements=[_movement(m) for m in rows], next_cursor=rows[-1].id if rows else since)


# Writing.


def requires(action: str):
    """Allow the endpoint only to tokens whose user's role may take `action` (see services/access.py): a 403
    before the body is read. The service checks again; the access walk (tests/test_access_walk.py) reads the
    recorded action."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not access.can(g.api_user, action):
                raise ApiError(403, "Your role does not allow this.")
            return view(*args, **kwargs)

        wrapper.required_action = action
        return wrapper

    return decorator


@bp.post("/moves")
@requires("move")
def moves():
    body = _body("MoveRequest")
    _tags(*_codes(body))
    dest = _location(body["to"], "to")
    lines = [_line(line, f"lines/{n}") for n, line in enumerate(body["lines"])]
    return _apply("move", move_stock, dest, lines, by=g.api_user, store=g.api_store, note=body.get("note", ""))


@bp.post("/sales")
@requires("sell")
def sale():
    body = _body("SaleRequest")
    _tags(*_codes(body))
    lines = [_line(line, f"lines/{n}") for n, line in enumerate(body["lines"])]
    prices = [Decimal(line["price"]) for line in body["lines"]]
    return _apply("sell", sales.sell, lines, price=prices, receipt=body["receipt"], by=g.api_user, store=g.api_store)


@bp.post("/returns")
@requires("return")
def sale_return():
    body = _body("ReturnRequest")
    _tags(*_codes(body))
    sold = _item(body["item"], "item") if "item" in body else _lot(body["lot"], "lot")
    refund = Decimal(body["refund"]) if "refund" in body else None
    return _apply(
        "return",
        sales.return_sale,
        sold,
        _location(body["to"], "to"),
        by=g.api_user,
        store=g.api_store,
        receipt=body.get("receipt", ""),
        pieces=body.get("pieces", 0),
        weight=Decimal(body.get("weight", "0")),
        refund=refund,
    )


def _apply(action: str, operation, *args, **kwargs):
    """Run one write with the request's event id and commit: 201 with its movements, or 200 for a replay."""
    event_id = g.event_id
    written, earlier = commit_once(event_id, partial(_described, operation, *args, event_id=event_id, **kwargs))
    if earlier is None:
        return jsonify(event_id=event_id, replayed=False, movements=written), 201
    if earlier.user_id != g.api_user.id or earlier.store_id != g.api_store.id or earlier.action != action:
        raise ApiError(409, "That idempotency key was already used for another request.", "event_id")
    return jsonify(event_id=earlier.id, replayed=True, movements=[_movement(m) for m in earlier.movements]), 200


def _described(operation, *args, **kwargs) -> list[dict]:
    """The movements a write made, described before the commit, while what they show is still in the session (after
    it every movement, lot, item and place would be read again, one query each)."""
    made = operation(*args, **kwargs)
    return [_movement(m) for m in (made if isinstance(made, list) else [made])]


def _body(schema: str) -> dict:
    """The JSON body, valid against `schema` of the OpenAPI document; sets g.event_id."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # not a ValueError, so `silent` lets it through
        raise ApiError(400, "That JSON is nested too deeply to read.") from None
    if body is None:
        raise ApiError(400, "Send a JSON body with Content-Type: application/json.")
    if problem := openapi.first_error(schema, body):
        raise ApiError(400, *problem)
    keys = {_event_id(raw) for raw in (request.headers.get("Idempotency-Key"), body.get("event_id")) if raw}
    if not keys:
        raise ApiError(400, "Send an Idempotency-Key header (a UUID) or an event_id in the body.", "event_id")
    if len(keys) > 1:
        raise ApiError(400, "The Idempotency-Key header and the body's event_id differ.", "event_id")
    g.event_id = keys.pop()
    return body


def _event_id(raw: str) -> str:
    try:
        return parse_event_id(raw)
    except DomainError:
        raise ApiError(400, "The idempotency key must be a UUID.", "event_id") from None


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not low <= int(raw) <= high:
        raise ApiError(400, f"{name} is a whole number from {low} to {high}.", name)
    return int(raw)


# Finding what a code names, within what this store may see.


def _target(code: str, field: str, kind: type):
    found = _tags(code).get(tags.normalise(code))
    target = found.target if found is not None else None
    if not isinstance(target, kind) or not _visible(target):
        raise ApiError(404, f"No {kind.__name__.lower()} {code.upper()} in this store.", field)
    return target


def _tags(*codes: str) -> dict[str, Tag]:
    """The request's tags by code: those of `codes` not read yet are read in one query, with what they are on (a
    place; a lot; an item with its lot and place), which is all that checking and moving them reads. A code that
    is not valid is left out here (its line refuses it) and one that names no tag is missing."""
    known = g.setdefault("api_tags", {})
    wanted = {code for code in map(_normalised, codes) if code and code not in known}
    if wanted:
        known.update(dict.fromkeys(wanted))
        found = db.session.scalars(TAGS_WITH_TARGETS.where(Tag.code.in_(sorted(wanted))))
        known.update((tag.code, tag) for tag in found)
    return known


# Built once: making the loader options costs more than running the cached query's setup.
TAGS_WITH_TARGETS = select(Tag).options(
    joinedload(Tag.location),
    joinedload(Tag.lot),
    joinedload(Tag.item).options(joinedload(Item.lot), joinedload(Item.location)),
)


def _normalised(code: str) -> str | None:
    try:
        return tags.normalise(code)
    except DomainError:
        return None


def _codes(body: dict) -> list[str]:
    """Every tag code a write's body names: its `to`, `item`, `lot`, and each line's `item`, `lot` and `from`."""
    return [
        part[key] for part in (body, *body.get("lines", ())) for key in ("to", "item", "lot", "from") if key in part
    ]


def _location(code: str, field: str) -> Location:
    return _target(code, field, Location)


def _lot(code: str, field: str) -> Lot:
    return _target(code, field, Lot)


def _item(code: str, field: str) -> Item:
    return _target(code, field, Item)


def _line(data: dict, field: str) -> MoveLine:
    if "item" in data:
        return MoveLine(item=_item(data["item"], f"{field}/item"))
    return MoveLine(
        lot=_lot(data["lot"], f"{field}/lot"),
        source=_location(data["from"], f"{field}/from"),
        pieces=data.get("pieces", 0),
        weight=Decimal(data.get("weight", "0")),
    )


def _visible(target) -> bool:
    """Whether the token's store may see it: its own locations; a lot it received or holds; an item in it, or
    of such a lot."""
    store_id = g.api_store.id
    if isinstance(target, Location):
        return target.store_id == store_id
    if isinstance(target, Item):
        return target.location.store_id == store_id or _visible(target.lot)
    return target.store_id == store_id or any(b.location.store_id == store_id for b in ledger.balances_of(target))


# Answers.


def _describe(target) -> dict:
    if isinstance(target, Location):
        rows = db.session.scalars(
            select(Balance)
            .join(Lot)
            .order_by(Lot.number)
            .where(Balance.location_id == target.id, (Balance.pieces != 0) | (Balance.weight != 0))
        ).all()
        return {
            "kind": "location",
            "id": target.id,
            "code": target.code,
            "name": target.name,
            "location_kind": target.kind,
            "balances": [{"lot": b.lot.number, "pieces": b.pieces, "weight": _weight(b.weight)} for b in rows],
        }
    lot = target.lot if isinstance(target, Item) else target
    if isinstance(target, Item):
        answer = {
            "kind": "item",
            "id": target.id,
            "serial": target.serial,
            "certificate": target.certificate,
            "description": target.description,
            "weight": _weight(target.weight),
            "lot": lot.number,
            "location": _place(target.location),
        }
    else:
        answer = {
            "kind": "lot",
            "id": lot.id,
            "number": lot.number,
            "description": lot.description,
            "category": lot.category,
            "weight_unit": lot.weight_unit,
            "balances": [
                {"location": _place(b.location), "pieces": b.pieces, "weight": _weight(b.weight)}
                for b in ledger.balances_of(lot)
                if b.location.store_id == g.api_store.id and b.location.kind != "supplier"
            ],
        }
    if access.can(g.api_user, "see_cost"):
        answer["cost"] = {
            "total": _money(lot.cost_total),
            "per_piece": _money(lot.unit_cost),
            "per_weight": _money(lot.weight_cost),
        }
    return answer


def _movement(m: Movement) -> dict:
    return {
        "id": m.id,
        "event_id": m.event_id,
        "line": m.line,
        "kind": m.kind,
        "lot": m.lot.number,
        "item": m.item.serial if m.item else None,
        "from": _place(m.from_location),
        "to": _place(m.to_location),
        "pieces": m.pieces,
        "weight": _weight(m.weight),
        "amount": _money(m.amount),
        "reference": m.reference,
        "note": m.note,
        "user": m.user.username,
        "created_at": m.created_at.isoformat(),
        "reverses": m.reverses_id,
    }


def _place(location: Location) -> dict:
    return {
        "id": location.id,
        "code": location.code,
        "name": location.name,
        "kind": location.kind,
        "store": location.store.code,
    }


def _weight(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.001")))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))
