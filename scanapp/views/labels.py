"""Labels: tag images (QR, Code 128, DataMatrix, a whole label), ZPL for Zebra printers, and print sheets."""

from flask import Blueprint, Response, abort, request, url_for
from flask_login import current_user

from scanapp.htmx import render
from scanapp.services import DomainError, labels
from scanapp.views import requires

bp = Blueprint("labels", __name__, url_prefix="/labels")

IMAGES = {
    "label": labels.label_png,
    "qr": lambda tag: labels.qr_png(tag.code),
    "code128": lambda tag: labels.code128_png(tag.code),
    "datamatrix": lambda tag: labels.datamatrix_png(tag.code),
}
SHEET_KEYS = ("lot", "location", "store")
PAPERS = ("a4", "letter")


@bp.get("/<code>.png")
@requires("print_labels")
def tag_png(code: str):
    """One image of a tag: `kind` is label (default), qr, code128 or datamatrix. Cached by the browser a day."""
    tag = _tag_or_404(code)
    kind = request.args.get("kind", "label")
    if kind not in IMAGES:
        abort(400, f"Unknown image kind. Choose one of: {', '.join(IMAGES)}.")
    response = Response(IMAGES[kind](tag), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/<code>.zpl")
@requires("print_labels")
def tag_zpl(code: str):
    """ZPL for one barbell tag, as a text file to send to a Zebra printer."""
    tag = _tag_or_404(code)
    return _zpl_download(labels.zpl([tag]), tag.code)


@bp.get("/sheet")
@requires("print_labels")
def sheet():
    """A page of labels made to print: a lot and its items, one location, or all of a store's locations."""
    title, tags = _sheet_or_404()
    paper = request.args.get("paper") if request.args.get("paper") in PAPERS else PAPERS[0]
    query = {key: request.args[key] for key in SHEET_KEYS if key in request.args}
    rows = [(tag, labels.describe(tag), labels.qr_symbol(tag.code).version) for tag in tags]
    return render(
        "labels/sheet.html",
        title=title,
        labels=rows,
        paper=paper,
        query=query,
        zpl_url=url_for("labels.sheet_zpl", **query),
    )


@bp.get("/sheet.zpl")
@requires("print_labels")
def sheet_zpl():
    """ZPL for every tag of a sheet, one label after another."""
    title, tags = _sheet_or_404()
    return _zpl_download(labels.zpl(tags), title)


def _tag_or_404(code: str):
    try:
        return labels.find_visible(code, current_user)
    except labels.TagNotFound as error:
        abort(404, str(error))


def _sheet_or_404():
    ids = {}
    for key in SHEET_KEYS:
        raw = request.args.get(key)
        if raw is not None:
            if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # ids fit a 32-bit integer column
                abort(404, f"There is no {key} {raw[:20]!r}.")
            ids[f"{key}_id"] = int(raw)
    try:
        return labels.sheet_tags(current_user, **ids)
    except labels.TagNotFound as error:
        abort(404, str(error))
    except DomainError as error:
        abort(400, str(error))


def _zpl_download(body: str, name: str) -> Response:
    filename = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in name).strip("-") or "labels"
    response = Response(body, mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.zpl"'
    return response
