"""A demo chain of two stores, so that a fresh install has something to scan."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Store, Supplier, User
from scanapp.services import inspections, ledger, stores, users
from scanapp.services.events import new_event_id, start_event
from scanapp.services.receiving import ItemSpec, Shipment, receive_lot

DEMO_USERS = [  # username, name, role, store codes
    ("alex", "Alex Associate", "associate", ["MAIN"]),
    ("vera", "Vera Vault", "vault", ["MAIN"]),
    ("ben", "Ben Bench", "bench", ["MAIN"]),
    ("maria", "Maria Manager", "manager", ["MAIN", "MALL"]),
    ("admin", "Ada Admin", "admin", ["MAIN", "MALL"]),
]
LOCATIONS = [("SAFE", "Main safe", "safe"), ("VAULT", "Vault", "vault"), ("SC1", "Showcase 1 · rings", "showcase"),
             ("SC2", "Showcase 2 · earrings", "showcase"), ("BENCH", "Repair bench", "bench")]  # fmt: skip
SUPPLIERS = [("SUP", "Sunrise Gems", "Priya Shah"), ("AUR", "Aurum Refining", "Tom Becker"),
             ("BEL", "Bella Collections", "Lucia Romano"), ("FND", "Findings & Co", "Sam Ortiz")]  # fmt: skip


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Store))


def seed_demo(password: str, today: date | None = None) -> dict[str, User]:
    """Two stores with locations, suppliers, users of every role and a few lots of each category. Flushes."""
    today = today or date.today()
    main, mall = stores.create_store("MAIN", "Main Street"), stores.create_store("MALL", "Galleria Mall")
    places = {}
    for store in (main, mall):
        for code, name, kind in LOCATIONS:
            places[store.code, code] = stores.create_location(store, code, name, kind)
    by_code = {s.code: s for s in (main, mall)}
    people = {u: users.create_user(u, n, r, password, [by_code[c] for c in cs]) for u, n, r, cs in DEMO_USERS}
    suppliers = {}
    for code, name, contact in SUPPLIERS:
        suppliers[code] = Supplier(code=code, name=name, contact=contact)
        db.session.add(suppliers[code])
    db.session.flush()

    vera = people["vera"]
    ago = lambda days: today - timedelta(days=days)  # noqa: E731
    shipments = [
        Shipment(suppliers["SUP"], places["MAIN", "VAULT"], "stone", "Diamond melee, round brilliant 1.3 mm",
                 ago(40), 120, Decimal("45.00"), "weight", Decimal("3.600"), "ct", po_number="PO-1041",
                 invoice_number="INV-88213", attributes={"stone": "diamond", "shape": "round", "colour": "G-H",
                 "clarity": "VS", "cut": "excellent", "origin": "Botswana"}),
        Shipment(suppliers["SUP"], places["MAIN", "SAFE"], "stone", "Blue sapphires, oval 6x4 mm",
                 ago(25), 12, Decimal("310.00"), "piece", Decimal("8.400"), "ct", po_number="PO-1052",
                 attributes={"stone": "sapphire", "shape": "oval", "colour": "royal blue", "origin": "Sri Lanka",
                 "certificates": "GRS2026-044871"}),
        Shipment(suppliers["AUR"], places["MAIN", "VAULT"], "metal", "14K yellow gold casting grain",
                 ago(60), 0, Decimal("48.50"), "weight", Decimal("250.000"), "g", po_number="PO-1033",
                 attributes={"metal": "yellow gold", "karat": "14K"}),
        Shipment(suppliers["BEL"], places["MAIN", "SAFE"], "finished", "Solitaire engagement rings, 18K white gold",
                 ago(90), 6, Decimal("1450.00"), "piece", po_number="PO-0998", invoice_number="BC-2026-117",
                 attributes={"metal": "white gold", "karat": "18K", "stone": "diamond"},
                 items=[ItemSpec(f"BC-SOL-{n:03d}", f"IGI-58{n:04d}", Decimal("3.1")) for n in range(1, 7)]),
        Shipment(suppliers["BEL"], places["MAIN", "SAFE"], "finished", "Pearl stud earrings, 7 mm akoya",
                 ago(150), 24, Decimal("95.00"), "piece", attributes={"stone": "akoya pearl", "metal": "14K"}),
        Shipment(suppliers["FND"], places["MAIN", "BENCH"], "finding", "Lobster clasps 12 mm, 14K yellow",
                 ago(12), 200, Decimal("4.20"), "piece", attributes={"metal": "yellow gold", "karat": "14K"}),
    ]  # fmt: skip
    lots = [receive_lot(s, event_id=new_event_id(), by=vera, store=main) for s in shipments]

    # Put some stock out on the floor and in the other store, as a day's work would.
    event = start_event(new_event_id(), "move", by=people["maria"], store=main)
    rings, studs = lots[3], lots[4]
    for item in rings.items[:3]:
        ledger.post(event, "move", rings, places["MAIN", "SAFE"], places["MAIN", "SC1"], 1, item=item)
    ledger.post(event, "move", studs, places["MAIN", "SAFE"], places["MAIN", "SC2"], 10)
    ledger.post(event, "ship", studs, places["MAIN", "SAFE"], main.virtual("transit"), 8, reference="Courier 4471")
    ledger.post(event, "arrive", studs, main.virtual("transit"), places["MALL", "SC2"], 8, reference="Courier 4471")

    # One sapphire's certificate did not match at inspection: it waits in quarantine for a manager.
    accepted, held = inspections.Quantity(11, Decimal("7.700")), inspections.Quantity(1, Decimal("0.700"))
    inspections.record_inspection(
        lots[1],
        points={"count": "pass", "weight": "pass", "measurements": "pass", "certificate": "fail"},
        result="fail",
        notes="Stone 7 does not match GRS2026-044871.",
        split=inspections.Split(accept=accepted, hold=held, send_back=inspections.Quantity()),
        event_id=new_event_id(),
        by=vera,
        store=main,
    )
    db.session.flush()
    return people
