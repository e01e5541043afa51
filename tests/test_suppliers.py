"""Suppliers: the services' rules, the pages for every role, safe returns to receiving, and nothing deleted."""

import html
import re
import uuid

import pytest
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Event, Supplier
from scanapp.services import AlreadyApplied, DomainError, suppliers
from tests.conftest import PASSWORD

HX = {"HX-Request": "true"}


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
    store = make.store("A", "Avenue Jewelers")
    safe = make.location(store, "SAFE", "safe", "Main safe")
    other = make.store("B", "Boulevard Gems")
    other_safe = make.location(other, "SAFE", "safe")
    sunrise = make.supplier("SUP", "Sunrise Gems")
    sunrise.contact, sunrise.email, sunrise.phone = "Priya Shah", "priya@sunrise.example", "+1 555 0100"
    aurum = make.supplier("AUR", "Aurum Refining")
    manager = make.user("manager", [store], username="maria")
    db.session.commit()
    return {
        "store": store, "safe": safe, "other_safe": other_safe, "sunrise": sunrise, "aurum": aurum, "manager": manager,
    }  # fmt: skip


def create(shop, code="NEW", name="New Supplier", **details):
    return suppliers.create_supplier(
        code, name, event_id=str(uuid.uuid4()), by=shop["manager"], store=shop["store"], **details
    )


def supplier_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Supplier))


def field_error(page: str, name: str) -> str:
    match = re.search(rf'id="{name}-msg" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else ""


def new_form(**changes) -> dict:
    data = {"event_id": str(uuid.uuid4()), "code": "bel", "name": " Bella Collections ", "contact": "Lucia Romano",
            "email": "lucia@bella.example", "phone": "+39 02 555", "notes": "Net 30", "next": ""}  # fmt: skip
    data.update(changes)
    return data


# --- services ---------------------------------------------------------------------------------------------------


def test_create_supplier_normalises_and_records_the_event(app, shop):
    supplier = create(shop, " gems2 ", "  Gem House ", contact=" Ana ", email="ana@gem.example")
    assert (supplier.code, supplier.name, supplier.contact, supplier.email, supplier.active) == (
        "GEMS2",
        "Gem House",
        "Ana",
        "ana@gem.example",
        True,
    )
    event = db.session.scalar(select(Event).where(Event.action == "create_supplier"))
    assert (event.result, event.user, event.store) == (f"supplier:{supplier.id}", shop["manager"], shop["store"])


@pytest.mark.parametrize("code", ["", "A", "ABCDEFGHIJKLM", "SU-P", "SU P", "ÄB", "sup!"])
def test_malformed_codes_are_refused(app, shop, code):
    before = supplier_count()
    with pytest.raises(DomainError, match="A supplier code has 2 to 12 letters or digits") as refused:
        create(shop, code)
    assert refused.value.field == "code"
    db.session.rollback()
    assert supplier_count() == before


def test_duplicate_codes_are_refused_in_any_case(app, shop):
    with pytest.raises(DomainError, match="The code SUP belongs to another supplier.") as refused:
        create(shop, "sup")
    assert refused.value.field == "code"


def test_a_name_is_required(app, shop):
    with pytest.raises(DomainError, match="Give the supplier's name.") as refused:
        create(shop, "NEW", "   ")
    assert refused.value.field == "name"


def test_update_supplier_keeps_or_changes_its_code_but_not_to_a_taken_one(app, shop):
    sunrise = shop["sunrise"]
    acting = {"by": shop["manager"], "store": shop["store"]}
    suppliers.update_supplier(sunrise, "SUP", "Sunrise Gems Ltd", event_id=str(uuid.uuid4()), **acting)
    assert (sunrise.code, sunrise.name, sunrise.contact) == ("SUP", "Sunrise Gems Ltd", "")
    suppliers.update_supplier(sunrise, "SUN", "Sunrise Gems Ltd", event_id=str(uuid.uuid4()), **acting)
    assert sunrise.code == "SUN"
    with pytest.raises(DomainError, match="The code AUR belongs to another supplier."):
        suppliers.update_supplier(sunrise, "aur", "Sunrise", event_id=str(uuid.uuid4()), **acting)


def test_deactivate_and_reactivate_delete_nothing(app, shop):
    sunrise, acting = shop["sunrise"], {"by": shop["manager"], "store": shop["store"]}
    suppliers.deactivate_supplier(sunrise, event_id=str(uuid.uuid4()), **acting)
    assert not sunrise.active and sunrise not in suppliers.active_suppliers()
    assert supplier_count() == 2
    suppliers.reactivate_supplier(sunrise, event_id=str(uuid.uuid4()), **acting)
    assert sunrise.active and sunrise in suppliers.active_suppliers()


def test_only_managing_roles_change_suppliers(app, shop, make):
    for role in ("associate", "bench"):
        user = make.user(role, [shop["store"]])
        with pytest.raises(DomainError, match="role does not allow"):
            suppliers.create_supplier("NEW", "New", event_id=str(uuid.uuid4()), by=user, store=shop["store"])
        with pytest.raises(DomainError, match="role does not allow"):
            suppliers.deactivate_supplier(shop["sunrise"], event_id=str(uuid.uuid4()), by=user, store=shop["store"])
    assert shop["sunrise"].active


def test_the_same_event_creates_once(app, shop):
    event_id = str(uuid.uuid4())
    suppliers.create_supplier("ONE", "One", event_id=event_id, by=shop["manager"], store=shop["store"])
    with pytest.raises(AlreadyApplied):
        suppliers.create_supplier("TWO", "Two", event_id=event_id, by=shop["manager"], store=shop["store"])


def test_find_suppliers_lists_active_first_and_filters(app, shop):
    shop["aurum"].active = False
    create(shop, "ZED", "Zed 100% Pearls", contact="Mo_Li")
    assert [s.code for s in suppliers.find_suppliers()] == ["SUP", "ZED", "AUR"]
    assert [s.code for s in suppliers.find_suppliers("priya")] == ["SUP"]
    assert [s.code for s in suppliers.find_suppliers(" aur ")] == ["AUR"]
    assert [s.code for s in suppliers.find_suppliers("100%")] == ["ZED"]
    assert suppliers.find_suppliers("0%P") == []  # % and _ match themselves, not any text
    assert [s.code for s in suppliers.find_suppliers("o_l")] == ["ZED"]
    assert suppliers.find_suppliers("a_r") == []


def test_supplier_lots_are_those_of_the_users_stores(app, shop, make):
    ours = make.lot(shop["safe"], supplier=shop["sunrise"], number="SUP-0426-ST-001")
    make.lot(shop["other_safe"], supplier=shop["sunrise"], number="SUP-0426-ST-002")
    assert suppliers.supplier_lots(shop["sunrise"], shop["manager"]) == [ours]


# --- pages ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["associate", "vault", "bench", "manager", "admin"])
def test_every_role_may_look(shop, make, client_for, role):
    client = client_for(make.user(role, [shop["store"]]))
    index = client.get("/suppliers/")
    assert index.status_code == 200 and "Sunrise Gems" in index.text and "Aurum Refining" in index.text
    detail = client.get(f"/suppliers/{shop['sunrise'].id}")
    assert detail.status_code == 200 and "Priya Shah" in detail.text and "priya@sunrise.example" in detail.text
    manages = role in ("vault", "manager", "admin")
    assert ("New supplier" in index.text) is manages
    assert (">Edit</a>" in detail.text) is manages


def test_search_answers_htmx_with_the_list_only(shop, client_for):
    client = client_for(shop["manager"])
    fragment = client.get("/suppliers/?q=sunr", headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert fragment.text.lstrip().startswith('<section id="supplier-list"')
    assert "Sunrise Gems" in fragment.text and "Aurum" not in fragment.text and "<html" not in fragment.text
    none = client.get("/suppliers/?q=nothing-like-this", headers=HX)
    assert "No supplier matches “nothing-like-this”." in none.text
    page = client.get("/suppliers/?q=sunr")
    assert "<html" in page.text and 'value="sunr"' in page.text and "Aurum" not in page.text


@pytest.fixture
def lots(shop, make):
    ours = make.lot(shop["safe"], supplier=shop["sunrise"], number="SUP-0426-ST-001", cost="1234.50", pieces=7)
    theirs = make.lot(shop["other_safe"], supplier=shop["sunrise"], number="SUP-0426-ST-002")
    return ours, theirs


def test_detail_lists_the_lots_of_the_users_stores_with_cost(shop, lots, client_for):
    page = client_for(shop["manager"]).get(f"/suppliers/{shop['sunrise'].id}").text
    assert f'href="/lots/{lots[0].id}"' in page and "SUP-0426-ST-001" in page and "7 pcs" in page
    assert "2026-04-01" in page and "Test finished" in page and "cost 1234.50" in page
    assert "SUP-0426-ST-002" not in page  # a lot of a store maria is not in


def test_detail_hides_cost_from_associates(shop, lots, make, client_for):
    # One signed-in user per test: the test app context is shared by the client's requests, and so is `g`.
    page = client_for(make.user("associate", [shop["store"]])).get(f"/suppliers/{shop['sunrise'].id}").text
    assert "SUP-0426-ST-001" in page and "7 pcs" in page and "1234.50" not in page and "cost" not in page


def test_unknown_supplier_is_404(shop, client_for):
    assert client_for(shop["manager"]).get("/suppliers/999999").status_code == 404


@pytest.mark.parametrize("role", ["associate", "bench"])
def test_roles_that_do_not_manage_get_403_and_change_nothing(shop, make, client_for, role):
    client = client_for(make.user(role, [shop["store"]]))
    sunrise = shop["sunrise"]
    assert client.get("/suppliers/new").status_code == 403
    assert client.post("/suppliers/new", data=new_form()).status_code == 403
    assert client.get(f"/suppliers/{sunrise.id}/edit").status_code == 403
    assert client.post(f"/suppliers/{sunrise.id}/edit", data=new_form(code="SUP")).status_code == 403
    assert client.post(f"/suppliers/{sunrise.id}/deactivate", data={"event_id": str(uuid.uuid4())}).status_code == 403
    db.session.refresh(sunrise)
    assert supplier_count() == 2 and sunrise.name == "Sunrise Gems" and sunrise.active


def test_new_supplier_goes_to_its_page(shop, client_for):
    client = client_for(shop["manager"])
    assert client.get("/suppliers/new").status_code == 200
    response = client.post("/suppliers/new", data=new_form())
    bella = db.session.scalar(select(Supplier).where(Supplier.code == "BEL"))
    assert response.status_code == 302 and response.headers["Location"] == f"/suppliers/{bella.id}"
    assert (bella.name, bella.contact, bella.email, bella.notes) == (
        "Bella Collections",
        "Lucia Romano",
        "lucia@bella.example",
        "Net 30",
    )


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
@pytest.mark.parametrize(
    ("changes", "name", "message"),
    [
        ({"code": ""}, "code", "Give the supplier a short code, like SUP."),
        ({"code": "S"}, "code", "A supplier code has 2 to 12 letters or digits, like SUP or GEMS2."),
        ({"code": "BE-L"}, "code", "A supplier code has 2 to 12 letters or digits, like SUP or GEMS2."),
        ({"code": "sup"}, "code", "The code SUP belongs to another supplier."),
        ({"name": " "}, "name", "Give the supplier's name."),
        ({"email": "not-an-email"}, "email", "That is not an email."),
        ({"phone": "1" * 41}, "phone", "Field cannot be longer than 40 characters."),
    ],
)
def test_bad_supplier_input_is_refused_on_its_field(shop, client_for, changes, name, message, headers):
    response = client_for(shop["manager"]).post("/suppliers/new", data=new_form(**changes), headers=headers)
    assert response.status_code == 422
    assert field_error(response.text, name) == message
    assert response.text.lstrip().startswith('<form id="supplier-form"') if headers else "<html" in response.text
    assert supplier_count() == 2


def test_adding_a_supplier_from_receiving_comes_back_with_it_selected(shop, client_for):
    client = client_for(shop["manager"])
    form_page = client.get("/suppliers/new?next=/receive/%3Fnumber%3DABC-1").text
    assert 'name="next" type="hidden" value="/receive/?number=ABC-1"' in form_page
    assert 'href="/receive/?number=ABC-1">Cancel</a>' in form_page
    response = client.post("/suppliers/new", data=new_form(next="/receive/?number=ABC-1"))
    bella = db.session.scalar(select(Supplier).where(Supplier.code == "BEL"))
    assert response.headers["Location"] == f"/receive/?number=ABC-1&supplier_id={bella.id}"
    receiving = client.get(response.headers["Location"]).text
    assert f'<option selected value="{bella.id}">Bella Collections · BEL</option>' in receiving


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "receive"]
)
def test_next_never_leaves_the_site(shop, client_for, target):
    client = client_for(shop["manager"])
    assert f'href="{html.escape(target)}"' not in client.get("/suppliers/new", query_string={"next": target}).text
    response = client.post("/suppliers/new", data=new_form(next=target))
    bella = db.session.scalar(select(Supplier).where(Supplier.code == "BEL"))
    assert response.headers["Location"] == f"/suppliers/{bella.id}"


def test_edit_saves_and_refuses_a_taken_code(shop, client_for):
    client = client_for(shop["manager"])
    sunrise = shop["sunrise"]
    page = client.get(f"/suppliers/{sunrise.id}/edit").text
    assert 'value="SUP"' in page and 'value="Priya Shah"' in page
    refused = client.post(f"/suppliers/{sunrise.id}/edit", data=new_form(code="aur"))
    assert (
        refused.status_code == 422 and field_error(refused.text, "code") == "The code AUR belongs to another supplier."
    )
    db.session.refresh(sunrise)
    assert sunrise.code == "SUP"
    saved = client.post(f"/suppliers/{sunrise.id}/edit", data=new_form(code="SUN", name="Sunrise Gems Ltd"))
    assert saved.headers["Location"] == f"/suppliers/{sunrise.id}"
    db.session.refresh(sunrise)
    assert (sunrise.code, sunrise.name) == ("SUN", "Sunrise Gems Ltd")


def test_deactivated_supplier_stays_listed_but_is_not_offered_for_receiving(shop, client_for):
    client = client_for(shop["manager"])
    sunrise = shop["sunrise"]
    event = {"event_id": str(uuid.uuid4())}
    response = client.post(f"/suppliers/{sunrise.id}/deactivate", data=event)
    assert response.headers["Location"] == f"/suppliers/{sunrise.id}"
    db.session.refresh(sunrise)
    assert not sunrise.active and supplier_count() == 2
    listing = client.get("/suppliers/").text
    assert listing.index("Aurum Refining") < listing.index("Sunrise Gems") and "inactive" in listing
    assert "Sunrise Gems · SUP" not in client.get("/receive/").text
    assert client.post(f"/suppliers/{sunrise.id}/deactivate", data=event).status_code == 302  # a replay
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.action == "deactivate_supplier")) == 1
    client.post(f"/suppliers/{sunrise.id}/reactivate", data={"event_id": str(uuid.uuid4())})
    db.session.refresh(sunrise)
    assert sunrise.active


def test_the_same_form_sent_twice_adds_one_supplier(shop, client_for):
    client = client_for(shop["manager"])
    data = new_form()
    first = client.post("/suppliers/new", data=data)
    second = client.post("/suppliers/new", data=data)
    assert supplier_count() == 3
    assert first.headers["Location"] == second.headers["Location"]
    with client.session_transaction() as session:
        assert ("info", "Already recorded: that was sent twice and applied once.") in session["_flashes"]
