"""Reports (managers) and the recall trace: read-only pages, each table also as CSV (`?format=csv`)."""

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, abort, request
from flask_login import current_user

from scanapp import charts
from scanapp.forms.reports import FilterForm, TraceForm
from scanapp.htmx import render
from scanapp.services import reports, trace
from scanapp.views import requires

bp = Blueprint("reports", __name__, url_prefix="/reports")


@dataclass(frozen=True)
class Card:
    """A report as the index and its page present it. `fields`: the extra filters it uses; `dates`: what the date
    range filters."""

    key: str
    title: str
    blurb: str
    dates: str
    fields: tuple[str, ...] = ()


LOT_DATES = "From and To pick the lots by the day they were received."
SALES_DATES = "From and To pick the sales, returns and receipts of that period."
CARDS = {
    card.key: card
    for card in (
        Card("stock", "Stock on hand", "Pieces, carats, grams and cost by store, place and category.", LOT_DATES),
        Card(
            "age", "Inventory age", "How long stock has waited since it was received, by lot and age bucket.", LOT_DATES
        ),
        Card("margin", "Margin by lot", "Sales against the cost of what sold, net of returns.", SALES_DATES),
        Card(
            "suppliers",
            "Supplier performance",
            "Return and inspection failure rates, margin, and how fast each supplier's lots sell.",
            SALES_DATES,
        ),
        Card(
            "velocity",
            "Sales velocity and slow movers",
            "Pieces sold per week and per 30 days, and lots that have not sold for a while.",
            "From and To pick the sales period (the last 90 days when empty).",
            ("days",),
        ),
        Card(
            "low-stock",
            "Remaining and low stock",
            "Lots with little left of what was received.",
            LOT_DATES,
            ("threshold",),
        ),
    )
}


@bp.context_processor
def _helpers() -> dict:
    return {"chart": charts.render, "cell": cell}


def cell(value, kind: str) -> str:
    """A figure as a page shows it: thousands separated, money with cents, weights with three decimals."""
    value = reports.fixed(value, kind)
    if value is None or value == "":
        return ""
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "weight":
        return f"{value:,.3f}"
    if kind == "int":
        return f"{value:,}"
    if isinstance(value, date):
        return value.strftime("%d %b %Y")
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value)


@bp.get("/")
@requires("reports")
def index():
    """One card per report, and the trace."""
    return render("reports/index.html", cards=CARDS.values())


@bp.get("/<name>")
@requires("reports")
def report(name: str):
    """A report with its filters, charts and tables; with `format=csv`, one of its tables (`table`) as CSV."""
    card = CARDS.get(name) or abort(404)
    form = FilterForm(request.args, stores=current_user.stores, suppliers=reports.supplier_choices(), extra=card.fields)
    if not form.validate():
        return render("reports/report.html", "report_body", status=422, card=card, form=form, report=None)
    result = reports.REPORTS[name](current_user, form.filters())
    if request.args.get("format") == "csv":
        table = result.table(request.args.get("table")) or abort(404, "This report has no such table.")
        return _csv(table, f"{name}-{table.name}-{date.today():%Y%m%d}.csv")
    return render("reports/report.html", "report_body", card=card, form=form, report=result)


@bp.get("/trace")
@requires("trace")
def trace_page():
    """Trace a lot, a supplier shipment, a certificate or a finished piece; with `format=csv`, all of it as CSV."""
    form = TraceForm(request.args)
    if not form.validate():
        return render("reports/trace.html", "trace_body", status=422, form=form, result=None)
    result = trace.trace(form.q.data, current_user)
    if request.args.get("format") == "csv":
        return _csv(trace.table(result, current_user), f"trace-{_slug(result.query)}.csv")
    return render("reports/trace.html", "trace_body", form=form, result=result)


def _slug(text: str) -> str:
    return "".join(ch if (ch.isascii() and ch.isalnum()) or ch == "-" else "_" for ch in text)[:40] or "all"


def _csv(table: reports.Table, filename: str) -> Response:
    return Response(
        reports.to_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"},
    )
