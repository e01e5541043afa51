"""Build a large store fast: stores, places, users, suppliers, lots, items, tags, events and a ledger.

The default is 100,000 items in 5,000 lots and 1,000,000 movements, over three stores. Small things (stores and
their places, users) go through the services; the bulk goes through SQLAlchemy Core `insert()` with executemany
in batches, so every value passes through the model's column types (exact `Fixed` decimals on SQLite too). The
movements come from a simulation in Python of a store's life — receipts, moves, sales with prices, returns,
shipments between stores and their arrivals, bench consumption, count adjustments, a few undone moves — which
keeps every balance as it goes, never takes from a place more than it holds, and inserts the balances it computed:
`check_ledger()` finds no difference.

    python -m bench.build_data [--items N] [--lots N] [--movements N] [--keep]

A fresh SQLite file in a temporary folder, or with DATABASE_URL a fresh PostgreSQL database `bench_scanapp` on
that server (dropped and created; no other database is touched).
"""

import argparse
import contextlib
import io
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import bindparam, create_engine, event, func, insert, select, text, update
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from scanapp import create_app
from scanapp.config import normalise_db_url
from scanapp.extensions import db
from scanapp.models import Balance, Event, Item, Location, Lot, Movement, Store, Supplier, Tag, User
from scanapp.models.tags import TARGET_COLUMNS
from scanapp.services import ledger, stores

PG_DATABASE = "bench_scanapp"
BENCH_USER = "bench-manager"  # a manager of the first store: the bench signs in as this user
BENCH_PASSWORD = "bench-password"
BATCH = 20_000
STORES = (("MAIN", "Main Street"), ("HARB", "Harbour"), ("MALL", "Mall"))
STORE_SHARE = (5, 3, 2)  # how lots are spread over the stores that receive them
# Places of each store: kind, code prefix, how many.
PLACES = (
    ("vault", "VAULT", 1),
    ("safe", "SAFE", 4),
    ("showcase", "SC", 32),
    ("bench", "BENCH", 2),
    ("backroom", "BACK", 1),
)
ROLES_PER_STORE = (("manager", 1), ("vault", 2), ("associate", 4), ("bench", 1))
CATEGORY_SHARE = (("finished", 45), ("stone", 30), ("finding", 15), ("metal", 10))
# Non-receipt movements: kind and weight.
OPERATIONS = (
    ("move", 42), ("sell", 16), ("return", 5), ("ship", 9), ("arrive", 9), ("consume", 6), ("adjust", 6),
)  # fmt: skip
HOT_SHARE = 0.05  # of operations go to the few lots with a long history
UNDO_SHARE = 0.01  # of moves are undone at once by the person who made them
YEARS = 2  # the ledger spans this many years up to now


@dataclass(frozen=True)
class Size:
    items: int = 100_000
    lots: int = 5_000
    movements: int = 1_000_000
    suppliers: int = 40
    seed: int = 1

    def scaled(self, movements: int) -> "Size":
        """The same store at another ledger length: items and lots shrink in proportion (never below a few)."""
        ratio = movements / self.movements
        return Size(
            items=max(int(self.items * ratio), 10),
            lots=max(int(self.lots * ratio), 5),
            movements=movements,
            suppliers=self.suppliers,
            seed=self.seed,
        )


@dataclass
class Built:
    """What was built: row counts, timings, and the ids the benchmark needs."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    hot_lot_id: int = 0
    main_store_id: int = 0


# -------------------------------------------------------------------------------------------- databases


def fresh_database(server_url: str | None, name: str = PG_DATABASE) -> str:
    """A new empty database: a SQLite file in a new temporary folder, or `name` dropped and created again on the
    PostgreSQL server of `server_url`. Only databases named bench_* are ever dropped."""
    if not server_url:
        folder = tempfile.mkdtemp(prefix="scanapp-bench-")
        return f"sqlite:///{folder}/bench.db"
    if not name.startswith("bench_"):
        raise SystemExit(f"refusing to use database {name!r}: benchmark databases are named bench_*")
    url = make_url(normalise_db_url(server_url))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Remove a database made by fresh_database (the SQLite file's folder, or the bench_* database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        folder = Path(parsed.database).parent
        if folder.name.startswith("scanapp-bench-"):
            shutil.rmtree(folder, ignore_errors=True)
        return
    if not (parsed.database or "").startswith("bench_"):
        raise SystemExit(f"refusing to drop database {parsed.database!r}")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def bench_app(url: str):
    """The app on the bench database (whatever DATABASE_URL says)."""
    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def create_schema(app) -> str:
    """Build the schema with the migrations (`flask db upgrade`); when they are behind the models, start again
    with `db.create_all()` (and stamp the head). Returns which was used, and why."""
    import flask_migrate
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), contextlib.redirect_stderr(io.StringIO()):  # alembic's INFO lines
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        if not differences:
            return "flask db upgrade (the migrations match the models)"
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.create_all()
        flask_migrate.stamp()
        first = _describe_difference(differences[0])
        return f"db.create_all(): the migrations are behind the models ({len(differences)} differences, e.g. {first})"


def _describe_difference(diff) -> str:
    while isinstance(diff, list) and diff:
        diff = diff[0]
    if isinstance(diff, tuple) and len(diff) > 1:
        target = diff[1]
        name = getattr(target, "name", None) or getattr(target, "fullname", None) or str(target)
        return f"{diff[0]} {name}"
    return str(diff)


# -------------------------------------------------------------------------------------------- the store


class Builder:
    """Fills the current app's database (inside an app context). Commits in batches."""

    def __init__(self, size: Size):
        if size.items + size.lots > size.movements:
            raise SystemExit("every item and lot is received by a movement: --movements must be >= items + lots")
        self.size = size
        self.rng = random.Random(size.seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.start = self.now - timedelta(days=365 * YEARS)

    # The places, people and suppliers: few, made through the services and the ORM.

    def setup(self) -> None:
        self.stores = [stores.create_store(code, name) for code, name in STORES]
        self.physical: dict[int, list[int]] = {}
        self.virtual: dict[int, dict[str, int]] = {}
        for store in self.stores:
            ids = []
            for kind, prefix, count in PLACES:
                for n in range(1, count + 1):
                    code = prefix if count == 1 else f"{prefix}-{n:02d}"
                    name = kind.title() if count == 1 else f"{kind.title()} {n}"
                    ids.append(stores.create_location(store, code, name, kind).id)
            self.physical[store.id] = ids
            self.virtual[store.id] = {loc.kind: loc.id for loc in store.locations if not loc.is_physical}
        self.physical_set = {place for ids in self.physical.values() for place in ids}
        self.place_store = {place: s for s, ids in self.physical.items() for place in ids}
        for s, places in self.virtual.items():
            self.place_store.update({place: s for place in places.values()})
        self.vaults = {s: ids[:5] for s, ids in self.physical.items()}  # the vault and the safes receive
        password_hash = generate_password_hash(BENCH_PASSWORD)
        self.users: dict[int, list[int]] = {}
        main = self.stores[0]
        bench_user = User(username=BENCH_USER, name="Bench Manager", role="manager", password_hash=password_hash)
        bench_user.stores = [main]
        admin = User(username="bench-admin", name="Bench Admin", role="admin", password_hash=password_hash)
        admin.stores = list(self.stores)
        db.session.add_all([bench_user, admin])
        for store in self.stores:
            people = []
            for role, count in ROLES_PER_STORE:
                for n in range(1, count + 1):
                    user = User(
                        username=f"{store.code.lower()}-{role}-{n}",
                        name=f"{role.title()} {n} {store.name}",
                        role=role,
                        password_hash=password_hash,
                    )
                    user.stores = [store]
                    people.append(user)
            db.session.add_all(people)
            db.session.flush()
            self.users[store.id] = [u.id for u in people]
        self.suppliers = []
        for n in range(1, self.size.suppliers + 1):
            supplier = Supplier(code=f"SP{n:02d}", name=f"Supplier {n}", contact=f"Contact {n}")
            db.session.add(supplier)
            self.suppliers.append(supplier)
        db.session.flush()
        self.supplier_codes = {s.id: s.code for s in self.suppliers}
        db.session.commit()

    # Lots and items: planned first (the ledger needs them), inserted in batches.

    def plan_lots(self) -> None:
        size, rng = self.size, self.rng
        self.lot_offset, self.item_offset = _max_id(Lot), _max_id(Item)
        n = size.lots
        categories = rng.choices([k for k, _ in CATEGORY_SHARE], weights=[w for _, w in CATEGORY_SHARE], k=n)
        # Receipts spread over the first 85% of the ledger, in lot order.
        self.receipt_at = sorted(int(rng.random() * 0.85 * size.movements) for _ in range(n))
        self.receipt_at[0] = 0
        # The lots with a long history: big stone lots of the main store, received early.
        early = [i for i in range(n) if self.receipt_at[i] < 0.1 * size.movements]
        hot = set(early[: max(1, n // 1000)])
        for i in hot:
            categories[i] = "stone"
        if "finished" not in categories:
            categories[-1] = "finished"
        # Items: a few certified stones, the rest in finished lots (a few big collections, many small ones).
        finished = [i for i, c in enumerate(categories) if c == "finished"]
        stones = [i for i, c in enumerate(categories) if c == "stone"]
        items_per_lot = [0] * n
        stone_items = min(size.items // 20, len(stones) * 3)
        for i in rng.choices(stones, k=stone_items) if stone_items else ():
            items_per_lot[i] += 1
        collection = [rng.paretovariate(1.5) for _ in finished]
        for i in rng.choices(finished, weights=collection, k=size.items - stone_items):
            items_per_lot[i] += 1
        store_ids = [s.id for s in self.stores]
        self.lot_rows, self.item_rows, self.tag_rows, self.lots = [], [], [], []
        self.item_weight: dict[int, int] = {}
        seq: dict[str, int] = {}
        item_id = self.item_offset
        for i, category in enumerate(categories):
            lot_id = self.lot_offset + i + 1
            store = store_ids[0] if i in hot else rng.choices(store_ids, weights=STORE_SHARE)[0]
            supplier = rng.choice(self.suppliers).id
            created = self._when(self.receipt_at[i])
            prefix = f"{self.supplier_codes[supplier]}-{created:%m%y}-{_CODES[category]}"
            seq[prefix] = seq.get(prefix, 0) + 1
            number = f"{prefix}-{seq[prefix]:03d}"
            unit = {"stone": "ct", "metal": "g"}.get(category)
            loose_pieces, loose_weight = _loose(category, rng, hot=i in hot)
            items = list(range(item_id + 1, item_id + 1 + items_per_lot[i]))
            item_id += len(items)
            for iid in items:
                self.item_weight[iid] = rng.randint(300, 3_000) if unit else rng.randint(1_500, 25_000)
            pieces = loose_pieces + len(items)
            weight = loose_weight + (sum(self.item_weight[iid] for iid in items) if unit else 0)
            if pieces:
                cost = pieces * (rng.randint(20_000, 400_000) if category == "finished" else rng.randint(50, 20_000))
            else:
                cost = rng.randint(100_000, 5_000_000)
            self.lot_rows.append(
                {
                    "id": lot_id,
                    "number": number,
                    "store_id": store,
                    "supplier_id": supplier,
                    "category": category,
                    "description": _DESCRIPTIONS[category],
                    "po_number": f"PO-{lot_id:06d}",
                    "invoice_number": f"INV-{lot_id:06d}",
                    "received_on": created.date(),
                    "pieces_received": pieces,
                    "weight_received": _milli(weight),
                    "weight_unit": unit,
                    "cost_total": _cents(cost),
                    **_attributes(category, rng),
                    "notes": "",
                    "active": True,
                    "created_at": created,
                    "created_by_id": self.users[store][1],
                }
            )
            self.tag_rows.append(_tag(number, "lot", created, lot_id=lot_id))
            for iid in items:
                serial = f"SN{iid:07d}"
                self.item_rows.append(
                    {
                        "id": iid,
                        "lot_id": lot_id,
                        "serial": serial,
                        "certificate": f"GIA{2_000_000_000 + iid}" if category == "stone" else "",
                        "description": "",
                        "weight": _milli(self.item_weight[iid]),
                        "location_id": self.virtual[store]["supplier"],
                        "active": True,
                        "created_at": created,
                    }
                )
                self.tag_rows.append(_tag(serial, "item", created, item_id=iid))
            self.lots.append(
                {
                    "id": lot_id,
                    "store": store,
                    "unit": unit,
                    "hot": i in hot,
                    "items": items,
                    "loose": (loose_pieces, loose_weight),
                    "pieces": pieces,
                    "weight": weight,
                    "cost": cost,
                }
            )

    def insert_lots(self) -> None:
        for table, rows in ((Lot, self.lot_rows), (Item, self.item_rows), (Tag, self.tag_rows)):
            for chunk in _chunks(rows, BATCH):
                db.session.execute(insert(table.__table__), chunk)
        db.session.commit()

    # The ledger.

    def simulate(self) -> None:
        """Play the store's life: insert its events and movements in batches, then the balances it kept and the
        places the items ended in."""
        size, rng = self.size, self.rng
        self.movement_id = _max_id(Movement)
        self.count = 0
        self.events, self.movements = [], []
        self.balance: dict[tuple[int, int], list[int]] = {}  # (lot id, place) -> [pieces, weight in thousandths]
        self.item_loc = {iid: self.virtual[lot["store"]]["supplier"] for lot in self.lots for iid in lot["items"]}
        self.loose: list[dict[int, list[int]]] = [{} for _ in self.lots]  # per lot: place -> [pieces, weight]
        self.sold_loose: list[dict[int, list[int]]] = [{} for _ in self.lots]  # per lot: store -> [pieces, weight]
        self.sold_items: list[list[int]] = [[] for _ in self.lots]
        self.in_transit: deque = deque()
        self.received: list[int] = []
        self.received_items: list[int] = []  # a lot's index once per item it has
        self.hot_received: list[int] = []
        receipt_lines = [len(lot["items"]) + (1 if any(lot["loose"]) else 0) for lot in self.lots]
        remaining_receipt_lines = sum(receipt_lines)
        kinds, weights = [k for k, _ in OPERATIONS], [w for _, w in OPERATIONS]
        operations = {kind: getattr(self, f"_{kind}") for kind in kinds}
        next_lot = 0
        while self.count < size.movements:
            budget = size.movements - self.count - remaining_receipt_lines
            if next_lot < len(self.lots) and (self.count >= self.receipt_at[next_lot] or budget <= 0):
                self._receive(next_lot)
                remaining_receipt_lines -= receipt_lines[next_lot]
                next_lot += 1
                continue
            for attempt in range(1_000):
                # When chance finds nothing to do (everything sold, say), a count finds a piece: always possible.
                kind = rng.choices(kinds, weights)[0] if attempt < 100 else "adjust"
                if operations[kind](self._pick_lot(), budget):
                    break
            else:
                raise RuntimeError("the simulation found nothing to do")
            if len(self.movements) >= BATCH:
                self._flush()
        self._flush()
        self._finish()

    def _pick_lot(self) -> int:
        """A few lots get many movements; otherwise half the time the lot of a random item (so that every item
        moves about as often, whatever the size of its lot), else any lot."""
        rng = self.rng
        if self.hot_received and rng.random() < HOT_SHARE:
            return rng.choice(self.hot_received)
        if self.received_items and rng.random() < 0.5:
            return rng.choice(self.received_items)
        return rng.choice(self.received)

    def _receive(self, i: int) -> None:
        lot = self.lots[i]
        store = lot["store"]
        supplier, dest = self.virtual[store]["supplier"], self.rng.choice(self.vaults[store])
        event = self._event("receive_lot", store, result=f"lot:{lot['id']}")
        for item in lot["items"]:
            self._post(event, "receive", i, supplier, dest, 1, self._item_weight(i, item), item=item)
        if any(lot["loose"]):
            self._post(event, "receive", i, supplier, dest, *lot["loose"])
            self._put(i, dest, *lot["loose"])
        self.received.append(i)
        self.received_items += [i] * len(lot["items"])
        if lot["hot"]:
            self.hot_received.append(i)

    def _move(self, i: int, budget: int) -> bool:
        picked = self._take_stock(i, self.lots[i]["store"])
        if picked is None:
            return False
        item, source, pieces, weight = picked
        store = self.place_store[source]
        dest = self.rng.choice([p for p in self.physical[store] if p != source])
        moved = self._post(self._event("move", store, f"location:{dest}"), "move", i, source, dest, pieces, weight,
                           item=item)  # fmt: skip
        if budget > 1 and self.rng.random() < UNDO_SHARE:  # undone at once: it goes back where it was
            undo = self._event("undo_move", store, f"location:{source}")
            self._post(undo, "move", i, dest, source, pieces, weight, item=item, reverses=moved,
                       note=f"Undo of move {moved}")  # fmt: skip
            dest = source
        self._put(i, dest, pieces, weight, item)
        return True

    def _sell(self, i: int, budget: int) -> bool:
        picked = self._take_stock(i)
        if picked is None:
            return False
        item, source, pieces, weight = picked
        store = self.place_store[source]
        price = self._price(i, pieces, weight) * self.rng.randint(180, 260) // 100
        self._post(self._event("sell", store), "sell", i, source, self.virtual[store]["customer"], pieces, weight,
                   item=item, reference=f"R-{self.count:07d}", amount=price)  # fmt: skip
        if item:
            self.sold_items[i].append(item)
        else:
            _add(self.sold_loose[i], store, pieces, weight)
        return True

    def _return(self, i: int, budget: int) -> bool:
        rng = self.rng
        if self.sold_items[i] and rng.random() < 0.7:
            item = self.sold_items[i].pop(rng.randrange(len(self.sold_items[i])))
            source = self.item_loc[item]
            pieces, weight = 1, self._item_weight(i, item)
        elif self.sold_loose[i]:
            store = rng.choice(list(self.sold_loose[i]))
            item, source = None, self.virtual[store]["customer"]
            pieces, weight = _part(*self.sold_loose[i][store], rng)
            _add(self.sold_loose[i], store, -pieces, -weight)
        else:
            return False
        store = self.place_store[source]
        dest = rng.choice(self.vaults[store])
        self._post(self._event("return", store), "return", i, source, dest, pieces, weight, item=item,
                   reference=f"R-{self.count:07d}", amount=self._price(i, pieces, weight) * 2)  # fmt: skip
        self._put(i, dest, pieces, weight, item)
        return True

    def _ship(self, i: int, budget: int) -> bool:
        picked = self._take_stock(i)
        if picked is None:
            return False
        item, source, pieces, weight = picked
        store = self.place_store[source]
        to_store = self.rng.choice([s for s in self.physical if s != store])
        transit, reference = self.virtual[store]["transit"], f"TR-{self.count:07d}"
        self._post(self._event("ship", store), "ship", i, source, transit, pieces, weight, item=item,
                   reference=reference)  # fmt: skip
        self.in_transit.append((i, item, transit, to_store, pieces, weight, reference))
        return True

    def _arrive(self, _: int, budget: int) -> bool:
        if not self.in_transit:
            return False
        i, item, transit, store, pieces, weight, reference = self.in_transit.popleft()
        dest = self.rng.choice(self.vaults[store])
        self._post(self._event("arrive", store), "arrive", i, transit, dest, pieces, weight, item=item,
                   reference=reference)  # fmt: skip
        self._put(i, dest, pieces, weight, item)
        return True

    def _consume(self, i: int, budget: int) -> bool:
        if self.lots[i]["unit"] is None:
            return False
        picked = self._take_stock(i, loose_only=True)
        if picked is None:
            return False
        _, source, pieces, weight = picked
        store = self.place_store[source]
        self._post(self._event("use_material", store), "consume", i, source, self.virtual[store]["production"],
                   pieces, weight, reference=f"WO-{self.count:06d}")  # fmt: skip
        return True

    def _adjust(self, i: int, budget: int) -> bool:
        """A count's difference: one piece (or a little weight) lost to, or found again from, `loss`."""
        rng, lot = self.rng, self.lots[i]
        if not any(lot["loose"]):
            return False
        store = lot["store"]
        loss = self.virtual[store]["loss"]
        event = self._event("approve_count", store)
        picked = self._take_stock(i, store, loose_only=True) if rng.random() < 0.5 else None
        if picked is not None:
            _, source, pieces, weight = picked
            lost = (1, weight // pieces) if pieces else (0, max(1, weight // 10))
            self._put(i, source, pieces - lost[0], weight - lost[1])
            self._post(event, "adjust", i, source, loss, *lost, reference="COUNT")
            return True
        dest = rng.choice(self.physical[store])
        pieces, weight = lot["loose"]
        found = (1, weight // pieces if lot["unit"] else 0) if pieces else (0, rng.randint(1, 500))
        self._post(event, "adjust", i, loss, dest, *found, reference="COUNT")
        self._put(i, dest, *found)
        return True

    # The simulation's books of what is where: they follow the services' rules.

    def _take_stock(self, i: int, store: int | None = None, loose_only: bool = False):
        """Take something of lot i off a physical place (of `store` when given): an item, or part of a loose
        balance. Returns (item, place, pieces, weight), or None when there is nothing."""
        rng, lot = self.rng, self.lots[i]
        if lot["items"] and not loose_only and rng.random() < 0.7:
            for _ in range(4):
                item = rng.choice(lot["items"])
                place = self.item_loc[item]
                if place in self.physical_set and store in (None, self.place_store[place]):
                    return item, place, 1, self._item_weight(i, item)
        places = [p for p in self.loose[i] if store in (None, self.place_store[p])]
        if not places:
            return None
        source = rng.choice(places)
        pieces, weight = _part(*self.loose[i][source], rng)
        _add(self.loose[i], source, -pieces, -weight)
        return None, source, pieces, weight

    def _put(self, i: int, place: int, pieces: int, weight: int, item: int | None = None) -> None:
        """Loose stock that landed in a physical place can be taken again (an item's place is kept by _post)."""
        if item is None and (pieces or weight) and place in self.physical_set:
            _add(self.loose[i], place, pieces, weight)

    def _item_weight(self, i: int, item: int) -> int:
        return self.item_weight[item] if self.lots[i]["unit"] else 0

    def _price(self, i: int, pieces: int, weight: int) -> int:
        """What `pieces` (or `weight`) of lot i cost, in cents."""
        lot = self.lots[i]
        return lot["cost"] * pieces // lot["pieces"] if lot["pieces"] else lot["cost"] * weight // lot["weight"]

    # Rows.

    def _when(self, position: int) -> datetime:
        return self.start + (self.now - self.start) * (position / self.size.movements)

    def _event(self, action: str, store: int, result: str = "") -> dict:
        event = {
            "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "action": action,
            "user_id": self.rng.choice(self.users[store]),
            "store_id": store,
            "created_at": self._when(self.count),
            "remote_addr": "127.0.0.1",
            "result": result,
            "lines": 0,  # dropped before the insert
        }
        self.events.append(event)
        return event

    def _post(self, event, kind, i, source, dest, pieces, weight, *, item=None, reference="", note="",
              amount=None, reverses=None) -> int:  # fmt: skip
        """One movement row, applied to the two balances (as services/ledger.py post() does)."""
        self.movement_id += 1
        self.count += 1
        lot_id = self.lots[i]["id"]
        self.movements.append(
            {
                "id": self.movement_id,
                "event_id": event["id"],
                "line": event["lines"],
                "kind": kind,
                "lot_id": lot_id,
                "item_id": item,
                "from_location_id": source,
                "to_location_id": dest,
                "pieces": pieces,
                "weight": _milli(weight),
                "store_id": event["store_id"],
                "user_id": event["user_id"],
                "created_at": event["created_at"],
                "reference": reference,
                "note": note,
                "amount": None if amount is None else _cents(amount),
                "reverses_id": reverses,
            }
        )
        event["lines"] += 1
        for place, sign in ((source, -1), (dest, 1)):
            held = self.balance.setdefault((lot_id, place), [0, 0])
            held[0] += sign * pieces
            held[1] += sign * weight
        if item is not None:
            self.item_loc[item] = dest
        return self.movement_id

    def _flush(self) -> None:
        for row in self.events:
            del row["lines"]
        for chunk in _chunks(self.events, BATCH):
            db.session.execute(insert(Event.__table__), chunk)
        for chunk in _chunks(self.movements, BATCH):
            db.session.execute(insert(Movement.__table__), chunk)
        db.session.commit()
        self.events, self.movements = [], []

    def _finish(self) -> None:
        """The balances the simulation kept, the items' places, and the id sequences past the ids given here."""
        offset = _max_id(Balance)
        rows = [
            {"id": offset + n, "lot_id": lot, "location_id": place, "pieces": held[0], "weight": _milli(held[1])}
            for n, ((lot, place), held) in enumerate(sorted(self.balance.items()), start=1)
        ]
        for chunk in _chunks(rows, BATCH):
            db.session.execute(insert(Balance.__table__), chunk)
        items = Item.__table__
        stmt = update(items).where(items.c.id == bindparam("item")).values(location_id=bindparam("place"))
        placed = [{"item": item, "place": place} for item, place in self.item_loc.items()]
        for chunk in _chunks(placed, BATCH):
            db.session.execute(stmt, chunk)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            for table in ("lots", "items", "movements", "balances"):
                db.session.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
            db.session.commit()


def fill(size: Size) -> Built:
    """Fill the current app's database with a store of `size` (inside an app context). Commits."""
    started = time.perf_counter()
    builder = Builder(size)
    builder.setup()
    builder.plan_lots()
    builder.insert_lots()
    builder.simulate()
    built = Built(seconds=time.perf_counter() - started)
    built.counts = {
        name: db.session.scalar(select(func.count()).select_from(model))
        for name, model in (
            ("stores", Store),
            ("locations", Location),
            ("users", User),
            ("suppliers", Supplier),
            ("lots", Lot),
            ("items", Item),
            ("tags", Tag),
            ("events", Event),
            ("movements", Movement),
            ("balances", Balance),
        )
    }
    built.hot_lot_id = next(lot["id"] for lot in builder.lots if lot["hot"])
    built.main_store_id = builder.stores[0].id
    return built


def analyse() -> None:
    """Give PostgreSQL's planner its statistics, as autovacuum would soon after a load. SQLite is left as the app
    leaves it (the app never runs ANALYZE)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


# -------------------------------------------------------------------------------------------- helpers

_CODES = {"stone": "ST", "metal": "MT", "finished": "FN", "finding": "FD"}
_DESCRIPTIONS = {
    "stone": "Round brilliant diamonds, melee",
    "metal": "18k yellow gold casting grain",
    "finished": "Solitaire rings, 18k white gold",
    "finding": "Lobster clasps, 14k gold",
}


def _attributes(category: str, rng: random.Random) -> dict:
    """The jewelry attributes of a lot (every key, so that all rows of a batch have the same columns)."""
    values = dict.fromkeys(
        ("metal", "karat", "stone", "shape", "colour", "clarity", "cut", "origin", "certificates"), ""
    )
    if category == "stone":
        values |= {
            "stone": "Diamond",
            "shape": rng.choice(("Round", "Oval", "Pear", "Princess")),
            "colour": rng.choice("DEFGHIJ"),
            "clarity": rng.choice(("IF", "VVS1", "VVS2", "VS1", "VS2", "SI1")),
            "cut": "Excellent",
            "origin": rng.choice(("Botswana", "Canada", "Namibia")),
        }
    else:
        values |= {"metal": rng.choice(("Yellow gold", "White gold", "Platinum")), "karat": "18k"}
    return values


def _loose(category: str, rng: random.Random, hot: bool) -> tuple[int, int]:
    """Pieces and weight (thousandths of ct or g) received loose, not as items."""
    if category == "stone":
        pieces = 20_000 if hot else rng.randint(20, 2_000)
        return pieces, pieces * rng.randint(3, 60)
    if category == "metal":
        return 0, rng.randint(50_000, 2_000_000)
    if category == "finding":
        return rng.randint(50, 1_000), 0
    return 0, 0


def _part(pieces: int, weight: int, rng: random.Random) -> tuple[int, int]:
    """Part of a loose balance: a few pieces and their share of the weight, or all of it; weight alone when the
    lot has no pieces."""
    if pieces > 0:
        take = pieces if rng.random() < 0.2 else rng.randint(1, max(1, min(pieces, 20)))
        return take, weight if take == pieces else weight * take // pieces
    take = weight if rng.random() < 0.2 else rng.randint(1, weight)
    return 0, take


def _add(books: dict, key: int, pieces: int, weight: int) -> None:
    """Add to (or with negative numbers take from) a [pieces, weight] entry; an empty entry is removed."""
    held = books.setdefault(key, [0, 0])
    held[0] += pieces
    held[1] += weight
    if not any(held):
        del books[key]


def _milli(value: int) -> Decimal:
    """Thousandths of a ct or g as the exact Decimal the Fixed(3) columns take."""
    return Decimal(value).scaleb(-3)


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def _tag(code: str, kind: str, created: datetime, **target) -> dict:
    return {"code": code, "kind": kind, "created_at": created} | dict.fromkeys(TARGET_COLUMNS.values()) | target


def _chunks(rows: list, size: int):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _max_id(model) -> int:
    return db.session.scalar(select(func.coalesce(func.max(model.id), 0)))


# -------------------------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    default = Size()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=default.items)
    parser.add_argument("--lots", type=int, default=default.lots)
    parser.add_argument("--movements", type=int, default=default.movements)
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--keep", action="store_true", help="keep the database and print its URL")
    args = parser.parse_args(argv)
    size = Size(items=args.items, lots=args.lots, movements=args.movements, seed=args.seed)
    url = fresh_database(os.environ.get("DATABASE_URL"))
    try:
        built, schema = build(url, size)
        report(built, schema)
        with bench_app(url).app_context():
            check(built)
    finally:
        if args.keep:
            print(f"database kept: {url}")
        else:
            drop_database(url)
    return 0


def build(url: str, size: Size) -> tuple[Built, str]:
    """Schema and data in the (new, empty) database at `url`."""
    app = bench_app(url)
    schema = create_schema(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()
            event.listen(db.engine, "connect", _loading_pragmas)
        built = fill(size)
        analyse()
        db.engine.dispose()
    return built, schema


def _loading_pragmas(dbapi_connection, connection_record) -> None:
    """While loading SQLite: no fsync (a crash only loses the bench database) and a large page cache, which keeps
    the indexes' pages in memory. Per connection: the app's own connections keep the app's settings."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-262144")  # KiB: 256 MiB
    cursor.close()


def report(built: Built, schema: str) -> None:
    print(f"schema: {schema}")
    print("built: " + ", ".join(f"{n:,} {name}" for name, n in built.counts.items()))
    print(f"build time: {built.seconds:.1f} s")


def check(built: Built, limit: int = Size().movements) -> list:
    """Run check_ledger() (for sizes up to the default) and print what it found and how long it took."""
    if built.counts["movements"] > limit:
        print("check_ledger: skipped (larger than the default size)")
        return []
    started = time.perf_counter()
    differences = ledger.check_ledger()
    verdict = "clean" if not differences else f"{len(differences)} DIFFERENCES"
    print(f"check_ledger: {verdict} ({time.perf_counter() - started:.1f} s)")
    return differences


if __name__ == "__main__":
    sys.exit(main())
