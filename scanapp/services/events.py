"""Events: one row per state-changing request, keyed by the client's event id (idempotency and audit)."""

import uuid
from functools import cache

from flask import has_request_context, request
from sqlalchemy import Insert

from scanapp.extensions import add_loaded, db, dialect_insert
from scanapp.models import Event, Store, User
from scanapp.models.types import utcnow
from scanapp.services import AlreadyApplied, DomainError


def parse_event_id(raw: str | None) -> str:
    """The canonical form of a client event id, or a DomainError for anything that is not a UUID."""
    try:
        return str(uuid.UUID(str(raw or "").strip()))
    except ValueError:
        raise DomainError("This form has no valid event id; reload the page and try again.") from None


def start_event(event_id: str | None, action: str, *, by: User, store: Store | None, result: str = "") -> Event:
    """Open the event of one request: its row is written at once, in one statement that also finds a replay (`INSERT
    ... ON CONFLICT DO NOTHING`: no row written, the id was used before), which raises AlreadyApplied with the
    earlier event. A `result` known before the work is done goes in with the event's row, which saves an UPDATE of
    it afterwards."""
    eid = parse_event_id(event_id)
    values = {
        "id": eid,
        "action": action,
        "user_id": by.id,
        "store_id": store.id if store is not None else None,
        "created_at": utcnow(),
        "remote_addr": (request.remote_addr or "")[:45] if has_request_context() else "",
        "result": result,
    }
    if db.session.execute(_insert_new(dialect_insert()), values).first() is None:
        # On PostgreSQL a first copy still in flight is waited for; if it was rolled back, this one went in.
        raise AlreadyApplied(db.session.get(Event, eid))
    # A new event has no movements: saying so saves reading them when its first movement is numbered.
    return add_loaded(Event, values, user=by, store=store, movements=[])


@cache
def _insert_new(insert) -> Insert:
    """INSERT of an event unless its id is taken, returning the id when it went in; built once per dialect."""
    return insert(Event.__table__).on_conflict_do_nothing(index_elements=["id"]).returning(Event.__table__.c.id)


def new_event_id() -> str:
    """A fresh event id for a form about to be rendered."""
    return str(uuid.uuid4())
