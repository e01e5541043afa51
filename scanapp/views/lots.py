"""The lot page: what a lot is, where every piece of it is, its items, documents and ledger."""

from flask import Blueprint, abort, request, send_file
from flask_login import current_user

from scanapp.extensions import db
from scanapp.htmx import render, wants_fragment
from scanapp.models import Document
from scanapp.services import history
from scanapp.services.documents import media_path

bp = Blueprint("lots", __name__, url_prefix="/lots")


@bp.get("/<int:id>")
def detail(id: int):
    """The whole lot page; htmx's "Show older" (with `before`) gets only the next rows of its history."""
    lot = history.lot_for(current_user, id) or abort(404)
    before = request.args.get("before", type=int)
    page = history.lot_movements(lot, before)
    if before is not None and wants_fragment():
        return render("lots/detail.html", "history_rows", lot=lot, history=page)
    return render(
        "lots/detail.html",
        lot=lot,
        where=history.whereabouts(lot),
        items=history.items_of(lot),
        documents=history.documents_of(lot),
        history=page,
    )


@bp.get("/<int:id>/documents/<int:doc_id>")
def document(id: int, doc_id: int):
    """One of the lot's documents, as stored, to signed-in users who may see the lot."""
    lot = history.lot_for(current_user, id) or abort(404)
    doc = db.session.get(Document, doc_id)
    if doc is None or doc.lot_id != lot.id:
        abort(404)
    path = media_path(doc.sha256)
    if not path.is_file():
        abort(404, "The file of this document is missing from storage.")
    response = send_file(path, mimetype=doc.content_type, download_name=doc.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
