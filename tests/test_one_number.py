"""One number everywhere: for the same request every face gives the same number to the cent — the engine, the
command line's JSON and CSV, a KPI page (AppTest), the review pack's data and the agreed view with a version
change in the middle of a quarter (issue 22, "How it is checked")."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from decisions import agreement
from decisions.identity import Identity
from kpi_definitions.engine import Request
from reports import formats, pack, source
from reports.scope import resolved
from tests.test_app import app, metrics
from workspace.db import connect

CENT = 0.005
ANA = Identity("ana@corp.example", "Ana", "finance", "editor", True)
PIA = Identity("pia@corp.example", "Pia", "procurement", "editor", True)
TEXT = "Procurement's savings without what never reaches spend, as both teams count them."
runner = CliRunner()

# (grain, period, filters): a month, a running quarter (the demo's data ends in 2026-10), a year, a slice and
# the quarter in which the agreed definition changes version (2026-08-01).
REQUESTS = [("month", "2026-09", {}), ("quarter", "2026-Q4", {}), ("year", "2026", {}),
            ("quarter", "2026-Q2", {"category": ["Logistics"]}), ("quarter", "2026-Q3", {})]
IDS = ["month", "running-quarter", "year", "slice", "agreed-version-change"]


@pytest.fixture(scope="module")
def db(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo with an agreed savings definition in two versions: from 2025 it leaves out cost avoidance and
    savings on orders not yet invoiced; from 2026-08-01 only cost avoidance."""
    path = tmp_path_factory.mktemp("one") / "tandem.duckdb"
    shutil.copy(demo_db, path)
    con = connect(path)
    try:
        for counts, effective in ((["cost_avoidance", "not_yet_invoiced"], "2025-01-01"),
                                  (["cost_avoidance"], "2026-08-01")):
            pid = agreement.propose(con, "savings", counts, TEXT, effective, "what finance can book", PIA)
            agreement.approve(con, pid, ANA, "agreed")
    finally:
        con.close()
    yield path


def engine_values(db: Path, grain: str, period: str, filters: dict) -> dict[tuple[str, str], float | None]:
    with source.engine(db) as e:
        req = e.request(grain=grain, period=period, filters=filters, data=e.data_months())
        frame = e.values(req).frame
    return {(r["kpi"], r["view"]): r["value"] for r in frame.iter_rows(named=True)}


def where(filters: dict) -> list[str]:
    return [a for d, vs in filters.items() for v in vs for a in ("--where", f"{d}={v}")]


def same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < CENT)


@pytest.mark.parametrize(("grain", "period", "filters"), REQUESTS, ids=IDS)
def test_the_command_line_gives_the_engines_numbers(db: Path, grain: str, period: str, filters: dict) -> None:
    want = engine_values(db, grain, period, filters)
    assert ("savings", "agreed") in want
    base = ["kpis", "--db", str(db), "--grain", grain, "--period", period, *where(filters)]
    rows = json.loads(runner.invoke(cli, [*base, "--format", "json"]).stdout)
    got = {(r["kpi"], r["view"]): r["value"] for r in rows}
    assert got.keys() == want.keys()
    assert all(same(got[k], want[k]) for k in want), {k: (got[k], want[k]) for k in want if not same(got[k], want[k])}
    table = list(csv.DictReader(io.StringIO(runner.invoke(cli, [*base, "--format", "csv"]).stdout)))
    from_csv = {(r["kpi"], r["view"]): (float(r["value"]) if r["value"] else None) for r in table}
    assert all(same(from_csv[k], want[k]) for k in want)


@pytest.mark.parametrize(("grain", "period", "filters"), REQUESTS, ids=IDS)
def test_the_pack_shows_the_engines_numbers(db: Path, grain: str, period: str, filters: dict) -> None:
    want = engine_values(db, grain, period, filters)
    p = pack.collect(resolved(db, period, grain, filters))  # type: ignore[arg-type]
    assert p.sel.span.label == period
    for part in p.kpis:
        shown = dict(part.numbers)
        for view in part.kpi.views:
            label = part.kpi.views[view].label or view.capitalize()
            assert shown[label] == formats.value(want[(part.kpi.name, view)], part.kpi.unit, "EUR"), (part.kpi.name, view)


@pytest.mark.parametrize(("grain", "period", "filters"), REQUESTS, ids=IDS)
def test_a_kpi_page_shows_the_engines_numbers(db: Path, monkeypatch: pytest.MonkeyPatch, grain: str, period: str,
                                              filters: dict) -> None:
    want = engine_values(db, grain, period, filters)
    widgets: dict[str, object] = {"grain": grain}
    at = app(db, monkeypatch, "savings", **widgets)
    at = at.selectbox(key="period").set_value(period).run()
    if filters:
        at = at.multiselect(key="category").set_value(filters["category"]).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = {label.split(" · ")[0]: value for label, value in metrics(at)}  # "Finance · 2026-09"
    for view, label in (("finance", "Finance"), ("procurement", "Procurement"), ("agreed", "Agreed")):
        assert shown[label] == formats.value(want[("savings", view)], "currency", "EUR"), view


def test_the_agreed_view_applies_each_version_to_its_own_months(db: Path) -> None:
    """2026-Q3 under the agreed view: July counts version 1's steps, August and September version 2's — the sum
    of the months' agreed values, each month's being procurement plus that month's counted steps."""
    with source.engine(db) as e:
        quarter = e.values(e.request(grain="quarter", period="2026-Q3", kpis=["savings"])).frame
        months = e.bridges(Request.of(grain="month", period="2026-Q3", kpis=["savings"], calendar=e.calendar))
    step = {(r["period"], r["name"]): r["value"] for r in months.iter_rows(named=True)}
    agreed_of = {"2026-07": ("cost_avoidance", "not_yet_invoiced"), "2026-08": ("cost_avoidance",),
                 "2026-09": ("cost_avoidance",)}
    by_month = {m: step[(m, "procurement")] + sum(step[(m, s)] for s in counted) for m, counted in agreed_of.items()}
    agreed = quarter.filter(view="agreed")["value"][0]
    # the quarter's procurement value is the months' sum (PO savings add up), so its agreed value is too
    assert same(agreed, sum(by_month.values()))
    # and the version change matters: under version 2 alone July would count its not-yet-invoiced step too
    assert abs(step[("2026-07", "not_yet_invoiced")]) > 1000
