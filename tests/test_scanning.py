"""Scanning: what a scan stands for (resolver), reading codes from photos (server decoder), and the scan views."""

import io
import json
import re

import pytest
from PIL import Image, ImageFilter

from scanapp import create_app
from scanapp.extensions import db
from scanapp.services import DomainError, ledger, scanning
from tests.conftest import PASSWORD
from tests.e2e.camera import code128_image, datamatrix_image, qr_image

HOSTS = {"scan.example", "localhost"}
HX = {"HX-Request": "true", "HX-Target": "scan-result"}


@pytest.fixture
def shop(make):
    """Store A (a safe and a showcase, a lot with one item, a vault user and an associate) and store B."""
    store = make.store("A", "Main Street")
    safe = make.location(store, "SAFE1", name="Main safe")
    case = make.location(store, "CASE2", kind="showcase", name="Window case")
    vault = make.user("vault", [store], username="vera")
    lot = make.lot(safe, pieces=5, number="ACME-0426-FN-001", serials=["IT-000123"], cost="500.00", by=vault)
    ledger.post(make.event(vault, store), "move", lot, safe, case, 2)
    other = make.store("B", "Boulevard")
    other_safe = make.location(other, "SAFE1", name="B safe")
    other_lot = make.lot(other_safe, pieces=3, number="ZED-0426-ST-001")
    associate = make.user("associate", [store], username="alex")
    db.session.commit()
    return {
        "store": store, "safe": safe, "case": case, "lot": lot, "item": lot.items[0], "vault": vault,
        "associate": associate, "other_safe": other_safe, "other_lot": other_lot,
    }  # fmt: skip


@pytest.fixture
def web(app):
    """A twin of the test app on the same database whose requests get their own app context, as in production
    (the `app` fixture's client would share `g`, and so the signed-in user, between requests)."""
    twin = create_app(dict(app.config))
    yield twin
    with twin.app_context():
        db.engine.dispose()


@pytest.fixture
def client_for(web):
    """client_for(user): a test client signed in through the login form."""

    def client(user):
        db.session.commit()
        test_client = web.test_client()
        assert test_client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
        return test_client

    return client


def image_bytes(image: Image.Image, kind: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **options)
    return buffer.getvalue()


def on_paper(symbol: Image.Image, margin: int = 40) -> Image.Image:
    """The symbol on a white label with a margin, as a photo of a tag would show it."""
    label = Image.new("L", (symbol.width + 2 * margin, symbol.height + 2 * margin), 255)
    label.paste(symbol, (margin, margin))
    return label


# --- resolver ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["ACME-0426-FN-001", "acme-0426-fn-001", "  Acme-0426-Fn-001\n"])
def test_a_bare_code_in_any_case_is_the_lot(shop, raw):
    found = scanning.resolve(raw, by=shop["vault"], hosts=HOSTS)
    assert (found.kind, found.code, found.lot) == ("lot", "ACME-0426-FN-001", shop["lot"])


@pytest.mark.parametrize(
    "raw",
    [
        "HTTPS://SCAN.EXAMPLE/T/IT-000123",  # what our QR tags hold: upper case, so QR alphanumeric mode
        "https://scan.example/t/it-000123",
        "https://Scan.Example/T/It-000123/",
        "http://localhost/t/IT-000123",  # the host the request came to
    ],
)
def test_our_tag_url_in_any_case_is_the_item(shop, raw):
    found = scanning.resolve(raw, by=shop["vault"], hosts=HOSTS)
    assert (found.kind, found.item) == ("item", shop["item"])


def test_a_location_code_is_the_place(shop):
    found = scanning.resolve("a-safe1", by=shop["associate"], hosts=HOSTS)
    assert (found.kind, found.location) == ("location", shop["safe"])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("https://evil.example/t/ACME-0426-FN-001", "That code points to another site, not to scanapp."),
        ("HTTPS://SCAN.EXAMPLE.EVIL.EXAMPLE/T/ACME-0426-FN-001", "That code points to another site, not to scanapp."),
        ("ftp://scan.example/t/ACME-0426-FN-001", "That code points to another site, not to scanapp."),
        ("https://scan.example/lots/1", "That link is not a scanapp tag."),
        ("https://scan.example/t/ACME/extra", "That link is not a scanapp tag."),
        ("ACME 0426", "A tag code has 1 to 32 letters, digits or dashes."),
        ("", "A tag code has 1 to 32 letters, digits or dashes."),
    ],
)
def test_anything_that_is_not_our_code_is_refused_with_a_reason(shop, raw, message):
    with pytest.raises(DomainError) as refused:
        scanning.resolve(raw, by=shop["vault"], hosts=HOSTS)
    assert str(refused.value) == message
    assert not isinstance(refused.value, scanning.UnknownCode)


def test_an_unknown_code_says_which_code(shop):
    with pytest.raises(scanning.UnknownCode) as unknown:
        scanning.resolve("new-0426-xx", by=shop["vault"], hosts=HOSTS)
    assert unknown.value.code == "NEW-0426-XX"
    assert str(unknown.value) == "No tag NEW-0426-XX: it is not on any lot, item or place of your stores."


@pytest.mark.parametrize("code", ["ZED-0426-ST-001", "B-SAFE1"])
def test_another_stores_code_is_as_unknown(shop, code):
    with pytest.raises(scanning.UnknownCode):
        scanning.resolve(code, by=shop["vault"], hosts=HOSTS)


def test_another_stores_lot_shows_once_some_of_it_is_here(shop, make):
    ledger.post(
        make.event(shop["vault"], shop["store"]), "move", shop["other_lot"], shop["other_safe"], shop["safe"], 1
    )
    assert scanning.resolve("ZED-0426-ST-001", by=shop["vault"], hosts=HOSTS).lot == shop["other_lot"]


def test_tag_hosts_are_the_configured_host_and_the_request_host_without_port():
    assert scanning.tag_hosts("scan.example", "10.0.0.5:8443") == {"scan.example", "10.0.0.5"}
    assert scanning.tag_hosts("", "[::1]:8443") == {"::1"}


def test_lookup_of_a_lot_says_where_every_piece_is_but_not_the_supplier(shop):
    result = scanning.lookup("ACME-0426-FN-001", by=shop["vault"], hosts=HOSTS)
    where = {b.location.code: b.pieces for b in result.balances}
    assert where == {"SAFE1": 3, "CASE2": 2}


def test_lookup_of_a_place_lists_its_lots_and_items(shop):
    result = scanning.lookup("A-SAFE1", by=shop["vault"], hosts=HOSTS)
    assert [(b.lot.number, b.pieces) for b in result.balances] == [("ACME-0426-FN-001", 3)]
    assert [i.serial for i in result.items] == ["IT-000123"]
    assert scanning.lookup("A-CASE2", by=shop["vault"], hosts=HOSTS).items == []
    assert not result.more


def test_lookup_of_a_full_place_lists_only_the_first_lots_and_items(shop, monkeypatch):
    """A safe holds thousands: a scan of it lists the first few and says there is more (its page has them all)."""
    monkeypatch.setattr(scanning, "SHOWN_AT_A_PLACE", 0)
    result = scanning.lookup("A-SAFE1", by=shop["vault"], hosts=HOSTS)
    assert (result.balances, result.items, result.more) == ([], [], True)


# --- server decoder ------------------------------------------------------------------------------------------------

QR_URL = "HTTPS://SCAN.EXAMPLE/T/ACME-0426-FN-001"


def symbol(kind: str) -> tuple[Image.Image, str]:
    if kind == "qr":
        return qr_image(QR_URL, module=4), QR_URL
    if kind == "code128":
        return code128_image("IT-000123", module=3), "IT-000123"
    return datamatrix_image("A-SAFE1", module=5), "A-SAFE1"


@pytest.mark.parametrize("kind", ["qr", "code128", "datamatrix"])
def test_decoder_reads_each_symbology_we_print(kind):
    image, text = symbol(kind)
    assert scanning.decode_image(image_bytes(on_paper(image))) == text


def keystone(image: Image.Image, k: float = 0.18) -> Image.Image:
    """The label photographed from below, in true perspective: its top edge `k` of the width narrower each side."""
    w, h = image.size
    seen = [(k * w, 0), (w - k * w, 0), (w, h), (0, h)]  # where the label's corners land in the photo
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    # Pillow maps each output pixel (x, y) to the input ((ax+by+c)/(gx+hy+1), (dx+ey+f)/(gx+hy+1)): solve for a..h.
    rows = []
    for (x, y), (u, v) in zip(seen, corners, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, v])
    for i in range(8):  # Gauss-Jordan elimination with partial pivoting
        pivot = max(range(i, 8), key=lambda r: abs(rows[r][i]))
        rows[i], rows[pivot] = rows[pivot], rows[i]
        rows[i] = [value / rows[i][i] for value in rows[i]]
        for r in range(8):
            if r != i:
                rows[r] = [a - rows[r][i] * b for a, b in zip(rows[r], rows[i], strict=True)]
    coefficients = [row[8] for row in rows]
    return image.transform(
        image.size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR, fillcolor=255
    )


def small_in_large_photo(image: Image.Image) -> Image.Image:
    """A 4000x3000 phone photo of a desk with the tag small and a little off centre."""
    desk = Image.effect_noise((4000, 3000), 12).point(lambda v: v // 2 + 70)
    tag = on_paper(image, 30)
    desk.paste(tag, (2000 - tag.width // 2 + 240, 1500 - tag.height // 2 - 180))
    return desk.filter(ImageFilter.GaussianBlur(0.8))


DEGRADED = {
    "rotated 25°": lambda im: on_paper(im).rotate(25, Image.Resampling.BILINEAR, expand=True, fillcolor=255),
    "upside down": lambda im: on_paper(im).rotate(180),
    "blurred": lambda im: on_paper(im).filter(ImageFilter.GaussianBlur(1.6)),
    "keystone": lambda im: keystone(on_paper(im)),
    "low contrast": lambda im: on_paper(im).point(lambda v: 105 + v * 35 // 255),
}


@pytest.mark.parametrize("kind", ["qr", "datamatrix"])
@pytest.mark.parametrize("damage", DEGRADED)
def test_decoder_reads_degraded_2d_tags(kind, damage):
    image, text = symbol(kind)
    assert scanning.decode_image(image_bytes(DEGRADED[damage](image))) == text


@pytest.mark.parametrize("damage", ["upside down", "blurred", "keystone", "low contrast"])
def test_decoder_reads_degraded_code_128(damage):
    image, text = symbol("code128")
    assert scanning.decode_image(image_bytes(DEGRADED[damage](image))) == text


@pytest.mark.parametrize("kind", ["qr", "code128", "datamatrix"])
def test_decoder_reads_a_heavily_compressed_jpeg(kind):
    image, text = symbol(kind)
    assert scanning.decode_image(image_bytes(on_paper(image), "JPEG", quality=12)) == text


def test_decoder_reads_an_iphone_heic_photo():
    image, text = symbol("qr")
    photo = Image.new("RGB", (1600, 1200), (180, 170, 160))
    photo.paste(on_paper(image).convert("RGB"), (600, 400))
    assert scanning.decode_image(image_bytes(photo, "HEIF", quality=70)) == text


@pytest.mark.parametrize(
    ("symbol_image", "text"),
    [
        (qr_image(QR_URL, module=2), QR_URL),
        (datamatrix_image("A-SAFE1", module=3), "A-SAFE1"),
        (code128_image("IT-000123", module=2), "IT-000123"),
    ],
)
def test_decoder_finds_a_small_tag_in_a_large_phone_photo(symbol_image, text):
    """Reduced to 2000 px the tag is 1 px a module, too small to read; the middle of the photo at its own
    resolution has it."""
    photo = image_bytes(small_in_large_photo(symbol_image), "JPEG", quality=85)
    assert scanning.decode_image(photo) == text


def test_decoder_turns_the_photo_upright_from_its_exif_orientation():
    """A phone stores a portrait photo sideways with an EXIF orientation; the decoder reads it the right way up."""
    sideways = Image.new("L", (400, 300), 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    assert scanning._open_photo(image_bytes(sideways, "JPEG", exif=exif)).size == (300, 400)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "That file is empty. Take or choose a photo of the tag."),
        (b"shopping list: rings, chains\n", "That file is not a photo. Take or choose a picture of the tag."),
        (b"%PDF-1.7\n" + b"0" * 200, "That file is not a photo. Take or choose a picture of the tag."),
    ],
)
def test_decoder_refuses_what_is_not_a_photo(data, message):
    with pytest.raises(DomainError) as refused:
        scanning.decode_image(data)
    assert str(refused.value) == message


def test_decoder_refuses_a_damaged_photo():
    image, _ = symbol("qr")
    data = image_bytes(on_paper(image), "JPEG", quality=90)
    with pytest.raises(DomainError, match="damaged or cut off"):
        scanning.decode_image(data[: len(data) // 2])


def test_decoder_refuses_a_decompression_bomb():
    bomb = image_bytes(Image.new("1", (12_000, 12_000), 1))  # a few KB of PNG, 144 million pixels once opened
    assert len(bomb) < 100_000
    with pytest.raises(DomainError, match="too large to read"):
        scanning.decode_image(bomb)


def test_decoder_says_how_to_retake_a_photo_without_a_code():
    blank = image_bytes(Image.effect_noise((800, 600), 30))
    with pytest.raises(DomainError) as refused:
        scanning.decode_image(blank)
    assert str(refused.value) == "No code found in that photo — try closer, with the tag flat and in focus."


# --- views ---------------------------------------------------------------------------------------------------------


def test_home_is_the_lookup_page_with_the_scanner(shop, client_for):
    response = client_for(shop["associate"]).get("/")
    page = response.text
    assert response.status_code == 200
    assert 'action="/scan"' in page and 'name="code"' in page and 'inputmode="none"' in page
    assert re.search(r'<script type="module" src="/static/js/scanner\.js\?v=[0-9a-f]{12}"></script>', page)
    assert 'type="file" name="photo" accept="image/*"' in page and 'capture="environment"' in page
    assert "<script>" not in page and "style=" not in page  # the CSP forbids inline scripts and styles
    assert "camera.js" in page and "ponyfill" not in page  # the decoder loads only when the camera opens


def test_scan_answers_htmx_with_the_result_fragment(shop, client_for):
    response = client_for(shop["vault"]).post("/scan", data={"code": "acme-0426-fn-001"}, headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert response.text.lstrip().startswith('<section id="scan-result" class="scan-result found"')
    assert "<html" not in response.text
    for text in ("ACME-0426-FN-001", "Main safe (A)", "3 pcs", "Window case (A)", "2 pcs", "Cost total", "500.00"):
        assert text in response.text
    assert "Suppliers" not in response.text  # the supplier side of the ledger is not a place where pieces are
    assert f'href="/lots/{shop["lot"].id}"' in response.text
    assert 'href="/labels/ACME-0426-FN-001.png' in response.text
    assert "Receive another lot" in response.text


def test_scan_without_htmx_answers_with_the_whole_page(shop, client_for):
    response = client_for(shop["vault"]).post("/scan", data={"code": "IT-000123"})
    assert response.status_code == 200
    assert "<html" in response.text and 'id="scanner"' in response.text
    assert 'class="result-where">Main safe (A)</p>' in response.text


def test_associates_do_not_see_cost_nor_receive(shop, client_for):
    response = client_for(shop["associate"]).post("/scan", data={"code": "ACME-0426-FN-001"}, headers=HX)
    assert response.status_code == 200
    assert "ACME-0426-FN-001" in response.text
    assert "Cost" not in response.text and "500.00" not in response.text
    assert "Receive another lot" not in response.text


def test_scan_of_a_place_shows_what_is_there(shop, client_for):
    response = client_for(shop["associate"]).post("/scan", data={"code": "A-SAFE1"}, headers=HX)
    assert response.status_code == 200
    assert "Here now" in response.text and "ACME-0426-FN-001" in response.text and "IT-000123" in response.text
    assert f'href="/locations/{shop["safe"].id}"' in response.text


def test_unknown_code_is_a_404_offering_to_receive_it(shop, client_for):
    response = client_for(shop["vault"]).post("/scan", data={"code": "new-0426-xx"}, headers=HX)
    assert response.status_code == 404
    assert 'class="scan-result unknown"' in response.text
    assert 'href="/receive/?number=NEW-0426-XX"' in response.text
    response = client_for(shop["associate"]).post("/scan", data={"code": "new-0426-xx"}, headers=HX)
    assert response.status_code == 404 and "Receive as a new lot" not in response.text


def test_another_stores_code_is_a_404_like_unknown(shop, client_for):
    response = client_for(shop["vault"]).post("/scan", data={"code": "ZED-0426-ST-001"}, headers=HX)
    assert response.status_code == 404
    assert "ZED-0426-ST-001" in response.text and "B safe" not in response.text


def test_a_foreign_url_is_refused_with_422(shop, client_for):
    response = client_for(shop["vault"]).post("/scan", data={"code": "https://evil.example/t/X"}, headers=HX)
    assert response.status_code == 422
    assert "That code points to another site, not to scanapp." in response.text


@pytest.mark.parametrize(
    ("path", "shows", "opens"),
    [
        ("/t/acme-0426-fn-001", "ACME-0426-FN-001", "/lots/{lot}"),
        ("/T/ACME-0426-FN-001", "ACME-0426-FN-001", "/lots/{lot}"),
        ("/T/IT-000123", "IT-000123", "/items/{item}"),
        ("/t/a-safe1", "Main safe", "/locations/{safe}"),
    ],
)
def test_tag_url_shows_the_lookup_a_scan_gives(shop, client_for, path, shows, opens):
    """A phone's own camera opens the lookup page with the answer, as the app's scanner shows it; htmx gets the
    answer alone."""
    client = client_for(shop["associate"])
    ids = {"lot": shop["lot"].id, "item": shop["item"].id, "safe": shop["safe"].id}
    page = client.get(path)
    assert page.status_code == 200 and "<html" in page.text and 'id="scanner' in page.text
    assert shows in page.text and f'href="{opens.format(**ids)}"' in page.text
    fragment = client.get(path, headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert fragment.text.lstrip().startswith('<section id="scan-result" class="scan-result found"')
    assert fragment.text == client.post("/scan", data={"code": path[3:]}, headers=HX).text


@pytest.mark.parametrize("path", ["/t/NEW-0426-XX", "/T/ZED-0426-ST-001"])
def test_tag_url_of_an_unknown_or_foreign_code_is_a_404_page(shop, client_for, path):
    response = client_for(shop["vault"]).get(path)
    assert response.status_code == 404
    assert "<html" in response.text and "Unknown code" in response.text
    assert "Receive as a new lot" in response.text


def test_tag_url_needs_sign_in(shop, web):
    response = web.test_client().get("/T/ACME-0426-FN-001")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def qr_photo() -> bytes:
    return image_bytes(on_paper(qr_image("HTTPS://SCAN.EXAMPLE/T/IT-000123")), "JPEG", quality=80)


def test_photo_is_decoded_and_looked_up(shop, client_for):
    client = client_for(shop["vault"])
    response = client.post("/scan/photo", data={"photo": (io.BytesIO(qr_photo()), "tag.jpg")}, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="scan-result" class="scan-result found"')
    assert "IT-000123" in response.text
    full = client.post("/scan/photo", data={"photo": (io.BytesIO(qr_photo()), "tag.jpg")})
    assert full.status_code == 200 and "<html" in full.text and "IT-000123" in full.text


def test_photo_gives_just_the_code_to_scanners_of_other_pages(shop, client_for):
    response = client_for(shop["associate"]).post(
        "/scan/photo", data={"photo": (io.BytesIO(qr_photo()), "tag.jpg")}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.get_json() == {"code": "HTTPS://SCAN.EXAMPLE/T/IT-000123"}


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        ((b"not a picture", "notes.txt"), "That file is not a photo. Take or choose a picture of the tag."),
        ((b"", "empty.jpg"), "That file is empty. Take or choose a photo of the tag."),
        (None, "That file is empty. Take or choose a photo of the tag."),
    ],
)
def test_a_bad_photo_is_a_422_with_its_reason(shop, client_for, upload, message):
    client = client_for(shop["associate"])

    def form():
        return {"photo": (io.BytesIO(upload[0]), upload[1])} if upload else {}

    response = client.post("/scan/photo", data=form(), headers=HX)
    assert response.status_code == 422 and message in response.text
    response = client.post("/scan/photo", data=form(), headers={"Accept": "application/json"})
    assert response.status_code == 422 and json.loads(response.text) == {"error": message}
