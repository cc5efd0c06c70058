"""The savings ledger's bridge adds up to the cent whatever the initiatives, lines and bookings (hypothesis): for every
initiative and for the whole selection, negotiated + price not applied + volume + off contract + FX and scope +
not booked = booked, and negotiated + the first four steps = realised (kpi_definitions/sql/base.sql, ledger_steps).
Lines on and off contract, without a quantity, credit notes, two currencies, index-adjusted baselines, windows
longer than 365 days and months with no rate all occur."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_definitions import facts
from kpi_definitions import ledger as kpi_ledger
from kpi_definitions.compute import Selection, bridge, compute
from kpi_definitions.registry import registry
from tests.test_ledger_kpi import load
from workspace.db import connect

EXPORTS = {
    "suppliers": "S1,Acme,NL,yes,30\nS2,Bolt,US,no,30\n",
    "contracts": "C1,S1,IT,,2025-01-01,2027-12-31,10,8,EUR,price_reduction,30\n"
                 "C2,S2,LOG,,2025-01-01,2027-12-31,20,15,USD,price_reduction,30\n",
    # no USD rate for March: lines and initiatives in USD then are left out, in every step alike
    "fx_rates": "2025-12,USD,0.9\n2026-01,USD,0.8\n2026-02,USD,0.85\n",
    "price_indices": "2025-12,PPI-IT,100\n2026-01,PPI-IT,98\n2026-02,PPI-IT,97\n2026-03,PPI-IT,101\n",
    "category_index": "IT,PPI-IT\n",
    "purchase_orders": "P1,1,S1,C1,,IT,CC1,2026-01-02,1,8,EUR,closed\nP2,1,S1,,,IT,CC1,2026-01-02,1,9,EUR,closed\n"
                       "P3,1,S2,C2,,LOG,CC1,2026-01-02,1,15,USD,closed\nP4,1,S2,,,LOG,CC1,2026-01-02,1,16,USD,closed\n",
}
SCOPE = {"S1": ("IT", "C1", "EUR", ("P1", "P2")), "S2": ("LOG", "C2", "USD", ("P3", "P4"))}
START = date(2025, 12, 1)
LOADS = itertools.count(1_000)  # each example's lines are the newest load (facts.update_months re-sums its months)


@pytest.fixture(scope="module")
def pcon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    folder = tmp_path_factory.mktemp("ledger-props")
    db = folder / "props.duckdb"
    load(folder, db, EXPORTS)
    c = connect(db)
    yield c
    c.close()


money = st.floats(min_value=0.01, max_value=5_000, allow_nan=False).map(lambda x: round(x, 4))

initiatives = st.lists(st.fixed_dictionaries({
    "supplier": st.sampled_from(("S1", "S2")), "baseline": money, "new": st.floats(0, 6_000).map(lambda x: round(x, 4)),
    "qty": st.floats(0.5, 50_000).map(lambda x: round(x, 3)), "start": st.integers(0, 120),
    "days": st.integers(1, 800), "method": st.sampled_from(("last_price", "bid", "index_adjusted")),
    "stage": st.sampled_from(("identified", "negotiated", "contracted", "realised", "booked")),
    "contract": st.booleans()}), min_size=1, max_size=3)
lines = st.lists(st.fixed_dictionaries({
    "supplier": st.sampled_from(("S1", "S2")), "day": st.integers(0, 120), "on": st.booleans(),
    "qty": st.one_of(st.none(), st.floats(-20, 500).map(lambda x: round(x, 2))),
    "amount": st.floats(-2_000, 100_000).map(lambda x: round(x, 2))}), max_size=15)
bookings = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.floats(-1_000, 50_000).map(lambda x: round(x, 2))),
                    max_size=4)


def _reset(con: duckdb.DuckDBPyConnection, inits: list[dict], found: list[dict], booked: list[tuple]) -> None:
    for table in ("savings_initiatives", "savings_moves", "savings_bookings", "fact_invoices"):
        con.execute(f"DELETE FROM {table}")
    for i, x in enumerate(inits):
        cat, contract, ccy, _ = SCOPE[x["supplier"]]
        begin = START + timedelta(days=x["start"])
        con.execute("INSERT INTO savings_initiatives VALUES (?, 'n', ?, ?, ?, NULL, 'reduction', ?, ?, ?, ?, ?, ?, ?, "
                    "'o', NULL)", [f"I{i}", cat, x["supplier"], contract if x["contract"] else None, x["method"],
                                   x["baseline"], x["new"], x["qty"], ccy, begin,
                                   begin + timedelta(days=x["days"] - 1)])
        con.execute("INSERT INTO savings_moves VALUES (?, ?, NULL, ?, 'test', 'p@x', 'P', 'procurement', false, now())",
                    [i + 1, f"I{i}", x["stage"]])
    rows = []
    for n, x in enumerate(found):
        cat, _, ccy, (on, off) = SCOPE[x["supplier"]]
        day = START + timedelta(days=x["day"])
        rows.append({"invoice_id": f"L{n}", "invoice_line": 1, "supplier_id": x["supplier"], "po_id": on if x["on"] else off,
                     "po_line": 1, "item_id": None, "category": cat, "cost_center": "CC1", "gl_account": "6000",
                     "invoice_date": day, "due_date": day, "paid_date": None, "quantity": x["qty"],
                     "amount": x["amount"], "currency": ccy, "_load_id": next(LOADS)})
    if rows:
        con.register("_lines", pl.DataFrame(rows, schema_overrides={"item_id": pl.String, "paid_date": pl.Date}))
        facts.add_invoices(con, "(SELECT * FROM _lines)", "EUR")
        con.unregister("_lines")
    # the monthly facts the engine reads which months have data from (running periods), as a load keeps them
    facts.update_months(con, "EUR")
    for k, (i, m, amount) in enumerate(booked):
        if i < len(inits):
            con.execute("INSERT INTO savings_bookings VALUES (?, ?, ?, 'booked', ?, 'EUR', 0, NULL, NULL, 'f@x', 'F', "
                        "'finance', false, now())", [k + 1, f"I{i}", date(2025 + (m + 11) // 12, (m + 11) % 12 + 1, 1),
                                                     amount])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inits=initiatives, found=lines, booked=bookings)
def test_the_bridge_adds_up_to_the_cent(pcon: duckdb.DuckDBPyConnection, inits: list[dict], found: list[dict],
                                        booked: list[tuple]) -> None:
    _reset(pcon, inits, found, booked)
    reg = registry()
    first, last = 2025 * 12 + 11, 2026 * 12 + 2  # 2025-12..2026-03
    b = bridge(pcon, reg, "savings_ledger", first, last)
    views = compute(pcon, reg, Selection(first, last), kpis=["savings_ledger"]).values
    by_view = {v: views.filter(pl.col("view") == v)["value"].drop_nulls() for v in ("procurement", "finance")}
    by_view["realised"] = kpi_ledger.realised(pcon, reg, first, last)["value"].drop_nulls()
    rows = kpi_ledger.by_initiative(pcon, reg, first, last)
    if b.reason is not None:  # every counted initiative month of the span has no rate for its window's first month
        assert rows.height and rows["negotiated"].null_count() == rows.height, rows
        return
    assert round(b.start + sum(s.value for s in b.steps), 2) == round(b.end, 2)
    for s in b.steps:
        if s.parts:
            assert round(sum(p.value for p in s.parts), 2) == round(s.value, 2)
    to_realised = b.start + sum(s.value for s in b.steps if s.name != "not_booked")
    assert round(to_realised, 2) == round(by_view["realised"].sum(), 2)  # the months of the span add up
    assert round(b.start, 2) == round(by_view["procurement"].sum(), 2)
    for r in rows.iter_rows(named=True):
        if r["negotiated"] is None:  # no rate for the window's first month: left out of every step
            continue
        steps = sum(r[s] for s in kpi_ledger.STEPS)
        assert round(r["negotiated"] + steps, 2) == round(r["booked"], 2), r["initiative_id"]


def test_the_fixture_spans_the_cases_it_claims(pcon: duckdb.DuckDBPyConnection) -> None:
    # a USD initiative starting in March has no rate for its first month: it is left out whole, and said so (March
    # has data: a line of S1)
    _reset(pcon, [{"supplier": "S2", "baseline": 20, "new": 15, "qty": 90, "start": 95, "days": 30,
                   "method": "last_price", "stage": "negotiated", "contract": True}],
           [{"supplier": "S1", "day": 100, "on": True, "qty": 1.0, "amount": 8.0}], [])
    got = compute(pcon, registry(), Selection(2026 * 12 + 2, 2026 * 12 + 2), kpis=["savings_ledger"]).values
    assert got.filter(pl.col("view") == "procurement").select("value", "excluded").rows() == [(None, 1)]

