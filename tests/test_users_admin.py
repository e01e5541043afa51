"""User administration (admins, /settings/users): list, make, change role and stores, deactivate and reactivate,
reset a password, unlock; each writes one audit entry; store isolation; no store is left without an admin; the
command line's user commands are audited too."""

import re

import pytest
from flask import current_app
from sqlalchemy import func, select

from scanapp import create_app
from scanapp.extensions import db
from scanapp.models import AuditEntry, Event, User
from scanapp.services import DomainError, Forbidden, users
from scanapp.services.events import new_event_id
from tests.conftest import PASSWORD


@pytest.fixture
def shop(make):
    """Stores A and B; admin Ada of A, admin Bo of B, associate Al of A, vault Viv of A and B, manager Mo of A."""
    a, b = make.store("A", "Avenue"), make.store("B", "Boulevard")
    people = {
        "ada": make.user("admin", [a], username="ada"),
        "bo": make.user("admin", [b], username="bo"),
        "al": make.user("associate", [a], username="al"),
        "viv": make.user("vault", [a, b], username="viv"),
        "mo": make.user("manager", [a], username="mo"),
    }
    db.session.commit()
    return {"a": a, "b": b, **people}


def entries(action: str | None = None) -> list[AuditEntry]:
    db.session.commit()
    query = select(AuditEntry).order_by(AuditEntry.id)
    return list(db.session.scalars(query.where(AuditEntry.action == action) if action else query))


def post(client, path, **data):
    data.setdefault("event_id", new_event_id())
    return client.post(path, data=data)  # from 127.0.0.1: the address client_for's session is bound to


@pytest.mark.parametrize("who", ["al", "viv", "mo"])
def test_only_admins_manage_users(shop, client_for, who):
    client = client_for(shop[who])
    assert client.get("/settings/users/").status_code == 403
    assert client.get(f"/settings/users/{shop['al'].id}").status_code == 403
    assert post(client, f"/settings/users/{shop['al'].id}/role", role="admin").status_code == 403
    assert "Users" not in re.sub(r"<title>.*?</title>", "", client.get("/menu").text)
    assert shop["al"].role == "associate" and entries() == []


def test_the_list_shows_the_accounts_of_the_admins_stores(shop, client_for):
    page = client_for(shop["ada"]).get("/settings/users/")
    assert page.status_code == 200
    listed = [
        name for name in ("ada", "bo", "al", "viv", "mo") if f'<span class="mono muted">{name}</span>' in page.text
    ]
    assert listed == ["ada", "al", "viv", "mo"]
    assert "and 1 other store" in page.text  # Viv is also in B, not named
    assert "Boulevard" not in page.text
    assert 'href="/settings/users/"' in client_for(shop["ada"]).get("/menu").text


def test_another_stores_account_is_not_found(shop, client_for):
    client = client_for(shop["ada"])
    bo = shop["bo"]
    assert client.get(f"/settings/users/{bo.id}").status_code == 404
    for path, data in (("role", {"role": "associate"}), ("stores", {"stores": [shop["a"].id]}),
                       ("password", {"password": "new-password-1"}), ("deactivate", {}), ("unlock", {})):  # fmt: skip
        assert post(client, f"/settings/users/{bo.id}/{path}", **data).status_code == 404
    assert client.get("/settings/users/999999").status_code == 404
    assert (bo.role, bo.active, entries()) == ("admin", True, [])


def test_making_a_user(shop, client_for):
    client = client_for(shop["ada"])
    form = client.get("/settings/users/new")
    assert form.status_code == 200 and 'name="event_id"' in form.text and "Avenue" in form.text
    assert "Boulevard" not in form.text
    response = post(client, "/settings/users/new", username=" Nia ", name="Nia Ng", role="vault",
                    stores=[shop["a"].id], password="first-pass-1")  # fmt: skip
    nia = users.find_user("nia")
    assert response.status_code == 302 and response.headers["Location"] == f"/settings/users/{nia.id}"
    assert (nia.name, nia.role, [s.code for s in nia.stores]) == ("Nia Ng", "vault", ["A"])
    assert users.authenticate("nia", "first-pass-1") == nia
    [entry] = entries()
    assert (entry.action, entry.user, entry.username, entry.subject) == ("user_created", shop["ada"], "nia",
                                                                         f"user:{nia.id}")  # fmt: skip
    assert (entry.detail, entry.remote_addr, entry.store_id) == ("vault of A", "127.0.0.1", None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "", "role": "vault", "password": "first-pass-1"}, "Give a username."),
        ({"username": "al", "role": "vault", "password": "first-pass-1"}, "The username al is taken."),
        ({"username": "nia", "role": "boss", "password": "first-pass-1"}, "Choose a role from the list."),
        ({"username": "nia", "role": "vault", "password": "short"}, "At least 8 characters."),
        (
            {"username": "nia", "role": "vault", "password": "first-pass-1", "stores": []},
            "A user belongs to at least one store.",
        ),
    ],
    ids=["no-name", "taken", "bad-role", "short-password", "no-store"],
)
def test_bad_new_users_are_refused_and_nothing_is_written(shop, client_for, data, message):
    data = {"stores": [shop["a"].id], **data}
    before = db.session.scalar(select(func.count()).select_from(User))
    response = post(client_for(shop["ada"]), "/settings/users/new", **data)
    assert response.status_code == 422 and message in response.text
    assert db.session.scalar(select(func.count()).select_from(User)) == before and entries() == []


def test_a_new_user_cannot_be_put_in_a_store_of_which_the_admin_is_not(shop, client_for):
    response = post(client_for(shop["ada"]), "/settings/users/new", username="nia", role="vault",
                    stores=[shop["b"].id], password="first-pass-1")  # fmt: skip
    assert response.status_code == 404 and users.find_user("nia") is None


def test_changing_a_role_writes_one_entry_and_a_double_tap_applies_once(shop, client_for):
    client, al = client_for(shop["ada"]), shop["al"]
    event_id = new_event_id()
    first = post(client, f"/settings/users/{al.id}/role", role="manager", event_id=event_id)
    assert first.status_code == 302
    assert "Associate al is now manager." in client.get(first.headers["Location"]).text
    again = post(client, f"/settings/users/{al.id}/role", role="manager", event_id=event_id)
    assert again.status_code == 302 and "Already recorded" in client.get(again.headers["Location"]).text
    db.session.refresh(al)
    assert al.role == "manager"
    [entry] = entries()
    assert (entry.action, entry.user, entry.username, entry.detail) == ("role_changed", shop["ada"], "al",
                                                                        "role associate → manager")  # fmt: skip
    assert db.session.get(Event, event_id).result == f"user:{al.id}"


def test_the_same_role_again_is_refused(shop, client_for):
    response = post(client_for(shop["ada"]), f"/settings/users/{shop['al'].id}/role", role="associate")
    assert response.status_code == 422 and "is an associate already." in response.text
    assert entries() == []


def test_stores_change_only_where_the_admin_is_a_member(shop, client_for, make):
    c = make.store("C", "Corner")
    ada, viv = shop["ada"], shop["viv"]
    ada.stores.append(c)
    db.session.commit()
    client = client_for(ada)
    page = client.get(f"/settings/users/{viv.id}")
    assert "Also in 1 store you are not in; that stays." in page.text and "Boulevard" not in page.text
    response = post(client, f"/settings/users/{viv.id}/stores", stores=[c.id])  # out of A, into C; B stays
    assert response.status_code == 302
    db.session.refresh(viv)
    assert [s.code for s in viv.stores] == ["B", "C"]
    [entry] = entries("stores_changed")
    assert entry.detail == "stores A, B → B, C"
    assert post(client, f"/settings/users/{viv.id}/stores", stores=[shop["b"].id]).status_code == 404


def test_taking_someone_out_of_every_store_is_refused(shop, client_for):
    response = post(client_for(shop["ada"]), f"/settings/users/{shop['al'].id}/stores")
    assert response.status_code == 422 and "A user belongs to at least one store." in response.text
    assert [s.code for s in shop["al"].stores] == ["A"] and entries() == []


def test_deactivating_and_reactivating(shop, client_for):
    client, al = client_for(shop["ada"]), shop["al"]
    assert post(client, f"/settings/users/{al.id}/deactivate").status_code == 302
    db.session.refresh(al)
    assert al.active is False and users.authenticate("al", PASSWORD) is None
    assert "Reactivate" in client.get(f"/settings/users/{al.id}").text
    again = post(client, f"/settings/users/{al.id}/deactivate")
    assert again.status_code == 422 and "is deactivated already." in again.text
    assert post(client, f"/settings/users/{al.id}/reactivate").status_code == 302
    db.session.refresh(al)
    assert al.active is True
    assert [e.action for e in entries()] == ["user_deactivated", "user_reactivated"]


def test_resetting_a_password(shop, client_for):
    client, al = client_for(shop["ada"]), shop["al"]
    short = post(client, f"/settings/users/{al.id}/password", password="1234567")
    assert short.status_code == 422 and "At least 8 characters." in short.text and entries() == []
    assert post(client, f"/settings/users/{al.id}/password", password="brand-new-pass").status_code == 302
    assert users.authenticate("al", "brand-new-pass") == al and users.authenticate("al", PASSWORD) is None
    [entry] = entries()
    assert (entry.action, entry.username, entry.detail) == ("password_reset", "al", "")
    assert "brand-new-pass" not in entry.detail


def test_unlocking_an_account_that_is_not_locked_is_refused(shop, client_for):
    response = post(client_for(shop["ada"]), f"/settings/users/{shop['al'].id}/unlock")
    assert response.status_code == 422 and "Sign-in for Associate al is not locked." in response.text
    assert entries() == []


def test_the_last_admin_cannot_demote_or_deactivate_themselves(shop, client_for):
    client, ada = client_for(shop["ada"]), shop["ada"]
    for path, data in (("role", {"role": "manager"}), ("deactivate", {})):
        response = post(client, f"/settings/users/{ada.id}/{path}", **data)
        assert response.status_code == 422
        assert "is the last active admin of Avenue: make someone else an admin there" in response.text
    db.session.refresh(ada)
    assert (ada.role, ada.active, entries()) == ("admin", True, [])


def test_with_a_second_admin_an_admin_may_step_down(shop, client_for):
    client, ada = client_for(shop["ada"]), shop["ada"]
    assert post(client, f"/settings/users/{shop['mo'].id}/role", role="admin").status_code == 302
    assert post(client, f"/settings/users/{ada.id}/role", role="manager").status_code == 302
    db.session.refresh(ada)
    assert ada.role == "manager"
    assert [e.detail for e in entries("role_changed")] == ["role manager → admin", "role admin → manager"]


def test_an_admin_of_another_store_does_not_count(shop):
    """Bo is an admin, but of B: Ada is still the last admin of A."""
    with pytest.raises(DomainError, match="last active admin of Avenue"):
        users.change_role(shop["ada"], "manager", by=shop["ada"])


def test_an_admin_cannot_be_taken_out_of_the_store_they_are_the_last_admin_of(shop, make):
    c = make.store("C", "Corner")
    ada = shop["ada"]
    ada.stores.append(c)
    with pytest.raises(DomainError, match="last active admin of Avenue"):
        users.set_stores(ada, [c], by=ada)


def test_services_refuse_non_admins_and_other_stores(shop):
    with pytest.raises(Forbidden):
        users.change_role(shop["al"], "manager", by=shop["mo"])
    with pytest.raises(Forbidden):
        users.reset_password(shop["bo"], "long-enough-1", by=shop["ada"])


def test_the_edit_page_carries_csrf_tokens_and_event_ids(app, shop):
    twin = create_app({**current_app.config, "WTF_CSRF_ENABLED": True})
    try:
        client = twin.test_client()
        client.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": _token(client)})
        page = client.get(f"/settings/users/{shop['al'].id}").text
        assert page.count('name="event_id"') == 4 and page.count('name="csrf_token"') >= 5
        refused = client.post(
            f"/settings/users/{shop['al'].id}/role", data={"role": "admin", "event_id": new_event_id()}
        )
        assert refused.status_code in (302, 400)
        db.session.commit()
        assert db.session.get(User, shop["al"].id).role == "associate"
    finally:
        with twin.app_context():
            db.engine.dispose()


def _token(client) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text).group(1)


# --- the command line -------------------------------------------------------------------------------------


def test_command_line_user_commands_are_audited_without_an_actor(app, shop):
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["users", "create", "nia", "--role", "vault", "--store", "A", "--password", "long-enough-1"]
    )
    assert created.exit_code == 0, created.output
    for args in (["users", "reset-password", "nia", "--password", "long-enough-2"], ["users", "deactivate", "nia"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    db.session.rollback()
    made = entries()
    assert [e.action for e in made] == ["user_created", "password_reset", "user_deactivated"]
    assert {(e.user_id, e.username, e.remote_addr) for e in made} == {(None, "nia", "")}
    assert made[0].detail == "vault of A; from the command line"


def test_command_line_unlock_and_the_last_admin_rule(app, shop):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["users", "unlock", "ada"])
    assert refused.exit_code == 1 and "Sign-in for Admin ada is not locked." in refused.output
    last = runner.invoke(args=["users", "deactivate", "ada"])
    assert last.exit_code == 1 and "last active admin of Avenue" in last.output
    db.session.rollback()
    assert entries() == []
