"""What the lot, item and place pages cost: a fixed number of SQL statements however long the history, and the
ledger rows (drawn from plain rows, not ORM objects) showing the same as before: reversals, item and lot links,
amounts and "Show older"."""

import re
from decimal import Decimal

from scanapp.services import ledger
from tests.test_pages import chain, client_as, recorded_sql, text_of, web  # noqa: F401  (fixtures)

# One each: the signed-in user, the lot, its ledger page, where its pieces are, its items, its documents, what
# the bench made of it and its inspections.
LOT_PAGE_STATEMENTS = 8
# The user, the item, its path, what it was made from and went into, its inspections.
ITEM_PAGE_STATEMENTS = 6
# The user, the place, its tag, the ledger page, the lots and the items there.
PLACE_PAGE_STATEMENTS = 6


def _statements(client, url: str) -> list[str]:
    with recorded_sql() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.text
    return statements


def _shuttle(chain, make, times: int, item=None):  # noqa: F811
    """`times` moves there and back between the safe and the showcase (of the lot, or of one of its items)."""
    event = make.event(chain.manager, chain.main)
    for n in range(times):
        if item is None:
            ledger.post(event, "move", chain.lot, chain.case, chain.safe, 1, Decimal("0.200"), note=f"there {n}")
            ledger.post(event, "move", chain.lot, chain.safe, chain.case, 1, Decimal("0.200"), note=f"back {n}")
        else:
            ledger.post(event, "move", chain.lot, chain.safe, chain.case, 1, item.weight, item=item)
            ledger.post(event, "move", chain.lot, chain.case, chain.safe, 1, item.weight, item=item)
    return event


def test_lot_page_statements_do_not_grow_with_its_history(chain, make, client_as):  # noqa: F811
    client = client_as(chain.manager)
    short = _statements(client, f"/lots/{chain.lot.id}")
    _shuttle(chain, make, 60)
    item = next(i for i in chain.lot.items if i.serial == "SN-1")
    _shuttle(chain, make, 3, item=item)
    long = _statements(client_as(chain.manager), f"/lots/{chain.lot.id}")
    assert len(short) == len(long) == LOT_PAGE_STATEMENTS, long
    older = client.get(f"/lots/{chain.lot.id}?before=999999999", headers={"HX-Request": "true"})
    assert older.status_code == 200 and len(re.findall(r'id="movement-\d+"', older.text)) == 50


def test_item_page_statements_do_not_grow_with_its_path(chain, make, client_as):  # noqa: F811
    item = next(i for i in chain.lot.items if i.serial == "SN-1")
    client = client_as(chain.manager)
    short = _statements(client, f"/items/{item.id}")
    _shuttle(chain, make, 40, item=item)
    long = _statements(client_as(chain.manager), f"/items/{item.id}")
    assert len(short) == len(long) == ITEM_PAGE_STATEMENTS, long
    html = client.get(f"/items/{item.id}").text
    assert len(re.findall(r'class="step ', html)) == 81  # the receipt and every move since


def test_place_page_statements_do_not_grow_with_its_movements_or_contents(chain, make, client_as):  # noqa: F811
    client = client_as(chain.manager)
    short = _statements(client, f"/locations/{chain.case.id}")
    _shuttle(chain, make, 60)
    for n in range(5):
        make.lot(chain.case, pieces=2, number=f"SUP-0426-ST-{n + 10:03d}", serials=[f"CASE-{n}"])
    long = _statements(client_as(chain.manager), f"/locations/{chain.case.id}")
    assert len(short) == len(long) == PLACE_PAGE_STATEMENTS, long


def test_ledger_rows_show_reversals_items_lots_and_amounts(chain, make, client_as):  # noqa: F811
    item = next(i for i in chain.lot.items if i.serial == "SN-1")
    event = _shuttle(chain, make, 1, item=item)
    last = event.movements[-1]
    undo = ledger.reverse(make.event(chain.manager, chain.main), last, note="wrong shelf")
    client = client_as(chain.manager)
    lot_history = client.get(f"/lots/{chain.lot.id}").text
    row = re.search(rf'<tr class="movement reversed" id="movement-{last.id}">.*?</tr>', lot_history, re.S).group(0)
    assert f'href="/items/{item.id}"' in row and "SN-1" in row and f"undone by #{undo.id}" in row
    assert "Showcase 1 (MAIN) → Main safe (MAIN)" in " ".join(re.sub(r"<[^>]+>", " ", row).split())
    undo_row = re.search(rf'id="movement-{undo.id}">.*?</tr>', lot_history, re.S).group(0)
    assert f"undoes #{last.id}" in undo_row and "wrong shelf" in undo_row
    assert "10 pcs · 2.000 ct" in text_of(lot_history, "history")
    place_history = client.get(f"/locations/{chain.case.id}").text
    assert f'href="/lots/{chain.lot.id}" class="mono">SUP-0426-ST-001</a>' in place_history
    path = client.get(f"/items/{item.id}").text
    step = re.search(rf'<li class="step reversed\s*" id="movement-{last.id}">.*?</li>', path, re.S).group(0)
    assert f"undone by #{undo.id}" in step and "Moved" in step
