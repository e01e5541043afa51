"""Signing in and out, and choosing the store to work in."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from scanapp.extensions import db
from scanapp.forms.auth import LoginForm, StoreForm
from scanapp.htmx import render
from scanapp.services import DomainError, sign_in

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render("auth/login.html", form=form, status=422 if form.errors else 200)
    try:
        user = sign_in.sign_in(form.username.data, form.password.data)
    except sign_in.SignInLocked as locked:
        db.session.commit()  # the refused try is on the record
        form.form_errors.append(str(locked))
        response = render("auth/login.html", form=form, status=429)
        response.headers["Retry-After"] = str(locked.retry_after)
        return response
    except DomainError as wrong:
        db.session.commit()  # the failure counts towards the limit
        form.password.errors.append(str(wrong))
        return render("auth/login.html", form=form, status=422)
    db.session.commit()
    login_user(user, remember=form.remember.data)
    session["store_id"] = user.stores[0].id if user.stores else None
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
@login_required
def logout():
    sign_in.sign_out(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("Signed out.", "info")
    response = redirect(url_for("auth.login"))
    # A shared phone must not show the last user's pages from the offline count cache.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.post("/store")
@login_required
def switch_store():
    form = StoreForm()
    if not form.validate_on_submit() or form.store_id.data not in current_user.store_ids:
        abort(404)
    session["store_id"] = form.store_id.data
    return redirect(_safe_next(request.form.get("next")))


def _safe_next(target: str | None) -> str:
    """Only follow a local path after sign-in, never another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.index")
