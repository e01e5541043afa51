"""Staff accounts: making them, and what an admin changes on them (role, stores, active, password, sign-in lock).

Each operation writes its audit entry. `by` is the admin acting, or None for the command line (which runs on the
server, as whoever may run it). An admin acts only on accounts that share a store with them, and only on the
memberships of their own stores; no operation leaves a store of the account without an active admin.
"""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from scanapp.extensions import db
from scanapp.models import ROLES, AuditEntry, Store, User, user_stores
from scanapp.models.users import password_matches
from scanapp.services import DomainError, Forbidden, access, audit, sign_in

MIN_PASSWORD = 8


def create_user(
    username: str, name: str, role: str, password: str, stores: list[Store], *, by: User | None = None
) -> User:
    """A new active user of `stores`. Flushes."""
    if by is not None:
        access.require(by, "manage_users")
        _require_own_stores(by, stores)
    username = username.strip().lower()
    if not username or len(username) > 64:
        raise DomainError("A username has 1 to 64 characters.", field="username")
    if role not in ROLES:
        raise DomainError(f"Choose a role: {', '.join(ROLES)}.", field="role")
    _check_password(password)
    if not stores:
        raise DomainError("A user belongs to at least one store.", field="stores")
    if find_user(username) is not None:
        raise DomainError(f"The username {username} is taken.", field="username")
    user = User(username=username, name=name.strip() or username, role=role, stores=list(stores))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    _record("user_created", user, by, f"{role} of {_codes(user.stores)}")
    return user


def change_role(user: User, role: str, *, by: User) -> User:
    """Give `user` another role. Flushes."""
    _require_admin_of(by, user)
    if role not in ROLES:
        raise DomainError(f"Choose a role: {', '.join(ROLES)}.", field="role")
    if role == user.role:
        raise DomainError(f"{user.name} is {_a(role)} already.", field="role")
    if user.role == "admin" and user.active:
        _keep_an_admin(user, user.store_ids, "make them " + _a(role))
    before, user.role = user.role, role
    db.session.flush()
    _record("role_changed", user, by, f"role {before} → {role}")
    return user


def set_stores(user: User, chosen: list[Store], *, by: User) -> User:
    """Make `user` a member of exactly the `chosen` ones among `by`'s stores; memberships of stores `by` is not in
    stay as they are. Flushes."""
    _require_admin_of(by, user)
    _require_own_stores(by, chosen)
    kept = [s for s in user.stores if s.id not in by.store_ids]
    after = sorted({s.id: s for s in kept + list(chosen)}.values(), key=lambda s: s.code)
    if not after:
        raise DomainError("A user belongs to at least one store.", field="stores")
    if {s.id for s in after} == user.store_ids:
        raise DomainError(f"{user.name} is in exactly these stores already.", field="stores")
    if user.role == "admin" and user.active:
        _keep_an_admin(user, user.store_ids - {s.id for s in after}, "take them out of it")
    before = _codes(user.stores)
    user.stores = after
    db.session.flush()
    _record("stores_changed", user, by, f"stores {before} → {_codes(after)}")
    return user


def deactivate_user(user: User, *, by: User | None = None) -> User:
    """Stop `user` from signing in; their history stays. Flushes."""
    if by is not None:
        _require_admin_of(by, user)
    if not user.active:
        raise DomainError(f"{user.name} is deactivated already.")
    if user.role == "admin":
        _keep_an_admin(user, user.store_ids, "deactivate them")
    user.active = False
    db.session.flush()
    _record("user_deactivated", user, by)
    return user


def reactivate_user(user: User, *, by: User | None = None) -> User:
    """Let a deactivated user sign in again. Flushes."""
    if by is not None:
        _require_admin_of(by, user)
    if user.active:
        raise DomainError(f"{user.name} is active already.")
    user.active = True
    db.session.flush()
    _record("user_reactivated", user, by)
    return user


def reset_password(user: User, password: str, *, by: User | None = None) -> User:
    """Set a new password that the admin gives to the user; the old one stops working. Flushes."""
    if by is not None:
        _require_admin_of(by, user)
    _check_password(password)
    user.set_password(password)
    db.session.flush()
    _record("password_reset", user, by)
    return user


def unlock(user: User, *, by: User | None = None) -> User:
    """Lift the sign-in lock that wrong passwords put on `user`'s account: their failures so far stop counting.
    Flushes."""
    if by is not None:
        _require_admin_of(by, user)
    if sign_in.account_lock(user.username) is None:
        raise DomainError(f"Sign-in for {user.name} is not locked.")
    _record("sign_in_unlocked", user, by)
    return user


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username.strip().lower()))


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Records nothing and applies no limit: sign-in goes
    through services/sign_in.py."""
    user = find_user(username)
    if not password_matches(user, password) or not user.active:
        return None
    return user


def visible_users(admin: User) -> list[User]:
    """The accounts that share a store with `admin`, by username."""
    query = select(User).where(User.stores.any(Store.id.in_(admin.store_ids))).order_by(User.username)
    return list(db.session.scalars(query.options(selectinload(User.stores))))


def user_for(admin: User, user_id: int) -> User | None:
    """The account, or None when it does not exist or shares no store with `admin`."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.store_ids & admin.store_ids else None


def _require_admin_of(by: User, user: User) -> None:
    access.require(by, "manage_users")
    if not user.store_ids & by.store_ids:
        raise Forbidden("That account belongs to a store you are not a member of.")


def _require_own_stores(by: User, stores: list[Store]) -> None:
    if any(s.id not in by.store_ids for s in stores):
        raise Forbidden("You can only add people to stores you are a member of.")


def _keep_an_admin(user: User, store_ids: set[int], change: str) -> None:
    """Refuse a change that would leave one of `store_ids` without an active admin. The other admins' rows are
    locked (PostgreSQL) so that two admins cannot demote each other at the same moment."""
    for store_id in store_ids:
        others = db.session.scalars(
            select(User.id)
            .join(user_stores, user_stores.c.user_id == User.id)
            .where(user_stores.c.store_id == store_id, User.role == "admin", User.active, User.id != user.id)
            .with_for_update(of=User)
        ).all()
        if not others:
            store = db.session.get(Store, store_id)
            raise DomainError(
                f"{user.name} is the last active admin of {store.name}: make someone else an admin there before "
                f"you {change}."
            )


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(f"A password has at least {MIN_PASSWORD} characters.", field="password")


def _record(action: str, user: User, by: User | None, detail: str = "") -> None:
    if by is None:
        detail = "; ".join(filter(None, [detail, "from the command line"]))
    audit.record(action, by=by, username=user.username, subject=f"user:{user.id}", detail=detail)


def _codes(stores: list[Store]) -> str:
    return ", ".join(s.code for s in stores) or "none"


def _a(role: str) -> str:
    return ("an " if role[0] in "aeiou" else "a ") + role


def last_sign_ins(users: list[User]) -> dict[int, datetime]:
    """When each of these accounts last signed in, by user id."""
    ids = {u.username: u.id for u in users}
    rows = db.session.execute(
        select(AuditEntry.username, func.max(AuditEntry.created_at))
        .where(AuditEntry.username.in_(ids), AuditEntry.action == "sign_in")
        .group_by(AuditEntry.username)
    )
    return {ids[name]: at for name, at in rows}
