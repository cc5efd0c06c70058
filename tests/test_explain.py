"""`compute.explain` and `tandem kpis --explain`: the SQL each view and bridge runs, with its parameter values,
without running it; and what it prints is what runs (the same values as `compute`)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from kpi_definitions import macros
from kpi_definitions.compute import Selection, compute, explain
from kpi_definitions.periods import FiscalCalendar, parse_month
from kpi_definitions.registry import registry
from store.db import reading

MARCH = parse_month("2026-03")  # 2026 * 12 + 3 - 1


def test_explain_gives_each_view_and_bridge_with_its_parameters() -> None:
    sel = Selection(MARCH, MARCH, "month", (), {"category": ["IT"]})
    queries = explain(registry(), sel, currency="USD", kpis=["savings"])
    # the bridge is one query: its start and end values and its steps, per period and slice
    assert [q.label for q in queries] == [
        "savings (finance)", "savings (procurement)", "savings bridge: procurement to finance, step by step"]
    finance = queries[0]
    # the shared relations it uses (no others), then the view's own SQL, the function library written out
    # it reads the invoice lines' monthly sums kept at load, not the lines
    assert finance.sql.startswith("WITH ") and "invoice_months AS (" in finance.sql and "buckets AS (" in finance.sql
    assert "invoice_lines AS (" not in finance.sql
    assert "po_lines AS (" not in finance.sql and "budget_lines AS (" not in finance.sql
    budget = explain(registry(), sel, currency="USD", kpis=["budget_variance"], bridges=False)[0]
    # @month_ix(b.fiscal_period), @rep_rate(...) and @fx_monthly() as DuckDB runs them (kpi_definitions/dialects/)
    assert "(year(b.fiscal_period) * 12 + month(b.fiscal_period) - 1)" in budget.sql
    assert "(CASE WHEN b.currency = $ccy THEN 1 ELSE r.rate END)" in budget.sql
    assert "LEFT JOIN (SELECT currency, (year(period) * 12 + month(period) - 1) AS m, rate_to_reporting AS rate " \
           "FROM fx_rates) r" in budget.sql
    from kpi_definitions.dialects import calls

    assert calls(finance.sql) == set()  # nothing left to expand (comments aside): exactly what runs
    assert "($category::VARCHAR[] IS NULL OR list_contains($category::VARCHAR[], x.category))" in finance.sql
    assert "FROM invoice_months x" in finance.sql  # savings_finance.sql
    assert finance.params["months"] == [MARCH] == [24314]
    assert finance.params["labels"] == ["2026-03"]
    assert (finance.params["m_lo"], finance.params["m_hi"]) == (MARCH - 12, MARCH)
    # only the parameters its text names: invoice lines were converted at load, budgets are converted here
    assert "ccy" not in finance.params and budget.params["ccy"] == "USD"
    assert finance.params["category"] == ["IT"] and finance.params["supplier_id"] is None
    assert "savings_type = 'cost_avoidance'" in queries[-1].sql
    assert "--   $months = [24314]" in finance.text() and "--   $category = ['IT']" in finance.text()


def test_explain_follows_the_grain_and_the_split() -> None:
    first, last = FiscalCalendar().parse("2026-Q1", "quarter")
    queries = explain(registry(), Selection(first, last, "quarter", ("cost_center",)), bridges=False)
    assert all(q.params["months"] == [first, first + 1, first + 2] for q in queries)
    assert all(q.params["labels"] == ["2026-Q1"] * 3 for q in queries)
    # inventory days has no cost center: compute notes it and runs nothing for it, and explain lists nothing
    assert not [q for q in queries if q.label.startswith("inventory_days")]
    assert all(", cost_center" in q.sql for q in queries)


def test_explained_queries_give_the_values_compute_gives(golden_db: Path) -> None:
    reg = registry()
    first, last = FiscalCalendar().parse("2026-Q1", "quarter")
    sel = Selection(first, last, "month", ())
    with reading(golden_db) as con:
        values = compute(con, reg, sel).values
        for q in explain(reg, sel, bridges=False):
            kpi, view = q.label.split(" (")
            got = con.sql(q.sql, params=q.params).pl().sort("period")
            want = values.filter(kpi=kpi, view=view.rstrip(")")).sort("period")
            assert got["period"].to_list() == want["period"].to_list()
            assert got["value"].to_list() == want["value"].to_list(), q.label


def test_explain_lists_the_drilldown_lines_too() -> None:
    sel = Selection(MARCH, MARCH, "month", ())
    labels = [q.label for q in explain(registry(), sel, kpis=["payment_days"], bridges=False, lines=True)]
    assert labels == ["payment_days (finance)", "payment_days (finance) lines",
                      "payment_days (procurement)", "payment_days (procurement) lines"]


def test_kpis_explain_prints_the_sql_instead_of_computing(golden_db: Path) -> None:
    r = CliRunner().invoke(app, ["kpis", "--db", str(golden_db), "--period", "2026-03", "--kpi", "savings",
                                 "--explain"])
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert macros.NOTE in out  # nothing to create on the connection first: each query is what runs
    assert "-- savings (finance)\n-- parameters:\n--   $months = [24314]\n--   $labels = ['2026-03']\n" in out
    assert "--   $m_lo = 24302" in out and "invoice_lines AS (" in out
    assert "-- savings bridge: procurement to finance, step by step" in out
    assert "payment_days" not in out and "KPIs" not in out  # only what was asked, and no table of values


def test_kpis_explain_as_json(golden_db: Path) -> None:
    import json

    r = CliRunner().invoke(app, ["kpis", "--db", str(golden_db), "--period", "2026-03", "--kpi", "savings",
                                 "--explain", "--format", "json"])
    doc = json.loads(r.stdout)
    assert doc["macros"] == macros.NOTE
    assert doc["queries"][0]["label"] == "savings (finance)" and doc["queries"][0]["params"]["months"] == [24314]
