"""The lot and item pages: where every piece is, items, history, cost by role, store isolation and documents.

Also the helpers the page, search and location tests share: a twin app whose requests each get their own app
context (so two signed-in users never share `g`), sign-in through the login form, the text of one element of a
page, and a recorder of the SQL a request runs.
"""

import io
import re
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from PIL import Image
from sqlalchemy import func, select

from scanapp import create_app
from scanapp.extensions import db
from scanapp.models import Item, Location, Lot, Movement, Store, User
from scanapp.services import documents, history, ledger
from tests.conftest import PASSWORD, recorded_sql  # noqa: F401  (other modules take it from here too)

HX = {"HX-Request": "true"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def web(app):
    """A twin of the test app on the same database. Its requests each push their own app context, as in
    production; the `app` fixture's client would share the test's context, and with it the signed-in user."""
    twin = create_app(dict(app.config))
    yield twin
    with twin.app_context():
        db.engine.dispose()


@pytest.fixture
def client_as(web):
    """client_as(user): a client of the twin app, signed in through the login form. Commits what the test made."""

    def sign_in(user: User):
        db.session.commit()
        client = web.test_client()
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return client

    return sign_in


class _ElementText(HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, element_id: str):
        super().__init__()
        self.element_id, self.depth, self.parts, self.found = element_id, 0, [], False

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag not in self.VOID
        elif dict(attrs).get("id") == self.element_id and not self.found:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def text_of(html: str, element_id: str) -> str:
    """The visible text of the element with `element_id`, whitespace collapsed; fails if there is no such element."""
    parser = _ElementText(element_id)
    parser.feed(html)
    assert parser.found, f"no element #{element_id}"
    return " ".join(" ".join(parser.parts).split())


@dataclass
class Chain:
    main: Store
    mall: Store
    safe: Location
    case: Location
    mall_case: Location
    manager: User
    associate: User
    mall_associate: User
    outsider: User
    lot: Lot


@pytest.fixture
def chain(make) -> Chain:
    """Main Street and Galleria. A lot of 24 sapphires (4.800 ct, two of them items) received into Main Street's
    safe; 10 moved to a showcase, 12 shipped to Galleria of which 10 arrived, and 2 sold there."""
    main, mall = make.store("MAIN", "Main Street"), make.store("MALL", "Galleria")
    safe = make.location(main, "SAFE", "safe", "Main safe")
    case = make.location(main, "SC1", "showcase", "Showcase 1")
    mall_case = make.location(mall, "SC2", "showcase", "Mall showcase")
    manager = make.user("manager", [main, mall])
    lot = make.lot(
        safe,
        pieces=24,
        weight="4.800",
        weight_unit="ct",
        category="stone",
        cost="2400.00",
        number="SUP-0426-ST-001",
        serials=["SN-1", "SN-2"],
        by=make.user("vault", [main]),
    )
    moves = make.event(manager, main)
    ledger.post(moves, "move", lot, safe, case, 10, Decimal("2.000"))
    ledger.post(moves, "ship", lot, safe, main.virtual("transit"), 12, Decimal("2.400"), reference="Courier 4471")
    arrival = make.event(manager, mall)
    ledger.post(arrival, "arrive", lot, main.virtual("transit"), mall_case, 10, Decimal("2.000"))
    ledger.post(arrival, "sell", lot, mall_case, mall.virtual("customer"), 2, Decimal("0.400"), reference="R-1")
    return Chain(
        main=main,
        mall=mall,
        safe=safe,
        case=case,
        mall_case=mall_case,
        manager=manager,
        associate=make.user("associate", [main]),
        mall_associate=make.user("associate", [mall]),
        outsider=make.user("manager", [make.store("FAR", "Far Away")]),
        lot=lot,
    )


def test_whereabouts_add_up_to_what_was_received(chain):
    where = history.whereabouts(chain.lot)
    assert where.summary == [
        ("in Main Street", 12, Decimal("2.400")),
        ("in Galleria", 8, Decimal("1.600")),
        ("in transit", 2, Decimal("0.400")),
        ("with customers", 2, Decimal("0.400")),
    ]
    assert (where.pieces, where.weight) == (chain.lot.pieces_received, chain.lot.weight_received)
    rows = {(b.location.store.code, b.location.code): (b.pieces, b.weight) for s in where.stores for b in s.balances}
    assert rows == {
        ("MAIN", "SAFE"): (2, Decimal("0.400")),
        ("MAIN", "SC1"): (10, Decimal("2.000")),
        ("MAIN", "TRANSIT"): (2, Decimal("0.400")),
        ("MALL", "SC2"): (8, Decimal("1.600")),
        ("MALL", "CUSTOMER"): (2, Decimal("0.400")),
    }
    assert [(s.store.code, s.pieces) for s in where.stores] == [("MAIN", 12), ("MALL", 8)]


def test_lot_page_shows_where_every_piece_is_first(chain, client_as):
    response = client_as(chain.manager).get(f"/lots/{chain.lot.id}")
    assert response.status_code == 200
    html = response.text
    where = text_of(html, "where")
    for line in (
        "12 pcs · 2.400 ct in Main Street",
        "8 pcs · 1.600 ct in Galleria",
        "2 pcs · 0.400 ct in transit",
        "2 pcs · 0.400 ct with customers",
        "Mall showcase 8 pcs 1.600 ct",
        "Customers 2 pcs 0.400 ct",
        "Total 24 pcs · 4.800 ct of 24 pcs · 4.800 ct received",
    ):
        assert line in where
    assert "does not add up" not in where
    assert "Suppliers" not in where
    # The block comes first after the title, before the items, details and history.
    assert html.index('id="where"') < html.index('id="items"') < html.index('id="details"') < html.index('id="history"')
    assert "SUP-0426-ST-001" in text_of(html, "main")


def test_lot_page_shows_details_items_history_and_print_link(chain, client_as):
    chain.lot.po_number, chain.lot.invoice_number, chain.lot.colour = "PO-77", "INV-9", "royal blue"
    html = client_as(chain.manager).get(f"/lots/{chain.lot.id}").text
    details = text_of(html, "details")
    for fact in ("PO PO-77", "Invoice INV-9", "Received 01 Apr 2026 · 24 pcs · 4.800 ct", "Colour royal blue"):
        assert fact in details
    assert f'href="/suppliers/{chain.lot.supplier_id}"' in html
    assert f'href="/labels/sheet?lot={chain.lot.id}"' in html
    items = text_of(html, "items")
    assert "SN-1" in items and "SN-2" in items and "Main safe (MAIN)" in items
    sn1 = next(i for i in chain.lot.items if i.serial == "SN-1")
    assert f'href="/items/{sn1.id}"' in html
    ledger_text = text_of(html, "history")
    assert ledger_text.index("Sold") < ledger_text.index("Arrived") < ledger_text.index("Shipped")
    assert "Mall showcase (MALL) → Customers (MALL)" in ledger_text and "Courier 4471" in ledger_text


@pytest.mark.parametrize(("role", "shown"), [("associate", False), ("manager", True)])
def test_cost_is_shown_only_to_roles_that_may_see_it(chain, client_as, role, shown):
    user = chain.associate if role == "associate" else chain.manager
    details = text_of(client_as(user).get(f"/lots/{chain.lot.id}").text, "details")
    for figure in ("2400.00 total", "100.00 per piece", "500.00 per ct"):
        assert (figure in details) is shown


def test_history_pages_newest_first_and_shows_older_rows_as_a_fragment(chain, make, client_as):
    shuttle = make.event(chain.manager, chain.main)
    for n in range(30):  # 60 more movements: the first page (50) cannot hold them all
        ledger.post(shuttle, "move", chain.lot, chain.case, chain.safe, 1, note=f"there {n}")
        ledger.post(shuttle, "move", chain.lot, chain.safe, chain.case, 1, note=f"back {n}")
    client = client_as(chain.manager)
    html = client.get(f"/lots/{chain.lot.id}").text
    rows = re.findall(r'id="movement-(\d+)"', html)
    assert len(rows) == 50 and rows == sorted(rows, key=int, reverse=True)
    more = re.search(r'hx-get="(/lots/\d+\?before=(\d+))"', html)
    assert more and more.group(2) == rows[-1]

    fragment = client.get(more.group(1), headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert fragment.text.lstrip().startswith("<tr") and "<html" not in fragment.text
    older = re.findall(r'id="movement-(\d+)"', fragment.text)
    total = db.session.scalar(select(func.count()).select_from(Movement).where(Movement.lot_id == chain.lot.id))
    assert len(older) == total - 50 and max(map(int, older)) < int(rows[-1])
    assert "before=" not in fragment.text  # the last page offers no more
    assert "Received" in fragment.text

    full = client.get(more.group(1))  # without htmx, the link opens the whole page at that point of history
    assert full.status_code == 200 and "<html" in full.text and 'id="where"' in full.text


def test_reversals_are_marked_in_the_ledger(chain, make, client_as):
    oops = ledger.post(make.event(chain.manager, chain.main), "move", chain.lot, chain.case, chain.safe, 1)
    undo = ledger.reverse(make.event(chain.manager, chain.main), oops, note="Wrong tray")
    html = client_as(chain.manager).get(f"/lots/{chain.lot.id}").text
    assert re.search(rf'class="movement reversed" id="movement-{oops.id}"', html)
    assert f"undone by #{undo.id}" in html and f"undoes #{oops.id}" in html and "Wrong tray" in html


def test_item_page_shows_its_path_from_receipt_to_today(chain, make, client_as):
    item = next(i for i in chain.lot.items if i.serial == "SN-1")
    item.certificate = "GRS-2026-1"
    sale = make.event(chain.manager, chain.main)
    ledger.post(sale, "move", chain.lot, chain.safe, chain.case, 1, item=item)
    ledger.post(sale, "sell", chain.lot, chain.case, chain.main.virtual("customer"), 1, item=item, reference="R-88")
    response = client_as(chain.associate).get(f"/items/{item.id}")
    assert response.status_code == 200
    html = response.text
    assert "SN-1" in text_of(html, "main") and "GRS-2026-1" in text_of(html, "details")
    assert f'href="/lots/{chain.lot.id}"' in html and chain.lot.supplier.name in html
    assert text_of(html, "now").startswith("Where it is now Customers Main Street")
    path = text_of(html, "path")
    assert re.search(r"Received.*Suppliers \(MAIN\) → Main safe \(MAIN\)", path)
    assert path.index("Received") < path.index("Moved") < path.index("Sold")
    assert "Showcase 1 (MAIN) → Customers (MAIN)" in path and "R-88" in path
    assert "Mall showcase" not in path  # only the item's own movements, not the rest of its lot


def test_a_store_that_holds_some_of_the_lot_sees_it_and_others_do_not(chain, make, client_as):
    assert client_as(chain.mall_associate).get(f"/lots/{chain.lot.id}").status_code == 200
    only_main = make.lot(chain.safe, pieces=3, number="ONLY-MAIN-1")
    assert client_as(chain.mall_associate).get(f"/lots/{only_main.id}").status_code == 404


def test_another_store_gets_404_for_lot_item_and_document(chain, client_as):
    doc = documents.add_document(chain.lot, "cert.pdf", PDF, by=chain.manager)
    item = chain.lot.items[0]
    client = client_as(chain.outsider)
    for url in (
        f"/lots/{chain.lot.id}",
        f"/lots/{chain.lot.id}?before=999999",
        f"/items/{item.id}",
        f"/lots/{chain.lot.id}/documents/{doc.id}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert chain.lot.number not in response.text and "cert.pdf" not in response.text
    assert client.get(f"/lots/{chain.lot.id}", headers=HX).status_code == 404


def test_lot_page_runs_the_same_queries_however_many_rows(chain, make, client_as):
    client = client_as(chain.manager)
    with recorded_sql() as before:
        assert client.get(f"/lots/{chain.lot.id}").status_code == 200
    # More rows, each naming places, people and items the first page did not load.
    for n, item in enumerate(make_items(make, chain, 3)):
        place, person = make.location(chain.main, f"X{n}", "showcase"), make.user("vault", [chain.main])
        moved = ledger.post(make.event(person, chain.main), "move", chain.lot, chain.safe, place, 1, item=item)
        ledger.reverse(make.event(make.user("manager", [chain.main]), chain.main), moved)
        ledger.post(make.event(person, chain.main), "move", chain.lot, chain.safe, place, 1, item=item)
        elsewhere = make.store(f"N{n}").virtual("customer")  # a place (and store) seen only as a source
        ledger.post(make.event(person, chain.main), "return", chain.lot, elsewhere, place, 1)
    documents.add_document(chain.lot, "one.pdf", PDF, by=chain.manager)
    documents.add_document(chain.lot, "two.pdf", PDF.replace(b"1.4", b"1.5"), by=chain.manager)
    db.session.commit()
    with recorded_sql() as after:
        assert client.get(f"/lots/{chain.lot.id}").status_code == 200
    assert len(after) == len(before)


def make_items(make, chain, count: int) -> list[Item]:
    """`count` more items of the chain's lot, received into the safe."""
    supplier_loc, event_ = chain.main.virtual("supplier"), make.event(chain.manager, chain.main)
    items = []
    for n in range(count):
        item = Item(lot=chain.lot, serial=f"EXTRA-{n}", location=supplier_loc)
        db.session.add(item)
        db.session.flush()
        ledger.post(event_, "receive", chain.lot, supplier_loc, chain.safe, 1, item=item)
        items.append(item)
    return items


def test_documents_download_with_their_type_and_name(chain, client_as):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "JPEG")
    photo = documents.add_document(chain.lot, "IGI certificate.jpg", buffer.getvalue(), by=chain.manager)
    pdf = documents.add_document(chain.lot, "invoice 88213.pdf", PDF, by=chain.manager)
    client = client_as(chain.associate)
    html = client.get(f"/lots/{chain.lot.id}").text
    assert "IGI certificate.jpg" in text_of(html, "documents")
    for doc, content_type, data in ((photo, "image/jpeg", buffer.getvalue()), (pdf, "application/pdf", PDF)):
        url = f"/lots/{chain.lot.id}/documents/{doc.id}"
        assert f'href="{url}"' in html
        with client.get(url) as response:
            assert response.status_code == 200
            body = response.data
        assert response.headers["Content-Type"] == content_type
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert doc.filename.replace(" ", "") in response.headers["Content-Disposition"].replace(" ", "")
        assert body == data


def test_a_document_is_only_served_under_its_own_lot(chain, make, client_as):
    other = make.lot(chain.safe, pieces=1)
    doc = documents.add_document(other, "other.pdf", PDF, by=chain.manager)
    client = client_as(chain.manager)
    assert client.get(f"/lots/{chain.lot.id}/documents/{doc.id}").status_code == 404
    assert client.get(f"/lots/{chain.lot.id}/documents/999999").status_code == 404
    with client.get(f"/lots/{other.id}/documents/{doc.id}") as response:
        assert response.status_code == 200


def test_missing_things_are_404(chain, client_as):
    client = client_as(chain.manager)
    for url in ("/lots/999999", "/items/999999", "/lots/abc"):
        assert client.get(url).status_code == 404
