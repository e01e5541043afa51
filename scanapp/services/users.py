"""Staff accounts."""

from sqlalchemy import select

from scanapp.extensions import db
from scanapp.models import ROLES, Store, User
from scanapp.services import DomainError

MIN_PASSWORD = 8


def create_user(username: str, name: str, role: str, password: str, stores: list[Store]) -> User:
    """A new active user of `stores`. Flushes."""
    username = username.strip().lower()
    if not username or len(username) > 64:
        raise DomainError("A username has 1 to 64 characters.", field="username")
    if role not in ROLES:
        raise DomainError(f"Choose a role: {', '.join(ROLES)}.", field="role")
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"A password has at least {MIN_PASSWORD} characters.", field="password")
    if not stores:
        raise DomainError("A user belongs to at least one store.", field="stores")
    if find_user(username) is not None:
        raise DomainError(f"The username {username} is taken.", field="username")
    user = User(username=username, name=name.strip() or username, role=role, stores=list(stores))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def deactivate_user(user: User) -> User:
    """Stop `user` from signing in; their history stays. Flushes."""
    user.active = False
    db.session.flush()
    return user


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username.strip().lower()))


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = find_user(username)
    if user is None or not user.active or not user.check_password(password):
        return None
    return user
