"""Receiving a shipment: the service, the screen (with and without HTMX), every bad input refused with nothing
written, roles and stores, replays, and documents stored by content hash."""

import hashlib
import html
import io
import re
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Balance, Document, Event, Item, Lot, Movement, Tag
from scanapp.services import DomainError, ledger
from scanapp.services.receiving import ItemSpec, Shipment, Upload, parse_items, receive_lot, suggest_lot_number
from tests.conftest import PASSWORD

HX = {"HX-Request": "true"}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def image_bytes(fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.effect_noise((64, 48), 40).convert("RGB").save(out, fmt)
    return out.getvalue()


@pytest.fixture
def client_for(app):
    """client_for(user): a test client signed in through the login form (strong session protection needs it)."""

    def client(user):
        db.session.commit()
        test_client = app.test_client()
        assert test_client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
        return test_client

    return client


@pytest.fixture
def shop(make):
    """Store A with a safe and a showcase, a vault user and a supplier; store B with a safe of its own."""
    store = make.store("A", "Avenue Jewelers")
    safe = make.location(store, "SAFE", "safe", "Main safe")
    case = make.location(store, "SC1", "showcase", "Window case")
    other = make.store("B", "Boulevard Gems")
    other_safe = make.location(other, "SAFE", "safe", "Their safe")
    supplier = make.supplier("SUP", "Sunrise Gems")
    user = make.user("vault", [store], username="vera")
    db.session.commit()
    return {"store": store, "safe": safe, "case": case, "other_safe": other_safe, "supplier": supplier, "user": user}


@pytest.fixture
def vault(shop, client_for):
    return client_for(shop["user"])


def form(shop, **changes) -> dict:
    """A valid receiving form: 120 diamond melee, 3.600 ct, 45.00 per ct, into store A's safe."""
    data = {
        "event_id": str(uuid.uuid4()),
        "supplier_id": str(shop["supplier"].id),
        "location_id": str(shop["safe"].id),
        "category": "stone",
        "received_on": "2026-04-15",
        "number": "",
        "suggested": "",
        "description": "Diamond melee, round 1.3 mm",
        "pieces": "120",
        "weight": "3.600",
        "weight_unit": "ct",
        "cost": "45.00",
        "cost_basis": "weight",
        "po_number": "PO-1041",
        "invoice_number": "INV-88213",
        "stone": "diamond",
        "shape": "round",
        "colour": "G-H",
        "clarity": "VS",
    }
    data.update(changes)
    return data


def written(app) -> dict:
    """Everything receiving could write: rows of each kind, and files under the media folder."""
    models = (Lot, Item, Tag, Movement, Balance, Document, Event)
    counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in models}
    media = Path(app.config["MEDIA_DIR"])
    counts["files"] = sum(1 for p in media.rglob("*") if p.is_file()) if media.exists() else 0
    return counts


def field_error(page: str, name: str) -> str:
    match = re.search(rf'id="{name}-msg" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else ""


def shipment(shop, **changes) -> Shipment:
    values = {
        "supplier": shop["supplier"],
        "location": shop["safe"],
        "category": "stone",
        "description": "Blue sapphires, oval 6x4 mm",
        "received_on": date(2026, 4, 15),
        "pieces": 12,
        "cost": Decimal("310.00"),
        "cost_basis": "piece",
        "weight": Decimal("8.400"),
        "weight_unit": "ct",
    }
    values.update(changes)
    return Shipment(**values)


# --- service ----------------------------------------------------------------------------------------------------


def test_receive_lot_creates_lot_tag_items_and_movements(app, shop):
    items = [ItemSpec("SAP-001", "GRS-1", Decimal("0.700")), ItemSpec("SAP-002", "GRS-2", Decimal("0.650"))]
    lot = receive_lot(shipment(shop, items=items), event_id=str(uuid.uuid4()), by=shop["user"], store=shop["store"])
    assert lot.number == "SUP-0426-ST-001"
    assert lot.tag.code == "SUP-0426-ST-001"
    assert lot.cost_total == Decimal("3720.00")  # 12 × 310.00
    assert [(i.serial, i.tag.code, i.location) for i in lot.items] == [
        ("SAP-001", "SAP-001", shop["safe"]),
        ("SAP-002", "SAP-002", shop["safe"]),
    ]
    moves = db.session.scalars(select(Movement).where(Movement.lot_id == lot.id).order_by(Movement.line)).all()
    assert [(m.kind, m.pieces, m.weight, m.item_id is not None) for m in moves] == [
        ("receive", 1, Decimal("0.700"), True),
        ("receive", 1, Decimal("0.650"), True),
        ("receive", 10, Decimal("7.050"), False),
    ]
    assert ledger.balance_at(lot, shop["safe"]) == (12, Decimal("8.400"))
    assert ledger.check_ledger() == []


def test_service_checks_every_document_before_storing_any(app, shop):
    uploads = [Upload("invoice.pdf", PDF), Upload("fake.pdf", b"plain text")]
    before = written(app)
    with pytest.raises(DomainError, match="fake.pdf: Documents must be a PDF or a photo") as refused:
        receive_lot(shipment(shop, documents=uploads), event_id=str(uuid.uuid4()), by=shop["user"], store=shop["store"])
    assert refused.value.field == "documents"
    db.session.rollback()
    assert written(app) == before
    lot = receive_lot(
        shipment(shop, documents=uploads[:1]), event_id=str(uuid.uuid4()), by=shop["user"], store=shop["store"]
    )
    digest = hashlib.sha256(PDF).hexdigest()
    assert [(d.filename, d.sha256, d.uploaded_by) for d in lot.documents] == [("invoice.pdf", digest, shop["user"])]
    assert (Path(app.config["MEDIA_DIR"]) / "docs" / digest[:2] / digest).read_bytes() == PDF


def test_suggested_numbers_count_up_per_supplier_month_and_category(app, shop):
    store, supplier = shop["store"], shop["supplier"]
    april = date(2026, 4, 15)
    assert suggest_lot_number(store, supplier, "stone", april) == "SUP-0426-ST-001"
    receive_lot(shipment(shop), event_id=str(uuid.uuid4()), by=shop["user"], store=store)
    assert suggest_lot_number(store, supplier, "stone", april) == "SUP-0426-ST-002"
    assert suggest_lot_number(store, supplier, "metal", april) == "SUP-0426-MT-001"
    assert suggest_lot_number(store, None, "finding", date(2026, 5, 1)) == "LOT-0526-FD-001"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (", CERT-1, 0.5", "Item line 1 has no serial."),
        ("S1, C1, heavy", "'heavy' is not a weight"),
        ("S1, C1, NaN", "'NaN' is not a weight"),
        ("S1, C1, Infinity", "'Infinity' is not a weight"),
        ("S1, C1, 1e999", "'1e999' is not a weight"),
        ("S1, C1, -0.5", "'-0.5' is not a weight"),
        ("S1, C1, 0.0001", "'0.0001' is not a weight"),
        ("S" * 41, "a serial has at most 40 characters"),
    ],
)
def test_parse_items_refuses_what_is_not_an_item(text, message):
    with pytest.raises(DomainError, match=re.escape(message)) as refused:
        parse_items(text)
    assert refused.value.field == "items"


def test_parse_items_reads_serial_certificate_and_weight():
    specs = parse_items("A-1, IGI-1, 0.512\n\nA-2;IGI-2\nA-3")
    assert [(s.serial, s.certificate, s.weight) for s in specs] == [
        ("A-1", "IGI-1", Decimal("0.512")),
        ("A-2", "IGI-2", Decimal(0)),
        ("A-3", "", Decimal(0)),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weight": Decimal("NaN")}, "weight"),
        ({"weight": Decimal("Infinity")}, "weight"),
        ({"weight": Decimal("1e999")}, "weight"),
        ({"cost": Decimal("NaN")}, "cost"),
        ({"cost": Decimal("-1")}, "cost"),
        ({"cost": Decimal("1e999")}, "cost"),
        ({"pieces": 10**9}, "pieces"),
        ({"number": "NOT A CODE"}, "number"),
    ],
)
def test_service_refuses_values_no_form_would_send(app, shop, changes, field):
    before = written(app)
    with pytest.raises(DomainError) as refused:
        receive_lot(shipment(shop, **changes), event_id=str(uuid.uuid4()), by=shop["user"], store=shop["store"])
    assert refused.value.field == field
    db.session.rollback()
    assert written(app) == before


def test_service_refuses_roles_that_do_not_receive(app, shop, make):
    clerk = make.user("associate", [shop["store"]])
    with pytest.raises(DomainError, match="role does not allow"):
        receive_lot(shipment(shop), event_id=str(uuid.uuid4()), by=clerk, store=shop["store"])


# --- the screen -------------------------------------------------------------------------------------------------


def test_screen_offers_everything_with_a_suggested_number(shop, vault, make):
    make.supplier("OLD", "Gone Ltd").active = False
    db.session.commit()
    page = vault.get("/receive/")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Receive a shipment</h1>" in text
    assert 'id="number"' in text and f'value="LOT-{date.today():%m%y}-ST-001"' in text
    assert "Sunrise Gems · SUP" in text and "Gone Ltd" not in text
    assert "Main safe · SAFE" in text and "Window case · SC1" in text and "Their safe" not in text
    assert 'accept="application/pdf,image/*"' in text and "multiple" in text
    assert f'value="{date.today().isoformat()}"' in text
    assert "<summary>Stone and metal details</summary>" in text
    assert 'href="/suppliers/new?next=/receive/"' in text
    assert "HX-Request" in page.headers["Vary"]


def test_scanned_unknown_code_and_new_supplier_prefill_the_screen(shop, vault):
    text = vault.get(f"/receive/?number=abc-77&supplier_id={shop['supplier'].id}").text
    assert re.search(r'id="number"[^>]*value="ABC-77"', text)
    assert re.search(r'id="suggested"[^>]*value=""', text)
    assert f'<option selected value="{shop["supplier"].id}">' in text


def test_number_refresh_is_a_fragment_with_a_fresh_suggestion(shop, vault):
    query = {"supplier_id": shop["supplier"].id, "category": "metal", "received_on": "2026-03-02"}
    fragment = vault.get("/receive/number", query_string={**query, "number": "LOT-1", "suggested": "LOT-1"}, headers=HX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="lot-number"')
    assert 'value="SUP-0326-MT-001"' in fragment.text and "<html" not in fragment.text
    kept = vault.get("/receive/number", query_string={**query, "number": "MINE-7", "suggested": "LOT-1"}, headers=HX)
    assert re.search(r'id="number"[^>]*value="MINE-7"', kept.text)
    page = vault.get("/receive/number", query_string=query)
    assert page.status_code == 200 and "<html" in page.text and 'value="SUP-0326-MT-001"' in page.text


def test_receiving_lands_on_the_lot_page(app, shop, vault):
    response = vault.post("/receive/", data=form(shop))
    lot = db.session.scalar(select(Lot))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/lots/{lot.id}"
    assert (lot.number, lot.store, lot.supplier, lot.created_by) == (
        "SUP-0426-ST-001",
        shop["store"],
        shop["supplier"],
        shop["user"],
    )
    assert (lot.pieces_received, lot.weight_received, lot.weight_unit) == (120, Decimal("3.600"), "ct")
    assert lot.cost_total == Decimal("162.00")  # 45.00 per ct × 3.600 ct
    assert lot.attributes == {"stone": "diamond", "shape": "round", "colour": "G-H", "clarity": "VS"}
    assert (lot.po_number, lot.invoice_number, lot.received_on) == ("PO-1041", "INV-88213", date(2026, 4, 15))
    assert ledger.balance_at(lot, shop["safe"]) == (120, Decimal("3.600"))
    with vault.session_transaction() as session:
        assert ("success", "Received lot SUP-0426-ST-001 into A · Main safe.") in session["_flashes"]


def test_htmx_post_redirects_the_browser(shop, vault):
    response = vault.post("/receive/", data=form(shop), headers=HX)
    lot = db.session.scalar(select(Lot))
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/lots/{lot.id}"


def test_typed_number_items_and_unit_default(app, shop, vault):
    data = form(
        shop,
        category="finished",
        weight="",
        weight_unit="",
        cost="1450",
        cost_basis="piece",
        pieces="3",
        number="bc-sol-1",
        items="BC-1, IGI-1, 3.1\nBC-2, IGI-2",
    )
    assert vault.post("/receive/", data=data).status_code == 302
    lot = db.session.scalar(select(Lot))
    assert (lot.number, lot.weight_unit, lot.cost_total) == ("BC-SOL-1", None, Decimal("4350.00"))
    assert [(i.serial, i.certificate, i.weight) for i in lot.items] == [
        ("BC-1", "IGI-1", Decimal("3.100")),
        ("BC-2", "IGI-2", Decimal("0.000")),
    ]
    metal = form(shop, category="metal", weight_unit="", pieces="0", weight="250", cost="12000", cost_basis="total")
    assert vault.post("/receive/", data=metal).status_code == 302
    grain = db.session.scalar(select(Lot).where(Lot.category == "metal"))
    assert (grain.weight_unit, grain.weight_received) == ("g", Decimal("250.000"))


def test_untouched_suggestion_taken_meanwhile_gets_the_next_number(shop, vault, make):
    make.lot(shop["safe"], number="SUP-0426-ST-001", supplier=shop["supplier"])
    db.session.commit()
    data = form(shop, number="SUP-0426-ST-001", suggested="SUP-0426-ST-001")
    assert vault.post("/receive/", data=data).status_code == 302
    assert db.session.scalar(select(Lot.number).order_by(Lot.id.desc()).limit(1)) == "SUP-0426-ST-002"


BAD_INPUTS = [
    ({"supplier_id": ""}, "supplier_id", "Choose the supplier."),
    ({"supplier_id": "abc"}, "supplier_id", "Choose the supplier."),
    ({"supplier_id": "999999"}, "supplier_id", "That supplier does not exist; choose one from the list."),
    ({"location_id": ""}, "location_id", "Choose where the shipment goes."),
    ({"location_id": "999999"}, "location_id", "That place does not exist; choose one from the list."),
    ({"description": "  "}, "description", "Describe what arrived."),
    ({"description": "x" * 201}, "description", "Field cannot be longer than 200 characters."),
    ({"received_on": ""}, "received_on", "Enter the date it arrived."),
    ({"received_on": "15/04/2026"}, "received_on", "Enter a date like 2026-04-15."),
    ({"category": "gems"}, "category", "Choose a category: stone, metal, finished, finding."),
    ({"pieces": "-3"}, "pieces", "Pieces cannot be negative."),
    ({"pieces": "twelve"}, "pieces", "Pieces must be a number, like 12."),
    ({"pieces": "2.5"}, "pieces", "Pieces are whole numbers, like 12."),
    ({"pieces": "99999999"}, "pieces", "At most 1,000,000 pieces in one lot."),
    ({"pieces": "0", "weight": "", "cost_basis": "total"}, "pieces", "Enter the pieces, the weight, or both."),
    ({"weight": "-1"}, "weight", "Weight cannot be negative."),
    ({"weight": "NaN"}, "weight", "Weight must be a number with a point for decimals, like 3.600."),
    ({"weight": "Infinity"}, "weight", "Weight must be a number with a point for decimals, like 3.600."),
    ({"weight": "1e999"}, "weight", "Weight must be a number with a point for decimals, like 3.600."),
    ({"weight": "3,6"}, "weight", "Weight must be a number with a point for decimals, like 3.600."),
    ({"weight": "1.0001"}, "weight", "Weight has at most 3 decimals."),
    ({"weight": "1000000"}, "weight", "Weight must be less than 1,000,000."),
    ({"weight_unit": "kg"}, "weight_unit", "Weight is in ct or g."),
    ({"category": "finished", "weight_unit": ""}, "weight_unit", "Say whether the weight is in ct or g."),
    ({"cost": ""}, "cost", "Enter the cost (0 when there is none)."),
    ({"cost": "-5"}, "cost", "Cost cannot be negative."),
    ({"cost": "NaN"}, "cost", "Cost must be a number with a point for decimals, like 1250.00."),
    ({"cost": "-Infinity"}, "cost", "Cost cannot be negative."),
    ({"cost": "1e999"}, "cost", "Cost must be a number with a point for decimals, like 1250.00."),
    ({"cost": "10.0001"}, "cost", "Cost has at most 2 decimals."),
    ({"cost_basis": "dozen"}, "cost_basis", "Cost is per piece, per weight unit, or the total."),
    ({"weight": "0", "cost_basis": "weight"}, "cost_basis", "A cost per ct or g needs the weight."),
    ({"number": "AB CD"}, "number", "A lot number has 1 to 32 letters, digits or dashes."),
    ({"number": "a-safe"}, "number", "Lot number A-SAFE is already in use."),
    ({"po_number": "P" * 41}, "po_number", "Field cannot be longer than 40 characters."),
    ({"pieces": "2", "items": "S1\nS2\nS3"}, "items", "3 items listed but only 2 pieces received."),
    ({"items": "S1, C1\ns1, C2"}, "items", "The same serial is listed twice."),
    ({"items": "S1, C1, 2.000\nS2, C2, 1.601"}, "items", "The items weigh more than the whole lot."),
    ({"items": "S1, C1, NaN"}, "items", "Item line 1: 'NaN' is not a weight (zero or more, at most three decimals)."),
]


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
@pytest.mark.parametrize(("changes", "name", "message"), BAD_INPUTS)
def test_bad_input_is_refused_on_its_field_and_writes_nothing(app, shop, vault, changes, name, message, headers):
    before = written(app)
    response = vault.post("/receive/", data=form(shop, **changes), headers=headers)
    assert response.status_code == 422
    assert field_error(response.text, name) == message
    if headers:
        assert response.text.lstrip().startswith('<form id="receive-form"')
    else:
        assert "<html" in response.text
    assert written(app) == before


@pytest.mark.parametrize(
    ("make_lot", "make_item", "name", "message"),
    [
        (True, False, "number", "Lot number TAKEN-1 is already in use."),
        (False, True, "items", "Serial OLD-1 is already in stock records."),
    ],
)
def test_numbers_and_serials_in_use_are_refused(app, shop, vault, make, make_lot, make_item, name, message):
    if make_lot:
        make.lot(shop["safe"], number="TAKEN-1")
    if make_item:
        make.lot(shop["safe"], serials=["OLD-1"])
    db.session.commit()
    before = written(app)
    response = vault.post("/receive/", data=form(shop, number="taken-1", items="OLD-1" if make_item else ""))
    assert response.status_code == 422
    assert field_error(response.text, name) == message
    assert written(app) == before


def test_inactive_supplier_and_other_stores_place_are_refused(app, shop, vault, make):
    gone = make.supplier("OLD", "Gone Ltd")
    gone.active = False
    db.session.commit()
    before = written(app)
    response = vault.post("/receive/", data=form(shop, supplier_id=str(gone.id)))
    assert field_error(response.text, "supplier_id") == "Supplier OLD is deactivated."
    place = "Receive into a safe, vault, showcase, bench or backroom of this store."
    for forged in (shop["other_safe"], shop["store"].virtual("supplier")):
        response = vault.post("/receive/", data=form(shop, location_id=str(forged.id)))
        assert response.status_code == 422
        assert field_error(response.text, "location_id") == place
    assert written(app) == before


JPEG = image_bytes("JPEG")
TRUNCATED_JPEG = JPEG[: len(JPEG) // 2]


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("notes.pdf", b"just some text, not a PDF", "notes.pdf: Documents must be a PDF or a photo"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>', "logo.svg: Doc"),
        ("cert.jpg", TRUNCATED_JPEG, "cert.jpg: That image is incomplete or damaged; upload the whole file."),
        ("half.pdf", PDF[:20], "half.pdf: That PDF is incomplete; upload the whole file."),
        ("empty.pdf", b"", "empty.pdf is empty."),
        ("big.pdf", PDF + b"%" * 5000 + b"\n%%EOF\n", "big.pdf is larger than 4 KB."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_bad_documents_are_refused_and_nothing_is_stored(app, shop, vault, filename, data, message, headers):
    app.config["MAX_DOCUMENT_BYTES"] = 4096
    before = written(app)
    files = [(io.BytesIO(PDF), "invoice.pdf"), (io.BytesIO(data), filename)]
    response = vault.post("/receive/", data={**form(shop), "documents": files}, headers=headers)
    assert response.status_code == 422
    assert field_error(response.text, "documents").startswith(message)
    assert written(app) == before


def test_good_documents_with_a_bad_field_store_nothing(app, shop, vault):
    before = written(app)
    response = vault.post("/receive/", data={**form(shop, pieces="-1"), "documents": [(io.BytesIO(PDF), "a.pdf")]})
    assert response.status_code == 422
    assert written(app) == before


def test_documents_are_stored_once_by_content_hash(app, shop, vault):
    png = image_bytes("PNG")
    files = [(io.BytesIO(PDF), "invoice.pdf"), (io.BytesIO(png), "cert.png"), (io.BytesIO(PDF), "copy.pdf")]
    assert vault.post("/receive/", data={**form(shop), "documents": files}).status_code == 302
    lot = db.session.scalar(select(Lot))
    docs = [(d.filename, d.content_type, d.sha256, d.size) for d in lot.documents]
    pdf_hash, png_hash = hashlib.sha256(PDF).hexdigest(), hashlib.sha256(png).hexdigest()
    assert sorted(docs) == sorted(
        [
            ("invoice.pdf", "application/pdf", pdf_hash, len(PDF)),
            ("cert.png", "image/png", png_hash, len(png)),
            ("copy.pdf", "application/pdf", pdf_hash, len(PDF)),
        ]
    )
    media = Path(app.config["MEDIA_DIR"])
    assert (media / "docs" / pdf_hash[:2] / pdf_hash).read_bytes() == PDF
    assert (media / "docs" / png_hash[:2] / png_hash).read_bytes() == png
    assert written(app)["files"] == 2


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_the_same_event_twice_receives_once(app, shop, vault, headers):
    data = form(shop)
    first = vault.post("/receive/", data=data, headers=headers)
    after_first = written(app)
    second = vault.post("/receive/", data=data, headers=headers)
    lot = db.session.scalar(select(Lot))
    assert written(app) == after_first and after_first["Lot"] == 1
    where = "HX-Redirect" if headers else "Location"
    assert first.headers[where] == second.headers[where] == f"/lots/{lot.id}"
    with vault.session_transaction() as session:
        assert ("info", "Already recorded: that was sent twice and applied once.") in session["_flashes"]


@pytest.mark.parametrize("role", ["associate", "bench"])
def test_roles_that_do_not_receive_get_403_and_write_nothing(app, shop, make, client_for, role):
    client = client_for(make.user(role, [shop["store"]]))
    before = written(app)
    assert client.get("/receive/").status_code == 403
    assert client.get("/receive/number").status_code == 403
    response = client.post("/receive/", data=form(shop))
    assert response.status_code == 403 and "Your role does not allow this." in response.text
    assert written(app) == before


@pytest.mark.parametrize("role", ["vault", "manager", "admin"])
def test_roles_that_receive_may(shop, make, client_for, role):
    client = client_for(make.user(role, [shop["store"]]))
    assert client.get("/receive/").status_code == 200
    assert client.post("/receive/", data=form(shop)).status_code == 302


def test_a_member_of_another_store_cannot_receive_into_this_one(app, shop, make, client_for):
    client = client_for(make.user("manager", [shop["other_safe"].store]))
    assert "Main safe" not in client.get("/receive/").text
    before = written(app)
    response = client.post("/receive/", data=form(shop))
    assert field_error(response.text, "location_id").startswith("Receive into a safe")
    assert written(app) == before
