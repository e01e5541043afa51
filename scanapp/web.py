"""Request-wide behaviour: who is signed in, which store they work in, security headers, error pages."""

from datetime import datetime
from decimal import Decimal
from functools import cache

from flask import Flask, abort, flash, g, redirect, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from scanapp import assets
from scanapp.extensions import commit_reads, db, login_manager
from scanapp.htmx import render
from scanapp.models import Store, User
from scanapp.services import access, history
from scanapp.services.events import new_event_id

CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PUBLIC_ENDPOINTS = {"auth.login", "main.healthz", "static"}


class IdConverter(IntegerConverter):
    """`<int:id>`: a whole number that an id column can hold (INTEGER, 32 bits in PostgreSQL); a larger one matches
    no page (404) rather than failing in the database (PostgreSQL: integer out of range; SQLite: OverflowError)."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in."
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)

    app.url_map.converters["int"] = IdConverter  # before the blueprints add their rules
    if hops := app.config["PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)
    app.before_request(_refuse_nul_characters)
    app.before_request(_require_sign_in)
    app.after_request(_security_headers)
    app.teardown_appcontext(commit_reads)  # runs before Flask-SQLAlchemy's, which closes the session
    app.context_processor(_template_globals)
    app.add_template_global(quantity)
    app.add_template_filter(when)
    # The ledger macros (macros/ledger.html) draw plain rows; a page that has ORM movements gets them converted.
    app.add_template_global(history.ledger_rows, "ledger_rows")
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    assets.init_app(app)


def current_store() -> Store | None:
    """The store the signed-in user works in now: chosen in the header, one of their stores."""
    if "store" not in g:
        g.store = None
        if current_user.is_authenticated and current_user.stores:
            wanted = session.get("store_id")
            g.store = next((s for s in current_user.stores if s.id == wanted), current_user.stores[0])
    return g.store


def _load_user(user_id: str) -> User | None:
    """The signed-in user with their stores, which nearly every request needs, in one query; read on every request,
    so a deactivated user, or one taken out of a store, is dropped at once."""
    if not (user_id.isascii() and user_id.isdigit()):
        return None
    user = db.session.execute(_user_query(), {"id": int(user_id)}).unique().scalar_one_or_none()
    return user if user is not None and user.active else None


@cache
def _user_query() -> Select:
    """The statement of `_load_user`, built once (a new statement object would have its cache key computed again
    on every request)."""
    return select(User).where(User.id == bindparam("id")).options(joinedload(User.stores))


def _require_sign_in():
    """Every page needs sign-in except the login page, the health check and static files."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _refuse_nul_characters():
    """400 for a NUL character anywhere in the query, the form or an upload's name: no text here may hold one, and
    PostgreSQL cannot store it (it would fail as a 500 deep in a write)."""
    values = [*request.args.values(), *request.form.values(), *(f.filename or "" for f in request.files.values())]
    keys = [key or "" for key in (*request.args, *request.form)]  # a multipart part's name may not parse: None
    if any("\x00" in value for value in values) or any("\x00" in key for key in keys):
        abort(400, "Text cannot contain NUL characters.")


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _template_globals() -> dict:
    user = []  # the signed-in user, looked up once a render (a page asks `can` a dozen times)

    def can(action: str) -> bool:
        if not user:
            user.append(current_user._get_current_object())
        return access.can(user[0], action)

    def event_id_field() -> Markup:
        # A fresh id is hex digits and dashes, with nothing to escape (a count's answer has forty of these fields).
        return Markup(f'<input type="hidden" name="event_id" value="{new_event_id()}">')

    return {"can": can, "current_store": current_store, "event_id_field": event_id_field}


def quantity(pieces: int, weight: Decimal, unit: str | None) -> str:
    """A quantity as the pages write it, "12 pcs · 8.400 ct"; a lot weighed only ("250.000 g") shows no pieces.
    macros/ledger.html's qty() is this function, which the long lists call directly."""
    weighed = unit and weight
    text = f"{pieces} {'pc' if pieces in (1, -1) else 'pcs'}" if pieces or not weighed else ""
    if weighed:
        text += f"{' · ' if pieces else ''}{weight} {unit}"
    return text


def when(dt: datetime) -> Markup:
    """`dt` (UTC) as a <time> element: "25 Nov 2026 06:21", the minute in its title. macros/ledger.html's when()
    is this filter; a ledger row calls it directly, fifty times a page, where a macro call costs several times
    more."""
    return Markup(f'<time datetime="{dt.isoformat()}" title="{dt:%Y-%m-%d %H:%M} UTC">{dt:%d %b %Y %H:%M}</time>')


def _csrf_error(error: CSRFError):
    message = "This page was open too long or came from elsewhere. Reload it and try again."
    if request.headers.get("HX-Request") != "true":
        flash(message, "error")
        return redirect(request.referrer or url_for("main.index"))
    return render("errors.html", "message", status=400, code=400, message=message)


def _http_error(error: HTTPException):
    messages = {
        400: "That request could not be understood.",
        403: "Your role or store does not allow this.",
        404: "Nothing here: the page or thing you asked for does not exist.",
        405: "That action is not available here.",
        413: "That upload is too large.",
        429: "Too many attempts. Wait a minute and try again.",
    }
    # A view may abort with its own, clearer description; otherwise use the plain message for the code.
    custom = error.description != type(error).description
    message = error.description if custom else messages.get(error.code, "Something went wrong on our side.")
    response = render("errors.html", "message", status=error.code or 500, code=error.code, message=message)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110: a 405 says what is allowed
    return response
