"""The audit log: each audited operation writes exactly one entry with its actor and address; entries cannot be
changed or deleted through the ORM; managers and admins read their stores' entries at /audit (filtered, paged, as
CSV); nobody else can, and nothing there edits."""

import csv
import io
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import delete, func, select, update

from scanapp import create_app
from scanapp.extensions import db
from scanapp.models import AppendOnly, AuditEntry
from scanapp.models.types import utcnow
from scanapp.services import Forbidden, audit, counts, returns
from scanapp.services.api_tokens import create_token, revoke_token
from scanapp.services.events import new_event_id
from scanapp.services.inspections import Hold, Quantity, record_inspection, release
from tests.conftest import PASSWORD

ADDR = "10.1.2.3"


@pytest.fixture
def shop(make):
    """Store A (a safe, a showcase, 10 rings of which 4 on hold) with a manager, a vault keeper, an associate and
    an admin; store B with its own manager."""
    a, b = make.store("A", "Avenue"), make.store("B", "Boulevard")
    safe, case = make.location(a, "SAFE", "safe", "Main safe"), make.location(a, "SC1", "showcase", "Showcase")
    people = {r: make.user(r, [a], username=r) for r in ("associate", "vault", "bench", "manager", "admin")}
    people["b_manager"] = make.user("manager", [b], username="bert")
    lot = make.lot(safe, pieces=10, number="RINGS-1", by=people["vault"])
    record_inspection(lot, points={}, result="fail", hold=Hold("part", safe, Quantity(4)), event_id=new_event_id(),
                      by=people["vault"], store=a)  # fmt: skip
    db.session.commit()
    return {"a": a, "b": b, "safe": safe, "case": case, "lot": lot, **people}


def written_by(operation) -> list[AuditEntry]:
    """Run `operation` as a request from ADDR would, commit, and return the audit entries it wrote."""
    before = db.session.scalar(select(func.max(AuditEntry.id))) or 0
    with current_app.test_request_context(environ_base={"REMOTE_ADDR": ADDR}):
        operation()
    db.session.commit()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)))


def test_releasing_a_hold_is_audited(shop):
    [entry] = written_by(lambda: release(shop["lot"], quantity=Quantity(2), dest=shop["safe"], reason="Re-checked",
                                         event_id=new_event_id(), by=shop["manager"], store=shop["a"]))  # fmt: skip
    assert (entry.action, entry.user, entry.store, entry.remote_addr) == (
        "hold_released",
        shop["manager"],
        shop["a"],
        ADDR,
    )
    assert entry.subject == f"lot:{shop['lot'].id}"
    assert entry.detail == "2 pcs of lot RINGS-1 to Main safe: Re-checked"


def test_approving_and_cancelling_counts_are_audited(shop):
    first = counts.start_count(shop["a"], shop["case"], blind=False, event_id=new_event_id(), by=shop["vault"])
    counts.close_counting(first, event_id=new_event_id(), by=shop["vault"])
    [approved] = written_by(lambda: counts.approve(first, event_id=new_event_id(), by=shop["manager"]))
    assert (approved.action, approved.user, approved.store) == ("count_approved", shop["manager"], shop["a"])
    assert (approved.subject, approved.remote_addr) == (f"count:{first.id}", ADDR)
    assert approved.detail == f"{first.number}: 0 adjustment(s) booked"

    second = counts.start_count(shop["a"], shop["safe"], blind=True, event_id=new_event_id(), by=shop["vault"])
    [cancelled] = written_by(lambda: counts.cancel(second, event_id=new_event_id(), by=shop["manager"]))
    assert (cancelled.action, cancelled.subject, cancelled.detail) == ("count_cancelled", f"count:{second.id}",
                                                                       second.number)  # fmt: skip


def test_a_return_override_is_audited_and_a_plain_return_is_not(shop, make):
    store = shop["a"]
    reason = next(r for r in returns.reasons(store) if r.label == "Size")

    def take(**kw):
        returns.take_return(shop["lot"], reason=reason, condition="as_new", disposition="restock", dest=shop["case"],
                            pieces=1, event_id=new_event_id(), by=shop["manager"], store=store, **kw)  # fmt: skip

    [entry] = written_by(lambda: take(receipt="R-404", override_reason="Regular client"))
    assert (entry.action, entry.user, entry.store, entry.remote_addr) == (
        "return_override",
        shop["manager"],
        store,
        ADDR,
    )
    assert entry.subject.startswith("return:")
    assert entry.detail == "Lot RINGS-1 was never sold by Avenue on receipt R-404. Reason: Regular client"


def test_api_tokens_made_and_revoked_are_audited(shop):
    made = []
    [created] = written_by(
        lambda: made.append(create_token(shop["associate"], shop["a"], "Till 1", by=shop["manager"]))
    )
    token = made[0][0]
    assert (created.action, created.user, created.store, created.remote_addr) == ("token_created", shop["manager"],
                                                                                   shop["a"], ADDR)  # fmt: skip
    assert created.subject == f"api_token:{token.id}"
    assert created.detail == f'{token.prefix}… "Till 1", acts as associate'
    assert made[0][1] not in created.detail  # never the secret
    [revoked] = written_by(lambda: revoke_token(token, by=shop["manager"]))
    assert (revoked.action, revoked.subject) == ("token_revoked", f"api_token:{token.id}")


def test_a_refused_operation_leaves_no_entry(shop):
    with pytest.raises(Forbidden, match="Your role does not allow this"):
        written_by(lambda: release(shop["lot"], quantity=Quantity(1), dest=shop["safe"], reason="x",
                                   event_id=new_event_id(), by=shop["vault"], store=shop["a"]))  # fmt: skip
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


@pytest.fixture
def web(app):
    twin = create_app(dict(app.config))
    yield twin
    with twin.app_context():
        db.engine.dispose()


def test_sign_in_failure_and_sign_out_each_write_one_entry(web, shop):
    client = web.test_client()
    env = {"REMOTE_ADDR": ADDR}
    client.post("/login", data={"username": "Vault", "password": "nope-nope"}, environ_base=env)
    client.post("/login", data={"username": "vault", "password": PASSWORD}, environ_base=env)
    client.post("/logout", environ_base=env)
    db.session.commit()
    failed, signed_in, signed_out = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    vault = shop["vault"]
    assert (failed.action, failed.user_id, failed.username, failed.detail) == ("sign_in_failed", None, "vault",
                                                                               "wrong password")  # fmt: skip
    assert (signed_in.action, signed_in.user_id, signed_in.username) == ("sign_in", vault.id, "vault")
    assert (signed_out.action, signed_out.user_id) == ("sign_out", vault.id)
    assert {e.remote_addr for e in (failed, signed_in, signed_out)} == {ADDR}
    assert {e.subject for e in (failed, signed_in, signed_out)} == {f"user:{vault.id}"}


# --- append-only ------------------------------------------------------------------------------------------


@pytest.fixture
def entry(shop):
    with current_app.test_request_context():
        made = audit.record("sign_in", by=shop["manager"], detail="as it happened")
    db.session.commit()
    return made


def test_an_entry_cannot_be_changed(entry):
    entry.detail = "rewritten"
    with pytest.raises(AppendOnly, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).detail == "as it happened"


def test_an_entry_cannot_be_deleted(entry):
    db.session.delete(entry)
    with pytest.raises(AppendOnly):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id) is not None


@pytest.mark.parametrize(
    "statement",
    [update(AuditEntry).values(detail="rewritten"), delete(AuditEntry)],
    ids=["bulk-update", "bulk-delete"],
)
def test_bulk_statements_on_entries_are_refused(entry, statement):
    with pytest.raises(AppendOnly):
        db.session.execute(statement)
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).detail == "as it happened"


def test_unknown_actions_are_a_programming_error(app):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record("tea_break")


# --- the page -----------------------------------------------------------------------------------------------


def add(action, *, by=None, username="", store=None, minutes_ago=0, detail="", subject=""):
    entry = AuditEntry(
        action=action,
        user_id=by.id if by else None,
        username=username or (by.username if by else ""),
        store_id=store.id if store else None,
        remote_addr="10.0.0.9",
        subject=subject,
        detail=detail,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    db.session.add(entry)
    return entry


@pytest.fixture
def log(shop):
    """Entries of store A, of store B, sign-ins of people of each, and a failed sign-in of no account."""
    add("count_approved", by=shop["manager"], store=shop["a"], detail="A-count", minutes_ago=5)
    add("token_created", by=shop["b_manager"], store=shop["b"], detail="B-token", minutes_ago=4)
    add("sign_in", by=shop["associate"], detail="A-person-signs-in", minutes_ago=3)
    add("sign_in", by=shop["b_manager"], detail="B-person-signs-in", minutes_ago=2)
    add("sign_in_failed", username="mallory", detail="nobody-account", minutes_ago=1)
    add("role_changed", by=shop["admin"], username="associate", detail="role-of-A-person", minutes_ago=0)
    db.session.commit()


@pytest.mark.parametrize("role", ["associate", "vault", "bench"])
def test_only_managers_and_admins_read_the_log(shop, client_for, role):
    client = client_for(shop[role])
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/?format=csv").status_code == 403
    assert "Audit log" not in client.get("/menu").text


def test_a_manager_sees_their_stores_entries_and_their_peoples_sign_ins(shop, log, client_for):
    page = client_for(shop["manager"]).get("/audit/")
    assert page.status_code == 200 and "Audit log" in page.text
    shown = [d for d in ("A-count", "B-token", "A-person-signs-in", "B-person-signs-in", "nobody-account",
                         "role-of-A-person") if d in page.text]  # fmt: skip
    assert shown == ["A-count", "A-person-signs-in", "role-of-A-person"]
    assert page.text.index("role-of-A-person") < page.text.index("A-count")  # newest first


def test_an_admin_also_sees_failed_sign_ins_of_names_that_are_no_account(shop, log, client_for):
    page = client_for(shop["admin"]).get("/audit/")
    assert "nobody-account" in page.text and "B-token" not in page.text and "B-person-signs-in" not in page.text


def test_the_other_store_sees_its_own(shop, log, client_for):
    page = client_for(shop["b_manager"]).get("/audit/")
    assert "B-token" in page.text and "B-person-signs-in" in page.text
    assert "A-count" not in page.text and "A-person-signs-in" not in page.text


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"action": "sign_in"}, ["A-person-signs-in"]),
        ({"person": "Associate"}, ["A-person-signs-in", "role-of-A-person"]),  # as actor or as the account
        ({"person": "admin"}, ["role-of-A-person"]),
        ({"since": "2000-01-01", "until": "2000-12-31"}, []),
    ],
    ids=["action", "account", "actor", "dates"],
)
def test_filters(shop, log, client_for, query, shown):
    page = client_for(shop["manager"]).get("/audit/", query_string=query)
    assert page.status_code == 200
    assert [d for d in ("A-count", "A-person-signs-in", "role-of-A-person") if d in page.text] == shown


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"store": "999999"}, "Choose one of your stores."),
        ({"action": "drop_table"}, "Choose from the list."),
        ({"since": "2026-05-02", "until": "2026-05-01"}, "The end date is before the start date."),
        ({"since": "yesterday"}, "Not a valid date value."),
    ],
)
def test_bad_filters_are_a_422_with_a_message(shop, log, client_for, query, message):
    page = client_for(shop["manager"]).get("/audit/", query_string=query)
    assert page.status_code == 422 and message in page.text


def test_another_stores_id_as_filter_is_refused(shop, log, client_for):
    page = client_for(shop["manager"]).get("/audit/", query_string={"store": shop["b"].id})
    assert page.status_code == 422 and "B-token" not in page.text


def test_pages_of_fifty(shop, client_for):
    for i in range(55):
        add("sign_in", by=shop["associate"], detail=f"entry-{i:02d}-", minutes_ago=i)
    db.session.commit()
    client = client_for(shop["manager"])
    first = client.get("/audit/")
    assert "entry-00-" in first.text and "entry-49-" in first.text and "entry-50-" not in first.text
    assert "Older →" in first.text and "← Newer" not in first.text
    second = client.get("/audit/?page=2")
    assert "entry-50-" in second.text and "entry-54-" in second.text and "entry-49-" not in second.text
    assert "Older →" not in second.text and "← Newer" in second.text


def test_csv_has_every_matching_entry_formula_safe(shop, log, client_for):
    add("sign_in_failed", username="=cmd|calc", detail="formula", minutes_ago=0)
    db.session.commit()
    response = client_for(shop["admin"]).get("/audit/", query_string={"format": "csv", "action": "sign_in_failed"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["when (UTC)", "action", "by", "account", "store", "subject", "detail", "address"]
    assert [(r[1], r[3], r[6]) for r in rows[1:]] == [
        ("sign_in_failed", "'=cmd|calc", "formula"),
        ("sign_in_failed", "mallory", "nobody-account"),
    ]


def test_the_log_has_no_way_to_change_it(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert rules and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules)


def test_the_menu_links_the_log_for_managers(shop, client_for):
    assert 'href="/audit/"' in client_for(shop["manager"]).get("/menu").text
