"""Every KPI and bridge on hand-computed data (tests/golden), plus the selection rules around them.

The golden cases are the conformance suite of the KPI engine: they run on every engine of tests/engines.py
through `Engine.values` and `Engine.bridge`, and must give the same numbers on each. Each case alone runs on DuckDB
here; Spark runs them grouped by request (tests/test_spark_conformance.py: a Spark query costs a second in local
mode), and every bridge case alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from kpi_definitions.compute import Selection, bridge, compute, data_months, resolve_range
from kpi_definitions.engine import Request
from kpi_definitions.periods import FiscalCalendar, parse_month
from kpi_definitions.registry import registry
from tests.conftest import GOLDEN
from tests.engines import ENGINES, Make, engine_on, spark_of
from workspace.db import connect

CASES = yaml.safe_load((GOLDEN / "cases.yaml").read_text())
BRIDGES = yaml.safe_load((GOLDEN / "bridges.yaml").read_text())
TOL = 1e-9


def _id(case: dict) -> str:
    where = ",".join(f"{k}={v}" for k, v in (case.get("where") or {}).items())
    span = case.get("period") or f"{case['from']}..{case['to']}"
    extra = f"[{case.get('fiscal_start', 1)}]" if case.get("fiscal_start", 1) != 1 else ""
    extra += f"[{case['db']}]" if case.get("db") else ""
    return f"{case['kpi']}-{case['view']}-{span}{extra}-{case.get('by', '')}{where}"


@pytest.fixture(scope="module", params=ENGINES)
def golden(request: pytest.FixtureRequest, golden_db: Path) -> Iterator[Make]:
    """Engines of each kind on the golden database."""
    with engine_on(request.param, golden_db, spark_of(request)) as make:
        yield make


@pytest.fixture(scope="module")
def engine_of(golden_db: Path, golden_budgets_db: Path):  # noqa: ANN201
    """DuckDB on the case's golden database: tests/golden/exports, or tests/golden/budgets for the cases marked
    `db: budgets` (Spark runs the cases grouped by request: tests/test_spark_conformance.py)."""
    with engine_on("duckdb", golden_db) as make, engine_on("duckdb", golden_budgets_db) as budgets:
        yield lambda case: budgets if case.get("db") == "budgets" else make


@pytest.fixture(scope="module")
def gcon(golden_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(golden_db, read_only=True)
    yield c
    c.close()


def _approx(actual: float | None, expected: float | None) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return abs(actual - expected) <= TOL * max(1.0, abs(expected))


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_golden_kpi(engine_of, case: dict) -> None:  # noqa: ANN001 - the fixture above
    golden = engine_of(case)
    grain = case.get("grain", "month")
    cal = FiscalCalendar(case.get("fiscal_start", 1))
    first, last = resolve_range(cal, grain, None, str(case["period"]) if "period" in case else None,
                                str(case.get("from", "")) or None, str(case.get("to", "")) or None)
    by = (case["by"],) if "by" in case else ()
    filters = {k: [v] for k, v in (case.get("where") or {}).items()}
    reg = registry()
    req = Request.of(first, last, grain=grain, by=by, filters=filters, kpis=[reg.kpi_of(case["kpi"])])
    rows = golden(reg, cal).values(req).frame.filter(kpi=case["kpi"], view=case["view"])
    assert set(rows["period"]) == {str(case.get("label", case.get("period")))}, rows
    if by:
        got = {r[by[0]]: r["value"] for r in rows.iter_rows(named=True)}
        assert set(got) == set(case["expected"]), got
        for key, expected in case["expected"].items():
            assert _approx(got[key], expected), f"{key}: {got[key]} != {expected} ({case['why']})"
    else:
        assert rows.height == 1
        value = rows["value"][0]
        assert _approx(value, case["expected"]), f"{value} != {case['expected']} ({case['why']})"
        assert rows["excluded"][0] == case.get("excluded", 0)


@pytest.mark.parametrize("case", BRIDGES, ids=[f"{b['kpi']}-{b['from']}..{b['to']}" + "".join(
    f"-{v}" for v in (b.get("where") or {}).values()) for b in BRIDGES])
def test_golden_bridge(engine_of, case: dict) -> None:  # noqa: ANN001 - the fixture above
    filters = {k: [v] for k, v in (case.get("where") or {}).items()}
    b = engine_of(case)().bridge(Request.of(parse_month(case["from"]), parse_month(case["to"]), kpis=[case["kpi"]],
                                            filters=filters))
    assert _approx(b.start, case["start"]) and _approx(b.end, case["end"]), (b.start, b.end)
    got = {s.name: s.value for s in b.steps}
    assert list(got) == list(case["steps"])  # declared order
    for name, expected in case["steps"].items():
        assert abs(got[name] - expected) < 1e-9, f"{name}: {got[name]} != {expected} ({case['why']})"
    parts = {s.name: {p.name: p.value for p in s.parts} for s in b.steps if s.parts}
    assert parts == case.get("parts", {})  # a netted step's parts, which add up to it
    for step in b.steps:
        assert not step.parts or abs(sum(p.value for p in step.parts) - step.value) < 1e-9
    assert abs(b.total - b.end) < 1e-9


def test_bridge_without_a_finance_value_says_why(gcon: duckdb.DuckDBPyConnection) -> None:
    b = bridge(gcon, registry(), "savings", parse_month("2026-03"), parse_month("2026-03"))
    assert b.steps == () and b.end is None and "finance" in (b.reason or "")


def test_every_period_of_the_range_gets_a_row_even_without_data(gcon: duckdb.DuckDBPyConnection) -> None:
    result = compute(gcon, registry(), Selection(parse_month("2026-02"), parse_month("2026-04")))
    savings = result.values.filter(kpi="savings", view="procurement")
    assert savings["period"].to_list() == ["2026-02", "2026-03", "2026-04"]
    # March: its only line has no rate (null); April: the PO lines end in March, so no value (never 0)
    assert savings["value"].to_list() == [15, None, None]


def test_notes_name_unsplittable_kpis_unfiltered_kpis_and_left_out_rows(gcon: duckdb.DuckDBPyConnection) -> None:
    sel = Selection(parse_month("2026-03"), parse_month("2026-03"), "month", ("cost_center",), {"supplier_id": ["S2"]})
    result = compute(gcon, registry(), sel)
    assert ("inventory_days (finance) cannot be split by cost_center: its rows carry category, item_id, location"
            in result.notes)
    # a filter a KPI cannot apply is a warning on its rows now (test_weak_data), not a note
    assert not any("not split by supplier_id" in n for n in result.notes), result.notes
    assert "savings (procurement) is computed without 1 rows with no FX rate for their month" in result.notes
    # inventory days and price change carry no cost center: not split, so not in a split's values
    assert set(result.values["kpi"]) == {"savings", "budget_variance", "budget_variance_pct", "payment_days",
                                         "spend_under_management", "funds_available", "touchless_rate",
                                         "first_time_match"}


def test_data_months_and_default_range(gcon: duckdb.DuckDBPyConnection) -> None:
    first, last = data_months(gcon, registry())
    assert (first, last) == (parse_month("2025-01"), parse_month("2026-03"))
    cal = FiscalCalendar(1)
    assert resolve_range(cal, "month", last) == (last, last)
    assert resolve_range(cal, "year", last) == (parse_month("2026-01"), last)  # year to date
    assert resolve_range(cal, "quarter", last, "2026-02") == (parse_month("2026-01"), parse_month("2026-03"))
    with pytest.raises(ValueError, match="either a period or a range"):
        resolve_range(cal, "month", last, "2026-01", "2026-01", "2026-02")
    with pytest.raises(ValueError, match="ends"):
        resolve_range(cal, "month", last, None, "2026-03", "2026-01")
    with pytest.raises(ValueError, match="no orders"):
        resolve_range(cal, "month", None)


def test_filter_values_are_parameters_not_sql(gcon: duckdb.DuckDBPyConnection) -> None:
    evil = ["S1' OR 1=1 --", "S2"]
    result = compute(gcon, registry(), Selection(parse_month("2026-01"), parse_month("2026-01"),
                                                 filters={"supplier_id": evil}), kpis=["savings"])
    assert result.values.filter(view="procurement")["value"].to_list() == [40]  # S2's only
