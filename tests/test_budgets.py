"""Funds available bucket by bucket and "before I buy" (kpi_definitions/budgets.py): hand-computed on
tests/golden/budgets (tests/golden/cases.yaml has the line-by-line arithmetic), and a property on random data:
every line lands in one bucket, the buckets add up to the budget's use with nothing counted twice, and budget −
the buckets is each view's funds available."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_definitions import budgets, facts
from kpi_definitions.compute import Selection, compute
from kpi_definitions.lines import lines
from kpi_definitions.periods import month_index, parse_month
from kpi_definitions.registry import registry
from store.db import session
from store.errors import TandemError
from workspace.db import connect, prepare

JAN, MAR = parse_month("2026-01"), parse_month("2026-03")


@pytest.fixture(scope="module")
def bcon(golden_budgets_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(golden_budgets_db, read_only=True)
    yield c
    c.close()


def test_each_bucket_of_a_month(bcon: duckdb.DuckDBPyConnection) -> None:
    got = budgets.buckets(bcon, registry(), JAN, JAN, {"cost_center": ["CC1"]})
    rows = {r["bucket"]: (r["finance"], r["procurement"]) for r in got.iter_rows(named=True)}
    assert rows == {
        "budget": (1000.0, 1000.0),
        "non_po_invoices": (70.0, 70.0),  # IN
        "invoiced_on_po": (0.0, 0.0),  # IA on PA is February's
        "received_not_invoiced": (40.0, 40.0),  # PA: 8 × 20 received − 120 invoiced
        "open_po": (40.0, 190.0),  # PA's 2 not received × 20; procurement also PB 150 (approved 01-30)
        "approved_not_ordered": (0.0, 0.0),  # RB was ordered (PB): not counted again
        "pending_requisitions": (0.0, 300.0),  # RP, pending across the period end
    }
    assert got["label"].to_list()[:3] == ["Budget", "Invoices without a PO", "Invoiced on a PO"]


def test_budget_less_the_buckets_is_the_kpi(bcon: duckdb.DuckDBPyConnection) -> None:
    reg = registry()
    for first, last in ((JAN, JAN), (JAN + 1, JAN + 1), (MAR, MAR), (JAN, MAR)):
        f = budgets.funds(bcon, reg, first, last, by=())
        values = compute(bcon, reg, Selection(first, last, "year"), kpis=["funds_available"]).values
        kpi = {r["view"]: r["value"] for r in values.iter_rows(named=True)}
        assert f["available_finance"][0] == pytest.approx(kpi["finance"], abs=1e-9)
        assert f["available_procurement"][0] == pytest.approx(kpi["procurement"], abs=1e-9)


def test_funds_by_cost_center_and_category_this_period_and_to_year_end(bcon: duckdb.DuckDBPyConnection) -> None:
    f = budgets.funds(bcon, registry(), JAN, JAN + 11)  # FY2026
    rows = {(r["cost_center"], r["category"]): r for r in f.iter_rows(named=True)}
    cc1 = rows[("CC1", "IT")]
    # budget 3,000; finance 150 + 520 + 130 = 800; procurement 600 + 120 + 380 = 1,100 of which RP 300 pending
    assert (cc1["budget"], cc1["used_finance"], cc1["used_procurement"], cc1["pending"]) == (3000, 800, 1100, 300)
    assert (cc1["available_finance"], cc1["available_procurement"]) == (2200, 1900)
    assert rows[("CC3", "OPS")]["budget"] is None and rows[("CC3", "OPS")]["available_finance"] is None


@pytest.mark.parametrize(("amount", "verdict", "short_by", "short_once_pending"), [
    (1000, "fits", 0, 0),  # ≤ 1,900 procurement's
    (2000, "fits_with_pending", 0, 100),  # ≤ 2,200 finance's, > 1,900
    (2500, "does_not_fit", 300, 600),
])
def test_a_request_fits_fits_with_pending_or_does_not_fit(bcon: duckdb.DuckDBPyConnection, amount: float,
                                                          verdict: str, short_by: float,
                                                          short_once_pending: float) -> None:
    c = budgets.check(bcon, registry(), "CC1", "it", amount, MAR)  # `it` reads as IT
    assert (c.category, c.verdict, c.short_by, c.short_once_pending) == ("IT", verdict, short_by, short_once_pending)
    assert (c.year.label, c.year.available_finance, c.year.available_procurement) == ("2026", 2200, 1900)
    assert (c.period.label, c.period.available_finance, c.period.available_procurement) == ("2026-03", 870, 620)
    assert c.left_after == 2200 - amount


def test_a_check_on_this_period_alone(bcon: duckdb.DuckDBPyConnection) -> None:
    c = budgets.check(bcon, registry(), "CC1", "IT", 700, MAR, horizon="period")
    assert (c.verdict, c.short_once_pending) == ("fits_with_pending", 80)  # 620 < 700 ≤ 870


@pytest.mark.parametrize(("center", "category", "says"), [
    ("CC9", "IT", "No budget for cost center 'CC9'; cost centers with a budget: CC1, CC2."),
    ("CC1", "Travel", "No budget for category 'Travel' in cost center CC1; its categories: IT."),
])
def test_an_unknown_budget_is_one_sentence(bcon: duckdb.DuckDBPyConnection, center: str, category: str,
                                           says: str) -> None:
    with pytest.raises(TandemError) as exc:
        budgets.check(bcon, registry(), center, category, 10, MAR)
    assert exc.value.message == says
    for amount in (0, -0.0, float("nan"), float("inf")):  # inf used to be judged: "n/a more than available"
        with pytest.raises(TandemError, match="more than 0"):
            budgets.check(bcon, registry(), "CC1", "IT", amount, MAR)


# --- the property ------------------------------------------------------------------------------------------------

START = date(2026, 1, 15)  # orders approved up to 10 days before their date stay in 2026, the one period checked
DAYS = 170  # 2026-01-15 .. 2026-07-03
money = st.integers(0, 5000).map(lambda c: c / 10)
day = st.integers(0, DAYS - 1).map(lambda d: START + timedelta(days=d))


@st.composite
def documents(draw: st.DrawFn) -> dict[str, pl.DataFrame]:
    pos = draw(st.lists(st.tuples(day, st.integers(0, 10), st.integers(1, 10), money,
                                  st.sampled_from(["open", "closed", "cancelled"]), st.sampled_from(["K1", "K2"])),
                        max_size=12))
    invs = draw(st.lists(st.tuples(st.integers(-1, len(pos) + 1), day, st.integers(-500, 3000).map(lambda c: c / 10),
                                   st.sampled_from(["K1", "K2"])), max_size=15))
    gets = draw(st.lists(st.tuples(st.integers(0, max(len(pos) - 1, 0)), day, st.integers(1, 12)), max_size=10))
    reqs = draw(st.lists(st.tuples(st.sampled_from(["draft", "pending", "approved", "rejected", "ordered", "cancelled"]),
                                   day, st.integers(0, 10), money, st.integers(-1, len(pos) + 1),
                                   st.sampled_from(["K1", "K2"])), max_size=12))

    def stamp(d: date, hours: int = 9) -> datetime:
        return datetime(d.year, d.month, d.day, hours, tzinfo=UTC)

    return {
        "purchase_orders": pl.DataFrame([
            {"po_id": f"P{i}", "po_line": 1, "supplier_id": "S1", "category": "A", "cost_center": cc, "order_date": d,
             "quantity": float(q), "unit_price": p, "currency": "EUR", "status": s,
             "approved_at": stamp(d - timedelta(days=lag))}
            for i, (d, lag, q, p, s, cc) in enumerate(pos)],
            schema_overrides={"approved_at": pl.Datetime("us", "UTC")}),
        "invoices": pl.DataFrame([
            {"invoice_id": f"I{i}", "invoice_line": 1, "supplier_id": "S1", "po_id": f"P{p}" if p >= 0 else None,
             "po_line": 1 if p >= 0 else None, "category": "A", "cost_center": cc, "gl_account": "6000",
             "invoice_date": d, "due_date": d + timedelta(days=30), "amount": a, "currency": "EUR"}
            for i, (p, d, a, cc) in enumerate(invs)], schema_overrides={"po_id": pl.String, "po_line": pl.Int64}),
        "receipts": pl.DataFrame([{"receipt_id": f"G{i}", "line": 1, "po_id": f"P{p}", "po_line": 1, "receipt_date": d,
                                   "quantity": float(q)} for i, (p, d, q) in enumerate(gets) if pos]),
        "requisitions": pl.DataFrame([
            {"req_id": f"R{i}", "req_line": 1, "requester": "x", "cost_center": cc, "category": "A", "amount": a,
             "currency": "EUR", "status": s, "submitted_at": None if s == "draft" else stamp(d),
             "approved_at": stamp(d + timedelta(days=lag)) if s in ("approved", "ordered") else None,
             "po_id": f"P{p}" if p >= 0 else None, "po_line": 1 if p >= 0 else None}
            for i, (s, d, lag, a, p, cc) in enumerate(reqs)],
            schema_overrides={"submitted_at": pl.Datetime("us", "UTC"), "approved_at": pl.Datetime("us", "UTC"),
                              "po_id": pl.String, "po_line": pl.Int64}),
        "budgets": pl.DataFrame([{"fiscal_period": date(2026, m, 1), "cost_center": cc, "category": "A",
                                  "budget_amount": 1000.0, "currency": "EUR"} for m in range(1, 13)
                                 for cc in ("K1", "K2")]),
    }


@pytest.fixture(scope="module")
def mem() -> Iterator[duckdb.DuckDBPyConnection]:
    con = session(duckdb.connect())
    prepare(con)
    yield con
    con.close()


def _load(con: duckdb.DuckDBPyConnection, data: dict[str, pl.DataFrame]) -> None:
    for name in ("purchase_orders", "invoices", "receipts", "requisitions", "budgets"):
        table = facts.table_of(name)
        con.execute(f"DELETE FROM {table}")
        df = data[name]
        if df.height:
            cols = ", ".join(df.columns)
            con.register("_df", df)
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _df")
            con.unregister("_df")
    facts.refresh(con, "EUR")


def _expected(data: dict[str, pl.DataFrame]) -> tuple[float, float]:
    """The budget's use over all time, by the documents, independently of the SQL: every invoice; each PO line that
    counts, its value beyond what was invoiced on it; each requisition line not on a loaded PO line (approved or
    ordered for finance, pending too for procurement)."""
    po, inv, req = data["purchase_orders"], data["invoices"], data["requisitions"]
    live = {r["po_id"]: r["quantity"] * r["unit_price"] for r in po.iter_rows(named=True) if r["status"] != "cancelled"}
    every = {r["po_id"] for r in po.iter_rows(named=True)}
    invoiced: dict[str, float] = {}
    for r in inv.iter_rows(named=True):
        if r["po_id"] in live:
            invoiced[r["po_id"]] = invoiced.get(r["po_id"], 0.0) + r["amount"]
    use = sum(r["amount"] for r in inv.iter_rows(named=True)) + sum(max(v - invoiced.get(p, 0.0), 0.0)
                                                                    for p, v in live.items())
    asked = {"approved": 0.0, "pending": 0.0}
    for r in req.iter_rows(named=True):
        if r["status"] in ("approved", "ordered", "pending") and r["po_id"] not in every:
            asked["pending" if r["status"] == "pending" else "approved"] += r["amount"]
    return use + asked["approved"], use + asked["approved"] + asked["pending"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=documents())
def test_every_line_lands_in_one_bucket_and_the_buckets_add_up(mem: duckdb.DuckDBPyConnection, data: dict) -> None:
    _load(mem, data)
    reg = registry()
    first, last = month_index(2026, 1), month_index(2026, 12)  # every date drawn: one period, 2026
    finance, procurement = _expected(data)
    b = budgets.buckets(mem, reg, first, last)
    used = b.filter(pl.col("bucket") != "budget")
    assert used["finance"].sum() == pytest.approx(finance, abs=1e-6)
    assert used["procurement"].sum() == pytest.approx(procurement, abs=1e-6)
    assert (used.filter(~pl.col("bucket").is_in(["invoiced_on_po", "non_po_invoices"]))
            .select(pl.col("finance", "procurement").min()).min_horizontal()[0] >= 0)  # a bucket never gives back
    # the KPI of each month with data (a running period counts its covered months only) is its budget less its buckets
    values = compute(mem, reg, Selection(first, last, "month"), kpis=["funds_available"]).values
    for r in values.filter(pl.col("value").is_not_null()).iter_rows(named=True):
        m = month_index(int(r["period"][:4]), int(r["period"][5:]))
        month = budgets.buckets(mem, reg, m, m)
        left = month.filter(pl.col("bucket") == "budget")[r["view"]][0] - month.filter(
            pl.col("bucket") != "budget")[r["view"]].sum()
        assert r["value"] == pytest.approx(left, abs=1e-6), r
    for view, total in (("finance", finance), ("procurement", procurement)):
        listed = lines(mem, reg, "funds_available", view, first, last, {}, limit=None)
        assert listed["amount"].sum() == pytest.approx(total, abs=1e-6)  # the drill-down lists the same lines
        # one bucket per requisition or invoice line; a PO line splits into received and open, never counted twice
        per_line = listed.group_by("source", "document", "line").agg(pl.col("bucket").n_unique().alias("n"),
                                                                     pl.len().alias("rows"))
        assert per_line.filter(pl.col("source") != "PO line")["rows"].max() in (None, 1)
        assert per_line.filter(pl.col("source") == "PO line")["rows"].max() in (None, 1, 2)
        assert (per_line["n"] == per_line["rows"]).all()
