"""The bench: work orders, materials used (consume), undo, custom pieces (assembly, cost, trace both ways),
taking a piece apart, status and collect, roles and stores, replays, and the bench pages."""

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Component, Item, Movement, Supplier, WorkOrder
from scanapp.services import AlreadyApplied, DomainError, Forbidden, bench, ledger, stores
from scanapp.services.events import new_event_id, start_event
from scanapp.services.movements import MoveLine
from scanapp.services.scanning import Found

HX = {"HX-Request": "true"}
D = Decimal


@pytest.fixture
def shop(make):
    """Main Street (A): a safe, a bench, a showcase. Melee at the bench (1800.00 for 3.600 ct: 500 per ct), 14K gold
    in the safe (3000.00 for 50 g: 60 per g), clasps in the safe (55.00 for 10: 5.50 each), a certified stone item,
    a ring R-1 in the showcase. Another store, Mall (B)."""
    a, b = make.store("A", "Main Street"), make.store("B", "Mall")
    p = {
        "safe": make.location(a, "SAFE", "safe", "Main safe"),
        "bench": make.location(a, "BENCH1", "bench", "Bench 1"),
        "sc1": make.location(a, "SC1", "showcase", "Showcase 1"),
        "b_bench": make.location(b, "BENCH", "bench", "Mall bench"),
    }
    gems = make.supplier("GEMCO", "Gem Co")
    melee = make.lot(
        p["bench"], pieces=120, weight="3.600", weight_unit="ct", category="stone", number="MEL-1",
        cost="1800.00", supplier=gems,
    )  # fmt: skip
    gold = make.lot(
        p["safe"], pieces=0, weight="50.000", weight_unit="g", category="metal", number="AU14-1", cost="3000.00"
    )
    clasps = make.lot(p["safe"], pieces=10, category="finding", number="CLASP-1", cost="55.00")
    centre = make.lot(
        p["safe"], pieces=1, weight="0.520", weight_unit="ct", category="stone", number="CTR-1", cost="2600.00",
        serials=["GIA-1"], supplier=gems,
    )  # fmt: skip
    db.session.get(Item, centre.items[0].id).weight = D("0.520")
    rings = make.lot(p["sc1"], pieces=1, number="RING-1", serials=["R-1"])
    people = {
        "jeweler": make.user("bench", [a], username="jo"),
        "associate": make.user("associate", [a]),
        "manager": make.user("manager", [a]),
        "outsider": make.user("manager", [b]),
    }
    return {"a": a, "b": b, "p": p, "melee": melee, "gold": gold, "clasps": clasps, "centre": centre,
            "ring": rings.items[0], **people}  # fmt: skip


def open_job(s, kind="custom", by=None, **kw):
    job = bench.NewJob(kind=kind, description=kw.pop("description", "Ring with melee"), bench=s["p"]["bench"], **kw)
    return bench.open_work_order(job, event_id=new_event_id(), by=by or s["jeweler"], store=s["a"])


def use(s, wo, lot=None, source=None, pieces=0, weight="0", item=None, by=None):
    line = MoveLine(item=item) if item else MoveLine(lot=lot, source=source, pieces=pieces, weight=D(weight))
    return bench.use_material(wo, line, event_id=new_event_id(), by=by or s["jeweler"], store=s["a"])


def use_usual(s, wo):
    """3 melee (0.090 ct) from the bench, 4.2 g of gold and 2 clasps from the safe."""
    return [
        use(s, wo, s["melee"], s["p"]["bench"], 3, "0.090"),
        use(s, wo, s["gold"], s["p"]["safe"], 0, "4.200"),
        use(s, wo, s["clasps"], s["p"]["safe"], 2),
    ]


def finish(s, wo, dest=None, labour="120.00", **kw):
    product = bench.Product(dest=dest or s["p"]["sc1"], labour_cost=D(labour), **kw)
    return bench.finish_custom_job(wo, product, event_id=new_event_id(), by=s["jeweler"], store=s["a"])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- work orders


def test_open_work_order_tags_it_and_brings_the_store_piece_to_the_bench(shop):
    s = shop
    wo = open_job(s, kind="repair", description="Resize to 54", item=s["ring"], customer_reference="Mrs Smith")
    assert wo.code == f"WO-{wo.id:06d}" and wo.tag.kind == "work_order" and wo.status == "open"
    assert s["ring"].location == s["p"]["bench"] and wo.item == s["ring"]
    [moved] = db.session.scalars(select(Movement).where(Movement.item_id == s["ring"].id, Movement.kind == "move"))
    assert (moved.from_location, moved.to_location, moved.reference) == (s["p"]["sc1"], s["p"]["bench"], wo.code)
    assert (wo.created_by, wo.updated_by, wo.store) == (s["jeweler"], s["jeweler"], s["a"])
    assert ledger.check_ledger() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "gift"}, "Choose repair or custom"),
        ({"description": "  "}, "Say what the job is"),
        ({"bench": "safe"}, "Choose a bench of Main Street"),
        ({"bench": "b_bench"}, "Choose a bench of Main Street"),
        ({"jeweler": "associate"}, "does not work at the bench"),
        ({"both": True}, "either the store's"),
        ({"labour_cost": D("1.005")}, "at most two decimals"),
        ({"labour_cost": D("NaN")}, "at most two decimals"),
    ],
)
def test_open_work_order_refuses(shop, change, message):
    s, change = shop, dict(change)
    kw = {"kind": "repair", "description": "Fix clasp", "bench": s["p"]["bench"]}
    if "bench" in change:
        kw["bench"] = s["p"][change.pop("bench")]
    if "jeweler" in change:
        kw["jeweler"] = s[change.pop("jeweler")]
    if change.pop("both", False):
        kw.update(item=s["ring"], customer_piece="Her own ring")
    kw.update(change)
    with pytest.raises(DomainError, match=message):
        bench.open_work_order(bench.NewJob(**kw), event_id=new_event_id(), by=s["jeweler"], store=s["a"])


# ---------------------------------------------------------------- materials


def test_materials_used_move_exact_pieces_and_weights_into_production(shop):
    s = shop
    wo = open_job(s)
    stones, gold, clasps = use_usual(s, wo)
    production = s["a"].virtual("production")
    assert {(m.kind, m.to_location, m.reference) for m in (stones, gold, clasps)} == {("consume", production, wo.code)}
    assert ledger.balance_at(s["melee"], s["p"]["bench"]) == (117, D("3.510"))
    assert ledger.balance_at(s["melee"], production) == (3, D("0.090"))
    assert ledger.balance_at(s["gold"], s["p"]["safe"]) == (0, D("45.800"))
    assert ledger.balance_at(s["clasps"], s["p"]["safe"]) == (8, 0)
    assert wo.status == "in_progress"  # the first material starts the job
    lines = bench.lines_of(wo)
    assert [line.cost for line in lines] == [D("45.00"), D("252.00"), D("11.00")]
    assert bench.totals(lines) == bench.Totals(pieces=5, ct=D("0.090"), g=D("4.200"), cost=D("308.00"))
    assert ledger.check_ledger() == []


def test_an_item_is_used_whole(shop):
    s = shop
    wo = open_job(s)
    stone = s["centre"].items[0]
    m = use(s, wo, item=stone)
    assert (m.item, m.pieces, m.weight, m.from_location) == (stone, 1, D("0.520"), s["p"]["safe"])
    assert stone.location == s["a"].virtual("production")
    assert bench.lines_of(wo)[0].cost == D("2600.00")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("more_than_there_is", r"Not enough of lot MEL-1 in Bench 1 \(A\): it holds 120 pcs, 3.600 ct"),
        ("more_weight_than_there_is", r"Not enough of lot AU14-1 in Main safe \(A\)"),
        ("weighed_without_weight", "Enter the weight used, in ct"),
        ("pieces_only_with_weight", "Lot CLASP-1 is counted in pieces only"),
        ("nothing", "Nothing to move"),
        ("negative", "Pieces must be a whole number"),
        ("from_production", "stock leaves only from a safe"),
        ("other_store", r"not in Main Street"),
        ("piece_being_repaired", "is the piece being repaired"),
        ("job_done", "reopen it"),
    ],
)
def test_use_material_refuses_and_leaves_stock_alone(make, shop, case, message):
    s = shop
    wo = open_job(s, kind="repair" if case in ("piece_being_repaired", "job_done") else "custom", item=s["ring"])
    line = {
        "more_than_there_is": MoveLine(lot=s["melee"], source=s["p"]["bench"], pieces=121, weight=D("0.1")),
        "more_weight_than_there_is": MoveLine(lot=s["gold"], source=s["p"]["safe"], weight=D("50.001")),
        "weighed_without_weight": MoveLine(lot=s["melee"], source=s["p"]["bench"], pieces=3),
        "pieces_only_with_weight": MoveLine(lot=s["clasps"], source=s["p"]["safe"], pieces=1, weight=D("1")),
        "nothing": MoveLine(lot=s["clasps"], source=s["p"]["safe"]),
        "negative": MoveLine(lot=s["clasps"], source=s["p"]["safe"], pieces=-1),
        "from_production": MoveLine(lot=s["clasps"], source=s["a"].virtual("production"), pieces=1),
        "other_store": MoveLine(lot=make.lot(s["p"]["b_bench"], pieces=3), source=s["p"]["b_bench"], pieces=1),
        "piece_being_repaired": MoveLine(item=s["ring"]),
        "job_done": MoveLine(lot=s["clasps"], source=s["p"]["safe"], pieces=1),
    }[case]
    if case == "job_done":
        bench.set_status(wo, "done", event_id=new_event_id(), by=s["jeweler"], store=s["a"])
    db.session.commit()
    before = count(Movement)
    with pytest.raises(DomainError, match=message):
        bench.use_material(wo, line, event_id=new_event_id(), by=s["jeweler"], store=s["a"])
    db.session.rollback()
    assert count(Movement) == before and count(Component) == 0
    assert ledger.balance_at(s["melee"], s["p"]["bench"]) == (120, D("3.600"))
    assert ledger.check_ledger() == []


def hold(s, lot, source, pieces=0, weight="0", item=None):
    """Put stock on hold: a `hold` movement into the store's quarantine."""
    quarantine = stores.quarantine(s["a"])
    event = start_event(new_event_id(), "hold", by=s["manager"], store=s["a"])
    ledger.post(event, "hold", lot, source, quarantine, pieces, D(weight), item=item)
    return quarantine


def test_stock_on_hold_cannot_be_used(shop):
    s = shop
    quarantine = hold(s, s["melee"], s["p"]["bench"], 20, "0.600")
    stone = s["centre"].items[0]
    hold(s, s["centre"], s["p"]["safe"], 1, "0.520", item=stone)
    wo = open_job(s)
    db.session.commit()
    with pytest.raises(DomainError, match=r"MEL-1 is on hold in Quarantine \(A\): a manager must release it first"):
        use(s, wo, s["melee"], quarantine, 3, "0.090")
    db.session.rollback()
    assert ledger.balance_at(s["melee"], quarantine) == (20, D("0.600"))
    with pytest.raises(DomainError, match="GIA-1 is on hold"):
        use(s, wo, item=stone)
    db.session.rollback()
    assert count(Component) == 0 and ledger.check_ledger() == []


def test_the_scan_answer_never_offers_stock_on_hold(shop):
    s = shop
    wo = open_job(s)
    quarantine = hold(s, s["melee"], s["p"]["bench"], 20, "0.600")
    panel = bench.use_panel(Found(code="MEL-1", kind="lot", lot=s["melee"]), wo)
    assert [src.location for src in panel.sources] == [s["p"]["bench"]] and quarantine not in panel.sources
    hold(s, s["melee"], s["p"]["bench"], 100, "3.000")
    with pytest.raises(DomainError, match=r"Lot MEL-1 is on hold in Quarantine \(A\)"):
        bench.use_panel(Found(code="MEL-1", kind="lot", lot=s["melee"]), wo)


def test_undo_reverses_a_wrong_line_and_leaves_the_others(shop):
    s = shop
    wo = open_job(s)
    stones, gold, _ = use_usual(s, wo)
    back = bench.undo_material(wo, gold, event_id=new_event_id(), by=s["jeweler"], store=s["a"])
    assert (back.kind, back.reverses, back.from_location, back.to_location) == (
        "consume", gold, s["a"].virtual("production"), s["p"]["safe"]
    )  # fmt: skip
    assert ledger.balance_at(s["gold"], s["p"]["safe"]) == (0, D("50.000"))
    assert db.session.get(Movement, gold.id).weight == D("4.200")  # the wrong line stays, undone, never edited
    lines = bench.lines_of(wo)
    assert [line.undone for line in lines] == [False, True, False]
    assert bench.totals(lines) == bench.Totals(pieces=5, ct=D("0.090"), g=D("0.000"), cost=D("56.00"))
    with pytest.raises(DomainError, match="already undone"):
        bench.undo_material(wo, gold, event_id=new_event_id(), by=s["jeweler"], store=s["a"])
    other = open_job(s)
    with pytest.raises(DomainError, match="not part of job"):
        bench.undo_material(other, stones, event_id=new_event_id(), by=s["jeweler"], store=s["a"])
    assert ledger.check_ledger() == []


def test_the_same_event_applies_once(shop):
    s = shop
    wo = open_job(s)
    eid = new_event_id()
    line = MoveLine(lot=s["clasps"], source=s["p"]["safe"], pieces=1)
    bench.use_material(wo, line, event_id=eid, by=s["jeweler"], store=s["a"])
    db.session.commit()
    with pytest.raises(AlreadyApplied):
        bench.use_material(wo, line, event_id=eid, by=s["jeweler"], store=s["a"])
    db.session.rollback()
    assert ledger.balance_at(s["clasps"], s["p"]["safe"]) == (9, 0)


def test_roles_and_stores(shop):
    s = shop
    wo = open_job(s)
    line = MoveLine(lot=s["clasps"], source=s["p"]["safe"], pieces=1)
    with pytest.raises(Forbidden):
        bench.use_material(wo, line, event_id=new_event_id(), by=s["associate"], store=s["a"])
    with pytest.raises(Forbidden):
        bench.use_material(wo, line, event_id=new_event_id(), by=s["outsider"], store=s["a"])
    with pytest.raises(DomainError, match="belongs to another store"):
        bench.use_material(wo, line, event_id=new_event_id(), by=s["outsider"], store=s["b"])


# ---------------------------------------------------------------- assemblies and trace


def test_a_custom_piece_costs_its_materials_plus_labour_and_traces_both_ways(shop):
    s = shop
    wo = open_job(s, description="Melee band, 14K yellow")
    stones, gold, clasps = use_usual(s, wo)
    wrong = use(s, wo, s["clasps"], s["p"]["safe"], 1)
    bench.undo_material(wo, wrong, event_id=new_event_id(), by=s["jeweler"], store=s["a"])
    piece = finish(s, wo, weight=D("4.150"))
    # 3 melee, 0.090 ct at 500/ct = 45.00; 4.2 g gold at 60/g = 252.00; 2 clasps at 5.50 = 11.00; labour 120.00
    assert (wo.material_cost, wo.labour_cost, wo.total_cost) == (D("308.00"), D("120.00"), D("428.00"))
    assert wo.status == "done" and wo.produced_item == piece
    house = db.session.scalar(select(Supplier).where(Supplier.code == "HOUSE"))
    lot = piece.lot
    assert (lot.supplier, lot.category, lot.pieces_received, lot.cost_total) == (house, "finished", 0, D("428.00"))
    assert lot.number.startswith("HOUSE-") and lot.tag.code == lot.number and piece.tag is not None
    assert (piece.location, piece.weight, piece.description) == (s["p"]["sc1"], D("4.150"), "Melee band, 14K yellow")
    [made] = db.session.scalars(select(Movement).where(Movement.kind == "produce"))
    assert (made.from_location, made.to_location, made.item, made.amount, made.reference) == (
        s["a"].virtual("production"), s["p"]["sc1"], piece, D("428.00"), wo.code
    )  # fmt: skip
    # From the piece: every component lot with its supplier (the undone line is not one)
    rows = bench.made_from(piece)
    assert [(r.lot.number, r.lot.supplier.name, r.movement.pieces, r.movement.weight, r.cost) for r in rows] == [
        ("MEL-1", "Gem Co", 3, D("0.090"), D("45.00")),
        ("AU14-1", s["gold"].supplier.name, 0, D("4.200"), D("252.00")),
        ("CLASP-1", s["clasps"].supplier.name, 2, D("0.000"), D("11.00")),
    ]
    assert bench.maker_of(piece) == wo
    # From a component lot: the pieces containing it, and how much
    [used] = bench.used_in(s["melee"])
    assert (used.piece, used.work_order, used.pieces, used.weight, used.unit) == (piece, wo, 3, D("0.090"), "ct")
    assert bench.used_in(s["centre"]) == []
    # The house lot adds up: one piece in the showcase, one out of production
    assert ledger.balance_at(lot, s["p"]["sc1"]) == (1, 0) and ledger.balance_at(lot, s["a"].virtual("production")) == (
        -1, 0
    )  # fmt: skip
    assert ledger.check_ledger() == []


def test_a_second_piece_reuses_the_house_supplier_and_a_chosen_lot(shop, make):
    s = shop
    first = open_job(s)
    use(s, first, s["clasps"], s["p"]["safe"], 1)
    piece = finish(s, first, labour="0")
    second = open_job(s)
    use(s, second, item=s["centre"].items[0])
    other = finish(s, second, lot=piece.lot, serial="SOL-1", labour="300.00")
    assert other.lot == piece.lot and other.serial == "SOL-1" and piece.serial == f"{piece.lot.number}-1"
    assert len(db.session.scalars(select(Supplier).where(Supplier.code == "HOUSE")).all()) == 1
    assert second.total_cost == D("2900.00")
    [used] = bench.used_in(s["centre"].items[0])
    assert used.piece == other
    assert ledger.check_ledger() == []


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("repair", "Only a custom job makes a piece"),
        ("nothing_used", "has used nothing yet"),
        ("virtual_dest", "is not a place to put stock"),
        ("stone_lot", "Choose a finished lot of Main Street"),
        ("serial_taken", "Serial R-1 is already in stock records"),
        ("labour", "at most two decimals"),
    ],
)
def test_finish_refuses(shop, case, message):
    s = shop
    wo = open_job(s, kind="repair" if case == "repair" else "custom")
    if case != "nothing_used":
        use(s, wo, s["clasps"], s["p"]["safe"], 1)
    kw = {
        "virtual_dest": {"dest": s["a"].virtual("customer")},
        "stone_lot": {"lot": s["melee"]},
        "serial_taken": {"serial": "R-1"},
        "labour": {"labour": "1.234"},
    }.get(case, {})
    with pytest.raises(DomainError, match=message):
        finish(s, wo, **kw)


def test_taking_a_piece_apart_returns_the_stones_into_their_own_lots(shop):
    s = shop
    wo = open_job(s)
    stones, gold, clasps = use_usual(s, wo)
    centre = use(s, wo, item=s["centre"].items[0])
    piece = finish(s, wo)
    rows = {r.lot.number: r.component for r in bench.made_from(piece)}
    chosen = [rows["MEL-1"].id, rows["CTR-1"].id]  # the gold is melted, the clasps thrown away
    moved = bench.disassemble(piece, chosen, s["p"]["safe"], event_id=new_event_id(), by=s["jeweler"], store=s["a"])
    production = s["a"].virtual("production")
    assert [(m.kind, m.lot.number, m.from_location, m.to_location, m.pieces, m.weight) for m in moved] == [
        ("consume", piece.lot.number, s["p"]["sc1"], production, 1, 0),
        ("produce", "MEL-1", production, s["p"]["safe"], 3, D("0.090")),
        ("produce", "CTR-1", production, s["p"]["safe"], 1, D("0.520")),
    ]
    assert ledger.balance_at(s["melee"], s["p"]["safe"]) == (3, D("0.090"))
    assert ledger.balance_at(s["melee"], production) == (0, 0)
    assert ledger.balance_at(s["gold"], production) == (0, D("4.200"))  # stays used
    assert s["centre"].items[0].location == s["p"]["safe"] and centre.item.active
    assert piece.location == production and not piece.active
    assert rows["MEL-1"].returned_by == moved[1] and rows["AU14-1"].returned_by is None
    with pytest.raises(DomainError, match="taken apart already"):
        bench.disassemble(piece, chosen, s["p"]["safe"], event_id=new_event_id(), by=s["jeweler"], store=s["a"])
    assert ledger.check_ledger() == []


def test_taking_apart_refuses(shop):
    s = shop
    with pytest.raises(DomainError, match="was not made at the bench"):
        bench.disassemble(s["ring"], [1], s["p"]["safe"], event_id=new_event_id(), by=s["jeweler"], store=s["a"])
    wo = open_job(s)
    use(s, wo, s["clasps"], s["p"]["safe"], 1)
    piece = finish(s, wo)
    with pytest.raises(DomainError, match="Tick the components"):
        bench.disassemble(piece, [], s["p"]["safe"], event_id=new_event_id(), by=s["jeweler"], store=s["a"])
    with pytest.raises(Forbidden):
        bench.disassemble(piece, [1], s["p"]["safe"], event_id=new_event_id(), by=s["associate"], store=s["a"])


# ---------------------------------------------------------------- status and collect


def test_a_repair_is_done_then_collected_and_the_store_piece_goes_back(shop):
    s = shop
    wo = open_job(s, kind="repair", item=s["ring"])
    go = {"event_id": None, "by": s["jeweler"], "store": s["a"]}
    for status in ("waiting", "in_progress", "done"):
        bench.set_status(wo, status, **{**go, "event_id": new_event_id()})
    assert wo.status == "done"
    with pytest.raises(DomainError, match="Say where R-1 goes back to"):
        bench.collect(wo, None, **{**go, "event_id": new_event_id()})
    bench.collect(wo, s["p"]["sc1"], **{**go, "event_id": new_event_id()})
    assert wo.status == "collected" and s["ring"].location == s["p"]["sc1"]
    with pytest.raises(DomainError, match="collected; it is closed"):
        bench.set_status(wo, "open", **{**go, "event_id": new_event_id()})
    assert ledger.check_ledger() == []


def test_status_rules(shop):
    s = shop
    custom = open_job(s)
    go = {"by": s["jeweler"], "store": s["a"]}
    with pytest.raises(DomainError, match="use Finish"):
        bench.set_status(custom, "done", event_id=new_event_id(), **go)
    with pytest.raises(DomainError, match="already open"):
        bench.set_status(custom, "open", event_id=new_event_id(), **go)
    with pytest.raises(DomainError, match="only a done job is collected"):
        bench.collect(custom, None, event_id=new_event_id(), **go)
    with pytest.raises(DomainError, match="Choose open"):
        bench.set_status(custom, "collected", event_id=new_event_id(), **go)


def test_my_open_jobs(shop):
    s = shop
    mine = open_job(s, jeweler=s["jeweler"])
    theirs = open_job(s, jeweler=s["manager"])
    assert bench.jobs(s["a"], ("open",), jeweler=s["jeweler"]) == [mine]
    assert bench.jobs(s["a"], ("open",)) == [mine, theirs]
    assert bench.jobs(s["b"], ("open",)) == []


# ---------------------------------------------------------------- pages


@pytest.fixture
def job(shop):
    wo = open_job(shop, jeweler=shop["jeweler"])
    db.session.commit()
    return wo


def test_job_page_full_and_the_scanner_answer(shop, job, client_for):
    client = client_for(shop["jeweler"])
    page = client.get(f"/bench/{job.id}")
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert job.code in page.text and "data-scanner" in page.text and 'id="bench-work"' in page.text
    answer = client.post(f"/bench/{job.id}/scan", data={"code": "mel-1"}, headers=HX)
    assert answer.status_code == 200 and answer.text.lstrip().startswith('<section id="scan-result"')
    assert "Weight (ct)" in answer.text and "Bench 1 · 120 pcs · 3.600 ct" in answer.text
    assert f'<option selected value="{shop["p"]["bench"].id}">' in answer.text
    gold = client.post(f"/bench/{job.id}/scan", data={"code": "https://scan.example/T/AU14-1"}, headers=HX)
    assert "Main safe · 50.000 g" in gold.text and 'name="pieces"' not in gold.text  # weighed only
    unknown = client.post(f"/bench/{job.id}/scan", data={"code": "NOPE-1"}, headers=HX)
    assert unknown.status_code == 404 and "No tag NOPE-1" in unknown.text
    place = client.post(f"/bench/{job.id}/scan", data={"code": "A-SAFE"}, headers=HX)
    assert place.status_code == 422 and "Scan the tag of a lot or an item" in place.text


def test_logging_and_undoing_on_the_job_page(shop, job, client_for):
    client = client_for(shop["jeweler"])
    form = {"code": "MEL-1", "location_id": shop["p"]["bench"].id, "pieces": "3", "weight": "0.090"}
    answer = client.post(f"/bench/{job.id}/use", data={**form, "event_id": str(uuid.uuid4())}, headers=HX)
    assert answer.status_code == 200 and answer.text.lstrip().startswith('<div id="bench-work">')
    assert "Used 3 pcs · 0.090 ct of lot MEL-1." in answer.text
    assert "<strong>3</strong> pcs" in answer.text and "<strong>0.090</strong> ct" in answer.text
    assert "cost <strong>45.00</strong>" in answer.text
    [m] = db.session.scalars(select(Movement).where(Movement.kind == "consume"))
    undo = client.post(f"/bench/{job.id}/lines/{m.id}/undo", data={"event_id": str(uuid.uuid4())}, headers=HX)
    assert undo.status_code == 200 and "Undone: 3 pcs · 0.090 ct of lot MEL-1 back in Bench 1." in undo.text
    assert "<strong>0</strong> pcs" in undo.text and "undone" in undo.text
    assert ledger.balance_at(shop["melee"], shop["p"]["bench"]) == (120, D("3.600"))
    assert ledger.check_ledger() == []


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"weight": "abc"}, "Weight must be a number with a point for decimals"),
        ({"weight": "0.0901"}, "at most 3 decimals"),
        ({"weight": "NaN"}, "must be a number"),
        ({"pieces": "2.5"}, "Pieces are whole numbers"),
        ({"pieces": "500"}, "Not enough of lot MEL-1 in Bench 1"),
        ({"pieces": "3", "weight": ""}, "Enter the weight used, in ct"),
        ({"location_id": "999999"}, "Choose one of the places listed"),
        ({"event_id": "not-a-uuid"}, "no valid event id"),
        ({"code": "A-SAFE"}, "Scan the tag of a lot or an item"),
    ],
)
def test_bad_input_on_the_job_page_is_422_and_writes_nothing(shop, job, client_for, form, message):
    client = client_for(shop["jeweler"])
    data = {"code": "MEL-1", "location_id": shop["p"]["bench"].id, "pieces": "3", "weight": "0.090"}
    data |= {"event_id": str(uuid.uuid4())} | form
    before = count(Movement)
    answer = client.post(f"/bench/{job.id}/use", data=data, headers=HX)
    assert answer.status_code == 422 and message in answer.text
    assert answer.text.lstrip().startswith('<div id="bench-work">')
    assert count(Movement) == before and count(Component) == 0


@pytest.mark.parametrize("pieces", ["2", "10"])  # 10: the last of the lot, nothing left when the copy arrives
def test_the_same_form_sent_twice_logs_once(shop, job, client_for, pieces):
    client = client_for(shop["jeweler"])
    data = {"code": "CLASP-1", "location_id": shop["p"]["safe"].id, "pieces": pieces, "event_id": str(uuid.uuid4())}
    first = client.post(f"/bench/{job.id}/use", data=data, headers=HX)
    again = client.post(f"/bench/{job.id}/use", data=data, headers=HX)
    assert first.status_code == again.status_code == 200 and "Already recorded" in again.text
    assert count(Component) == 1
    assert ledger.balance_at(shop["clasps"], shop["p"]["safe"]) == (10 - int(pieces), 0)


def test_roles_and_stores_on_the_pages(shop, job, client_for):
    associate = client_for(shop["associate"])
    page = associate.get(f"/bench/{job.id}")
    assert page.status_code == 200 and "data-scanner" not in page.text and "Undo" not in page.text
    data = {"code": "CLASP-1", "location_id": shop["p"]["safe"].id, "pieces": "1", "event_id": str(uuid.uuid4())}
    assert associate.post(f"/bench/{job.id}/use", data=data, headers=HX).status_code == 403
    assert associate.post(f"/bench/{job.id}/scan", data={"code": "CLASP-1"}).status_code == 403
    assert associate.get("/bench/new").status_code == 403
    outsider = client_for(shop["outsider"])
    assert outsider.get(f"/bench/{job.id}").status_code == 404
    data["event_id"] = str(uuid.uuid4())
    assert outsider.post(f"/bench/{job.id}/use", data=data, headers=HX).status_code == 404
    assert count(Component) == 0


def test_new_job_page(shop, client_for):
    client = client_for(shop["jeweler"])
    page = client.get("/bench/new")
    assert page.status_code == 200 and f'<option selected value="{shop["jeweler"].id}">' in page.text
    data = {
        "kind": "repair", "description": "Re-tip prongs", "customer_reference": "Ms Lee", "promised_on": "2026-05-02",
        "piece_code": "r-1", "jeweler_id": shop["jeweler"].id, "bench_location_id": shop["p"]["bench"].id,
        "labour_cost": "40", "event_id": str(uuid.uuid4()),
    }  # fmt: skip
    answer = client.post("/bench/new", data=data)
    wo = db.session.scalar(select(WorkOrder))
    assert answer.status_code == 302 and answer.headers["Location"] == f"/bench/{wo.id}"
    assert (wo.item, wo.labour_cost, wo.customer_reference) == (shop["ring"], D("40.00"), "Ms Lee")
    assert shop["ring"].location == shop["p"]["bench"]
    again = client.post("/bench/new", data=data)
    assert again.status_code == 302 and count(WorkOrder) == 1  # a replay shows the first one
    bad = client.post("/bench/new", data={**data, "description": "", "event_id": str(uuid.uuid4())})
    assert bad.status_code == 422 and "Say what the job is." in bad.text
    bad = client.post("/bench/new", data={**data, "piece_code": "MEL-1", "event_id": str(uuid.uuid4())})
    assert bad.status_code == 422 and "Scan the tag of the piece itself" in bad.text
    assert count(WorkOrder) == 1
    listing = client.get("/bench/")
    assert listing.status_code == 200 and wo.code in listing.text and "Re-tip prongs" in listing.text


def test_finish_collect_and_trace_pages(shop, job, client_for):
    client = client_for(shop["jeweler"])
    use_usual(shop, job)
    db.session.commit()
    page = client.get(f"/bench/{job.id}")
    assert "Make the piece" in page.text and "A new lot (made in house)" in page.text
    bad = client.post(
        f"/bench/{job.id}/finish", data={"location_id": "", "labour_cost": "x", "event_id": str(uuid.uuid4())}
    )
    assert bad.status_code == 422 and "Choose where the piece goes." in bad.text and count(Item) == 2
    data = {"location_id": shop["p"]["sc1"].id, "labour_cost": "120", "event_id": str(uuid.uuid4())}
    made = client.post(f"/bench/{job.id}/finish", data=data)
    assert made.status_code == 302 and made.headers["Location"] == f"/bench/{job.id}"
    piece = db.session.get(WorkOrder, job.id).produced_item
    item_page = client.get(f"/items/{piece.id}")
    assert "Made from" in item_page.text and "MEL-1" in item_page.text and "Gem Co" in item_page.text
    assert "= <strong>428.00</strong>" in item_page.text and "Take apart" in item_page.text
    lot_page = client.get(f"/lots/{shop['melee'].id}")
    assert "Used in" in lot_page.text and piece.serial in lot_page.text
    associate = client_for(shop["associate"])
    seen = associate.get(f"/items/{piece.id}")
    assert "Made from" in seen.text and "428.00" not in seen.text and "Take apart" not in seen.text
    collect = client.post(f"/bench/{job.id}/collect", data={"event_id": str(uuid.uuid4())})
    assert collect.status_code == 302 and db.session.get(WorkOrder, job.id).status == "collected"


def test_take_apart_page(shop, job, client_for):
    use_usual(shop, job)
    piece = finish(shop, job)
    db.session.commit()
    client = client_for(shop["jeweler"])
    page = client.get(f"/bench/items/{piece.id}/take-apart")
    assert page.status_code == 200 and page.text.count('type="checkbox"') == 3
    assert page.text.count("checked") == 2  # stones and findings ticked, the metal not
    bad = client.post(f"/bench/items/{piece.id}/take-apart", data={"location_id": shop["p"]["safe"].id,
                                                                    "event_id": str(uuid.uuid4())})  # fmt: skip
    assert bad.status_code == 422 and "Tick the components" in bad.text
    ids = [r.component.id for r in bench.made_from(piece) if r.lot.number == "MEL-1"]
    data = {"components": ids, "location_id": shop["p"]["safe"].id, "event_id": str(uuid.uuid4())}
    done = client.post(f"/bench/items/{piece.id}/take-apart", data=data)
    assert done.status_code == 302 and ledger.balance_at(shop["melee"], shop["p"]["safe"]) == (3, D("0.090"))
    assert client_for(shop["associate"]).get(f"/bench/items/{piece.id}/take-apart").status_code == 403


def test_a_job_tag_opens_the_job_and_prints(shop, job, client_for):
    client = client_for(shop["associate"])
    answer = client.get(f"/t/{job.code.lower()}")
    assert answer.status_code == 303 and answer.headers["Location"] == f"/bench/{job.id}"
    looked_up = client.post("/scan", data={"code": job.code}, headers=HX)
    assert looked_up.status_code == 204 and looked_up.headers["HX-Redirect"] == f"/bench/{job.id}"
    label = client.get(f"/labels/{job.code}.png")
    assert label.status_code == 200 and label.mimetype == "image/png"
    outsider = client_for(shop["outsider"])
    assert outsider.get(f"/t/{job.code}").status_code == 404
    assert outsider.get(f"/labels/{job.code}.png").status_code == 404
