"""Properties on random data: every bridge adds up exactly, and additive KPIs add up over disjoint slices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_definitions import facts
from kpi_definitions.compute import Selection, bridge, compute
from kpi_definitions.periods import month_index
from kpi_definitions.registry import registry
from workspace.db import prepare

SUPPLIERS = ["S1", "S2", "S3"]
CATEGORIES = ["A", "B", "C"]
CENTERS = ["K1", "K2"]
ITEMS = ["X1", "X2", "X3", None]
CURRENCIES = ["EUR", "EUR", "USD"]
START = date(2025, 1, 1)
MONTHS = [month_index(2025, 1) + i for i in range(24)]

money = st.floats(min_value=0, max_value=1000, allow_nan=False).map(lambda x: round(x, 2))
day = st.integers(min_value=0, max_value=729).map(lambda d: START + timedelta(days=d))
# Most activity falls in Jan–Mar of both years, so that year-over-year comparisons have both sides.
busy_day = st.one_of(
    st.tuples(st.sampled_from([2025, 2026]), st.integers(1, 3), st.integers(1, 28)).map(lambda t: date(*t)), day)


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, pl.DataFrame]:
    contracts = draw(st.lists(st.tuples(st.sampled_from(SUPPLIERS), day, st.integers(0, 400), money, money,
                                        st.sampled_from(CURRENCIES), st.sampled_from(["price_reduction", "cost_avoidance"]),
                                        st.integers(0, 120)), min_size=1, max_size=4))
    pos = draw(st.lists(st.tuples(st.sampled_from(SUPPLIERS), st.integers(0, len(contracts)), st.sampled_from(ITEMS),
                                  st.sampled_from(CATEGORIES), st.sampled_from(CENTERS), busy_day,
                                  st.integers(1, 20), money, st.sampled_from(CURRENCIES),
                                  st.sampled_from(["open", "closed", "cancelled"])), max_size=25))
    invs = draw(st.lists(st.tuples(st.sampled_from(SUPPLIERS + ["S9"]), st.integers(-1, len(pos) + 1),
                                   st.sampled_from(ITEMS), st.sampled_from(CATEGORIES), st.sampled_from(CENTERS), busy_day,
                                   st.one_of(st.none(), st.integers(0, 90)), st.one_of(st.none(), st.integers(-3, 20)),
                                   st.floats(-200, 2000, allow_nan=False).map(lambda x: round(x, 2)),
                                   st.sampled_from(CURRENCIES)), min_size=5, max_size=60))
    fx_months = draw(st.sets(st.sampled_from(MONTHS), max_size=24))
    return {
        "suppliers": pl.DataFrame({"supplier_id": SUPPLIERS, "supplier_name": SUPPLIERS, "country": ["NL"] * 3,
                                   "preferred": [True] * 3, "payment_terms_days": [30, 45, 60]}),
        "contracts": pl.DataFrame([
            {"contract_id": f"C{i}", "supplier_id": s, "category": "A", "item_id": None, "start_date": d0,
             "end_date": d0 + timedelta(days=n), "baseline_unit_price": b, "contract_unit_price": c, "currency": ccy,
             "savings_type": t, "payment_terms_days": terms}
            for i, (s, d0, n, b, c, ccy, t, terms) in enumerate(contracts)]),
        "purchase_orders": pl.DataFrame([
            {"po_id": f"P{i}", "po_line": 1, "supplier_id": s, "contract_id": f"C{c}" if c < len(contracts) else None,
             "item_id": it, "category": cat, "cost_center": cc, "order_date": d, "quantity": float(q), "unit_price": p,
             "currency": ccy, "status": stt}
            for i, (s, c, it, cat, cc, d, q, p, ccy, stt) in enumerate(pos)],
            schema_overrides={"contract_id": pl.String, "item_id": pl.String}),
        "invoices": pl.DataFrame([
            {"invoice_id": f"I{i}", "invoice_line": 1, "supplier_id": s, "po_id": f"P{p}" if p >= 0 else None,
             "po_line": 1 if p >= 0 else None, "item_id": it, "category": cat, "cost_center": cc, "gl_account": "6000",
             "invoice_date": d, "due_date": d + timedelta(days=30),
             "paid_date": d + timedelta(days=paid) if paid is not None else None,
             "quantity": float(q) if q is not None else None, "amount": amt, "currency": ccy}
            for i, (s, p, it, cat, cc, d, paid, q, amt, ccy) in enumerate(invs)],
            schema_overrides={"po_id": pl.String, "po_line": pl.Int64, "item_id": pl.String, "paid_date": pl.Date,
                              "quantity": pl.Float64}),
        "budgets": pl.DataFrame([{"fiscal_period": date(m // 12, m % 12 + 1, 1), "cost_center": cc, "category": cat,
                                  "budget_amount": 500.0, "currency": "EUR"}
                                 for m in MONTHS for cc in CENTERS for cat in CATEGORIES]),
        "inventory": pl.DataFrame([{"snapshot_date": d, "item_id": it, "location": "DC", "on_hand_qty": float(q),
                                    "safety_stock_qty": float(s), "unit_cost": 2.0, "currency": "EUR"}
                                   for d, it, q, s in draw(st.lists(st.tuples(day, st.sampled_from(ITEMS[:3]),
                                                                              st.integers(0, 100), st.integers(0, 60)),
                                                                    max_size=15, unique_by=lambda t: (t[0], t[1])))]),
        "consumption": pl.DataFrame([{"period": date(m // 12, m % 12 + 1, 1), "item_id": it, "location": "DC",
                                      "quantity": 1.0, "value": float(v), "currency": "EUR"}
                                     for m in MONTHS for it, v in zip(ITEMS[:3], (30, 0, 12), strict=True)]),
        "fx_rates": pl.DataFrame({"period": [date(m // 12, m % 12 + 1, 1) for m in sorted(fx_months)],
                                  "currency": ["USD"] * len(fx_months), "rate_to_reporting": [0.9] * len(fx_months)},
                                 schema_overrides={"period": pl.Date}),
    }


@pytest.fixture(scope="module")
def mem() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    prepare(con)
    yield con
    con.close()


def _load(con: duckdb.DuckDBPyConnection, data: dict[str, pl.DataFrame]) -> None:
    for name, df in data.items():
        table = facts.table_of(name)  # invoice lines are stored in their facts table
        con.execute(f"DELETE FROM {table}")
        if df.height:
            cols = ", ".join(df.columns)
            con.register("_df", df)
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _df")
            con.unregister("_df")
    facts.refresh(con, "EUR")  # what a load does after its upsert


SPANS = st.tuples(st.integers(12, 14), st.integers(0, 2)).map(lambda t: (MONTHS[t[0]], MONTHS[min(23, t[0] + t[1])]))
SLICES = st.one_of(st.just({}), st.builds(lambda c: {"category": [c]}, st.sampled_from(CATEGORIES)),
                   st.builds(lambda s: {"supplier_id": [s]}, st.sampled_from(SUPPLIERS)),
                   st.builds(lambda k: {"cost_center": [k]}, st.sampled_from(CENTERS)),
                   st.builds(lambda i: {"item_id": [i]}, st.sampled_from(ITEMS[:3])))
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(data=datasets(), span=SPANS, filters=SLICES)
def test_each_bridge_adds_up_exactly(mem: duckdb.DuckDBPyConnection, data: dict, span: tuple[int, int],
                                     filters: dict) -> None:
    _load(mem, data)
    for kpi in registry():
        b = bridge(mem, registry(), kpi.name, span[0], span[1], filters)
        if b.start is None or b.end is None:
            assert b.steps == () and b.reason
            continue
        assert len(b.steps) == len(kpi.bridge.steps)
        scale = max(1.0, abs(b.start), abs(b.end), *(abs(s.value) for s in b.steps))
        assert abs(b.start + sum(s.value for s in b.steps) - b.end) <= 1e-9 * scale, (kpi.name, b)


ADDITIVE = [("savings", "finance"), ("savings", "procurement"), ("budget_variance", "finance"),
            ("budget_variance", "procurement")]


def _values(con: duckdb.DuckDBPyConnection, sel: Selection, kpi: str) -> pl.DataFrame:
    return compute(con, registry(), sel, kpis=[kpi]).values.filter(kpi=kpi)


@FAST
@given(data=datasets(), span=SPANS, dim=st.sampled_from(["category", "cost_center", "supplier_id"]),
       pair=st.sampled_from(ADDITIVE))
def test_additive_kpis_sum_over_disjoint_slices(mem: duckdb.DuckDBPyConnection, data: dict, span: tuple[int, int],
                                                 dim: str, pair: tuple[str, str]) -> None:
    kpi, view = pair
    if dim not in registry()[kpi].dimensions:
        dim = "category"
    _load(mem, data)
    split = _values(mem, Selection(span[0], span[1], "quarter", (dim,)), kpi).filter(view=view)
    whole = _values(mem, Selection(span[0], span[1], "quarter"), kpi).filter(view=view)
    for period in whole["period"]:
        parts = split.filter(period=period)["value"].to_list()
        total = whole.filter(period=period)["value"][0]
        if parts and all(v is not None for v in parts) and total is not None:
            assert abs(sum(parts) - total) <= 1e-9 * max(1.0, abs(total), *(abs(v) for v in parts))


@FAST
@given(data=datasets(), first=st.integers(12, 21), pair=st.sampled_from(ADDITIVE))
def test_additive_kpis_sum_over_disjoint_months(mem: duckdb.DuckDBPyConnection, data: dict, first: int,
                                                pair: tuple[str, str]) -> None:
    kpi, view = pair
    _load(mem, data)
    lo, hi = MONTHS[first], MONTHS[first + 2]
    months = _values(mem, Selection(lo, hi, "month"), kpi).filter(view=view)["value"].to_list()
    whole = _values(mem, Selection(lo, hi, "year"), kpi).filter(view=view)["value"].to_list()
    assert len(months) == 3 and len(whole) == 1  # 2026-01 .. 2026-12: one year
    if all(v is not None for v in months) and whole[0] is not None:
        assert abs(sum(months) - whole[0]) <= 1e-9 * max(1.0, abs(whole[0]), *(abs(v) for v in months))
