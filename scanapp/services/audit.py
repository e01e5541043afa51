"""The audit log: appending an entry for each audited operation, and reading entries back for managers.

Entries are written in the transaction of the operation they record, so an operation that is refused or rolled
back leaves none; the exception is a refused sign-in, whose entry the sign-in view commits on purpose.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import has_request_context, request
from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.sql import ColumnElement

from scanapp.extensions import db
from scanapp.models import AUDIT_ACTIONS, AuditEntry, Store, User, user_stores
from scanapp.services.reports import safe_text

PER_PAGE = 50


def remote_addr() -> str:
    """The address of the request being served, or "" outside a request (the command line)."""
    return (request.remote_addr or "")[:45] if has_request_context() else ""


def record(
    action: str, *, by: User | None = None, username: str = "", store: Store | None = None, subject: str = "",
    detail: str = "",
) -> AuditEntry:  # fmt: skip
    """Append one entry: `action` by `by` (None for a failed sign-in or the command line), about the account
    `username` (the actor's own when not given), in `store`, on `subject` ("user:5", "count:3"). Flushes."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        action=action,
        user_id=by.id if by is not None else None,
        username=(username or (by.username if by is not None else ""))[:64],
        store_id=store.id if store is not None else None,
        remote_addr=remote_addr(),
        subject=subject[:60],
        detail=detail,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass(frozen=True)
class Filters:
    """What the audit page asks for; every field is optional. Dates are UTC days, both ends included."""

    action: str = ""
    person: str = ""
    since: date | None = None
    until: date | None = None
    store_id: int | None = None


@dataclass(frozen=True)
class Page:
    entries: list[AuditEntry]
    number: int
    has_next: bool


def page_of(viewer: User, filters: Filters, number: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the entries `viewer` may see that match `filters`, newest first."""
    number = max(1, number)
    found = db.session.scalars(
        entries(viewer, filters).options(joinedload(AuditEntry.user), joinedload(AuditEntry.store))
        .offset((number - 1) * per_page).limit(per_page + 1)
    ).all()  # fmt: skip
    return Page(entries=list(found[:per_page]), number=number, has_next=len(found) > per_page)


def entries(viewer: User, filters: Filters) -> Select:
    """The entries `viewer` may see that match `filters`, newest first."""
    query = select(AuditEntry).where(visible_to(viewer, filters.store_id))
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if person := filters.person.strip().lower():
        actor = select(User.id).where(User.username == person).scalar_subquery()
        query = query.where(or_(AuditEntry.username == person, AuditEntry.user_id == actor))
    if filters.since:
        query = query.where(AuditEntry.created_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        query = query.where(AuditEntry.created_at < datetime.combine(filters.until + timedelta(days=1), time(), UTC))
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def visible_to(viewer: User, store_id: int | None = None) -> ColumnElement[bool]:
    """Entries of the viewer's stores (or of the one store asked for, if it is theirs), and entries of no store
    about an account of those stores. Admins also see failed sign-ins with names that are no account at all."""
    store_ids = viewer.store_ids if store_id is None else viewer.store_ids & {store_id}
    if not store_ids:
        return false()
    members = select(User.username).join(user_stores, user_stores.c.user_id == User.id)
    members = members.where(user_stores.c.store_id.in_(store_ids))
    storeless = AuditEntry.store_id.is_(None)
    shown = or_(AuditEntry.store_id.in_(store_ids), and_(storeless, AuditEntry.username.in_(members)))
    if viewer.role == "admin" and store_id is None:
        shown = or_(shown, and_(storeless, AuditEntry.username.not_in(select(User.username))))
    return shown


CSV_COLUMNS = ("when (UTC)", "action", "by", "account", "store", "subject", "detail", "address")


def to_csv(viewer: User, filters: Filters) -> Iterator[str]:
    """Every matching entry as CSV lines (header first), formula-safe, written as they are read."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    query = entries(viewer, filters).options(joinedload(AuditEntry.user), joinedload(AuditEntry.store))
    for entry in db.session.scalars(query.execution_options(yield_per=500)):
        writer.writerow([
            entry.created_at.isoformat(sep=" ", timespec="seconds"),
            entry.action,
            *(safe_text(text) for text in (
                entry.user.username if entry.user else "",
                entry.username,
                entry.store.code if entry.store else "",
                entry.subject,
                entry.detail,
                entry.remote_addr,
            )),
        ])  # fmt: skip
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()
