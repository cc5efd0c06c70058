"""One engine, one number: for the same request the engine's values, its bridges (one query per request), a
single bridge, the agreed view and the lines behind a value agree to the cent, on the demo database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from kpi_definitions import agreement
from kpi_definitions.agreement import Version
from kpi_definitions.engine import Engine, Request
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import registry

CENT = 0.005
DROPS = ("cost_avoidance", "not_yet_invoiced")
# a version change in the middle of 2026-Q3 (the demo's data ends in 2026-10)
VERSIONS = [Version("savings", 1, date(2025, 1, 1), DROPS, "Savings both teams count, in plain words."),
            Version("savings", 2, date(2026, 8, 1), ("cost_avoidance",), "Savings both teams count, in plain words.")]


@pytest.fixture(scope="module")
def engine(demo_db: Path) -> Iterator[Engine]:
    with Engine.reading(demo_db, agreement.with_agreed(registry(), VERSIONS)) as e:
        yield e


def cents(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < CENT)


@pytest.mark.parametrize("req", [
    Request.of(period="2026-09", kpis=["savings", "budget_variance"]),
    Request.of(grain="quarter", period="2026-Q4", kpis=["savings", "budget_variance"]),  # running: October only
    Request.of(grain="year", period="2026", kpis=["savings"], by=["category"]),
    Request.of(grain="quarter", start="2026-Q2", end="2026-Q3", kpis=["savings"], by=["cost_center"],
               filters={"category": ["Logistics", "Facilities"]}),
], ids=["month", "running-quarter", "year-by-category", "quarters-by-cost-center-filtered"])
def test_values_and_bridges_agree(engine: Engine, req: Request) -> None:
    values = engine.values(req).frame
    steps = engine.bridges(req)
    by = list(req.by)
    for kpi in req.kpis or ():
        b = engine.reg[kpi].bridge
        for end, view in (("start", b.from_view), ("end", b.to_view)):
            got = steps.filter(kind=end, kpi=kpi).select("period", *by, pl.col("value").alias("bridge"))
            want = values.filter(kpi=kpi, view=view).select("period", *by, "value")
            joined = want.join(got, on=["period", *by], how="full", coalesce=True)
            assert joined.height == want.height
            assert all(cents(r["value"], r["bridge"]) for r in joined.iter_rows(named=True)), joined
        # the steps walk from start to end in every period and slice that has both
        walked = (steps.filter(kpi=kpi).group_by("period", *by)
                  .agg(start=pl.col("value").filter(kind="start").first(),
                       moved=pl.col("value").filter(kind="step").sum(),
                       end=pl.col("value").filter(kind="end").first())
                  .filter(pl.col("start").is_not_null() & pl.col("end").is_not_null()))
        assert walked.height > 0
        assert ((walked["start"] + walked["moved"] - walked["end"]).abs() < CENT).all()


def test_one_bridge_is_the_bridges_of_its_span(engine: Engine) -> None:
    req = Request.of(parse_month("2026-07"), parse_month("2026-09"), kpis=["savings"],
                     filters={"category": ["Logistics"]})
    one = engine.bridge(req)
    whole = engine.bridges(req.but(grain="quarter")).filter(kpi="savings")
    assert cents(one.start, whole.filter(kind="start")["value"][0]) and cents(one.end, whole.filter(kind="end")["value"][0])
    for s in one.steps:
        assert cents(s.value, whole.filter(kind="step", name=s.name)["value"][0]), s.name


def test_the_agreed_view_sits_on_the_bridges_of_its_segments(engine: Engine) -> None:
    # 2026-Q3 by category: July counts v1's steps, August and September v2's; the agreed value is the
    # procurement value plus each segment's counted steps, as the bridge of those months computes them
    req = Request.of(grain="quarter", period="2026-Q3", kpis=["savings"], by=["category"])
    values = engine.values(req).frame
    july = engine.bridges(Request.of(parse_month("2026-07"), parse_month("2026-07"), kpis=["savings"], by=["category"]))
    rest = engine.bridges(Request.of(parse_month("2026-08"), parse_month("2026-09"), grain="quarter",
                                     kpis=["savings"], by=["category"]))
    for row in values.filter(view="agreed").iter_rows(named=True):
        cat = row["category"]
        start = values.filter(view="procurement", category=cat)["value"][0]
        counted = (july.filter(pl.col("name").is_in(DROPS), category=cat, kind="step")["value"].sum()
                   + rest.filter(category=cat, kind="step", name="cost_avoidance")["value"].sum())
        assert cents(row["value"], start + counted), cat


def test_lines_add_up_to_the_value(engine: Engine) -> None:
    req = Request.of(grain="quarter", period="2026-Q3", kpis=["savings", "budget_variance"],
                     filters={"category": ["Logistics"]})
    values = engine.values(req).frame
    po = engine.lines(req, "savings", "procurement", limit=0)
    assert cents(po["savings"].sum(), values.filter(kpi="savings", view="procurement")["value"][0])
    yoy = engine.lines(req, "savings", "finance", limit=0)
    finance = yoy.filter(side="a year earlier")["spend"].sum() - yoy.filter(side="this year")["spend"].sum()
    assert cents(finance, values.filter(kpi="savings", view="finance")["value"][0])
    spend = engine.lines(req, "budget_variance", "finance", limit=0)["spend"].sum()
    variance = values.filter(kpi="budget_variance", view="finance")["value"][0]
    pct = values.filter(kpi="budget_variance_pct", view="finance")["value"][0]
    assert cents(spend - variance, variance / pct)  # the budget, from the lines and from the two values
