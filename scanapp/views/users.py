"""User administration (admins): the accounts of the admin's stores; making one; changing one's role, stores,
password, active state and sign-in lock. Each change is one service call, recorded as an event (a double tap
applies once) and in the audit log. Accounts of stores the admin is not in answer 404."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from scanapp.extensions import db
from scanapp.forms.users import PASSWORD_HINT, NewUserForm, PasswordForm, RoleForm, StoresForm, store_choices
from scanapp.htmx import render
from scanapp.models import Store, User
from scanapp.services import DomainError, sign_in, users
from scanapp.services.events import start_event
from scanapp.views import commit_once, replayed, requires
from scanapp.views.moves import attach_error

bp = Blueprint("users", __name__, url_prefix="/settings/users")


class ActionForm(FlaskForm):
    """A button that changes one thing (deactivate, reactivate, unlock): its CSRF token and event id."""

    event_id = HiddenField()


@bp.get("/")
@requires("manage_users")
def index():
    people = users.visible_users(current_user)
    return render(
        "users/index.html",
        people=people,
        last=users.last_sign_ins(people),
        locked=sign_in.locked_accounts([p.username for p in people]),
        mine=current_user.store_ids,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("manage_users")
def new():
    form = NewUserForm()
    store_choices(form, current_user.stores)
    done = form.validate_on_submit() and _apply(
        form, "create_user", users.create_user,
        form.username.data, form.name.data, form.role.data, form.password.data, _my_stores(form.stores.data),
    )  # fmt: skip
    status = 422 if request.method == "POST" else 200
    return done or render("users/new.html", form=form, password_hint=PASSWORD_HINT, status=status)


@bp.get("/<int:id>")
@requires("manage_users")
def edit(id: int):
    return _edit_page(_user_or_404(id))


@bp.post("/<int:id>/role")
@requires("manage_users")
def change_role(id: int):
    user, form = _user_or_404(id), RoleForm()
    done = form.validate_on_submit() and _apply(form, "change_role", users.change_role, user, form.role.data)
    return done or _edit_page(user, role_form=form, status=422)


@bp.post("/<int:id>/stores")
@requires("manage_users")
def set_stores(id: int):
    user, form = _user_or_404(id), StoresForm()
    store_choices(form, current_user.stores)
    done = form.validate_on_submit() and _apply(
        form, "set_user_stores", users.set_stores, user, _my_stores(form.stores.data)
    )
    return done or _edit_page(user, stores_form=form, status=422)


@bp.post("/<int:id>/password")
@requires("manage_users")
def reset_password(id: int):
    user, form = _user_or_404(id), PasswordForm()
    done = form.validate_on_submit() and _apply(form, "reset_password", users.reset_password, user, form.password.data)
    return done or _edit_page(user, password_form=form, status=422)


@bp.post("/<int:id>/<any(deactivate, reactivate, unlock):change>")
@requires("manage_users")
def switch(id: int, change: str):
    """Deactivate, reactivate, or unlock sign-in: a button each, on the account's page."""
    operation = {"deactivate": users.deactivate_user, "reactivate": users.reactivate_user, "unlock": users.unlock}
    user, form = _user_or_404(id), ActionForm()
    done = form.validate_on_submit() and _apply(form, f"{change}_user", operation[change], user)
    return done or _edit_page(user, action_form=form, status=422)


DONE = {
    "create_user": "Made the account of {name}.",
    "change_role": "{name} is now {role}.",
    "set_user_stores": "{name} is now in {stores}.",
    "reset_password": "New password set for {name}: give it to them.",
    "deactivate_user": "{name} is deactivated: they can no longer sign in.",
    "reactivate_user": "{name} can sign in again.",
    "unlock_user": "Sign-in for {name} is unlocked.",
}


def _apply(form, action: str, operation, *args):
    """Run one user operation as event `action` and commit; then go to the account's page. On a refusal the
    message goes to the form and None is returned, for the caller to show the page again."""
    try:
        user, earlier = commit_once(form.event_id.data, _as_event, action, form.event_id.data, operation, *args)
    except DomainError as error:
        attach_error(form, error)
        return None
    if earlier is not None:
        return replayed(earlier)
    stores = ", ".join(s.name for s in user.stores if s.id in current_user.store_ids)
    flash(DONE[action].format(name=user.name, role=user.role, stores=stores), "success")
    return redirect(url_for(".edit", id=user.id))


def _as_event(action: str, event_id: str, operation, *args) -> User:
    event = start_event(event_id, action, by=current_user, store=None)
    user = operation(*args, by=current_user)
    event.result = f"user:{user.id}"
    return user


def _user_or_404(user_id: int) -> User:
    user = users.user_for(current_user, user_id)
    if user is None:
        abort(404)
    return user


def _my_stores(ids: list[int] | None) -> list[Store]:
    """The chosen stores among the admin's own; an id of any other store is not even looked up (404). None (a
    post without any field) is none chosen."""
    ids = ids or []
    if any(i not in current_user.store_ids for i in ids):
        abort(404)
    return [db.session.get(Store, i) for i in ids]


def _edit_page(user: User, *, status: int = 200, **forms):
    role_form = forms.get("role_form") or RoleForm(formdata=None, role=user.role)
    stores_form = forms.get("stores_form") or StoresForm(formdata=None, stores=sorted(user.store_ids))
    store_choices(stores_form, current_user.stores)
    return render(
        "users/edit.html",
        user=user,
        role_form=role_form,
        stores_form=stores_form,
        password_form=forms.get("password_form") or PasswordForm(formdata=None),
        action_form=forms.get("action_form") or ActionForm(formdata=None),
        lock=sign_in.account_lock(user.username),
        last=users.last_sign_ins([user]).get(user.id),
        elsewhere=len(user.store_ids - current_user.store_ids),
        password_hint=PASSWORD_HINT,
        status=status,
    )
