"""Reports: every figure against a small history built with the real services, whose answers are worked out by
hand below; the pages, their CSV, filters, and the role and store rules."""

import csv
import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from scanapp.charts import Series, bar_chart, line_chart, nice_ceiling
from scanapp.extensions import db
from scanapp.models import Lot, Store, User
from scanapp.services import Forbidden, access, bench, counts, inspections, ledger, reports, sales, transfers
from scanapp.services.events import new_event_id
from scanapp.services.inspections import Quantity, Split
from scanapp.services.movements import MoveLine
from scanapp.services.receiving import Shipment, receive_lot
from scanapp.services.reports import Filters

D = Decimal


def eid() -> dict:
    return {"event_id": new_event_id()}


@dataclass
class History:
    """Two stores and four supplier lots, and everything that happened to them (see `build_history`)."""

    a: Store
    b: Store
    places: dict
    manager: User
    vault: User
    associate: User
    lots: dict[str, Lot]
    piece: object  # the pendant made at the bench
    today: date


def build_history(make) -> History:
    """The hand-built history. All in store A (Main Street) unless said; every movement happens today.

    RING (finished, BEL, 10 pcs, 1000.00 → 100.00/pc), received 10 days ago into A/SC1, invoice INV-77, PO PO-9;
      inspected: pass. Sold 3 for 450.00 (R-100) and 2 for 320.00 (R-101); 1 returned on R-100 (refund 150.00);
      2 shipped to B and arrived in B/SAFE; 1 sold there for 200.00 (B-1).
      → net sold 5, sales 820.00, cost 500.00, margin 320.00; on hand 4 in A/SC1, 1 in B/SAFE.
    MELEE (stone, SUN, 100 pcs, 5.000 ct, 2000.00 → 400.00/ct), received 400 days ago into A/SAFE, certificates
      "GIA 2141438171"; first inspection fails: 8 pcs 0.400 ct sent back to the supplier (vendor return), the rest
      accepted; a second inspection passes. Sold 10 pcs 0.500 ct for 600.00 (R-102). Job WO uses 20 pcs 1.000 ct.
      A count of A/SAFE finds 60 pcs 3.000 ct: adjust 2 pcs 0.100 ct to loss.
      → net sold 10 (0.500 ct), sales 600.00, cost 200.00, margin 400.00; on hand 60 pcs 3.000 ct (1200.00).
    GOLD (metal, AUR, 50.000 g, 3000.00 → 60.00/g), received 100 days ago into A/SAFE; the job uses 5.000 g.
      → on hand 45.000 g (2700.00); never sold.
    OLD (finished, BEL, 4 pcs, 400.00), received 200 days ago into A/SAFE; never sold. → 4 pcs (400.00).
    The job makes pendant P-1 (house lot, 0 pieces received, so it costs 0.00 by margin_of's rule) into A/SC1.
    """
    today = datetime.now(UTC).date()
    a, b = make.store("A", "Main Street"), make.store("B", "Mall")
    places = {
        "safe": make.location(a, "SAFE", "safe", "Safe"),
        "sc1": make.location(a, "SC1", "showcase", "Showcase 1"),
        "bench": make.location(a, "BENCH", "bench", "Bench"),
        "b_safe": make.location(b, "SAFE", "safe", "Mall safe"),
    }
    manager = make.user("manager", [a, b], username="maria")
    vault = make.user("vault", [a], username="vera")
    associate = make.user("associate", [a], username="alex")
    bel, sun, aur = make.supplier("BEL", "Bella"), make.supplier("SUN", "Sunrise Gems"), make.supplier("AUR", "Aurum")

    def receive(number, supplier, place, category, days_ago, pieces, cost, weight="0", unit=None, **extra):
        shipment = Shipment(
            supplier=supplier,
            location=places[place],
            category=category,
            description=f"{number.title()} lot",
            received_on=today - timedelta(days=days_ago),
            pieces=pieces,
            cost=D(cost),
            weight=D(weight),
            weight_unit=unit,
            number=number,
            **extra,
        )
        return receive_lot(shipment, **eid(), by=manager, store=a)

    ring = receive("RING", bel, "sc1", "finished", 10, 10, "1000.00", po_number="PO-9", invoice_number="INV-77")
    melee = receive(
        "MELEE", sun, "safe", "stone", 400, 100, "2000.00", "5.000", "ct", attributes={"certificates": "GIA 2141438171"}
    )
    gold = receive("GOLD", aur, "safe", "metal", 100, 0, "3000.00", "50.000", "g")
    old = receive("OLD", bel, "safe", "finished", 200, 4, "400.00")

    inspections.record_inspection(ring, points={"count": "pass"}, result="pass", **eid(), by=vault, store=a)
    inspections.record_inspection(
        melee,
        points={"count": "fail"},
        result="fail",
        **eid(),
        by=vault,
        store=a,
        split=Split(accept=Quantity(92, D("4.600")), hold=Quantity(), send_back=Quantity(8, D("0.400"))),
    )
    inspections.record_inspection(melee, points={"count": "pass"}, result="pass", **eid(), by=vault, store=a)

    sc1, safe = places["sc1"], places["safe"]
    sales.sell(
        [MoveLine(lot=ring, source=sc1, pieces=3)], price=D("450.00"), receipt="R-100", **eid(), by=manager, store=a
    )
    sales.sell(
        [MoveLine(lot=ring, source=sc1, pieces=2)], price=D("320.00"), receipt="R-101", **eid(), by=manager, store=a
    )
    sales.return_sale(ring, sc1, receipt="R-100", pieces=1, **eid(), by=manager, store=a)
    shipment = transfers.ship(
        [MoveLine(lot=ring, source=sc1, pieces=2)], b, reference="T-1", carrier="Van", **eid(), by=manager, store=a
    )
    transfers.arrive(shipment, [MoveLine(lot=ring, pieces=2)], places["b_safe"], **eid(), by=manager, store=b)
    sales.sell(
        [MoveLine(lot=ring, source=places["b_safe"], pieces=1)],
        price=D("200.00"),
        receipt="B-1",
        **eid(),
        by=manager,
        store=b,
    )
    sales.sell(
        [MoveLine(lot=melee, source=safe, pieces=10, weight=D("0.500"))],
        price=D("600.00"),
        receipt="R-102",
        **eid(),
        by=manager,
        store=a,
    )

    job = bench.open_work_order(
        bench.NewJob(kind="custom", description="Pendant", bench=places["bench"]), **eid(), by=manager, store=a
    )
    bench.use_material(
        job, MoveLine(lot=melee, source=safe, pieces=20, weight=D("1.000")), **eid(), by=manager, store=a
    )
    bench.use_material(job, MoveLine(lot=gold, source=safe, pieces=0, weight=D("5.000")), **eid(), by=manager, store=a)
    piece = bench.finish_custom_job(
        job,
        bench.Product(dest=sc1, labour_cost=D("100.00"), serial="P-1", description="Pendant"),
        **eid(),
        by=manager,
        store=a,
    )

    count = counts.start_count(a, safe, blind=False, **eid(), by=vault)
    for lot, pieces, weight in ((melee, 60, D("3.000")), (gold, 0, D("45.000")), (old, 4, None)):
        counts.add_line(count, lot_number=lot.number, pieces=pieces, weight=weight, **eid(), by=vault)
    counts.close_counting(count, **eid(), by=vault)
    counts.approve(count, **eid(), by=manager)
    db.session.commit()
    lots = {"ring": ring, "melee": melee, "gold": gold, "old": old, "house": piece.lot}
    return History(a, b, places, manager, vault, associate, lots, piece, today)


@pytest.fixture
def h(make) -> History:
    return build_history(make)


def by(table, key="lot") -> dict:
    return {row[key]: row for row in table.rows}


# ---------------------------------------------------------------- the figures


def test_stock_on_hand_by_place_store_and_category(h):
    report = reports.stock_on_hand(h.manager, Filters())
    places = {(r["store"], r["place"], r["category"]): r for r in report.table("places").rows}
    # 4 rings at 100.00 and the pendant at 0.00
    assert places["Main Street", "Showcase 1", "finished"] == {
        "store": "Main Street",
        "place": "Showcase 1",
        "category": "finished",
        "lots": 2,
        "pieces": 5,
        "ct": D("0.000"),
        "g": D("0.000"),
        "cost": D("400.00"),
    }
    assert places["Main Street", "Safe", "stone"]["pieces"] == 60
    assert places["Main Street", "Safe", "stone"]["ct"] == D("3.000")
    assert places["Main Street", "Safe", "stone"]["cost"] == D("1200.00")
    assert places["Main Street", "Safe", "metal"]["g"] == D("45.000")
    assert places["Main Street", "Safe", "metal"]["cost"] == D("2700.00")
    assert places["Main Street", "Safe", "finished"]["cost"] == D("400.00")
    assert places["Mall", "Mall safe", "finished"]["pieces"] == 1
    assert places["Mall", "Mall safe", "finished"]["cost"] == D("100.00")
    assert len(places) == 5
    totals = report.table("places").totals
    assert (totals["lots"], totals["pieces"], totals["ct"], totals["g"], totals["cost"]) == (
        5,
        70,
        D("3.000"),
        D("45.000"),
        D("4800.00"),
    )
    stores = by(report.table("stores"), "store")
    assert (stores["Main Street"]["pieces"], stores["Main Street"]["cost"]) == (69, D("4700.00"))
    assert (stores["Mall"]["lots"], stores["Mall"]["cost"]) == (1, D("100.00"))
    categories = by(report.table("categories"), "category")
    assert categories["finished"]["lots"] == 3 and categories["finished"]["cost"] == D("900.00")
    assert report.charts[0].labels == ["finished", "metal", "stone"]
    assert report.charts[0].values == [D("900.00"), D("2700.00"), D("1200.00")]


def test_inventory_age_by_lot_and_bucket(h):
    report = reports.inventory_age(h.manager, Filters(), today=h.today)
    lots = by(report.table("lots"))
    assert {n: (r["days"], r["bucket"]) for n, r in lots.items() if n in ("RING", "MELEE", "GOLD", "OLD")} == {
        "RING": (10, "0–30 days"),
        "MELEE": (400, "> 365 days"),
        "GOLD": (100, "91–180 days"),
        "OLD": (200, "181–365 days"),
    }
    assert (lots["RING"]["pieces"], lots["RING"]["cost"]) == (5, D("500.00"))  # 4 in A, 1 in B
    assert (lots["MELEE"]["weight"], lots["MELEE"]["unit"]) == (D("3.000"), "ct")
    assert lots["OLD"]["weight"] is None
    assert [r["lot"] for r in report.table("lots").rows][:4] == ["MELEE", "OLD", "GOLD", "RING"]  # oldest first
    buckets = by(report.table("buckets"), "bucket")
    assert [(b["lots"], b["pieces"], b["cost"]) for b in buckets.values()] == [
        (2, 6, D("500.00")),
        (0, 0, D("0.00")),
        (1, 0, D("2700.00")),
        (1, 4, D("400.00")),
        (1, 60, D("1200.00")),
    ]
    assert report.table("buckets").totals["cost"] == D("4800.00")
    assert report.charts[0].values == [b["cost"] for b in buckets.values()]


def test_inventory_age_moves_with_the_day_it_is_asked(h):
    later = reports.inventory_age(h.manager, Filters(), today=h.today + timedelta(days=21))
    assert by(later.table("lots"))["RING"]["bucket"] == "31–90 days"


def test_margin_by_lot_is_net_of_returns(h):
    report = reports.margin_by_lot(h.manager, Filters())
    lots = by(report.table("lots"))
    assert set(lots) == {"RING", "MELEE"}
    ring, melee = lots["RING"], lots["MELEE"]
    assert (ring["pieces"], ring["revenue"], ring["cost"], ring["margin"], ring["margin_pct"]) == (
        5,
        D("820.00"),
        D("500.00"),
        D("320.00"),
        D("39.0"),
    )
    assert (melee["pieces"], melee["weight"], melee["revenue"], melee["cost"], melee["margin"]) == (
        10,
        D("0.500"),
        D("600.00"),
        D("200.00"),
        D("400.00"),
    )
    assert report.table("lots").totals == {
        "lot": "Total",
        "pieces": 15,
        "revenue": D("1420.00"),
        "cost": D("700.00"),
        "margin": D("720.00"),
        "margin_pct": D("50.7"),
    }


def test_set_based_margins_agree_with_margin_of(h):
    figures = reports.margins(h.manager, Filters())
    for lot in h.lots.values():
        expected = sales.margin_of(lot)
        if lot.id not in figures:
            assert (expected.pieces, expected.revenue) == (0, 0)
            continue
        got = figures[lot.id][1]
        assert (got.pieces, got.weight, got.revenue, got.cost, got.margin) == (
            expected.pieces,
            expected.weight,
            expected.revenue,
            expected.cost,
            expected.margin,
        )


def test_an_undone_sale_counts_for_nothing(h, make):
    ring = h.lots["ring"]
    before = reports.margins(h.manager, Filters())[ring.id][1]
    [sale] = sales.sell(
        [MoveLine(lot=ring, source=h.places["sc1"], pieces=1)],
        price=D("99.00"),
        receipt="R-999",
        **eid(),
        by=h.manager,
        store=h.a,
    )
    ledger.reverse(make.event(h.manager, h.a), sale)
    after = reports.margins(h.manager, Filters())[ring.id][1]
    assert after == before
    assert (after.revenue, after.cost) == (sales.margin_of(ring).revenue, sales.margin_of(ring).cost)
    bel = by(reports.supplier_performance(h.manager, Filters()).table("suppliers"), "code")["BEL"]
    assert (bel["sold"], bel["revenue"]) == (6, D("820.00"))


def test_supplier_performance(h):
    report = reports.supplier_performance(h.manager, Filters())
    rows = by(report.table("suppliers"), "code")
    assert set(rows) == {"AUR", "BEL", "SUN"}
    bel, sun, aur = rows["BEL"], rows["SUN"], rows["AUR"]
    assert (bel["lots"], bel["received"], bel["sold"], bel["returned"], bel["return_pct"]) == (2, 14, 6, 1, D("16.7"))
    assert (bel["sent_back"], bel["sent_back_pct"], bel["inspections"], bel["failed"], bel["failed_pct"]) == (
        0,
        D("0.0"),
        1,
        0,
        D("0.0"),
    )
    assert (bel["revenue"], bel["cost"], bel["margin"], bel["margin_pct"]) == (
        D("820.00"),
        D("500.00"),
        D("320.00"),
        D("39.0"),
    )
    assert bel["median_days"] == D("10.0")  # RING's first sale, today; OLD never sold
    assert (sun["received"], sun["sold"], sun["returned"], sun["return_pct"]) == (100, 10, 0, D("0.0"))
    assert (sun["sent_back"], sun["sent_back_pct"]) == (8, D("8.0"))
    assert (sun["inspections"], sun["failed"], sun["failed_pct"]) == (2, 1, D("50.0"))
    assert (sun["margin"], sun["margin_pct"], sun["median_days"]) == (D("400.00"), D("66.7"), D("400.0"))
    assert (aur["lots"], aur["received"], aur["sent_back_pct"], aur["revenue"], aur["median_days"]) == (
        1,
        0,
        None,
        D("0"),
        None,
    )
    assert report.charts[0].labels == ["BEL", "SUN"]


def test_sales_velocity_weeks_lots_and_slow_movers(h):
    report = reports.sales_velocity(h.manager, Filters(days=90), today=h.today)
    weeks = report.table("weeks")
    this_week = h.today - timedelta(days=h.today.weekday())
    assert weeks.rows[-1] == {"week": this_week, "pieces": 15, "revenue": D("1420.00")}
    assert sum(r["pieces"] for r in weeks.rows[:-1]) == 0
    assert weeks.totals["pieces"] == 15
    assert weeks.rows[0]["week"] <= h.today - timedelta(days=89) < weeks.rows[0]["week"] + timedelta(days=7)
    assert report.charts[0].style == "line" and report.charts[0].values[-1] == D("1420.00")
    lots = report.table("lots")
    assert [(r["lot"], r["pieces"], r["per_30"], r["held_pieces"]) for r in lots.rows] == [
        ("MELEE", 10, D("3.3"), 60),
        ("RING", 5, D("1.7"), 5),
    ]
    slow = report.table("slow")
    assert [(r["lot"], r["last_sale"], r["age"], r["pieces"]) for r in slow.rows] == [
        ("OLD", None, 200, 4),
        ("GOLD", None, 100, 0),
    ]
    assert slow.rows[1]["weight"] == D("45.000") and slow.rows[0]["cost"] == D("400.00")


def test_slow_movers_count_the_days_since_the_last_sale(h):
    """30 days on, asking for 30 days without a sale: MELEE and RING, last sold 30 days before, join OLD, GOLD
    and the pendant made today (never sold)."""
    report = reports.sales_velocity(h.manager, Filters(days=30), today=h.today + timedelta(days=30))
    slow = by(report.table("slow"))
    assert set(slow) == {"OLD", "GOLD", "MELEE", "RING", h.lots["house"].number}
    assert (slow["MELEE"]["last_sale"], slow["MELEE"]["since_sale"]) == (h.today, 30)


def test_low_stock_under_a_threshold(h):
    assert reports.low_stock(h.manager, Filters()).table("lots").rows == []  # nothing under 25 %
    rows = reports.low_stock(h.manager, Filters(threshold=70)).table("lots").rows
    assert [(r["lot"], r["pieces"], r["weight"], r["left_pct"]) for r in rows] == [
        ("RING", 5, None, D("50.0")),
        ("MELEE", 60, D("3.000"), D("60.0")),
    ]
    assert rows[1]["received_weight"] == D("5.000") and rows[1]["cost"] == D("1200.00")


# ---------------------------------------------------------------- filters


def test_store_filter_keeps_to_that_store(h):
    only_b = Filters(store_ids=(h.b.id,))
    stock = reports.stock_on_hand(h.manager, only_b)
    assert [(r["store"], r["pieces"], r["cost"]) for r in stock.table("places").rows] == [("Mall", 1, D("100.00"))]
    margin = by(reports.margin_by_lot(h.manager, only_b).table("lots"))
    assert set(margin) == {"RING"}
    assert (margin["RING"]["pieces"], margin["RING"]["revenue"], margin["RING"]["cost"]) == (
        1,
        D("200.00"),
        D("100.00"),
    )
    bel = by(reports.supplier_performance(h.manager, only_b).table("suppliers"), "code")["BEL"]
    assert (bel["lots"], bel["received"], bel["sold"]) == (0, 0, 1)


def test_supplier_and_category_filters(h):
    sun = Filters(supplier_id=h.lots["melee"].supplier_id)
    assert set(by(reports.margin_by_lot(h.manager, sun).table("lots"))) == {"MELEE"}
    assert set(by(reports.inventory_age(h.manager, sun).table("lots"))) == {"MELEE"}
    finished = Filters(category="finished")
    assert set(by(reports.inventory_age(h.manager, finished).table("lots"))) == {"RING", "OLD", h.lots["house"].number}
    assert [r["category"] for r in reports.stock_on_hand(h.manager, finished).table("categories").rows] == ["finished"]


def test_date_range_filters_movements_and_received_dates(h):
    past = Filters(start=h.today - timedelta(days=30), end=h.today - timedelta(days=1))
    assert reports.margin_by_lot(h.manager, past).table("lots").rows == []
    assert by(reports.supplier_performance(h.manager, past).table("suppliers"), "code") == {}
    now = Filters(start=h.today, end=h.today)
    assert by(reports.margin_by_lot(h.manager, now).table("lots"))["RING"]["revenue"] == D("820.00")
    received = Filters(start=h.today - timedelta(days=150), end=h.today - timedelta(days=50))
    assert set(by(reports.inventory_age(h.manager, received).table("lots"))) == {"GOLD"}
    weeks = reports.sales_velocity(h.manager, past, today=h.today).table("weeks")
    assert weeks.totals["pieces"] == 0 and weeks.rows[0]["week"] <= past.start


# ---------------------------------------------------------------- roles, stores and cost


def test_reports_need_a_manager_and_their_own_stores(h, make):
    with pytest.raises(Forbidden):
        reports.stock_on_hand(h.associate, Filters())
    with pytest.raises(Forbidden):
        reports.stock_on_hand(h.vault, Filters())
    stranger = make.user("manager", [make.store("C")])
    with pytest.raises(Forbidden):
        reports.margin_by_lot(stranger, Filters(store_ids=(h.a.id,)))
    assert reports.margin_by_lot(stranger, Filters()).table("lots").rows == []
    assert reports.stock_on_hand(stranger, Filters()).table("places").rows == []


def test_no_cost_or_money_without_see_cost(h, monkeypatch):
    """Were associates allowed the reports, they would still see no cost, sale price or margin anywhere."""
    monkeypatch.setitem(access.PERMISSIONS, "reports", access.ALL_ROLES)
    money_keys = {"cost", "revenue", "margin", "margin_pct"}
    for name, build in reports.REPORTS.items():
        report = build(h.associate, Filters(threshold=100))
        for table in report.tables:
            assert not [c for c in table.columns if c.cost or c.key in money_keys], (name, table.name)
            for row in table.rows + [table.totals or {}]:
                assert not money_keys & row.keys(), (name, table.name)
    age = reports.inventory_age(h.associate, Filters(), today=h.today)
    assert age.charts[0].title == "Lots by age" and age.charts[0].values == [2, 0, 1, 1, 1]  # store A only
    assert reports.sales_velocity(h.associate, Filters()).charts[0].title == "Pieces sold per week"


# ---------------------------------------------------------------- CSV


def test_csv_neutralises_formulas_and_keeps_numbers_plain():
    table = reports.Table(
        "t",
        "T",
        [reports.Column("text", "=Label"), reports.Column("n", "N", "money"), reports.Column("d", "D", "date")],
        [
            {"text": '=HYPERLINK("http://x")', "n": D("-12.50"), "d": date(2026, 4, 1)},
            {"text": "+1", "n": D("1234567.80")},
            {"text": "-2+3", "n": None},
            {"text": "@SUM(A1)", "n": D("0.00")},
            {"text": "plain, with comma", "n": D("5")},
        ],
        totals={"text": "Total", "n": D("1234560.30")},
    )
    rows = list(csv.reader(io.StringIO(reports.to_csv(table))))
    assert rows == [
        ["'=Label", "N", "D"],
        ['\'=HYPERLINK("http://x")', "-12.50", "2026-04-01"],
        ["'+1", "1234567.80", ""],
        ["'-2+3", "", ""],
        ["'@SUM(A1)", "0.00", ""],
        ["plain, with comma", "5.00", ""],
        ["Total", "1234560.30", ""],
    ]


def test_csv_of_a_description_that_looks_like_a_formula(h, client_for):
    h.lots["ring"].description = "=cmd|' /C calc'!A0"
    client = client_for(h.manager)
    response = client.get("/reports/margin?format=csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["Lot"]: r["Description"] for r in rows}["RING"] == "'=cmd|' /C calc'!A0"


# ---------------------------------------------------------------- pages


def _cells(page: str, table: str) -> list[list[str]]:
    """The text of each body and foot row of a report table on the page."""
    section = page.split(f'id="table-{table}"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section.split("<tbody>", 1)[1], re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in row] for row in cells]


@pytest.mark.parametrize("name", list(reports.REPORTS))
def test_every_report_page_and_its_csv_match(h, client_for, name):
    client = client_for(h.manager)
    page = client.get(f"/reports/{name}?threshold=70")
    assert page.status_code == 200
    report = reports.REPORTS[name](h.manager, Filters(threshold=70))
    for table in report.tables:
        response = client.get(f"/reports/{name}?format=csv&table={table.name}&threshold=70")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert re.fullmatch(
            rf'attachment; filename="{name}-{table.name}-\d{{8}}.csv"', response.headers["Content-Disposition"]
        )
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == [c.label for c in table.columns]
        body = rows[1:]
        assert len(body) == len(table.rows) + (1 if table.totals else 0)
        on_page = _cells(page.text, table.name)
        assert len(on_page) == len(body)
        for shown, exported in zip(on_page, body, strict=True):
            assert [s.replace(",", "") for s in shown] == [_as_shown(v) for v in exported]


def _as_shown(value: str) -> str:
    """A CSV cell as the page writes it (dates as 01 Apr 2026, no thousands separators)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value).strftime("%d %b %Y")
    return value


def test_margin_page_shows_the_known_figures(h, client_for):
    page = client_for(h.manager).get("/reports/margin")
    ring = next(row for row in _cells(page.text, "lots") if row[0] == "RING")
    assert ring[4:] == ["5", "", "", "820.00", "500.00", "320.00", "39.0"]
    assert _cells(page.text, "lots")[-1][-4:] == ["1,420.00", "700.00", "720.00", "50.7"]


def test_index_has_a_card_per_report(h, client_for):
    page = client_for(h.manager).get("/reports/")
    assert page.status_code == 200
    for name in reports.REPORTS:
        assert f'href="/reports/{name}"' in page.text
    assert 'href="/reports/trace"' in page.text


@pytest.mark.parametrize("path", ["/reports/", "/reports/stock", "/reports/margin?format=csv"])
def test_associates_and_vault_get_403(h, client_for, path):
    assert client_for(h.associate).get(path).status_code == 403
    assert client_for(h.vault).get(path).status_code == 403


def test_pages_show_no_cost_without_see_cost(h, client_for, monkeypatch):
    monkeypatch.setitem(access.PERMISSIONS, "reports", access.ALL_ROLES)
    client = client_for(h.associate)
    page = client.get("/reports/stock")
    assert page.status_code == 200 and "Cost" not in page.text and "400.00" not in page.text
    exported = client.get("/reports/margin?format=csv").text
    assert "Sales" not in exported.splitlines()[0] and "820.00" not in exported and "RING" in exported


def test_store_choices_are_only_the_users_stores(h, client_for, make):
    other = make.store("C", "Elsewhere")
    client = client_for(h.manager)
    page = client.get("/reports/stock")
    assert "Mall" in page.text and "Elsewhere" not in page.text
    refused = client.get(f"/reports/stock?store={other.id}")
    assert refused.status_code == 422 and "Choose one of your stores." in refused.text
    mall = client.get(f"/reports/stock?store={h.b.id}&format=csv&table=stores")
    assert [r["Store"] for r in csv.DictReader(io.StringIO(mall.text))] == ["Mall", "Total"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-02-30", "Not a valid date value"),
        ("end=yesterday", "Not a valid date value"),
        ("start=2026-05-01&end=2026-04-01", "The end date is before the start date"),
        ("start=0001-01-01", "Give a date from 1900 to 2999"),
        ("supplier=abc", "Choose a supplier from the list."),
        ("supplier=99999", "Choose a supplier from the list."),
        ("category=gems", "Choose a category from the list."),
        ("days=0", "from 1 to 3650"),
        ("days=ten", "Not a valid integer value"),
    ],
)
def test_bad_filters_get_422_with_a_message(h, client_for, query, message):
    response = client_for(h.manager).get(f"/reports/velocity?{query}")
    assert response.status_code == 422
    assert message in response.text
    assert client_for(h.manager).get(f"/reports/velocity?{query}&format=csv").status_code == 422


def test_a_filter_the_report_does_not_use_is_ignored(h, client_for):
    client = client_for(h.manager)
    assert client.get("/reports/margin?threshold=ten").status_code == 200
    refused = client.get("/reports/low-stock?threshold=200")
    assert refused.status_code == 422 and "Give a percentage from 1 to 100." in refused.text


def test_filters_reach_the_report_and_the_csv_link(h, client_for):
    client = client_for(h.manager)
    supplier = h.lots["melee"].supplier_id
    page = client.get(f"/reports/margin?supplier={supplier}&start={h.today}&end={h.today}")
    assert [row[0] for row in _cells(page.text, "lots")] == ["MELEE", "Total"]
    assert f"format=csv&amp;table=lots&amp;supplier={supplier}&amp;start={h.today}&amp;end={h.today}" in page.text


def test_htmx_filter_swaps_only_the_report_body(h, client_for):
    response = client_for(h.manager).get("/reports/age", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert response.text.lstrip().startswith('<div id="report-body">')
    assert "<svg" in response.text


def test_unknown_report_or_table_is_404(h, client_for):
    client = client_for(h.manager)
    assert client.get("/reports/nothing").status_code == 404
    assert client.get("/reports/stock?format=csv&table=nothing").status_code == 404


# ---------------------------------------------------------------- charts


def test_charts_are_svg_with_their_figures():
    bars = bar_chart(Series("Cost by age", ["0–30 days", "<b>"], [D("1200.00"), D("0")], unit="USD"))
    assert bars.startswith('<svg class="chart chart-bar"') and bars.count('class="chart-bar"') == 2
    assert "&lt;b&gt;" in bars and "<b>" not in bars
    assert "1.2k" in bars and "Cost by age (USD)" in bars
    line = line_chart(Series("Per week", ["a", "b", "c"], [1, 5, 2], style="line"))
    assert "<polyline" in line and line.count("<circle") == 3
    assert line_chart(Series("Empty", [], [], style="line")).count("<polyline") == 0
    assert [nice_ceiling(v) for v in (0, 1, 7, 13, 450, D("0.3"))] == [1, 1, 10, 20, 500, D("0.5")]
