"""Events: one row per state-changing request, keyed by the client's event id (idempotency and audit)."""

import uuid

from flask import has_request_context, request

from scanapp.extensions import add_inserted, db
from scanapp.models import Event, Store, User
from scanapp.models.types import utcnow
from scanapp.services import AlreadyApplied, DomainError


def parse_event_id(raw: str | None) -> str:
    """The canonical form of a client event id, or a DomainError for anything that is not a UUID."""
    try:
        return str(uuid.UUID(str(raw or "").strip()))
    except ValueError:
        raise DomainError("This form has no valid event id; reload the page and try again.") from None


def start_event(
    event_id: str | None, action: str, *, by: User, store: Store | None, result: str = "", check: bool = True
) -> Event:
    """Open the event of one request: its row is written at once. Raises AlreadyApplied when the id was used before.
    A `result` known before the work is done goes in with the event's row, which saves an UPDATE of it afterwards.
    `check=False` skips looking for the earlier event (a read less on a hot path): a replay then fails on the
    event's key as it is written, which `views.commit_once` answers with the earlier event."""
    eid = parse_event_id(event_id)
    if check and (earlier := db.session.get(Event, eid)) is not None:
        raise AlreadyApplied(earlier)
    values = {
        "id": eid,
        "action": action,
        "user_id": by.id,
        "store_id": store.id if store is not None else None,
        "created_at": utcnow(),
        "remote_addr": (request.remote_addr or "")[:45] if has_request_context() else "",
        "result": result,
    }
    # A new event has no movements: saying so saves reading them when its first movement is numbered.
    return add_inserted(Event, values, user=by, store=store, movements=[])


def new_event_id() -> str:
    """A fresh event id for a form about to be rendered."""
    return str(uuid.uuid4())
