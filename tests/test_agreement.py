"""Agreed definitions from the bridge (kpi_definitions/agreement.py), hand-computed on tests/golden.

The agreed savings definition below counts two bridge steps, cost avoidance and savings on orders not yet
invoiced: the agreed number is procurement's negotiated savings without cost avoidance and without savings
nobody has been invoiced for yet. On the golden exports (tests/golden/bridges.yaml):
  2026-01: procurement 60 (P1 20 price reduction, P2 40 cost avoidance); cost avoidance −40, not yet
           invoiced 0 → agreed 60 − 40 + 0 = 20
  2026-02: procurement 15 (P6, never invoiced); cost avoidance 0, not yet invoiced −15 → 15 + 0 − 15 = 0
  2026-03: procurement null (P8, its only line, has no March rate: never 0) → no agreed value
  2026-Q1: procurement 75; cost avoidance −40 (P2), not yet invoiced −15 (P6) → 75 − 40 − 15 = 20
  2026-01, supplier S2: P2 40, all cost avoidance → 40 − 40 = 0
  2026-01 by category: IT: P1 20, invoiced by I11 → 20; LOG: P2 40 cost avoidance → 0
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from kpi_definitions import agreement
from kpi_definitions.agreement import AgreementError, Version
from kpi_definitions.engine import Engine, Request
from kpi_definitions.periods import FiscalCalendar, parse_month
from kpi_definitions.registry import registry
from store import db as store_db

DROPS = ("cost_avoidance", "not_yet_invoiced")


@pytest.fixture
def gcon(golden_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = store_db.connect(golden_db, read_only=True)
    yield c
    c.close()


def m(text: str) -> int:
    return parse_month(text)


def v(version: int, effective: str, counts: tuple[str, ...]) -> Version:
    return Version("savings", version, date.fromisoformat(effective), counts, "Savings both teams count.")


def frame(con: duckdb.DuckDBPyConnection, versions: list[Version], req: Request,
          cal: FiscalCalendar | None = None) -> pl.DataFrame:
    """The agreed savings rows the engine computes with these versions approved."""
    reg = agreement.with_agreed(registry(), versions)
    return Engine(con, reg, calendar=cal).values(req.but(kpis=("savings",), views=("agreed",))).frame


def test_agreed_value_is_procurement_plus_the_chosen_steps_for_months(gcon: duckdb.DuckDBPyConnection) -> None:
    out = frame(gcon, [v(1, "2025-01-01", DROPS)], Request(m("2026-01"), m("2026-03")))
    assert out.select("period", "value").rows() == [("2026-01", 20.0), ("2026-02", 0.0), ("2026-03", None)]


def test_agreed_value_for_a_fiscal_quarter_and_a_slice(gcon: duckdb.DuckDBPyConnection) -> None:
    reg = registry()
    q = frame(gcon, [v(1, "2025-01-01", DROPS)], Request(m("2026-01"), m("2026-03"), "quarter"))
    assert q.select("period", "value").rows() == [("2026-Q1", 20.0)]  # 75 − 40 − 15
    s2 = agreement.value(gcon, reg, "savings", DROPS, [m("2026-01")], {"supplier_id": ["S2"]})
    assert s2 == 0.0  # 40 − 40
    by = frame(gcon, [v(1, "2025-01-01", DROPS)], Request(m("2026-01"), m("2026-01"), by=("category",)))
    assert by.select("category", "value").rows() == [("IT", 20.0), ("LOG", 0.0)]


def test_agreed_value_sits_on_the_bridge_to_the_cent(gcon: duckdb.DuckDBPyConnection) -> None:
    # counting every step is the finance value; counting none is procurement's
    steps = tuple(s.name for s in registry()["savings"].bridge.steps)
    assert agreement.value(gcon, registry(), "savings", steps, [m("2026-02")]) == pytest.approx(-70, abs=0.005)
    assert agreement.value(gcon, registry(), "savings", (), [m("2026-02")]) == 15.0


def test_a_period_uses_the_version_in_effect_then(gcon: duckdb.DuckDBPyConnection) -> None:
    versions = [v(1, "2026-01-01", ("cost_avoidance",)), v(2, "2026-02-01", DROPS)]
    out = frame(gcon, versions, Request(m("2025-12"), m("2026-02")))
    # 2025-12: no version yet; 2026-01 v1: 60 − 40 = 20; 2026-02 v2: 15 + 0 − 15 = 0 (under v1 it would be 15)
    assert out.select("period", "value").rows() == [("2025-12", None), ("2026-01", 20.0), ("2026-02", 0.0)]
    fy = frame(gcon, versions, Request(m("2025-07"), m("2026-06"), "year"), cal=FiscalCalendar(7))
    # month by month: January under v1 (cost avoidance −40), February and March under v2 (P6 not invoiced −15):
    # procurement 75 − 40 − 15 (FY2026's invoices and POs end in March: a running year)
    assert fy.select("period", "value").rows() == [("FY2026", 20.0)]


def test_unknown_kpi_or_step_is_a_sentence(gcon: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(AgreementError, match="There is no KPI named 'margin'"):
        agreement.check_steps(registry(), "margin", ())
    with pytest.raises(AgreementError, match="has no step 'rebates'"):
        agreement.check_steps(registry(), "savings", ("rebates",))


def test_a_netted_step_and_its_part_are_not_counted_together() -> None:
    reg = registry()
    timing = next(s for s in reg["budget_variance"].bridge.steps if s.parts)
    part = timing.parts[0]
    with pytest.raises(AgreementError, match=r"already adds up its parts.*count the step or some of its parts, not both"):
        agreement.check_steps(reg, "budget_variance", (timing.name, part.name))
    assert agreement.check_steps(reg, "budget_variance", (part.name,)).name == "budget_variance"  # a part alone: fine
    assert reg["budget_variance"].bridge.labels[part.name] == f"{part.label} (part of {timing.label})"


def test_a_split_computes_every_slice_in_one_query(gcon: duckdb.DuckDBPyConnection) -> None:
    reg = agreement.with_agreed(registry(), [v(1, "2025-01-01", DROPS)])
    engine = Engine(gcon, reg)
    req = Request(m("2026-01"), m("2026-02"), by=("supplier_id",), kpis=("savings",), views=("agreed",))
    values = engine.values(req)
    # 2026-01: S1 P1 20 (invoiced) → 20, S2 P2 40 cost avoidance → 0; 2026-02: S1 P6 15 not invoiced → 0
    assert values.frame.select("period", "supplier_id", "value").rows() == [
        ("2026-01", "S1", 20.0), ("2026-01", "S2", 0.0), ("2026-02", "S1", 0.0)]
    assert values.notes == []  # no cap on slices, nothing left out
    assert [q.label for q in engine.explain(req, bridges=False)] == ["savings (agreed)"]  # one query


def test_an_agreed_view_reads_the_year_before_when_its_start_view_does() -> None:
    savings = registry()["savings"]
    # a bridge that starts from the year-over-year view: the agreed view runs that view's SQL and lines
    from_finance = savings.model_copy(update={"bridge": savings.bridge.model_copy(update={"from_view": "finance"})})
    version = Version(kpi="savings", version=1, counts=(), definition="x" * 30, effective_date=date(2026, 1, 1))
    assert agreement.view_of(from_finance, [version]).year_before is True
    assert agreement.view_of(savings, [version]).year_before is False  # procurement's reads only its span
