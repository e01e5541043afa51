"""Signing in and out, with a limit on wrong passwords per account and per address.

The limits count the audit log's `sign_in_failed` entries instead of keeping counters in memory. Every gunicorn
worker, and every app server of a chain, reads the same table, on SQLite as on PostgreSQL, so tries cannot be
spread over workers to get more of them. Flask-Limiter was weighed and not used: its memory storage is per
process, which is wrong with several workers, and its shared storages need Redis or Memcached, which a store's
computer (and our CI) does not promise.

An account is locked after SIGN_IN_ACCOUNT_LIMIT failures for that username (whether or not it is an account, so
the lock tells nothing about which names exist) within SIGN_IN_WINDOW_MINUTES since its last successful sign-in
or unlock; an address after SIGN_IN_ADDRESS_LIMIT failures from it, whatever the names, since the last successful
sign-in from it. The lock ends when enough of those failures are older than the window. While locked, the password
is not even checked. Two tries at the very same moment may both get in before the lock: the limit is exact to
within the number of concurrent requests, which is enough to stop guessing.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from scanapp.extensions import db
from scanapp.models import AuditEntry, User
from scanapp.models.types import utcnow
from scanapp.models.users import password_matches
from scanapp.services import DomainError, audit

WRONG = "Wrong username or password."


@dataclass(frozen=True)
class Lock:
    """Sign-in is refused for the `account` or the `address` until `until`."""

    scope: str
    until: datetime

    def minutes_left(self, now: datetime) -> int:
        return max(1, math.ceil((self.until - now).total_seconds() / 60))


class SignInLocked(DomainError):
    """Too many wrong passwords: the message says for what, and for how long."""

    def __init__(self, lock: Lock, now: datetime):
        minutes = lock.minutes_left(now)
        wait = f"Try again in {minutes} minute{'s' if minutes != 1 else ''}"
        if lock.scope == "account":
            message = f"Too many wrong passwords for this account. {wait}, or ask an admin to unlock it."
        else:
            message = f"Too many wrong passwords from this network. {wait}."
        super().__init__(message)
        self.lock = lock
        self.retry_after = minutes * 60  # seconds, for the Retry-After header


def sign_in(username: str, password: str) -> User:
    """The active user with these credentials. Raises SignInLocked (without checking the password) while the
    account or the address is locked, and DomainError for wrong credentials. Records the try either way and
    flushes: the caller commits on refusal too, so that failures count."""
    name, address, now = username.strip().lower()[:64], audit.remote_addr(), utcnow()
    if (lock := account_lock(name, now) or address_lock(address, now)) is not None:
        audit.record("sign_in_locked", username=name, detail=f"{lock.scope} locked until {lock.until:%H:%M} UTC")
        raise SignInLocked(lock, now)
    user = db.session.scalar(select(User).where(User.username == name))
    if not password_matches(user, password) or not user.active:
        why = "no such account" if user is None else "account deactivated" if not user.active else "wrong password"
        audit.record("sign_in_failed", username=name, subject=f"user:{user.id}" if user else "", detail=why)
        raise DomainError(WRONG, field="password")
    audit.record("sign_in", by=user, subject=f"user:{user.id}")
    return user


def sign_out(user: User) -> None:
    """Record that `user` signed out. Flushes."""
    audit.record("sign_out", by=user, subject=f"user:{user.id}")


def account_lock(username: str, now: datetime | None = None) -> Lock | None:
    """The lock on this username now, if wrong passwords have put one on it."""
    limit = current_app.config["SIGN_IN_ACCOUNT_LIMIT"]
    until = _lock_end(AuditEntry.username, username, ("sign_in", "sign_in_unlocked"), limit, now or utcnow())
    return Lock("account", until) if until else None


def address_lock(address: str, now: datetime | None = None) -> Lock | None:
    """The lock on this network address now, if wrong passwords from it have put one on it."""
    if not address:
        return None
    limit = current_app.config["SIGN_IN_ADDRESS_LIMIT"]
    until = _lock_end(AuditEntry.remote_addr, address, ("sign_in",), limit, now or utcnow())
    return Lock("address", until) if until else None


def locked_accounts(usernames: list[str]) -> set[str]:
    """Which of these usernames are locked now. One query finds those with enough recent failures to be; only
    those are looked at one by one (a success or an unlock since may have lifted it)."""
    now = utcnow()
    start = now - timedelta(minutes=current_app.config["SIGN_IN_WINDOW_MINUTES"])
    candidates = db.session.scalars(
        select(AuditEntry.username)
        .where(AuditEntry.username.in_(usernames), AuditEntry.action == "sign_in_failed", AuditEntry.created_at > start)
        .group_by(AuditEntry.username)
        .having(func.count() >= current_app.config["SIGN_IN_ACCOUNT_LIMIT"])
    )
    return {name for name in candidates if account_lock(name, now) is not None}


def _lock_end(
    column: InstrumentedAttribute, value: str, resets: tuple[str, ...], limit: int, now: datetime
) -> datetime | None:
    """When the lock on `column == value` ends, or None when there is none: with `limit` failures in the window
    since the last of `resets`, the lock lasts until the `limit`-th newest of them leaves the window."""
    window = timedelta(minutes=current_app.config["SIGN_IN_WINDOW_MINUTES"])
    start = now - window
    reset = (
        select(func.max(AuditEntry.created_at))
        .where(column == value, AuditEntry.action.in_(resets), AuditEntry.created_at > start)
        .scalar_subquery()
    )
    oldest_counted = db.session.scalar(
        select(AuditEntry.created_at)
        .where(column == value, AuditEntry.action == "sign_in_failed", AuditEntry.created_at > start)
        .where(AuditEntry.created_at > func.coalesce(reset, start))
        .order_by(AuditEntry.created_at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    return oldest_counted + window if oldest_counted is not None else None
