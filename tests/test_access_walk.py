"""The access walk: every route of the URL map, for every role and across two stores.

ROLE: each endpoint declares the action it needs (`requires`, which records it as `required_action`), or is in a
short list of pages open to every signed-in user, or is public. A role the action is not granted to gets a 403 and
writes nothing; a role it is granted to never gets a 403.
STORE: an admin of store A only (the most powerful role, in one store) sends store B's ids wherever an id goes (the
URL, the query string, a form field, an API body): refused, nothing written, none of B's names in the answer. API
tokens act for one user in one store and stop working when revoked.

The two stores are built once per test (the `app` fixture empties the database after each test); one test client
per user is reused. A new route that no list here classifies makes the walk fail: classify it.
"""

import io
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

import pytest
from PIL import Image
from sqlalchemy import String, cast, func, literal, select, union_all

from scanapp.extensions import db
from scanapp.models import Movement
from scanapp.services import DomainError, access, bench, counts, inspections, returns, transfers
from scanapp.services.api_tokens import create_token, revoke_token
from scanapp.services.documents import add_document
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine, move_stock
from scanapp.services.sales import sell
from scanapp.views.reports import CARDS

ROLES = ("associate", "vault", "bench", "manager", "admin")
PUBLIC = {"auth.login", "main.healthz", "static"}
# Pages every signed-in user may open, whatever the role; each shows only what the user's stores hold.
OPEN_TO_ALL = {
    "main.menu": "the More tab lists only what the role may do",
    "auth.logout": "anyone signed in may sign out",
    "auth.switch_store": "choosing among one's own stores",
    "search.index": "search finds only the user's stores' lots, items and places",
    "lots.detail": "looking up a lot (look_up is every role's)",
    "lots.document": "a lot's certificates and invoices, for whoever may see the lot",
    "items.detail": "looking up an item",
    "locations.index": "the store's places",
    "locations.detail": "what a place holds",
    "transfers.index": "what is on its way into or out of the store",
    "transfers.detail": "one transfer of the user's stores",
    "sales.detail": "what a sale sold (cost only for roles that may see it)",
    "bench.index": "the store's open jobs, for the counter to answer customers",
    "bench.detail": "one job, read-only for roles without `bench`",
    "inspections.photo": "a photo of the user's stores",
    "inspections.thumb": "its thumbnail",
    "counts.service_worker": "the offline script, no data",
    "api.openapi_document": "the API's description",
    "api.tag": "look up a tag in the token's store",
    "api.movements": "the token's store's ledger feed",
    "api.no_such_endpoint": "a JSON 404 for unknown API paths",
}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 40, 40)).save(out, "JPEG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Shop:
    """One store with one of everything, and one user of each role who belongs to it alone."""

    store: object
    places: dict
    users: dict
    lot: object
    melee: object
    held: object
    items: list
    document: object
    photo: object
    sale: object
    ret: object
    reason: object
    move_event: str
    count: object
    count_line: str
    job: object
    used: object
    transfer: object
    token: object
    secret: str
    supplier: object
    clerk: object
    names: list = field(default_factory=list)


def build_shop(make, code: str, name: str, hub) -> Shop:
    """Store `code` with places, people, lots (with items, a document, an inspection photo, one held), a sale, a
    return, a move, an open count with a line, a job that used stones, a transfer in from `hub`, an API token."""
    store = make.store(code, name)
    places = {k: make.location(store, f"{code}-{k.upper()}", k, f"{name} {k}") for k in ("safe", "vault", "bench")}
    places["case"] = make.location(store, f"{code}-CASE", "showcase", f"{name} showcase")
    users = {role: make.user(role, [store], username=f"{code.lower()}-{role}") for role in ROLES}
    clerk = make.user("associate", [store], username=f"{code.lower()}-clerk")  # for the user settings pages
    admin, vault = users["admin"], users["vault"]
    supplier = make.supplier(f"{code}-SUP", f"{name} gems")
    serials = [f"{code}-SER-{n}" for n in range(1, 7)]
    lot = make.lot(places["safe"], pieces=10, number=f"{code}-LOT", serials=serials, supplier=supplier, by=vault)
    melee = make.lot(
        places["bench"], pieces=100, weight="2.000", weight_unit="ct", category="stone", number=f"{code}-MEL", by=vault
    )
    held = make.lot(places["vault"], pieces=5, number=f"{code}-HELD", by=vault)
    document = add_document(lot, "invoice.pdf", PDF, by=vault)
    inspection = inspections.record_inspection(
        lot, points={}, result="pass", photo_uploads=[("p.jpg", jpeg())], event_id=new_event_id(), by=vault, store=store
    )
    inspections.record_inspection(
        held, points={}, result="hold", hold=inspections.Hold("all"), event_id=new_event_id(), by=vault, store=store
    )
    items = lot.items
    sale = sell([MoveLine(item=items[0])], price=Decimal("900"), receipt=f"{code}-RC1", event_id=new_event_id(),
                by=admin, store=store)[0]  # fmt: skip
    sell([MoveLine(item=items[1])], price=Decimal("900"), receipt=f"{code}-RC2", event_id=new_event_id(), by=admin,
         store=store)  # fmt: skip
    reason = returns.reasons(store)[0]
    ret = returns.take_return(items[1], reason=reason, condition="as_new", disposition="restock",
                              dest=places["safe"], event_id=new_event_id(), by=admin, store=store)  # fmt: skip
    move_event = new_event_id()
    move_stock(places["case"], [MoveLine(item=items[2])], event_id=move_event, by=admin, store=store)
    count = counts.start_count(store, places["vault"], blind=False, event_id=new_event_id(), by=vault)
    line = counts.add_line(count, code=held.tag.code, event_id=new_event_id(), by=vault).line
    job = bench.open_work_order(
        bench.NewJob(kind="custom", description=f"{name} ring", bench=places["bench"]),
        event_id=new_event_id(), by=users["bench"], store=store,
    )  # fmt: skip
    used = bench.use_material(job, MoveLine(lot=melee, source=places["bench"], pieces=2, weight=Decimal("0.040")),
                              event_id=new_event_id(), by=users["bench"], store=store)  # fmt: skip
    transfer = ship_in(make, hub, store, code)
    token, secret = create_token(users["associate"], store, f"{name} till", by=admin)
    names = [lot.number, melee.number, held.number, *serials, *(p.name for p in places.values()), job.code,
             count.number, token.name, clerk.name, *(u.name for u in users.values()), f"{code}-RC1", f"{code}-RC2",
             transfer.reference, f"HUB-{code}"]  # fmt: skip
    db.session.commit()
    photo = inspection.photos[0]
    return Shop(store, places, users, lot, melee, held, items, document, photo, sale, ret, reason, move_event, count,
                line.event_id, job, used, transfer, token, secret, supplier, clerk, names)  # fmt: skip


def ship_in(make, hub, store, code: str):
    """A transfer from the hub store into `store`, in transit."""
    manager = hub["manager"]
    source = hub["safe"]
    lot = make.lot(source, pieces=4, number=f"HUB-{code}", by=manager)
    return transfers.ship([MoveLine(lot=lot, source=source, pieces=2)], store, reference=f"{code}-REF",
                          carrier="Courier", event_id=new_event_id(), by=manager, store=hub["store"])  # fmt: skip


@pytest.fixture
def shops(make):
    hub_store = make.store("HUB", "Hub")
    hub = {"store": hub_store, "safe": make.location(hub_store, "HUB-SAFE", "safe", "Hub safe"),
           "manager": make.user("manager", [hub_store], username="hub-manager")}  # fmt: skip
    return build_shop(make, "A", "Alpha", hub), build_shop(make, "B", "Bravo", hub)


# ---------------------------------------------------------------- filling URLs

DRAFT_KEY = "0123456789ab"  # a scan draft lives in the user's own session: no other store can name it
# Arguments that name nothing of a store: checked for roles, not for stores.
NOT_STORE_ARGS = {"key", "name", "filename", "path", "change"}
# Endpoints whose ids name what all stores share: suppliers have no store. Another store's supplier page may be
# opened, but it must not show that store's lots.
SHARED = {"suppliers.detail", "suppliers.edit", "suppliers.deactivate", "suppliers.reactivate"}


def url_values(endpoint: str, shop: Shop) -> dict:
    """A value for every URL argument of `endpoint`, naming objects of `shop`; KeyError for one nobody mapped."""
    blueprint = endpoint.partition(".")[0]
    ids = {
        "lots": shop.lot, "items": shop.items[3], "locations": shop.places["safe"], "sales": shop.sale,
        "suppliers": shop.supplier, "tokens": shop.token, "transfers": shop.transfer, "returns": shop.ret,
        "bench": shop.job, "counts": shop.count, "users": shop.clerk,
    }  # fmt: skip
    by_endpoint = {
        "returns.reason": {"id": shop.reason.id},
        "inspections.photo": {"id": shop.photo.id},
        "inspections.thumb": {"id": shop.photo.id},
        "inspections.release": {"lot_id": shop.held.id},
        "bench.take_apart": {"item_id": shop.items[3].id},
        "bench.undo": {"movement_id": shop.used.id},
        "lots.document": {"doc_id": shop.document.id},
        "counts.quantity": {"line": shop.count_line},
        "counts.remove": {"line": shop.count_line},
        "moves.done": {"event_id": shop.move_event},
        "reports.report": {"name": "stock"},
    }
    values = {"code": shop.lot.tag.code, "key": DRAFT_KEY, "change": "unlock"}
    if blueprint in ids:
        values["id"] = ids[blueprint].id
    return values | by_endpoint.get(endpoint, {})


def build_path(rule, shop: Shop, **override) -> str:
    values = url_values(rule.endpoint, shop)
    missing = set(rule.arguments) - set(values)
    if missing:
        raise KeyError(f"{rule.endpoint}: map URL argument(s) {sorted(missing)} in url_values")
    return rule.build({name: override.get(name, values[name]) for name in rule.arguments})[1]


# What a page needs in its query string to show its real content (the role walk), by endpoint.
def page_query(endpoint: str, shop: Shop) -> dict:
    return {"inspections.new": {"lot": shop.lot.id}}.get(endpoint, {})


def web_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if not r.endpoint.startswith("api.") and r.endpoint not in PUBLIC),
        key=lambda r: (r.endpoint, r.rule),
    )


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


@cache
def every_row():
    """One query for every row of every table as text (but a token's time of last use, which every API call sets):
    `table`, `row`."""
    parts = []
    for table in db.metadata.sorted_tables:
        cells = [func.coalesce(cast(c, String), "~") for c in table.c if c.name != "last_used_at"]
        row = cells[0]
        for cell in cells[1:]:
            row = row + "|" + cell
        parts.append(select(literal(table.name, String).label("t"), row.label("r")))
    return union_all(*parts)


def snapshot() -> dict:
    """Every row of every table: equal before and after means nothing was written. What a request left
    uncommitted is dropped first, as the end of a real request drops it."""
    db.session.rollback()
    rows = {table.name: [] for table in db.metadata.sorted_tables}
    for name, row in db.session.execute(every_row()):
        rows[name].append(row)
    return {name: sorted(found) for name, found in rows.items()}


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def form(**fields) -> dict:
    """A form post: a fresh event id, and the fields given."""
    return {"event_id": str(uuid.uuid4()), **{k: str(v) for k, v in fields.items()}}


def send(client, method: str, path: str, query: dict | None = None, data: dict | None = None):
    """The response, read and closed (a file download holds its file open until then)."""
    if method != "GET" and data is None:
        data = form()
    try:
        response = client.open(path, method=method, query_string=query, data=data)
    except Exception as error:  # the test client re-raises a view's crash: report it with the request
        db.session.rollback()
        raise AssertionError(f"{method} {path} {query or ''} {data or ''} crashed: {error!r}") from error
    response.get_data()
    response.close()
    return response


# ---------------------------------------------------------------- ROLE


def test_every_route_is_classified_and_enforces_its_role(app, shops, client_for):
    """Each endpoint needs an action (and then only the roles granted it get past), or is open to every signed-in
    user, or is public. Refused roles get a 403 and nothing is written; granted roles never get a 403."""
    a, _ = shops
    clients = {role: client_for(a.users[role]) for role in ROLES}
    classes, problems = {}, []
    for rule in web_rules(app):
        action = getattr(app.view_functions[rule.endpoint], "required_action", None)
        if rule.endpoint in OPEN_TO_ALL:
            if action is not None:
                problems.append(f"{rule.endpoint} needs {action!r} yet is listed as open to all")
            classes[rule.endpoint] = "open to all signed-in users"
            continue
        if action is None:
            problems.append(f"{rule.endpoint} ({rule.rule}) is not classified: give it @requires or list it")
            continue
        assert action in access.PERMISSIONS, f"{rule.endpoint}: unknown action {action!r}"
        classes[rule.endpoint] = f"requires {action}"
        path, query = build_path(rule, a), page_query(rule.endpoint, a)
        granted = access.PERMISSIONS[action]
        before = snapshot()
        for role in sorted(set(ROLES) - granted):
            for method in methods(rule):
                status = send(clients[role], method, path, query).status_code
                if status != 403:
                    problems.append(f"{role} {method} {path} ({rule.endpoint}, needs {action}) -> {status}")
        if written := changed_tables(before, snapshot()):
            problems.append(f"refused roles wrote to {written} through {rule.endpoint}")
        for role in sorted(granted):
            for method in methods(rule):
                status = send(clients[role], method, path, query).status_code
                if status == 403 or status >= 500:
                    problems.append(f"{role} {method} {path} ({rule.endpoint}, may {action}) -> {status}")
    for endpoint in sorted(OPEN_TO_ALL):
        if not endpoint.startswith("api.") and endpoint not in app.view_functions:
            problems.append(f"{endpoint} is listed as open to all but no longer exists")
    for rule in web_rules(app):
        if rule.endpoint in OPEN_TO_ALL and "GET" in rule.methods:
            for role in ROLES:
                path = build_path(rule, a)
                status = send(clients[role], "GET", path).status_code
                if status in (403, 404) or status >= 500:
                    problems.append(f"{role} GET {path} ({rule.endpoint}, open to all) -> {status}")
    assert not problems, "\n" + "\n".join(problems)
    assert len(classes) >= 80


# ---------------------------------------------------------------- STORE


def secret_names(a: Shop, b: Shop) -> list[str]:
    """What of B an admin of A must never be shown: B's lot numbers, serials, places, job, people, token."""
    return [name for name in b.names if name not in a.names]


def leaks(client, response, names: list[str], asked: str = "") -> list[str]:
    """Which of `names` the answer shows, leaving out those the request itself carried (a "no tag B-LOT" echo). A
    redirect is followed: the page it leads to shows the flashed message."""
    text = response.get_data().decode("utf-8", "replace")
    if response.status_code in (302, 303) and response.headers["Location"].startswith("/"):
        text += send(client, "GET", response.headers["Location"]).get_data().decode("utf-8", "replace")
    return [name for name in names if name in text and name not in asked]


def ghost(value):
    """A value of the same shape as `value` that names nothing at all."""
    if isinstance(value, int):
        return 999999
    try:
        uuid.UUID(str(value))
    except ValueError:
        return "NO-SUCH-9"
    return str(uuid.uuid4())


def test_another_stores_ids_in_urls_are_not_found(app, shops, client_for):
    """Every URL argument that names something of a store, set to store B's (one at a time, and all at once): an
    admin of A gets a 404 or 403 (or the very answer an id that exists nowhere gets, so nothing tells B's ids
    apart), nothing is written, and none of B's names shows."""
    a, b = shops
    admin, names = client_for(a.users["admin"]), secret_names(a, b)
    problems, walked = [], 0
    for rule in web_rules(app):
        store_args = [name for name in rule.arguments if name not in NOT_STORE_ARGS]
        if not store_args:
            continue
        b_values = url_values(rule.endpoint, b)
        variants = [{name: b_values[name]} for name in store_args]
        variants += [{name: b_values[name] for name in store_args}] if len(store_args) > 1 else []
        before = snapshot()
        for override in variants:
            path = build_path(rule, a, **override)
            for method in methods(rule):
                if rule.endpoint in SHARED and method != "GET":
                    continue  # a shared supplier is everyone's to edit
                response = send(admin, method, path)
                walked += 1
                where = f"{method} {path} ({rule.endpoint}, B's {'/'.join(override)})"
                if response.status_code not in (403, 404) and rule.endpoint not in SHARED:
                    nowhere = build_path(rule, a, **{k: ghost(v) for k, v in override.items()})
                    expected = send(admin, method, nowhere).status_code
                    if response.status_code != expected:
                        problems.append(f"{where} -> {response.status_code}; an id of nothing -> {expected}")
                if shown := leaks(admin, response, names, path):
                    problems.append(f"{where} shows B's {shown}")
        if written := changed_tables(before, snapshot()):
            problems.append(f"B's ids in {rule.endpoint} wrote to {written}")
    assert not problems, "\n" + "\n".join(problems)
    assert walked >= 50


@dataclass
class Case:
    """One form, posted by A's admin: `data` names A's objects and is accepted (it writes, when `writes`); each of
    `swaps` puts B's object into one field instead, and must be refused."""

    endpoint: str
    path: str
    data: dict
    swaps: list
    writes: bool = True
    query: dict = field(default_factory=dict)


def draft(client, url: str) -> str:
    """Open a scan draft (moves or ship) and return its path."""
    response = client.get(url)
    assert response.status_code == 302, url
    return response.headers["Location"].split("?")[0]


def made_piece(a: Shop):
    """A piece made at A's bench from two stones, to take apart."""
    job = bench.open_work_order(
        bench.NewJob(kind="custom", description="Stud", bench=a.places["bench"]),
        event_id=new_event_id(), by=a.users["bench"], store=a.store,
    )  # fmt: skip
    line = MoveLine(lot=a.melee, source=a.places["bench"], pieces=2, weight=Decimal("0.040"))
    bench.use_material(job, line, event_id=new_event_id(), by=a.users["bench"], store=a.store)
    product = bench.Product(dest=a.places["safe"], labour_cost=Decimal("10"))
    piece = bench.finish_custom_job(job, product, event_id=new_event_id(), by=a.users["bench"], store=a.store)
    db.session.commit()
    return piece


def done_repair(a: Shop):
    """A repair job of A, done, whose piece (A's item 5) waits at the bench to be collected."""
    job = bench.NewJob(kind="repair", description="Resize", bench=a.places["bench"], item=a.items[5])
    wo = bench.open_work_order(job, event_id=new_event_id(), by=a.users["bench"], store=a.store)
    bench.set_status(wo, "done", event_id=new_event_id(), by=a.users["bench"], store=a.store)
    db.session.commit()
    return wo


def form_cases(a: Shop, b: Shop, client, make):
    """The forms whose fields carry ids, in an order where each accepted post leaves the next one possible. Each is
    built when its turn comes (a draft is opened then)."""
    tag = lambda thing: thing.tag.code  # noqa: E731
    pa, pb = a.places, b.places
    yield Case("auth.switch_store", "/store", {"store_id": a.store.id}, [("store_id", b.store.id)], writes=False)
    yield Case("scan.lookup", "/scan", {"code": tag(a.lot)}, [("code", tag(b.lot)), ("code", tag(b.items[3])),
               ("code", tag(pb["safe"])), ("code", tag(b.job)), ("code", tag(b.count))], writes=False)  # fmt: skip
    sale = {"price": "100.00", "receipt": "A-RC9"}
    yield Case("sales.new", "/sales/new", {"item_id": a.items[3].id, **sale}, [("item_id", b.items[3].id)])
    lot_sale = {"lot_id": a.lot.id, "source_id": pa["safe"].id, "pieces": 1, **sale}
    yield Case("sales.new", "/sales/new", lot_sale, [("lot_id", b.lot.id), ("source_id", pb["safe"].id)])
    yield Case("sales.scan", "/sales/new/scan", {"code": tag(a.items[4])}, [("code", tag(b.items[4]))], writes=False)
    back = {"item_id": a.items[0].id, "reason_id": a.reason.id, "condition": "as_new", "disposition": "restock",
            "dest_id": pa["safe"].id, "receipt": "A-RC1"}  # fmt: skip
    yield Case("returns.new", "/returns/new", back, [("item_id", b.items[0].id), ("reason_id", b.reason.id),
               ("dest_id", pb["safe"].id)])  # fmt: skip
    yield Case("returns.scan", "/returns/new/scan", {"code": tag(a.items[0])}, [("code", tag(b.items[0]))], False)
    key = draft(client, f"/moves/new?code={tag(a.lot)}")
    yield Case("moves.update", f"{key}/update", {"dest_id": pa["vault"].id, "line-1-source_id": pa["safe"].id},
               [("dest_id", pb["vault"].id), ("line-1-source_id", pb["safe"].id)], writes=False)  # fmt: skip
    yield Case("moves.confirm", key, {"dest_id": pa["vault"].id}, [("dest_id", pb["vault"].id)])
    key = draft(client, "/moves/new")
    yield Case("moves.scan", f"{key}/scan", {"code": tag(a.lot)}, [("code", tag(b.lot))], writes=False)
    yield Case("moves.location_scan", "/moves/location/scan", {"code": tag(pa["case"])}, [("code", tag(pb["case"]))],
               writes=False)  # fmt: skip
    yield Case("moves.location", "/moves/location", {"source_id": pa["case"].id, "dest_id": pa["safe"].id},
               [("source_id", pb["case"].id), ("dest_id", pb["safe"].id)])  # fmt: skip
    yield Case("moves.undo", "/moves/undo", {"shown": a.move_event}, [("shown", b.move_event)])
    hold = {"result": "fail", "hold_scope": "part", "hold_from": pa["vault"].id, "hold_pieces": 1}
    yield Case("inspections.new", "/inspections/new", hold, [("hold_from", pb["vault"].id)], query={"lot": a.lot.id})
    release = {"dest_id": pa["safe"].id, "pieces": 1, "reason": "Checked again"}
    yield Case("inspections.release", f"/holds/{a.held.id}/release", release, [("dest_id", pb["safe"].id),
               ("item_id", b.items[3].id)])  # fmt: skip
    receipt = {"supplier_id": a.supplier.id, "location_id": pa["safe"].id, "category": "finished", "pieces": 2,
               "description": "Chains", "received_on": "2026-04-02", "cost": "10.00"}  # fmt: skip
    yield Case("receiving.new", "/receive/", receipt, [("location_id", pb["safe"].id)])
    yield Case("counts.create", "/counts/", {"location_id": pa["safe"].id}, [("location_id", pb["safe"].id)])
    yield Case("counts.add_line", f"/counts/{a.count.id}/lines", {"code": tag(a.held), "pieces": 5},
               [("code", tag(b.held)), ("location_id", pb["vault"].id)])  # fmt: skip
    job = {"kind": "repair", "description": "Clean", "bench_location_id": pa["bench"].id, "customer_piece": "Ring"}
    yield Case("bench.new", "/bench/new", job, [("bench_location_id", pb["bench"].id),
               ("jeweler_id", b.users["bench"].id), ("piece_code", tag(b.items[3]))])  # fmt: skip
    at = f"/bench/{a.job.id}"
    yield Case("bench.scan", f"{at}/scan", {"code": tag(a.melee)}, [("code", tag(b.melee))], writes=False)
    use = {"code": tag(a.melee), "location_id": pa["bench"].id, "pieces": 1, "weight": "0.020"}
    yield Case("bench.use", f"{at}/use", use, [("code", tag(b.melee)), ("location_id", pb["bench"].id)])
    yield Case("bench.piece", f"{at}/piece", {"code": tag(a.items[4])}, [("code", tag(b.items[4]))])
    finish = {"location_id": pa["safe"].id, "labour_cost": "10.00", "description": "Ring"}
    yield Case("bench.finish", f"{at}/finish", finish, [("location_id", pb["safe"].id), ("lot_id", b.lot.id)])
    repair = done_repair(a)
    yield Case("bench.collect", f"/bench/{repair.id}/collect", {"location_id": pa["safe"].id},
               [("location_id", pb["safe"].id)])  # fmt: skip
    piece = made_piece(a)
    apart = {"location_id": pa["safe"].id, "components": bench.made_from(piece)[0].component.id}
    yield Case("bench.take_apart", f"/bench/items/{piece.id}/take-apart", apart, [("location_id", pb["safe"].id)])
    yield Case("tokens.index", "/settings/tokens/", {"user_id": a.users["vault"].id, "name": "Scale"},
               [("user_id", b.users["vault"].id)])  # fmt: skip
    key = draft(client, "/transfers/ship")
    yield Case("transfers.ship_scan", f"{key}/scan", {"code": tag(a.lot)}, [("code", tag(b.lot))], writes=False)
    yield Case("transfers.ship_update", f"{key}/update", {"line-1-source_id": pa["vault"].id},
               [("line-1-source_id", pb["vault"].id)], writes=False)  # fmt: skip
    yield Case("transfers.ship_confirm", key, {"to_store_id": a.transfer.from_store_id, "carrier": "Courier"},
               [("line-1-source_id", pb["vault"].id)])  # fmt: skip
    arrive, shipped = f"/transfers/{a.transfer.id}/arrive", a.transfer.lines[0].lot
    yield Case("transfers.arrive_scan", f"{arrive}/scan", {"code": tag(shipped)},
               [("code", tag(b.transfer.lines[0].lot)), ("code", tag(b.lot))], writes=False)  # fmt: skip
    yield Case("transfers.arrive_confirm", arrive, {"location_id": pa["safe"].id}, [("location_id", pb["safe"].id)])
    both = make.user("associate", [a.store, a.transfer.from_store], username="a-and-hub")
    db.session.commit()  # taken out of A (kept in the hub, which A's admin cannot change), or put into B: refused
    yield Case("users.set_stores", f"/settings/users/{both.id}/stores", {}, [("stores", b.store.id)])
    person = {"username": "newbie", "name": "New Bie", "role": "associate", "password": "a long pass phrase 12"}
    yield Case("users.new", "/settings/users/new", {**person, "stores": a.store.id}, [("stores", b.store.id)])


# Posted forms whose fields carry no id of a store (or only ids the view keeps to the record in the URL).
NO_ID_FIELDS = {
    "auth.logout": "nothing but the session",
    "locations.create": "a place of the current store, by code and name",
    "returns.reasons": "a label",
    "returns.reason": "a label; the reason is the URL's",
    "counts.quantity": "pieces and weight of the URL's line",
    "counts.remove": "the URL's line",
    "counts.close": "the URL's count",
    "counts.recount": "line keys, looked up among the URL count's own lines",
    "counts.approve": "the URL's count",
    "counts.cancel": "the URL's count",
    "bench.status": "a status word",
    "bench.undo": "the URL's line",
    "tokens.revoke": "the URL's token",
    "transfers.arrive_update": "quantities of the draft's lines (sources are not asked on arrival)",
    "transfers.settle": "decisions keyed by the URL transfer's own line ids",
    "scan.photo": "an image",
    "suppliers.new": "suppliers are shared by all stores",
    "suppliers.edit": "suppliers are shared by all stores",
    "suppliers.deactivate": "suppliers are shared by all stores",
    "suppliers.reactivate": "suppliers are shared by all stores",
    "users.change_role": "a role word",
    "users.reset_password": "a password",
    "users.switch": "the URL's account",
}


def test_another_stores_ids_in_form_fields_are_refused(app, shops, client_for, make):
    """Each form that carries ids, posted by A's admin with one of B's objects in one field: refused (answered as an
    id of nothing is), nothing written, none of B's names shown. The same form with A's objects is accepted."""
    a, b = shops
    client, names = client_for(a.users["admin"]), secret_names(a, b)
    problems, covered = [], set()
    for case in form_cases(a, b, client, make):
        covered.add(case.endpoint)
        for name, value in case.swaps:
            before = snapshot()
            response = send(client, "POST", case.path, case.query, form(**{**case.data, name: value}))
            where = f"{case.endpoint} with B's {name}={value}"
            if written := changed_tables(before, snapshot()):
                problems.append(f"{where} wrote to {written}")
            if shown := leaks(client, response, names, str(value)):
                problems.append(f"{where} shows B's {shown}")
            nothing = send(client, "POST", case.path, case.query, form(**{**case.data, name: ghost(value)}))
            if response.status_code != nothing.status_code or (not case.writes and response.status_code < 400):
                problems.append(f"{where} -> {response.status_code}; an id of nothing -> {nothing.status_code}")
        before = snapshot()
        response = send(client, "POST", case.path, case.query, form(**case.data))
        wrote = bool(changed_tables(before, snapshot()))
        if response.status_code >= 400 or case.writes != wrote:
            problems.append(f"{case.endpoint} with A's own ids -> {response.status_code}, wrote: {wrote}")
    posted = {r.endpoint for r in web_rules(app) if "POST" in r.methods}
    problems += [f"{e}: list its id-carrying fields in form_cases, or it in NO_ID_FIELDS" for e in
                 sorted(posted - covered - set(NO_ID_FIELDS))]  # fmt: skip
    assert not problems, "\n" + "\n".join(problems)


def query_cases(a: Shop, b: Shop):
    """Pages that take ids (or codes and lot numbers) in the query string: (endpoint, path, A's query, B's). A
    supplier is shared by all stores: its filter is answered, but with A's lots only."""
    tag = lambda thing: thing.tag.code  # noqa: E731
    yield "inspections.new", "/inspections/new", {}, {"lot": b.lot.id}
    yield "inspections.new", "/inspections/new", {"lot": a.lot.id}, {"item": b.items[3].id}
    yield "inspections.release", f"/holds/{a.held.id}/release", {}, {"item": b.items[3].id}
    yield "moves.new", "/moves/new", {}, {"dest": b.places["safe"].id}
    yield "moves.new", "/moves/new", {}, {"code": tag(b.lot)}
    for field_name in ("source", "source_id", "dest_id"):
        yield "moves.location", "/moves/location", {}, {field_name: b.places["case"].id}
    yield "counts.index", "/counts/", {}, {"location": b.places["vault"].id}
    for key, value in (("lot", b.lot.id), ("location", b.places["safe"].id), ("store", b.store.id)):
        yield "labels.sheet", "/labels/sheet", {}, {key: value}
        yield "labels.sheet_zpl", "/labels/sheet.zpl", {}, {key: value}
    yield "sales.new", "/sales/new", {}, {"code": tag(b.items[3])}
    yield "returns.new", "/returns/new", {}, {"code": tag(b.items[0])}
    for name in CARDS:
        yield "reports.report", f"/reports/{name}", {}, {"store": b.store.id}
        yield "reports.report", f"/reports/{name}", {}, {"supplier": b.supplier.id}  # shared: found, no B lots
    for q in (b.lot.number, b.items[0].serial, b.transfer.reference):
        yield "reports.trace_page", "/reports/trace", {}, {"q": q}
        yield "search.index", "/search/", {}, {"q": q}
    yield "audit.index", "/audit/", {}, {"store": b.store.id}


def test_another_stores_ids_in_query_strings_show_nothing_of_it(app, shops, client_for):
    """Filters and prefills naming B's things, asked by A's admin: answered as for something that does not exist,
    nothing written, none of B's names shown."""
    a, b = shops
    client, names = client_for(a.users["admin"]), secret_names(a, b)
    problems, before = [], snapshot()
    for endpoint, path, own, other in query_cases(a, b):
        where = f"{endpoint} {path}?{other}"
        response = send(client, "GET", path, {**own, **other})
        nothing = send(client, "GET", path, {**own, **{k: ghost(v) for k, v in other.items()}})
        if response.status_code != nothing.status_code and "supplier" not in other:
            problems.append(f"{where} -> {response.status_code}; nothing -> {nothing.status_code}")
        if shown := leaks(client, response, names, str(other)):
            problems.append(f"{where} shows B's {shown}")
    if written := changed_tables(before, snapshot()):
        problems.append(f"looking wrote to {written}")
    assert not problems, "\n" + "\n".join(problems)


# ---------------------------------------------------------------- API


def api(app, secret: str | None):
    """call(method, path, json=None) with the token `secret`: the response, which is always JSON."""
    client = app.test_client()

    def call(method: str, path: str, json: dict | None = None):
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        if json is not None:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        response = client.open(f"/api/v1{path}", method=method, json=json, headers=headers)
        assert response.is_json, (path, response.status_code)
        return response

    return call


def api_writes(shop: Shop, other: Shop | None = None) -> dict:
    """A body for each API write naming `shop`'s things (with `other`'s item, when given, in place of its own)."""
    item = (other or shop).items[3].tag.code
    sold = (other or shop).items[0].tag.code
    return {
        "api.moves": {"to": shop.places["vault"].tag.code, "lines": [{"item": item}]},
        "api.sale": {"receipt": "API-1", "lines": [{"item": item, "price": "10.00"}]},
        "api.sale_return": {"item": sold, "to": shop.places["safe"].tag.code, "receipt": f"{shop.store.code}-RC1"},
    }


def test_every_api_route_enforces_its_role(app, shops):
    """The API's writes need their action too: a token of a role without it gets a 403 and nothing is written;
    every other API route is open to any valid token and listed as such."""
    a, _ = shops
    secrets = {role: create_token(a.users[role], a.store, f"{role} till", by=a.users["admin"])[1] for role in ROLES}
    db.session.commit()
    paths = {"api.moves": "/moves", "api.sale": "/sales", "api.sale_return": "/returns"}
    problems, bodies = [], api_writes(a)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if not rule.endpoint.startswith("api."):
            continue
        action = getattr(app.view_functions[rule.endpoint], "required_action", None)
        if action is None:
            if rule.endpoint not in OPEN_TO_ALL:
                problems.append(f"{rule.endpoint} is not classified")
            continue
        before = snapshot()
        for role in sorted(set(ROLES) - access.PERMISSIONS[action]):
            status = api(app, secrets[role])("POST", paths[rule.endpoint], bodies[rule.endpoint]).status_code
            if status != 403:
                problems.append(f"{role} {rule.endpoint} (needs {action}) -> {status}")
        if written := changed_tables(before, snapshot()):
            problems.append(f"refused tokens wrote to {written} through {rule.endpoint}")
        role = sorted(access.PERMISSIONS[action])[0]
        status = api(app, secrets[role])("POST", paths[rule.endpoint], bodies[rule.endpoint]).status_code
        if status not in (200, 201):
            problems.append(f"{role} {rule.endpoint} (may {action}) -> {status}")
    assert not problems, "\n" + "\n".join(problems)


def test_an_api_token_reads_and_changes_only_its_own_store(app, shops):
    """A's token: B's tags are not found, B's things cannot be moved, sold or taken back, the feed holds A's
    movements only, and nothing of B shows but the code that was asked for."""
    a, b = shops
    call, names = api(app, a.secret), secret_names(a, b)
    assert call("GET", f"/tags/{a.lot.tag.code}").status_code == 200
    asked = {f"/tags/{thing.tag.code}": None for thing in (b.lot, b.items[3], b.places["safe"], b.job, b.count)}
    paths = {"api.moves": "/moves", "api.sale": "/sales", "api.sale_return": "/returns"}
    writes = [(paths[endpoint], body) for endpoint, body in api_writes(a, other=b).items()]
    writes.append(("/moves", {"to": b.places["vault"].tag.code, "lines": [{"item": a.items[3].tag.code}]}))
    lot_line = {"lot": b.lot.tag.code, "from": b.places["safe"].tag.code}
    writes.append(("/moves", {"to": a.places["vault"].tag.code, "lines": [lot_line]}))
    before = snapshot()
    problems = []
    for path, body in [(path, None) for path in asked] + writes:
        response = call("POST" if body else "GET", path, body)
        request_text = f"{path} {body}"
        if response.status_code != 404:
            problems.append(f"{request_text} -> {response.status_code}")
        if shown := [n for n in names if n in response.get_data(as_text=True) and n not in request_text]:
            problems.append(f"{request_text} shows B's {shown}")
    assert changed_tables(before, snapshot()) == []
    feed = call("GET", "/movements?limit=500")
    own = set(db.session.scalars(select(Movement.id).where(Movement.store_id == a.store.id)))
    assert {m["id"] for m in feed.get_json()["movements"]} == own
    assert [name for name in names if name in feed.get_data(as_text=True)] == []
    assert not problems, "\n" + "\n".join(problems)


def test_an_api_token_acts_for_one_user_in_one_store_until_revoked(app, shops, make):
    """A token of someone in both stores acts in its own store only; it stops when revoked, when its user leaves
    that store or is deactivated; and no one makes a token for a store the user is not in."""
    a, b = shops
    both = make.user("manager", [a.store, b.store], username="ab-manager")
    token, secret = create_token(both, a.store, "Both till", by=a.users["admin"])
    db.session.commit()
    call = api(app, secret)
    assert call("GET", f"/tags/{a.lot.tag.code}").status_code == 200
    assert call("GET", f"/tags/{b.lot.tag.code}").status_code == 404
    move = {"to": a.places["vault"].tag.code, "lines": [{"item": b.items[3].tag.code}]}
    assert call("POST", "/moves", move).status_code == 404
    assert {m["to"]["store"] for m in call("GET", "/movements?limit=500").get_json()["movements"]} <= {"A"}
    with pytest.raises(DomainError):
        create_token(b.users["associate"], a.store, "Not theirs", by=a.users["admin"])
    both.stores = [b.store]  # left store A: the A token no longer works, though the user is still active
    db.session.commit()
    assert call("GET", f"/tags/{a.lot.tag.code}").status_code == 401
    assert call("GET", f"/tags/{b.lot.tag.code}").status_code == 401
    assert api(app, a.secret)("GET", f"/tags/{a.lot.tag.code}").status_code == 200
    revoke_token(a.token, by=a.users["admin"])
    db.session.commit()
    for path in (f"/tags/{a.lot.tag.code}", "/movements", "/openapi.json"):
        assert api(app, a.secret)("GET", path).status_code == 401
    assert api(app, b.secret)("GET", f"/tags/{b.lot.tag.code}").status_code == 200
    b.users["associate"].active = False
    db.session.commit()
    assert api(app, b.secret)("GET", f"/tags/{b.lot.tag.code}").status_code == 401
