"""The audit log for managers and admins: read-only, filtered, a page at a time, or all of it as CSV. Only the
entries of the viewer's stores show (see services/audit.py, `visible_to`); nothing here edits or deletes."""

from datetime import date

from flask import Blueprint, Response, request, stream_with_context
from flask_login import current_user

from scanapp.forms.users import AuditFilterForm
from scanapp.htmx import render
from scanapp.services import audit
from scanapp.views import requires

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@requires("view_audit")
def index():
    """Newest first, filtered by what, who, store and dates; `format=csv` gives every matching entry."""
    form = AuditFilterForm(request.args, stores=current_user.stores)
    if not form.validate():
        return render("audit/index.html", "audit_body", form=form, page=None, status=422)
    if request.args.get("format") == "csv":
        rows = audit.to_csv(current_user._get_current_object(), form.filters())
        return Response(
            stream_with_context(rows),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="audit-{date.today():%Y%m%d}.csv"',
                "Cache-Control": "private, no-store",
            },
        )
    page = audit.page_of(current_user, form.filters(), form.page.data or 1)
    return render("audit/index.html", "audit_body", form=form, page=page)
