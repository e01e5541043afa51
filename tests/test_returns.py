"""Customer returns: dispositions and the ledger, the sale a return reverses, refusals and overrides, the lot
summary and return rates, photos, reasons, roles and stores."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Photo, Return, WorkOrder
from scanapp.services import AlreadyApplied, DomainError, Forbidden, ledger, returns
from scanapp.services.events import new_event_id
from scanapp.services.movements import MoveLine
from scanapp.services.sales import sell

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(make):
    a, b = make.store("A", "Main Street"), make.store("B", "Mall")
    places = {
        "safe": make.location(a, "SAFE", "safe", "Safe"),
        "sc1": make.location(a, "SC1", "showcase", "Showcase 1"),
        "bench": make.location(a, "BENCH1", "bench", "Bench 1"),
        "b_safe": make.location(b, "SAFE", "safe", "Mall safe"),
    }
    users = {
        "associate": make.user("associate", [a]),
        "manager": make.user("manager", [a]),
        "bench": make.user("bench", [a]),
        "b_manager": make.user("manager", [b]),
    }
    return a, b, places, users


def reason(store, label):
    return next(r for r in returns.reasons(store) if r.label == label)


def sold_item(make, place, by, serial="R-1", price="1200.00", receipt="R-100"):
    lot = make.lot(place, pieces=1, serials=[serial])
    item = lot.items[0]
    sell([MoveLine(item=item)], price=Decimal(price), receipt=receipt, event_id=new_event_id(), by=by,
         store=place.store)  # fmt: skip
    return item


def take(subject, by, store, **kw):
    kw.setdefault("reason", reason(store, "Size"))
    kw.setdefault("condition", "as_new")
    kw.setdefault("disposition", "restock")
    kw.setdefault("event_id", new_event_id())
    return returns.take_return(subject, by=by, store=store, **kw)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "gold").save(out, "JPEG")
    return out.getvalue()


def test_new_stores_get_the_default_reasons(shop):
    a, *_ = shop
    assert sorted(r.label for r in returns.reasons(a)) == ["Changed mind", "Damage", "Defect", "Size", "Wrong item"]


def test_a_restock_links_to_the_sale_and_puts_the_item_back(make, shop):
    a, _, p, u = shop
    item = sold_item(make, p["sc1"], u["associate"])
    r = take(item, u["associate"], a, dest=p["sc1"], notes=" clasp fine ")
    assert r.sale.kind == "sell" and r.sale.item_id == item.id and r.receipt == "R-100"
    assert (r.refund, r.notes, r.pieces) == (Decimal("1200.00"), "clasp fine", 1)
    [m] = r.event.movements
    assert (m.kind, m.from_location, m.to_location, m.amount) == ("return", a.virtual("customer"), p["sc1"], r.refund)
    assert item.location == p["sc1"] and r.movement == m
    assert ledger.balance_at(item.lot, p["sc1"]) == (1, 0)
    db.session.commit()
    assert ledger.check_ledger() == []


@pytest.mark.parametrize(
    ("disposition", "kinds", "where"),
    [
        ("quarantine", ["return"], "quarantine"),
        ("bench", ["return"], "bench"),
        ("supplier", ["return", "vendor_return"], "vendor_return"),
    ],
)
def test_each_disposition_moves_the_piece_through_the_ledger(make, shop, disposition, kinds, where):
    a, _, p, u = shop
    item = sold_item(make, p["sc1"], u["associate"])
    r = take(item, u["manager"], a, disposition=disposition, dest=p["bench"], refund=Decimal("1000"))
    assert [m.kind for m in r.event.movements] == kinds
    assert r.event.movements[0].from_location == a.virtual("customer")
    assert item.location.kind == where and item.location.store_id == a.id
    assert r.refund == Decimal("1000.00")
    if disposition == "bench":
        assert r.work_order.item == item and r.work_order.kind == "repair" and r.work_order.bench_location == p["bench"]
    else:
        assert r.work_order is None
    db.session.commit()
    assert ledger.check_ledger() == []


def test_an_associate_sends_to_the_bench_without_opening_a_job(make, shop):
    a, _, p, u = shop
    item = sold_item(make, p["sc1"], u["associate"])
    r = take(item, u["associate"], a, disposition="bench", dest=p["bench"])
    assert item.location == p["bench"] and r.work_order is None
    assert db.session.scalar(select(func.count(WorkOrder.id))) == 0


def test_the_bench_disposition_needs_a_bench_and_restock_a_place(make, shop):
    a, _, p, u = shop
    item = sold_item(make, p["sc1"], u["associate"])
    with pytest.raises(DomainError, match="not a bench"):
        take(item, u["associate"], a, disposition="bench", dest=p["safe"])
    with pytest.raises(DomainError, match="Choose where the piece goes"):
        take(item, u["associate"], a, disposition="restock")
    with pytest.raises(DomainError, match="stock on hold"):
        take(item, u["associate"], a, dest=next(loc for loc in a.locations if loc.kind == "quarantine"))


def test_the_same_return_sent_twice_applies_once(make, shop):
    a, _, p, u = shop
    item = sold_item(make, p["sc1"], u["associate"])
    eid = new_event_id()
    take(item, u["associate"], a, dest=p["sc1"], event_id=eid)
    db.session.commit()
    with pytest.raises(AlreadyApplied):
        take(item, u["associate"], a, dest=p["sc1"], event_id=eid)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Return.id))) == 1
    with pytest.raises(DomainError, match="in stock"):
        take(item, u["associate"], a, dest=p["sc1"])


def test_the_lot_summary_counts_sold_returned_and_why(make, shop):
    a, _, p, u = shop
    supplier = make.supplier("GEM")
    lot = make.lot(p["sc1"], pieces=10, supplier=supplier)
    for n in range(5):
        line = MoveLine(lot=lot, source=p["sc1"], pieces=1)
        sell([line], price=Decimal("100"), receipt=f"R-{n}", event_id=new_event_id(), by=u["associate"], store=a)
    take(lot, u["associate"], a, receipt="R-0", pieces=1, dest=p["sc1"], reason=reason(a, "Size"))
    r = take(lot, u["associate"], a, receipt="R-3", pieces=1, disposition="quarantine", reason=reason(a, "Defect"))
    assert r.refund == Decimal("100.00") and r.sale.reference == "R-3"
    summary = returns.lot_return_summary(lot)
    assert (summary.sold, summary.returned) == (5, 2)
    assert summary.reasons == [("Defect", 1), ("Size", 1)]
    assert returns.return_rate(lot).rate == Decimal("0.4000")
    [rate] = returns.supplier_return_rates({a.id})
    assert (rate.supplier, rate.sold, rate.returned, rate.rate) == (supplier, 5, 2, Decimal("0.4000"))
    assert returns.supplier_return_rates({-1}) == []
    with pytest.raises(DomainError, match="came back already"):
        take(lot, u["associate"], a, receipt="R-0", pieces=1, dest=p["sc1"])
    db.session.commit()
    assert ledger.check_ledger() == []


def test_a_lot_return_takes_no_more_than_the_receipt_sold(make, shop):
    a, _, p, u = shop
    lot = make.lot(p["sc1"], pieces=10)
    sell([MoveLine(lot=lot, source=p["sc1"], pieces=3)], price=Decimal("300"), receipt="R-9",
         event_id=new_event_id(), by=u["associate"], store=a)  # fmt: skip
    with pytest.raises(DomainError, match="has 3 pcs of lot"):
        take(lot, u["associate"], a, receipt="R-9", pieces=4, dest=p["sc1"])
    r = take(lot, u["associate"], a, receipt="R-9", pieces=2, dest=p["safe"])
    assert r.refund == Decimal("200.00") and ledger.balance_at(lot, p["safe"]) == (2, 0)


def test_never_sold_is_refused_unless_a_manager_overrides(make, shop):
    a, _, p, u = shop
    lot = make.lot(p["sc1"], pieces=10)
    db.session.commit()
    with pytest.raises(DomainError, match="never sold by Main Street on receipt R-404") as refused:
        take(lot, u["associate"], a, receipt="R-404", pieces=1, dest=p["sc1"])
    assert refused.value.field == "override_reason"
    with pytest.raises(Forbidden, match="Only a manager"):
        take(lot, u["associate"], a, receipt="R-404", pieces=1, dest=p["sc1"], override_reason="Regular client")
    db.session.rollback()
    r = take(lot, u["manager"], a, receipt="R-404", pieces=1, dest=p["sc1"], override_reason=" Regular  client ")
    assert (r.sale, r.override_reason, r.override_by, r.refund) == (None, "Regular client", u["manager"], 0)
    assert r.override_at is not None and ledger.balance_at(lot, p["sc1"]) == (11, 0)
    db.session.commit()
    assert ledger.check_ledger() == []


def test_an_item_sold_by_another_store_needs_an_override(make, shop):
    a, b, p, u = shop
    item = sold_item(make, p["b_safe"], u["b_manager"])
    with pytest.raises(DomainError, match="This piece was sold by Mall, not Main Street"):
        take(item, u["associate"], a, dest=p["sc1"])
    r = take(item, u["manager"], a, dest=p["sc1"], override_reason="Customer lives here now")
    assert r.sale.store == b and item.location == p["sc1"] and r.movement.from_location == b.virtual("customer")
    db.session.commit()
    assert ledger.check_ledger() == []


def test_an_item_in_stock_cannot_come_back(make, shop):
    a, _, p, u = shop
    lot = make.lot(p["sc1"], pieces=1, serials=["R-7"])
    with pytest.raises(DomainError, match="in stock in Showcase 1"):
        take(lot.items[0], u["manager"], a, dest=p["sc1"], override_reason="anything")


def test_photos_are_attached_and_a_bad_one_refuses_all(app, make, shop):
    a, _, p, u = shop
    item = sold_item(make, p["sc1"], u["associate"])
    db.session.commit()
    with pytest.raises(DomainError, match="not a photo"):
        take(item, u["associate"], a, dest=p["sc1"], photo_uploads=[("a.jpg", jpeg()), ("b.jpg", b"not an image")])
    db.session.rollback()
    assert db.session.scalar(select(func.count(Photo.id))) == 0
    assert not (Path(app.config["MEDIA_DIR"]) / "photos").exists()
    r = take(item, u["associate"], a, disposition="quarantine", photo_uploads=[("a.jpg", jpeg()), ("b.jpg", jpeg())])
    assert len(r.photos) == 2 and all(ph.store == a and ph.inspection is None for ph in r.photos)


def test_roles_and_stores_in_the_service(make, shop):
    a, b, p, u = shop
    item = sold_item(make, p["sc1"], u["associate"])
    with pytest.raises(Forbidden):
        take(item, u["bench"], a, dest=p["sc1"])
    with pytest.raises(Forbidden):
        take(item, u["b_manager"], a, dest=p["sc1"])
    with pytest.raises(DomainError, match="Choose the reason"):
        take(item, u["associate"], a, dest=p["sc1"], reason=reason(b, "Size"))


# ---------------------------------------------------------------- views


def test_the_counter_shows_the_sale_and_the_lot_summary(make, shop, client_for):
    a, _, p, u = shop
    item = sold_item(make, p["sc1"], u["associate"], price="1234.50")
    client = client_for(u["associate"])
    page = client.post("/returns/new/scan", data={"code": "r-1"}, headers=HX)
    assert page.status_code == 200 and page.text.lstrip().startswith('<form id="return-form"')
    assert "1,234.50" in page.text and "Showcase 1" in page.text and "R-100" in page.text
    assert "<strong>1</strong> sold" in page.text and "Cost" not in page.text
    full = client_for(u["manager"]).get("/returns/new?code=R-1")
    assert full.status_code == 200 and "<html" in full.text and "Cost" in full.text
    assert item.lot.supplier.name in full.text


def test_recording_a_return_through_the_form(make, shop, client_for):
    a, _, p, u = shop
    item = sold_item(make, p["sc1"], u["associate"])
    client = client_for(u["associate"])
    data = {
        "item_id": item.id, "reason_id": reason(a, "Defect").id, "condition": "worn", "disposition": "restock",
        "dest_id": p["safe"].id, "refund": "", "event_id": new_event_id(), "notes": "",
        "photos": (io.BytesIO(jpeg()), "ring.jpg"),
    }  # fmt: skip
    done = client.post("/returns/new", data=data, content_type="multipart/form-data")
    r = db.session.scalar(select(Return))
    assert done.status_code == 302 and done.location.endswith(f"/returns/{r.id}")
    assert item.location == p["safe"] and len(r.photos) == 1 and r.condition == "worn"
    again = client.post("/returns/new", data={**data, "photos": (io.BytesIO(jpeg()), "ring.jpg")},
                        content_type="multipart/form-data")  # fmt: skip
    assert again.status_code == 302 and again.location.endswith(f"/returns/{r.id}")
    assert db.session.scalar(select(func.count(Return.id))) == 1
    record = client.get(f"/returns/{r.id}")
    assert record.status_code == 200 and "Defect" in record.text and "Safe" in record.text


def test_the_form_refuses_with_a_message_and_writes_nothing(make, shop, client_for):
    a, _, p, u = shop
    lot = make.lot(p["sc1"], pieces=5)
    client = client_for(u["associate"])
    data = {
        "lot_id": lot.id, "receipt": "NOPE", "pieces": "1", "reason_id": reason(a, "Size").id,
        "condition": "as_new", "disposition": "restock", "dest_id": p["sc1"].id, "event_id": new_event_id(),
    }  # fmt: skip
    refused = client.post("/returns/new", data=data, headers=HX)
    assert refused.status_code == 422 and "never sold by Main Street" in refused.text
    refused = client.post("/returns/new", data={**data, "override_reason": "friend"}, headers=HX)
    assert refused.status_code == 422 and "Only a manager" in refused.text
    bad = client.post("/returns/new", data={**data, "pieces": "1.5"}, headers=HX)
    assert bad.status_code == 422 and "whole numbers" in bad.text
    assert db.session.scalar(select(func.count(Return.id))) == 0


def test_roles_and_store_isolation_in_the_views(make, shop, client_for):
    a, b, p, u = shop
    item = sold_item(make, p["sc1"], u["associate"])
    r = take(item, u["associate"], a, dest=p["sc1"])
    db.session.commit()
    assert client_for(u["bench"]).get("/returns/new").status_code == 403
    assert client_for(u["bench"]).post("/returns/new", data={}).status_code == 403
    assert client_for(u["associate"]).get("/returns/reasons").status_code == 403
    assert client_for(u["b_manager"]).get(f"/returns/{r.id}").status_code == 404
    size = reason(a, "Size")
    assert client_for(u["b_manager"]).post(f"/returns/reasons/{size.id}", data={}).status_code == 404


def test_managers_edit_the_reason_list(shop, client_for):
    a, _, _, u = shop
    client = client_for(u["manager"])
    added = client.post("/returns/reasons", data={"label": "Allergy", "active": "y", "event_id": new_event_id()})
    assert added.status_code == 302
    twice = client.post("/returns/reasons", data={"label": "allergy", "event_id": new_event_id()}, headers=HX)
    assert twice.status_code == 422 and "has the reason" in twice.text
    size = reason(a, "Size")
    client.post(f"/returns/reasons/{size.id}", data={"label": "Wrong size", "event_id": new_event_id()})
    db.session.expire_all()
    assert (size.label, size.active) == ("Wrong size", False)
    assert "Allergy" in [r.label for r in returns.reasons(a)] and "Wrong size" not in [
        r.label for r in returns.reasons(a)
    ]
    assert "Wrong size" in client.get("/returns/reasons").text
