"""The recall trace: forwards from a lot, a shipment or a certificate to every piece and weight; backwards from a
finished piece to its component lots; who may trace what; the page, its print view and its CSV."""

import csv
import io
from decimal import Decimal

import pytest

from scanapp.extensions import db
from scanapp.services import Forbidden, access, ledger, trace
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine
from scanapp.services.sales import sell
from tests.test_reports import build_history

D = Decimal


@pytest.fixture
def h(make):
    return build_history(make)


def only(result, number):
    [found] = [t for t in result.lots if t.lot.number == number]
    return found


def summary(lines):
    return [(line.movement.reference, line.movement.pieces, line.movement.weight) for line in lines]


def test_a_lot_number_finds_its_sales_returns_and_places(h):
    result = trace.trace("ring", h.manager)
    assert [t.lot.number for t in result.lots] == ["RING"]
    ring = only(result, "RING")
    assert [(p.store, p.location, p.pieces) for p in ring.places] == [
        ("Main Street", "Showcase 1", 4),
        ("Main Street", "Customers", 4),
        ("Mall", "Mall safe", 1),
        ("Mall", "Customers", 1),
    ]
    assert summary(ring.lines["sales"]) == [("R-100", 3, 0), ("R-101", 2, 0), ("B-1", 1, 0)]
    assert [line.amount for line in ring.lines["sales"]] == [D("450.00"), D("320.00"), D("200.00")]
    assert summary(ring.lines["returns"]) == [("R-100", 1, 0)]
    assert ring.lines["returns"][0].amount == D("150.00")
    assert "bench" not in ring.lines and "vendor_returns" not in ring.lines


@pytest.mark.parametrize("query", ["inv-77", "INV-77", "po-9", "GIA 2141438171", "2141438171"])
def test_an_invoice_po_or_certificate_finds_the_lot(h, query):
    numbers = [t.lot.number for t in trace.trace(query, h.manager).lots]
    assert numbers == (["MELEE"] if "2141" in query else ["RING"])


def test_a_shipment_finds_every_lot_of_it(h, make):
    place = h.places["safe"]
    second = make.lot(place, number="RING-B", supplier=h.lots["ring"].supplier, by=h.manager)
    second.invoice_number = "INV-77"
    assert [t.lot.number for t in trace.trace("INV-77", h.manager).lots] == ["RING-B", "RING"]  # oldest first


def test_consumption_vendor_return_and_adjustment_of_a_lot(h):
    melee = only(trace.trace("MELEE", h.manager), "MELEE")
    assert summary(melee.lines["sales"]) == [("R-102", 10, D("0.500"))]
    [used] = melee.lines["bench"]
    assert (used.movement.kind, used.movement.pieces, used.movement.weight) == ("consume", 20, D("1.000"))
    assert used.work_order.startswith("WO-") and used.movement.reference == used.work_order
    assert used.piece == h.piece and not used.taken_out
    [sent] = melee.lines["vendor_returns"]
    assert (sent.movement.pieces, sent.movement.weight, sent.movement.to_location.kind) == (
        8,
        D("0.400"),
        "vendor_return",
    )
    [counted] = melee.lines["adjustments"]
    assert (counted.movement.kind, counted.movement.pieces, counted.movement.weight) == ("adjust", 2, D("0.100"))
    assert counted.movement.to_location.kind == "loss" and counted.movement.reference.startswith("CNT-")
    where = {p.kind: (p.pieces, p.weight) for p in melee.places}
    assert where == {
        "safe": (60, D("3.000")),
        "customer": (10, D("0.500")),
        "production": (20, D("1.000")),
        "loss": (2, D("0.100")),
        "vendor_return": (8, D("0.400")),
    }
    assert sum(p.pieces for p in melee.places) == 100 and sum(p.weight for p in melee.places) == D("5.000")
    [inside] = melee.pieces
    assert (inside.piece, inside.pieces, inside.weight, inside.taken_out) == (h.piece, 20, D("1.000"), False)


def test_backwards_from_a_finished_piece_to_its_component_lots(h):
    result = trace.trace("p-1", h.manager)
    assert [t.lot for t in result.lots] == [h.lots["house"]]
    [piece] = result.pieces
    assert piece.piece == h.piece and piece.work_order.startswith("WO-")
    parts = [(p.lot.number, p.lot.supplier.code, p.pieces, p.weight, p.taken_out) for p in piece.parts]
    assert parts == [("MELEE", "SUN", 20, D("1.000"), False), ("GOLD", "AUR", 0, D("5.000"), False)]


def test_an_undone_sale_is_shown_as_undone(h, make):
    ring = h.lots["ring"]
    [sale] = sell(
        [MoveLine(lot=ring, source=h.places["sc1"], pieces=1)],
        price=D("99.00"),
        receipt="R-999",
        event_id=new_event_id(),
        by=h.manager,
        store=h.a,
    )
    ledger.reverse(make.event(h.manager, h.a), sale)
    lines = only(trace.trace("RING", h.manager), "RING").lines["sales"]
    assert [(line.movement.reference, line.undone) for line in lines][-2:] == [("R-999", True), ("R-999", True)]
    assert [line.undone for line in lines[:3]] == [False, False, False]


def test_only_lots_of_the_users_stores_are_found(h, make):
    mall_only = make.user("manager", [h.b])
    assert [t.lot.number for t in trace.trace("RING", mall_only).lots] == ["RING"]  # it holds stock in the Mall
    assert trace.trace("MELEE", mall_only).empty
    assert trace.trace("P-1", mall_only).empty
    stranger = make.user("manager", [make.store("C")])
    assert trace.trace("INV-77", stranger).empty


def test_trace_needs_the_trace_role(h):
    with pytest.raises(Forbidden):
        trace.trace("RING", h.associate)
    assert trace.trace("RING", h.vault).lots


def test_no_amounts_without_see_cost(h, monkeypatch):
    monkeypatch.setitem(access.PERMISSIONS, "trace", access.ALL_ROLES)
    ring = only(trace.trace("RING", h.associate), "RING")
    assert [line.amount for line in ring.lines["sales"]] == [None, None, None]
    table = trace.table(trace.trace("RING", h.associate), h.associate)
    assert "amount" not in {c.key for c in table.columns}


def test_empty_and_unknown_queries(h):
    assert trace.trace("  ", h.manager).empty
    assert trace.trace("NO-SUCH-LOT", h.manager).empty
    assert not trace.trace("NO-SUCH-LOT", h.manager).more


# ---------------------------------------------------------------- the page and its CSV


def test_trace_page_lists_receipts_work_orders_and_pieces(h, client_for):
    page = client_for(h.manager).get("/reports/trace?q=MELEE")
    assert page.status_code == 200
    for text in (
        "R-102",
        "Returned to the supplier",
        "Count adjustments and write-offs",
        "P-1",
        "600.00",
        "data-print",
    ):
        assert text in page.text
    assert 'href="/reports/trace?q=MELEE&amp;format=csv"' in page.text


def test_trace_page_backwards(h, client_for):
    page = client_for(h.vault).get("/reports/trace?q=P-1")
    assert page.status_code == 200
    assert "Made from" in page.text and 'href="/reports/trace?q=MELEE"' in page.text and "Aurum" in page.text


def test_trace_csv(h, client_for):
    response = client_for(h.manager).get("/reports/trace?q=RING&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="trace-RING.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    sold = [(r["Reference"], r["Pieces"], r["Amount"], r["Store"]) for r in rows if r["What"] == "Sold"]
    assert sold == [
        ("R-100", "3", "450.00", "Main Street"),
        ("R-101", "2", "320.00", "Main Street"),
        ("B-1", "1", "200.00", "Mall"),
    ]
    now = [(r["Store"], r["To"], r["Pieces"]) for r in rows if r["What"] == "Now at"]
    assert ("Main Street", "Showcase 1", "4") in now and ("Mall", "Mall safe", "1") in now
    assert [r["Reference"] for r in rows if r["What"] == "Returned"] == ["R-100"]


def test_trace_csv_of_components_and_formula_text(h, client_for):
    h.lots["melee"].description = "=1+2"
    db.session.commit()
    rows = list(csv.DictReader(io.StringIO(client_for(h.manager).get("/reports/trace?q=P-1&format=csv").text)))
    parts = [(r["Lot"], r["Supplier"], r["Weight"], r["Finished piece"]) for r in rows if r["What"] == "Component"]
    assert parts == [("MELEE", "Sunrise Gems", "1.000", "P-1"), ("GOLD", "Aurum", "5.000", "P-1")]
    h.piece.serial = "@P-1"
    db.session.commit()
    exported = client_for(h.manager).get("/reports/trace?q=@P-1&format=csv").text
    assert ",'@P-1," in exported and ",@P-1," not in exported


def test_trace_page_roles_and_cost(h, client_for, monkeypatch):
    assert client_for(h.associate).get("/reports/trace?q=RING").status_code == 403
    monkeypatch.setitem(access.PERMISSIONS, "trace", access.ALL_ROLES)
    client = client_for(h.associate)
    page = client.get("/reports/trace?q=RING")
    assert page.status_code == 200 and "R-100" in page.text and "450.00" not in page.text
    exported = client.get("/reports/trace?q=RING&format=csv").text
    assert "Amount" not in exported and "450.00" not in exported


def test_trace_form_and_htmx(h, client_for):
    client = client_for(h.manager)
    empty = client.get("/reports/trace")
    assert empty.status_code == 200 and "Type or scan a lot number" in empty.text
    too_long = client.get("/reports/trace?q=" + "X" * 101)
    assert too_long.status_code == 422 and "Type at most 100 characters." in too_long.text
    fragment = client.get("/reports/trace?q=RING", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="trace-body">') and "R-101" in fragment.text


def test_lot_page_links_to_the_trace(h, client_for):
    ring = h.lots["ring"]
    assert 'href="/reports/trace?q=RING"' in client_for(h.vault).get(f"/lots/{ring.id}").text
    assert "/reports/trace" not in client_for(h.associate).get(f"/lots/{ring.id}").text
