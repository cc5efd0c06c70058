"""The agreed view as SQL (kpi_definitions/agreement.py, agreed_query), hand-computed on tests/golden.

Savings bridge steps on the golden exports (tests/golden/bridges.yaml, tests/test_agreement.py):
  2026-01: procurement 60 (P1 20 price reduction, invoiced by I11; P2 40 cost avoidance); cost avoidance −40,
           not yet invoiced 0, mix −410, without quantities 190 (finance −200)
  2026-02: procurement 15 (P6, not invoiced); cost avoidance 0, not yet invoiced −15
  2026-03: procurement: P8's only line has no rate (excluded; no saving in the sums)
  2026-Q1: procurement 60 + 15 = 75
Payment days over 2026-Q1 (tests/golden/cases.yaml): procurement 17370 / 538 (agreed terms weighted by the 538 of
paid amounts with terms); paid after terms: I12 360 × 5 days = 1800, so the step is 1800 / 538.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from kpi_definitions import agreement
from kpi_definitions.agreement import Version
from kpi_definitions.engine import Engine, Request
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import registry
from store import db as store_db

DROPS = ("cost_avoidance", "not_yet_invoiced")
JAN, FEB, MAR = parse_month("2026-01"), parse_month("2026-02"), parse_month("2026-03")


@pytest.fixture
def gcon(golden_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = store_db.connect(golden_db, read_only=True)
    yield c
    c.close()


def v(kpi: str, version: int, effective: str, counts: tuple[str, ...]) -> Version:
    return Version(kpi, version, date.fromisoformat(effective), counts, "What both teams count, in plain words.")


def agreed(con: duckdb.DuckDBPyConnection, versions: list[Version], req: Request) -> list[tuple]:
    engine = Engine(con, agreement.with_agreed(registry(), versions))
    frame = engine.values(req.but(kpis=(versions[0].kpi,), views=("agreed",))).frame
    return frame.select("period", *req.by, "value").rows()


def test_the_steps_chosen_are_added_to_the_start_value(gcon: duckdb.DuckDBPyConnection) -> None:
    # mix and spend without quantities only: 60 − 410 + 190 = −160
    assert agreed(gcon, [v("savings", 1, "2025-01-01", ("mix", "without_quantities"))],
                  Request(JAN, JAN)) == [("2026-01", pytest.approx(-160))]
    # every step: the finance value; none: procurement's
    everything = tuple(s.name for s in registry()["savings"].bridge.steps)
    assert agreed(gcon, [v("savings", 1, "2025-01-01", everything)], Request(JAN, JAN)) == [
        ("2026-01", pytest.approx(-200))]
    assert agreed(gcon, [v("savings", 1, "2025-01-01", ())], Request(JAN, JAN)) == [("2026-01", 60.0)]


def test_a_slice_counts_its_own_steps(gcon: duckdb.DuckDBPyConnection) -> None:
    # by cost center, 2026-01: CC1 holds P1 (20, invoiced) → 20; CC2 holds P2 (40 cost avoidance) → 0
    assert agreed(gcon, [v("savings", 1, "2025-01-01", DROPS)], Request(JAN, JAN, by=("cost_center",))) == [
        ("2026-01", "CC1", 20.0), ("2026-01", "CC2", 0.0)]
    # a filter narrows the start value and the steps alike: S2 alone, 40 − 40
    assert agreed(gcon, [v("savings", 1, "2025-01-01", DROPS)],
                  Request.of(JAN, JAN, filters={"supplier_id": ["S2"]})) == [("2026-01", 0.0)]


def test_a_version_effective_mid_quarter_applies_month_by_month(gcon: duckdb.DuckDBPyConnection) -> None:
    # v1 (cost avoidance and orders not invoiced) from January, v2 (no step) from February. January counts v1's
    # steps (−40 + 0), February and March v2's (none): 75 − 40 = 35. Under one version for the quarter it
    # would be 75 (v2, the last month's) or 20 (v1).
    versions = [v("savings", 1, "2026-01-01", DROPS), v("savings", 2, "2026-02-01", ())]
    q1 = Request(JAN, MAR, "quarter")
    assert agreed(gcon, versions, q1) == [("2026-Q1", pytest.approx(35))]
    # by category: IT is P1 20 + P6 15 with no January step (P1 is invoiced): 35; LOG is P2 40 with January's
    # cost avoidance −40 (P8 has no rate): 0
    assert agreed(gcon, versions, q1.but(by=("category",))) == [("2026-Q1", "IT", pytest.approx(35)),
                                                                ("2026-Q1", "LOG", pytest.approx(0))]
    # one query, whose segments say which months count which version
    engine = Engine(gcon, agreement.with_agreed(registry(), versions))
    [query] = engine.explain(q1.but(kpis=("savings",), views=("agreed",)), bridges=False)
    assert query.label == "savings (agreed)"
    assert query.params["segments"] == ["2026-Q1 (v1)", "2026-Q1 (v2)", "2026-Q1 (v2)"]
    assert query.params["versions"] == [1, 2, 2]
    assert "agreed_steps" in query.sql and "savings_rep" in query.sql  # the bridge's own SQL, not procurement's


def test_a_version_before_the_first_months_counts_for_them(gcon: duckdb.DuckDBPyConnection) -> None:
    # the first version is effective from February: January (before it) counts its steps too, but January alone
    # has no agreed value (its last month precedes every version)
    versions = [v("savings", 1, "2026-02-01", DROPS)]
    assert agreed(gcon, versions, Request(JAN, MAR, "quarter")) == [("2026-Q1", pytest.approx(75 - 40 - 15))]
    assert agreed(gcon, versions, Request(JAN, FEB)) == [("2026-01", None), ("2026-02", pytest.approx(0))]


def test_a_ratio_takes_the_version_of_its_last_month(gcon: duckdb.DuckDBPyConnection) -> None:
    # payment days are a weighted average: its steps do not add up over months, so the quarter takes the version
    # in effect in March (v2, paid after terms) for all of it: (17370 + 1800) / 538
    versions = [v("payment_days", 1, "2026-01-01", ("no_terms",)), v("payment_days", 2, "2026-02-01", ("paid_late",))]
    assert agreed(gcon, versions, Request(JAN, MAR, "quarter")) == [("2026-Q1", pytest.approx(19170 / 538))]


def test_as_defined_today_applies_todays_version_to_every_period(gcon: duckdb.DuckDBPyConnection) -> None:
    versions = [v("savings", 1, "2026-01-01", DROPS), v("savings", 2, "2026-02-01", ())]
    today = Request(JAN, MAR, "quarter", as_defined_today=date(2026, 6, 1))
    assert agreed(gcon, versions, today) == [("2026-Q1", 75.0)]  # v2 (no step) for every month
