"""API tokens (managers and admins): the current store's tokens, making one for a user of the store (its secret is
shown once, on the answer to the form), and revoking one."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from scanapp.extensions import db
from scanapp.forms import id_or_none
from scanapp.forms.moves import Needed, strip
from scanapp.htmx import render
from scanapp.models import ApiToken, Store, User
from scanapp.services import DomainError
from scanapp.services.api_tokens import create_token, revoke_token
from scanapp.services.events import start_event
from scanapp.views import check_store, commit_once, own_store, replayed, requires
from scanapp.views.moves import attach_error

bp = Blueprint("tokens", __name__, url_prefix="/settings/tokens")


class TokenForm(FlaskForm):
    user_id = SelectField(
        "Acts as", coerce=id_or_none, validate_choice=False, validators=[Needed("Choose the user it acts as.")]
    )
    name = StringField(
        "Name",
        filters=[strip],
        validators=[
            Needed("Name the token after what uses it."),
            Length(max=80, message="At most 80 characters."),
        ],
        render_kw={"autocomplete": "off"},
    )
    event_id = HiddenField()


@bp.route("/", methods=["GET", "POST"])
@requires("manage_api_tokens")
def index():
    """The store's tokens and the form that makes one; the answer to that form is the only place its secret shows."""
    store, form = own_store(), TokenForm()
    if form.validate_on_submit():
        user = db.session.get(User, form.user_id.data)
        if user is None or not user.store_ids & current_user.store_ids:
            abort(404)
        try:
            made, earlier = commit_once(form.event_id.data, _create, user, store, form.name.data, form.event_id.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            if earlier is not None:
                return replayed(earlier)
            token, secret = made
            response = render("tokens/created.html", token=token, secret=secret, status=201)
            response.headers["Cache-Control"] = "no-store"
            return response
    return _tokens_page(store, form, status=422 if request.method == "POST" else 200)


@bp.post("/<int:id>/revoke")
@requires("manage_api_tokens")
def revoke(id: int):
    token = db.get_or_404(ApiToken, id)
    check_store(token.store_id)
    event_id = request.form.get("event_id", "")
    try:
        _, earlier = commit_once(event_id, _revoke, token, event_id)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for(".index"))
    if earlier is not None:
        return replayed(earlier)
    flash(f"Revoked token {token.prefix}… ({token.name}): it no longer works.", "success")
    return redirect(url_for(".index"))


def _create(user: User, store: Store, name: str, event_id: str) -> tuple[ApiToken, str]:
    """Record the request as an event (a double tap makes one token), then make the token."""
    event = start_event(event_id, "create_api_token", by=current_user, store=store)
    token, secret = create_token(user, store, name, by=current_user)
    event.result = f"api_token:{token.id}"
    return token, secret


def _revoke(token: ApiToken, event_id: str) -> ApiToken:
    event = start_event(event_id, "revoke_api_token", by=current_user, store=token.store)
    revoke_token(token, by=current_user)
    event.result = f"api_token:{token.id}"
    return token


def _tokens_page(store: Store, form: TokenForm, *, status: int = 200):
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.store_id == store.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    people = db.session.scalars(
        select(User).where(User.stores.any(Store.id == store.id), User.active).order_by(User.name)
    ).all()
    if current_user.role != "admin":
        people = [p for p in people if p.role != "admin"]
    form.user_id.choices = [SelectChoice("", "Choose the user")] + [
        SelectChoice(p.id, f"{p.name} · {p.role}") for p in people
    ]
    return render("tokens/index.html", store=store, tokens=tokens, form=form, status=status)
