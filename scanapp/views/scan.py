"""Scanning: a tag's own URL (/t/<code>), and the lookup of a scanned, typed or photographed code."""

from flask import Blueprint, current_app, jsonify, make_response, redirect, request, url_for
from flask_login import current_user

from scanapp.htmx import render, wants_fragment
from scanapp.services import DomainError, scanning
from scanapp.views import requires

bp = Blueprint("scan", __name__)


@bp.get("/t/<code>")
@bp.get("/T/<code>")
@requires("look_up")
def tag(code: str):
    """What a printed tag's QR opens, from the phone's own camera: the lookup page with the answer a scan gives
    (what the tag is on, where every piece is, what to do next; a job's or a count's tag opens its page), or the
    answer alone for htmx."""
    return _lookup(code)


@bp.post("/scan")
@requires("look_up")
def lookup():
    """The lookup page's answer to a scan: what the code stands for, where it is, what to do next."""
    return _lookup(request.form.get("code", ""))


@bp.post("/scan/photo")
@requires("look_up")
def photo():
    """Read the code in an uploaded photo; answer as a lookup, or with just the code when JSON is asked for
    (the scanner on other pages sends the code on to its own target)."""
    upload = request.files.get("photo")
    wants_json = request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
    try:
        text = scanning.decode_image(upload.read() if upload else b"")
    except DomainError as error:
        return (jsonify(error=str(error)), 422) if wants_json else _answer(error)
    return jsonify(code=text) if wants_json else _lookup(text)


def _lookup(raw: str):
    hosts = scanning.tag_hosts(current_app.config["TAG_HOST"], request.host)
    try:
        result = scanning.lookup(raw, by=current_user, hosts=hosts)
    except DomainError as error:
        return _answer(error)
    if result.found.work_order is not None:  # a job's tag opens the job page
        return _open(url_for("bench.detail", id=result.found.work_order.id))
    if result.found.count is not None:  # a count's tag opens the count page
        return _open(url_for("counts.detail", id=result.found.count.id))
    return render("main/index.html", "result", result=result)


def _open(url: str):
    """Go to another page: a redirect, or for an htmx scan an HX-Redirect so the whole page changes."""
    if not wants_fragment():
        return redirect(url, 303)
    response = make_response("", 204)
    response.headers["HX-Redirect"] = url
    return response


def _answer(error: DomainError):
    """An unknown code is a 404 that offers to receive it; anything else that is not our code is a 422."""
    if isinstance(error, scanning.UnknownCode):
        return render("main/index.html", "result", status=404, unknown=error.code, message=str(error))
    return render("main/index.html", "result", status=422, message=str(error))
