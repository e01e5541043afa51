"""Labels: every generated symbol decodes to the right payload, ZPL is well formed and safe, sheets list the right
tags, and nobody prints the tags of a store they are not in."""

import io
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from scanapp.extensions import db
from scanapp.models import Item
from scanapp.services import DomainError, labels, ledger, tags
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
ZPL_COMMANDS = {"XA", "CI", "PW", "LL", "LH", "FO", "BQ", "FD", "FS", "A0", "PQ", "XZ"}


def decode(png: bytes) -> list:
    with Image.open(io.BytesIO(png)) as image:
        return zxingcpp.read_barcodes(image.convert("L"))


def only(png: bytes, symbology: zxingcpp.BarcodeFormat):
    results = decode(png)
    assert [r.format for r in results] == [symbology]
    return results[0]


@pytest.fixture
def shop(make):
    """Store A with a safe and a showcase, a lot of two rings in the safe; store B with its own lot."""
    store = make.store("A", "Avenue Jewelers")
    safe = make.location(store, "SAFE", "safe", "Main safe")
    make.location(store, "SC1", "showcase", "Window case")
    user = make.user("associate", [store])
    lot = make.lot(safe, pieces=2, serials=["R-1001", "R-1002"], number="ACME-0426-FN-001", by=user)
    other = make.store("B", "Boulevard Gems")
    other_safe = make.location(other, "SAFE", "safe")
    outsider = make.user("manager", [other])
    other_lot = make.lot(other_safe, pieces=1, number="ZED-0426-ST-001")
    return {
        "store": store, "safe": safe, "user": user, "lot": lot,
        "other": other, "other_safe": other_safe, "outsider": outsider, "other_lot": other_lot,
    }  # fmt: skip


@pytest.fixture
def client_for(app):
    """client_for(user): a test client signed in through the login form, as a person signs in. (The shared
    fixture of this name, which writes the session directly, is sent to /login by this app.)"""

    def client(user):
        db.session.commit()
        test_client = app.test_client()
        response = test_client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302
        return test_client

    return client


# --- symbols -------------------------------------------------------------------------------------------------------


def test_tag_url_is_upper_case_on_the_configured_host(app):
    assert labels.tag_url("it-000123") == "HTTPS://SCAN.EXAMPLE/T/IT-000123"
    app.config["TAG_HOST"] = ""
    with app.test_request_context(base_url="http://shop.local:8443"):
        assert labels.tag_url("LOT-1") == "HTTPS://SHOP.LOCAL:8443/T/LOT-1"


@pytest.mark.parametrize("code", ["IT-000123", "ACME-0426-FN-001", "A" * 32])
def test_qr_holds_the_url_at_version_2_or_more_with_ecc_m(app, code):
    result = only(labels.qr_png(code), zxingcpp.BarcodeFormat.QRCode)
    assert result.text == f"HTTPS://SCAN.EXAMPLE/T/{code}"
    assert int(result.extra["Version"]) >= 2
    assert result.extra["ECLevel"] == "M"


def test_qr_is_forced_to_version_2_even_when_version_1_would_hold_the_url(app):
    png = labels.qr_png("X", "a.b", module_px=3)
    result = only(png, zxingcpp.BarcodeFormat.QRCode)
    assert result.text == "HTTPS://A.B/T/X"
    assert result.extra["Version"] == "2"
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == ((25 + 2 * 4) * 3,) * 2  # 25 modules and a quiet zone of 4 on each side


def test_qr_grows_past_version_2_when_the_url_needs_it(app):
    result = only(labels.qr_png("B" * 32, "a-long-store-host-name.example.com"), zxingcpp.BarcodeFormat.QRCode)
    assert int(result.extra["Version"]) >= 4
    assert result.text == "HTTPS://A-LONG-STORE-HOST-NAME.EXAMPLE.COM/T/" + "B" * 32


def test_code128_holds_the_bare_code(app):
    assert only(labels.code128_png("IT-000123"), zxingcpp.BarcodeFormat.Code128).text == "IT-000123"


def test_datamatrix_holds_the_bare_code(app):
    result = only(labels.datamatrix_png("ACME-0426-FN-001"), zxingcpp.BarcodeFormat.DataMatrix)
    assert result.text == "ACME-0426-FN-001"


def test_label_image_carries_a_readable_qr_and_text_beside_it(shop):
    tag = shop["lot"].tag
    png = labels.label_png(tag)
    assert only(png, zxingcpp.BarcodeFormat.QRCode).text == "HTTPS://SCAN.EXAMPLE/T/ACME-0426-FN-001"
    with Image.open(io.BytesIO(png)) as image:
        assert image.width > 2 * image.height  # room for the code and description on the right
        text_area = image.convert("L").crop((image.height, 0, image.width, image.height))
        assert text_area.getextrema()[0] < 100  # something dark is printed there


def test_describe_names_what_the_tag_is_on(shop):
    lot = shop["lot"]
    item = lot.items[0]
    item.description = "Solitaire ring"
    odd = Item(lot=lot, serial="bad serial!", location=shop["safe"])
    db.session.add(odd)
    item_tag = tags.tag_item(odd)
    assert labels.describe(lot.tag) == "Test finished"
    assert labels.describe(item.tag) == "Solitaire ring"  # the serial is the code already
    assert labels.describe(item_tag) == "bad serial! · Test finished"
    assert labels.describe(shop["safe"].tag) == "Main safe"


# --- ZPL -----------------------------------------------------------------------------------------------------------


def test_zpl_is_one_barbell_label_per_tag_with_the_qr_url(shop):
    lot = shop["lot"]
    text = labels.zpl([lot.tag, lot.items[0].tag])
    assert text.count("^XA") == text.count("^XZ") == 2
    assert text.index("^XA") < text.index("^XZ")
    assert "^PW447" in text and "^LL102" in text and "^CI28" in text
    assert "^BQN,2,2^FDMA,HTTPS://SCAN.EXAMPLE/T/ACME-0426-FN-001^FS" in text
    assert "^FDMA,HTTPS://SCAN.EXAMPLE/T/R-1001^FS" in text
    assert "^FDACME-0426-FN-001^FS" in text
    for x, y in re.findall(r"\^FO(\d+),(\d+)", text):
        assert 0 <= int(x) < 447 and 0 <= int(y) < 102


def test_zpl_removes_command_characters_from_user_text(shop):
    lot = shop["lot"]
    lot.description = "Bague ÉLÉ^XZ~JA\nfin"
    text = labels.zpl([lot.tag])
    assert "~" not in text
    assert set(re.findall(r"\^(\w\w)", text)) <= ZPL_COMMANDS
    assert text.count("^XZ") == 1
    assert "^FDBague ÉLÉ XZ JA fin^FS" in text


def test_zpl_wraps_a_long_description_into_two_lines(shop):
    lot = shop["lot"]
    lot.description = "18k yellow gold solitaire rings with round brilliant diamonds, assorted sizes"
    lines = [line for line in labels.zpl([lot.tag]).splitlines() if line.startswith("^FO") and "^A0N,20" in line]
    assert len(lines) == 2
    assert lines[1].endswith("...^FS")


# --- who may print what --------------------------------------------------------------------------------------------


def test_find_visible_refuses_other_stores_and_bad_codes(shop):
    user, outsider = shop["user"], shop["outsider"]
    assert labels.find_visible(" acme-0426-fn-001 ", user) == shop["lot"].tag
    with pytest.raises(labels.TagNotFound, match="No tag ACME-0426-FN-001 in your stores"):
        labels.find_visible("ACME-0426-FN-001", outsider)
    with pytest.raises(labels.TagNotFound, match="No tag NOPE in your stores"):
        labels.find_visible("NOPE", user)
    with pytest.raises(labels.TagNotFound, match="not a tag code"):
        labels.find_visible("NO PE!", user)


def test_a_lot_and_its_items_are_visible_where_some_of_it_is(shop, make):
    lot, outsider = shop["lot"], shop["outsider"]
    item = lot.items[0]
    event = make.event(shop["user"], shop["store"])
    ledger.post(event, "move", lot, shop["safe"], shop["other_safe"], 1, item=item)
    assert labels.find_visible(lot.tag.code, outsider) == lot.tag
    assert labels.find_visible(item.tag.code, outsider) == item.tag


def test_sheet_needs_exactly_one_target(shop):
    with pytest.raises(DomainError, match="Choose one"):
        labels.sheet_tags(shop["user"])
    with pytest.raises(DomainError, match="Choose one"):
        labels.sheet_tags(shop["user"], lot_id=shop["lot"].id, store_id=shop["store"].id)


def test_store_sheet_has_every_active_physical_location(shop):
    title, tag_list = labels.sheet_tags(shop["user"], store_id=shop["store"].id)
    assert title == "Locations of Avenue Jewelers"
    assert [t.code for t in tag_list] == ["A-QUARANTINE", "A-SAFE", "A-SC1"]  # the quarantine shelf too
    shop["safe"].active = False
    assert [t.code for t in labels.sheet_tags(shop["user"], store_id=shop["store"].id)[1]] == ["A-QUARANTINE", "A-SC1"]


# --- views ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "symbology", "payload"),
    [
        ("qr", zxingcpp.BarcodeFormat.QRCode, "HTTPS://SCAN.EXAMPLE/T/R-1001"),
        ("label", zxingcpp.BarcodeFormat.QRCode, "HTTPS://SCAN.EXAMPLE/T/R-1001"),
        ("code128", zxingcpp.BarcodeFormat.Code128, "R-1001"),
        ("datamatrix", zxingcpp.BarcodeFormat.DataMatrix, "R-1001"),
    ],
)
def test_tag_image_view_serves_each_kind(shop, client_for, kind, symbology, payload):
    response = client_for(shop["user"]).get(f"/labels/r-1001.png?kind={kind}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "private, max-age=86400"
    assert only(response.data, symbology).text == payload


def test_tag_image_view_defaults_to_the_label_and_refuses_unknown_kinds(shop, client_for):
    client = client_for(shop["user"])
    default = client.get("/labels/ACME-0426-FN-001.png")
    assert default.data == labels.label_png(shop["lot"].tag)
    bad = client.get("/labels/ACME-0426-FN-001.png?kind=pdf417")
    assert bad.status_code == 400
    assert "Unknown image kind" in bad.text


def test_tag_zpl_view_is_a_text_download(shop, client_for):
    response = client_for(shop["user"]).get("/labels/A-SAFE.zpl")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == 'attachment; filename="A-SAFE.zpl"'
    assert "^FDMA,HTTPS://SCAN.EXAMPLE/T/A-SAFE^FS" in response.text
    assert "^FDMain safe^FS" in response.text


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/labels/NOPE.png", "No tag NOPE in your stores."),
        ("/labels/NOPE.zpl", "No tag NOPE in your stores."),
        ("/labels/bad%20code!.png", "is not a tag code"),
        ("/labels/%F0%9F%92%8D.png", "is not a tag code"),
        (f"/labels/{'A' * 40}.png", "is not a tag code"),
        ("/labels/sheet?lot=999999", "No such lot in your stores."),
        ("/labels/sheet?lot=abc", "There is no lot"),
        ("/labels/sheet?store=-1", "There is no store"),
        ("/labels/sheet?lot=%C2%B2", "There is no lot"),
        ("/labels/sheet?lot=9999999999", "There is no lot"),
        ("/labels/sheet.zpl?location=99999999999999999999", "There is no location"),
    ],
)
def test_unknown_or_malformed_codes_are_404_with_a_message(shop, client_for, path, message):
    response = client_for(shop["user"]).get(path)
    assert response.status_code == 404
    assert message in response.text


def test_sheet_without_or_with_two_targets_is_400(shop, client_for):
    client = client_for(shop["user"])
    assert client.get("/labels/sheet").status_code == 400
    both = client.get(f"/labels/sheet?lot={shop['lot'].id}&store={shop['store'].id}")
    assert both.status_code == 400
    assert "Choose one lot, location or store" in both.text


def test_other_stores_tags_are_404_everywhere(shop, client_for):
    client = client_for(shop["outsider"])
    lot = shop["lot"]
    for path in [
        "/labels/ACME-0426-FN-001.png",
        "/labels/ACME-0426-FN-001.zpl",
        "/labels/R-1001.png?kind=qr",
        "/labels/A-SAFE.png",
        f"/labels/sheet?lot={lot.id}",
        f"/labels/sheet.zpl?lot={lot.id}",
        f"/labels/sheet?location={shop['safe'].id}",
        f"/labels/sheet?store={shop['store'].id}",
    ]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Avenue" not in response.text and "Test finished" not in response.text  # nothing of it leaks
    assert "No tag ACME-0426-FN-001 in your stores." in client.get("/labels/ACME-0426-FN-001.png").text
    assert client.get("/labels/ZED-0426-ST-001.png").status_code == 200


def test_labels_need_sign_in(shop, app):
    response = app.test_client().get("/labels/ACME-0426-FN-001.png")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_lot_sheet_lists_the_lot_and_every_item_at_real_size(shop, client_for):
    lot = shop["lot"]
    response = client_for(shop["user"]).get(f"/labels/sheet?lot={lot.id}")
    assert response.status_code == 200
    html = response.text
    assert re.findall(r'data-code="([^"]+)"', html) == ["ACME-0426-FN-001", "R-1001", "R-1002"]
    assert "/labels/R-1002.png?kind=qr" in html
    assert 'class="qr qr-v3"' in html  # the lot number's URL needs version 3; the CSS sizes each version in mm
    assert f'href="/labels/sheet.zpl?lot={lot.id}"' in html
    assert "css/print-labels.css" in html and "js/labels.js" in html
    assert "data-print" in html
    css = (ROOT / "static/css/print-labels.css").read_text()
    assert "@page { size: A4; margin: 10mm; }" in css
    assert "width: 55.88mm; height: 12.7mm;" in css
    for version in range(2, 7):
        width = float(re.search(rf"\.qr-v{version} {{ width: ([\d.]+)mm; }}", css).group(1))
        assert width / (17 + 4 * version + 8) >= 0.25  # mm per module


def test_sheet_zpl_has_one_label_per_tag_of_the_sheet(shop, client_for):
    lot = shop["lot"]
    response = client_for(shop["user"]).get(f"/labels/sheet.zpl?lot={lot.id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="Lot-ACME-0426-FN-001.zpl"'
    assert response.text.count("^XA") == 3
    for code in ("ACME-0426-FN-001", "R-1001", "R-1002"):
        assert f"^FDMA,HTTPS://SCAN.EXAMPLE/T/{code}^FS" in response.text


def test_location_and_store_sheets(shop, client_for):
    client = client_for(shop["user"])
    one = client.get(f"/labels/sheet?location={shop['safe'].id}&paper=letter")
    assert re.findall(r'data-code="([^"]+)"', one.text) == ["A-SAFE"]
    assert "paper-letter" in one.text
    store = client.get(f"/labels/sheet?store={shop['store'].id}&paper=tabloid")
    assert re.findall(r'data-code="([^"]+)"', store.text) == ["A-QUARANTINE", "A-SAFE", "A-SC1"]
    assert "paper-a4" in store.text


def test_deactivated_items_are_left_off_the_lot_sheet(shop, client_for):
    lot = shop["lot"]
    lot.items[1].active = False
    db.session.commit()
    response = client_for(shop["user"]).get(f"/labels/sheet?lot={lot.id}")
    assert re.findall(r'data-code="([^"]+)"', response.text) == ["ACME-0426-FN-001", "R-1001"]
