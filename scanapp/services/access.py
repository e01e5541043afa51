"""Who may do what: roles decide the actions, store membership decides the data."""

from scanapp.models import User
from scanapp.services import Forbidden

ALL_ROLES = frozenset({"associate", "vault", "bench", "manager", "admin"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "look_up": ALL_ROLES,
    "see_cost": frozenset({"vault", "bench", "manager", "admin"}),
    "receive": frozenset({"vault", "manager", "admin"}),
    "print_labels": ALL_ROLES,
    "move": ALL_ROLES,
    "manage_suppliers": frozenset({"vault", "manager", "admin"}),
    "manage_locations": frozenset({"manager", "admin"}),
    "manage_users": frozenset({"admin"}),
    "view_audit": frozenset({"manager", "admin"}),
    "reverse": frozenset({"vault", "manager", "admin"}),
    "sell": frozenset({"associate", "manager", "admin"}),
    "return": frozenset({"associate", "vault", "manager", "admin"}),
    "override_return": frozenset({"manager", "admin"}),
    "manage_return_reasons": frozenset({"manager", "admin"}),
    "ship": frozenset({"manager", "admin"}),
    "resolve_transfer": frozenset({"manager", "admin"}),
    "manage_api_tokens": frozenset({"manager", "admin"}),
    "inspect": frozenset({"vault", "manager", "admin"}),
    "release": frozenset({"manager", "admin"}),
    "count": frozenset({"vault", "manager", "admin"}),
    "approve_count": frozenset({"manager", "admin"}),
    "bench": frozenset({"bench", "manager", "admin"}),
    "reports": frozenset({"manager", "admin"}),
    "trace": frozenset({"vault", "manager", "admin"}),
}


def can(user: User, action: str) -> bool:
    """True when `user`'s role allows `action` (an unknown action is allowed to no one)."""
    return user.is_authenticated and user.role in PERMISSIONS.get(action, frozenset())


def require(user: User, action: str) -> None:
    """Raise Forbidden unless `user` may take `action`."""
    if not can(user, action):
        raise Forbidden("Your role does not allow this.")


def require_store(user: User, store_id: int) -> None:
    """Raise Forbidden unless `user` belongs to the store."""
    if store_id not in user.store_ids:
        raise Forbidden("That belongs to a store you are not a member of.")
