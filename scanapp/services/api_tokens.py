"""API tokens: made by a manager for a user of their store, shown once, kept only as a SHA-256 hash."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from scanapp.extensions import db
from scanapp.models import ApiToken, Store, User
from scanapp.models.types import utcnow
from scanapp.services import DomainError, Forbidden, access, audit

SECRET_PREFIX = "sa_"
DISPLAY_CHARS = 10  # "sa_" and the secret's first 7 characters
USE_RECORDED_EVERY = timedelta(minutes=1)  # how fresh "last used" is kept


def create_token(user: User, store: Store, name: str, *, by: User) -> tuple[ApiToken, str]:
    """A token with which a program acts as `user` in `store`. Returns the token and its secret, which is
    shown this once and never stored. Flushes."""
    access.require(by, "manage_api_tokens")
    access.require_store(by, store.id)
    if store.id not in user.store_ids:
        raise DomainError(f"{user.name} is not a member of {store.name}.", field="user")
    if not user.active:
        raise DomainError(f"{user.name} is deactivated.", field="user")
    if user.role == "admin" and by.role != "admin":
        raise Forbidden("Only an admin can make a token that acts as an admin.")
    name = name.strip()
    if not name or len(name) > 80:
        raise DomainError("Name the token (what uses it), in 1 to 80 characters.", field="name")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, store=store, name=name, prefix=secret[:DISPLAY_CHARS], token_hash=_hash(secret), created_by=by
    )
    db.session.add(token)
    db.session.flush()
    audit.record("token_created", by=by, store=store, subject=f"api_token:{token.id}",
                 detail=f"{token.prefix}… \"{name}\", acts as {user.username}")  # fmt: skip
    return token, secret


def revoke_token(token: ApiToken, *, by: User) -> ApiToken:
    """Stop a token from working, for good. Flushes."""
    access.require(by, "manage_api_tokens")
    access.require_store(by, token.store_id)
    if token.revoked_at is not None:
        raise DomainError(f"Token {token.prefix}… is revoked already.")
    token.revoked_at, token.revoked_by = utcnow(), by
    db.session.flush()
    audit.record("token_revoked", by=by, store=token.store, subject=f"api_token:{token.id}",
                 detail=f"{token.prefix}… \"{token.name}\", acted as {token.user.username}")  # fmt: skip
    return token


def authenticate_token(secret: str) -> ApiToken | None:
    """The token with this secret, if it may act now: not revoked, its user active and still a member of its
    store; read with its user, the user's stores and its store in one query.

    Records when it was last used, at most once every USE_RECORDED_EVERY, and only in the session (the caller
    commits it): writing it on every request would make every GET a write, and every move two commits."""
    secret = (secret or "").strip()
    if not secret.startswith(SECRET_PREFIX):
        return None
    token = db.session.execute(WITH_USER.where(ApiToken.token_hash == _hash(secret))).unique().scalar_one_or_none()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    if token.store_id not in token.user.store_ids or not token.store.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= USE_RECORDED_EVERY:
        token.last_used_at = now
    return token


# The token with its user, the user's stores and its store (built once: the loader options cost to make).
WITH_USER = select(ApiToken).options(joinedload(ApiToken.user).joinedload(User.stores), joinedload(ApiToken.store))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
