"""Blueprints, one per workflow, and the few helpers every view uses."""

from functools import wraps

from flask import Flask, abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, OperationalError

from scanapp.extensions import db
from scanapp.models import Event, Store
from scanapp.services import AlreadyApplied, DomainError, access
from scanapp.services.events import parse_event_id
from scanapp.web import current_store


def register(app: Flask) -> None:
    from scanapp.views import (
        auth,
        items,
        labels,
        locations,
        lots,
        main,
        moves,
        receiving,
        sales,
        scan,
        search,
        suppliers,
        tokens,
        transfers,
    )

    for module in (auth, main, scan, search, lots, items, locations, suppliers, receiving, labels):
        app.register_blueprint(module.bp)
    for module in (moves, transfers, sales, tokens):
        app.register_blueprint(module.bp)

    from scanapp import api

    app.register_blueprint(api.bp)

    from scanapp.views import inspections

    app.register_blueprint(inspections.bp)
    from scanapp.views import bench

    app.register_blueprint(bench.bp)
    from scanapp.views import counts

    app.register_blueprint(counts.bp)
    from scanapp.views import reports

    app.register_blueprint(reports.bp)
    from scanapp.views import returns

    app.register_blueprint(returns.bp)
    from scanapp.views import audit, users

    app.register_blueprint(users.bp)
    app.register_blueprint(audit.bp)


def requires(action: str):
    """Allow the view only to roles that may take `action` (see services/access.py); others get a 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not access.can(current_user, action):
                abort(403, "Your role does not allow this.")
            return view(*args, **kwargs)

        wrapper.required_action = action  # the access walk (tests/test_access_walk.py) reads it
        return wrapper

    return decorator


def own_store() -> Store:
    """The store the user works in now; 403 when they belong to none."""
    store = current_store()
    if store is None:
        abort(403, "You are not a member of any store.")
    return store


def check_store(store_id: int) -> None:
    """404 for anything of a store the user does not belong to: other stores' data is not even confirmed to exist."""
    if store_id not in current_user.store_ids:
        abort(404)


def commit_once(event_id: str, operation, /, *args, **kwargs):
    """Call one service operation and commit. Returns (result, None), or (None, earlier_event) for a replay.

    A replay is the same event id sent again: the event's row is found already written (AlreadyApplied; when two
    copies race, the second waits for the first on PostgreSQL and finds it). Should another unique key refuse a
    write, the event is looked for all the same: a replay if it stands, else a clash. A transient clash with
    another request (a deadlock PostgreSQL broke, or SQLite busy past its timeout) rolls back and runs the
    operation again, up to CLASH_ATTEMPTS times in all, then refuses. DomainError propagates after a rollback.
    """
    for attempt in range(1, CLASH_ATTEMPTS + 1):
        try:
            result = operation(*args, **kwargs)
            db.session.commit()
            return result, None
        except AlreadyApplied as replay:
            db.session.rollback()
            return None, replay.event
        except IntegrityError:
            db.session.rollback()
            earlier = db.session.get(Event, parse_event_id(event_id))
            if earlier is None:
                raise DomainError(CLASHED) from None
            return None, earlier
        except OperationalError as error:
            db.session.rollback()
            if not _transient(error):
                raise
            if attempt == CLASH_ATTEMPTS:
                raise DomainError(CLASHED) from None
        except DomainError:
            db.session.rollback()
            raise


CLASH_ATTEMPTS = 3
CLASHED = "That clashed with a change saved a moment ago. Check and try again."
# Deadlock detected, serialization failure (PostgreSQL); the message SQLite gives when busy past its timeout.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def _transient(error: OperationalError) -> bool:
    """True for a clash that the same request, run again, may well get through."""
    if getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)


def result_url(event: Event) -> str:
    """Where to show what an event made: its `result` is '<kind>:<id>'."""
    kind, _, ident = event.result.partition(":")
    endpoints = {
        "lot": "lots.detail",
        "item": "items.detail",
        "location": "locations.detail",
        "supplier": "suppliers.detail",
        "transfer": "transfers.detail",
        "movement": "sales.detail",
        "api_token": "tokens.index",
        "work_order": "bench.detail",
        "count": "counts.detail",
        "user": "users.edit",
    }
    if kind in endpoints and ident.isdigit():
        return url_for(endpoints[kind], id=int(ident))
    return url_for("main.index")


def replayed(event: Event):
    """Answer a replayed request: say so, and show what the first one made."""
    flash("Already recorded: that was sent twice and applied once.", "info")
    return redirect(result_url(event))
