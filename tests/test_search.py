"""Search: each field it looks in, case and wildcards, the user's stores only, active search fragments, and the
jump straight to an exact lot number, serial or tag code."""

import pytest

from scanapp.services import search
from tests import test_pages
from tests.test_pages import HX, recorded_sql, text_of

web = test_pages.web
client_as = test_pages.client_as


@pytest.fixture
def shop(make):
    """Main Street: a lot of sapphires (certificate in the lot) and a lot of rings with items; Far Away: a lot of
    its own, from the same supplier."""
    main, far = make.store("MAIN", "Main Street"), make.store("FAR", "Far Away")
    safe, far_safe = make.location(main, "SAFE", "safe", "Main safe"), make.location(far, "SAFE", "safe")
    sunrise = make.supplier("SUNR", "Sunrise Gems")
    sapphires = make.lot(safe, pieces=12, number="SUN-0426-ST-001", supplier=sunrise, category="stone")
    sapphires.description, sapphires.colour, sapphires.po_number = "Blue sapphires, oval 6x4", "royal blue", "PO-1052"
    sapphires.certificates = "GRS2026-044871"
    rings = make.lot(safe, pieces=2, number="BEL-0426-FN-001", serials=["BC-SOL-001", "BC-SOL-002"])
    rings.description = "Solitaire rings, 100% recycled gold"
    rings.items[0].certificate = "IGI-580001"
    hidden = make.lot(far_safe, pieces=5, number="SUN-0426-ST-002", supplier=sunrise, serials=["FAR-SER-1"])
    hidden.description, hidden.certificates = "Blue sapphires, far", "GRS2026-999999"
    return {
        "main": main, "safe": safe, "sapphires": sapphires, "rings": rings, "hidden": hidden, "sunrise": sunrise,
        "user": make.user("associate", [main]), "far_user": make.user("associate", [far]),
    }  # fmt: skip


def found(user, query):
    results = search.find(query, user)
    return (
        [lot.number for lot in results.lots],
        [item.serial for item in results.items],
        [supplier.code for supplier in results.suppliers],
    )


@pytest.mark.parametrize(
    ("query", "lots", "items", "suppliers"),
    [
        ("SUN-0426-ST", ["SUN-0426-ST-001"], [], []),  # lot number, in part
        ("bc-sol-002", [], ["BC-SOL-002"], []),  # item serial, any case
        ("igi-5800", [], ["BC-SOL-001"], []),  # item certificate
        ("GRS2026", ["SUN-0426-ST-001"], [], []),  # certificate numbers of a lot
        ("SUNR", [], [], ["SUNR"]),  # supplier code
        ("sunrise", [], [], ["SUNR"]),  # supplier name
        ("OVAL 6X4", ["SUN-0426-ST-001"], [], []),  # description
        ("Royal Blue", ["SUN-0426-ST-001"], [], []),  # an attribute
        ("po-1052", ["SUN-0426-ST-001"], [], []),  # purchase order
    ],
)
def test_search_finds_each_field(shop, query, lots, items, suppliers):
    assert found(shop["user"], query) == (lots, items, suppliers)


def test_wildcards_typed_are_taken_literally(shop):
    assert found(shop["user"], "100%")[0] == ["BEL-0426-FN-001"]
    assert found(shop["user"], "0% r")[0] == ["BEL-0426-FN-001"]
    assert found(shop["user"], "%%")[0] == []
    assert found(shop["user"], "BC_SOL")[1] == []  # _ is not "any character"
    assert found(shop["user"], "BC-SOL")[1] == ["BC-SOL-001", "BC-SOL-002"]
    assert search.like_pattern("a\\b%c_d") == "%a\\\\b\\%c\\_d%"


def test_search_never_returns_another_stores_lots_or_items(shop):
    lots, items, _ = found(shop["user"], "sapphires")
    assert lots == ["SUN-0426-ST-001"]
    assert found(shop["user"], "FAR-SER") == ([], [], [])
    assert found(shop["user"], "999999") == ([], [], [])
    assert found(shop["far_user"], "sapphires")[0] == ["SUN-0426-ST-002"]
    assert search.exact("SUN-0426-ST-002", shop["user"]) is None
    assert search.exact("FAR-SER-1", shop["user"]) is None
    assert search.exact("FAR-SAFE", shop["user"]) is None


def test_search_page_full_and_as_a_fragment(shop, client_as):
    client = client_as(shop["user"])
    page = client.get("/search/", query_string={"q": "sapphires"})
    assert page.status_code == 200 and "<html" in page.text
    assert 'hx-trigger="input changed delay:250ms, search"' in page.text and 'hx-push-url="true"' in page.text
    assert 'value="sapphires"' in page.text
    results = text_of(page.text, "search-results")
    assert "SUN-0426-ST-001" in results and "SUN-0426-ST-002" not in results
    assert f'href="/lots/{shop["sapphires"].id}"' in page.text

    fragment = client.get("/search/", query_string={"q": "sapphires"}, headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert fragment.text.lstrip().startswith('<section id="search-results"') and "<html" not in fragment.text
    assert "SUN-0426-ST-001" in fragment.text

    groups = client.get("/search/", query_string={"q": "sun"}, headers=HX).text
    assert 'id="lot-results"' in groups and 'id="supplier-results"' in groups
    assert f'href="/suppliers/{shop["sunrise"].id}"' in groups


def test_nothing_found_says_so(shop, client_as):
    page = client_as(shop["user"]).get("/search/", query_string={"q": "emerald"}, headers=HX)
    assert "Nothing matches “emerald”" in page.text


@pytest.mark.parametrize("query", ["", " ", "a", " S "])
def test_short_queries_get_a_hint_and_search_nothing(shop, client_as, query):
    client = client_as(shop["user"])
    with recorded_sql() as statements:
        page = client.get("/search/", query_string={"q": query})
    assert page.status_code == 200 and "at least two letters" in text_of(page.text, "search-results")
    assert not [s for s in statements if any(t in s for t in ("FROM lots", "FROM items", "FROM suppliers"))]


@pytest.mark.parametrize(
    ("query", "target"),
    [("sun-0426-st-001", "sapphires"), ("BC-SOL-002", "ring"), ("  bc-sol-002 ", "ring"), ("main-safe", "safe")],
)
def test_an_exact_code_opens_its_page(shop, client_as, query, target):
    expected = {
        "sapphires": f"/lots/{shop['sapphires'].id}",
        "ring": f"/items/{shop['rings'].items[1].id}",
        "safe": f"/locations/{shop['safe'].id}",
    }[target]
    client = client_as(shop["user"])
    response = client.get("/search/", query_string={"q": query})
    assert response.status_code == 302 and response.headers["Location"] == expected
    # While typing (htmx), an exact match is listed, not jumped to: the person may still be typing.
    typing = client.get("/search/", query_string={"q": query}, headers=HX)
    assert typing.status_code == 200 and 'id="search-results"' in typing.text


def test_an_exact_serial_that_is_not_a_tag_code_opens_the_item(shop, make, client_as):
    ring = make.lot(shop["safe"], pieces=1, serials=["BC SOL 9"]).items[0]  # a space: its tag is IT-<id>
    response = client_as(shop["user"]).get("/search/", query_string={"q": "bc sol 9"})
    assert response.status_code == 302 and response.headers["Location"] == f"/items/{ring.id}"
