"""Shared by the fuzz tests (test_fuzz_forms.py, test_fuzz_api.py): the hypothesis settings and the hostile values.

The runs are bounded and reproducible: `derandomize` draws the same examples on every run, on every machine, so a
failure in CI fails the same way on a laptop. SCANAPP_FUZZ_EXAMPLES raises the number of examples for a longer
hunt (the default keeps both backends' runs short); the failing example is printed either way.
"""

import os
from decimal import Decimal

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from scanapp.extensions import db
from scanapp.models import Balance

EXAMPLES = int(os.environ.get("SCANAPP_FUZZ_EXAMPLES", "0")) or None

settings.register_profile(
    "scanapp-fuzz",
    max_examples=EXAMPLES or 20,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
FUZZ = settings.get_profile("scanapp-fuzz")

HUGE = 100_000
REPLAYED_EVENT = "0b5e2a38-7d1c-4a55-9a43-2f1c3d4e5f60"  # sent again and again: the second time is a replay

NUMBERS = [
    "-1", "-0", "0", "1", "12", "+5", " 7 ", "1.5", "0.0001", "1.2345", "1e3", "1e999", "-1e999", "NaN", "-NaN",
    "sNaN", "Infinity", "-Infinity", "inf", "1,5", "1.2.3", ".", "1_000", "0x10", "٣", "²", "①", "𝟗", "１２",
    "2147483648", "99999999999", "9223372036854775807", "9223372036854775808", "18446744073709551616", "1" * 40,
    "9" * 400, "0." + "0" * 60 + "1", "1E+999999999",
]  # fmt: skip
TEXTS = [
    "", " ", "\t\n", "\x00", "a\x00b", "\u202eevil\u202c", "💍💎", "e\u0301", "\ufeff", "\u2028", "\\ud800",
    "Ω≈ç√∫", "' OR 1=1 --", "'; DROP TABLE movements; --", '" OR ""="', "%", "_", "\\", "%00",
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{ 7*7 }}", "{% raw %}", "../../etc/passwd",
    "null", "undefined", "None", "true", "[]", "{}", "HTTPS://SCAN.EXAMPLE/T/", "HTTPS://evil.example/T/X",
    "x" * 201, "é" * 1000,
]  # fmt: skip
HUGE_TEXTS = ["A" * HUGE, "9" * HUGE, "\x00" * HUGE, "💍" * (HUGE // 4), "<b>" * (HUGE // 3)]
EVENT_IDS = [
    REPLAYED_EVENT, REPLAYED_EVENT.upper(), "{" + REPLAYED_EVENT + "}", "urn:uuid:" + REPLAYED_EVENT, "not-a-uuid",
    "", "00000000-0000-0000-0000-000000000000", REPLAYED_EVENT + "\x00", REPLAYED_EVENT[:-1], "1", "-1",
]  # fmt: skip
DATES = ["2026-04-15", "2026-13-45", "0000-00-00", "9999-12-31", "0001-01-01", "15/04/2026", "-1", "2026-02-30"]


def event_ids() -> st.SearchStrategy[str]:
    """Client event ids: fresh, replayed, malformed."""
    return st.one_of(st.uuids().map(str), st.sampled_from(EVENT_IDS))


def hostile_text(plausible: list[str] = ()) -> st.SearchStrategy[str]:
    """A value of any text field: plausible ones (so that requests also get past the shape checks), numbers that
    are not quite numbers, unicode, SQL and HTML fragments, huge strings, and random text."""
    options = [
        st.sampled_from(NUMBERS),
        st.sampled_from(TEXTS),
        st.sampled_from(DATES),
        st.sampled_from(HUGE_TEXTS),
        st.text(max_size=40),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
    ]
    if plausible:
        options.insert(0, st.sampled_from(plausible))
    return st.one_of(*options)


def fingerprint() -> tuple:
    """What a refused request must leave as it was: the number of rows of every table, and the stock in each
    balance (balances are the only rows the ledger updates in place)."""
    counts = [select(func.count()).select_from(table).scalar_subquery() for table in db.metadata.sorted_tables]
    stock = select(func.coalesce(func.sum(Balance.pieces), 0), func.coalesce(func.sum(Balance.weight), Decimal(0)))
    row = db.session.execute(select(*counts)).one()
    names = [table.name for table in db.metadata.sorted_tables]
    return tuple(zip(names, row, strict=True)) + tuple(db.session.execute(stock).one())
