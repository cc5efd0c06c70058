"""A third view is only a declaration: the registry in tests/agreed_registry adds `agreed` (violet) to every
KPI, pointing at existing SQL, and every page, `tandem kpis`, the table exports and the review pack show it,
with its gap against the base view, and no code change."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from typer.testing import CliRunner

from cli.main import app as cli
from decisions import review
from decisions.identity import local_user
from kpi_definitions import registry as registry_module
from kpi_definitions import views
from kpi_definitions.compute import Selection, compute
from kpi_definitions.periods import FiscalCalendar, Span
from kpi_definitions.registry import SQL_DIR, parse, registry
from reports import exports, formats, pack
from reports.scope import Scope
from store.db import reading
from tandem import service, widgets
from tests.test_app import PAGES, app, go, metrics
from workspace.db import connect

LOCAL = local_user()  # the command line's user: every write names who acts

AGREED = Path(__file__).parent / "agreed_registry"
M = FiscalCalendar().parse


@pytest.fixture
def agreed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The third-view registry in use (as `TANDEM_KPI_DIR=tests/agreed_registry tandem serve` would)."""
    monkeypatch.setenv(registry_module.ENV_FOLDER, str(AGREED))
    st.cache_data.clear()  # the app's cached KPI values are per database version, not per registry
    yield AGREED
    st.cache_data.clear()


def sql_values(db: Path, first: int, last: int, folder: Path = AGREED) -> pl.DataFrame:
    """What the declared SQL computes for the range, straight from the KPI layer."""
    reg, issues = parse(folder, SQL_DIR)
    assert issues == []
    with reading(db) as con:
        return compute(con, reg, Selection(first, last), currency="EUR").values


def test_the_test_registry_is_the_bundled_one_plus_agreed() -> None:
    bundled = registry()
    reg, issues = parse(AGREED, SQL_DIR)
    assert issues == [] and reg.names == bundled.names
    for kpi in reg:
        assert list(kpi.views) == [*bundled[kpi.name].views, "agreed"]
        assert views.style(kpi, "agreed") == views.ViewStyle("agreed", "Agreed", "violet")
        assert [g.header for g in views.gaps(kpi)] == ["Gap (F − P)", "Gap (A − P)"]


def test_agreed_values_are_their_sql_and_gaps_are_against_the_base(golden_db: Path, agreed: Path) -> None:
    first, last = M("2026-01", "month")
    values = sql_values(golden_db, first, last)
    v = {(r["kpi"], r["view"]): r["value"] for r in values.iter_rows(named=True)}
    # savings' agreed view runs savings_finance.sql: finance 300 − 500 = −200 (tests/golden/cases.yaml)
    assert v["savings", "agreed"] == v["savings", "finance"] == -200 and v["savings", "procurement"] == 60
    # inventory days' agreed view counts stock above safety stock, as procurement's: 20.0 days
    assert v["inventory_days", "agreed"] == v["inventory_days", "procurement"] == 20.0
    savings = views.compare(parse(AGREED, SQL_DIR)[0]["savings"], values)
    assert savings.gaps == {"gap_finance": -260.0, "gap_agreed": -260.0}
    assert savings.relative_gap == 260 / 200


def test_tandem_kpis_lists_the_agreed_view(golden_db: Path, agreed: Path) -> None:
    r = CliRunner().invoke(cli, ["kpis", "--db", str(golden_db), "--period", "2026-01", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    rows = {(d["kpi"], d["view"]): d["value"] for d in json.loads(r.stdout)}
    assert {k for k, view in rows if view == "agreed"} == set(registry().names) | {"budget_variance_pct"}
    assert rows["savings", "agreed"] == -200 and rows["inventory_days", "agreed"] == 20.0
    table = CliRunner().invoke(cli, ["kpis", "--db", str(golden_db), "--period", "2026-01", "--kpi", "savings"])
    assert table.exit_code == 0 and "agreed" in table.stdout and "−EUR 200" in table.stdout


def test_the_overview_shows_agreed_with_its_gap(golden_db: Path, agreed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(golden_db, monkeypatch, period="2026-01")
    assert metrics(at)[:6] == [("Finance", "−EUR 200"), ("Procurement", "EUR 60"), ("Agreed", "−EUR 200"),
                               ("Finance", "41.0 days"), ("Procurement", "20.0 days"), ("Agreed", "20.0 days")]
    assert ":violet[■] Agreed" in [m.label for m in at.metric]
    texts = [t.value for t in at.text]
    assert "Gap (finance − procurement): −EUR 260" in texts and "Gap (agreed − procurement): −EUR 260" in texts
    assert "Gap (agreed − procurement): 0.0 days" in texts
    assert any("■ violet always **agreed**" in c.value and "agreed − procurement" in c.value for c in at.caption)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_with_three_views(demo_db: Path, agreed: Path, monkeypatch: pytest.MonkeyPatch,
                                          page: str) -> None:
    at = app(demo_db, monkeypatch, page)
    assert at.title and not at.error
    reg = registry()
    if page in reg.names:  # a KPI page: the agreed number next to the others, the SQL's value
        kpi = reg[page]
        period = at.selectbox(key="period").value
        want = views.value_of(sql_values(demo_db, *M(period, "month")), page, "agreed")
        assert (f"Agreed · {period}", formats.value(want, kpi.unit, "EUR")) in metrics(at)
        assert kpi.views["agreed"].definition in [t.value for t in at.text]
        # the breakdown: the last table with the views (the price page's market and outlook tables follow it)
        breakdown = next(d.value for d in reversed(at.dataframe) if "Procurement" in d.value.columns)
        assert {"Finance", "Procurement", "Agreed", "Gap (F − P)", "Gap (A − P)"} <= set(breakdown.columns)
    if page == "definitions":
        assert set(at.dataframe[0].value["View"]) == {"finance", "procurement", "agreed"}


def test_drilldown_lists_the_lines_behind_the_agreed_view(demo_db: Path, agreed: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch, "drilldown", kpi="payment_days", by=["category"])
    assert "Agreed" in at.dataframe[0].value.columns  # every view side by side, the agreed one too
    assert len(at.dataframe[3].value) > 0  # its lines, after finance's and procurement's


def test_table_exports_carry_the_agreed_column(golden_db: Path, agreed: Path) -> None:
    first, last = M("2026-01", "month")
    reg = registry()
    with reading(golden_db) as con:
        values = compute(con, reg, Selection(first, last, by=("category",)), currency="EUR").values
    table = widgets.side_by_side(values, reg["savings"], ("category",), "EUR")
    assert table.columns == ["period", "category", "Finance", "Procurement", "Agreed", "Gap (F − P)", "Gap (A − P)"]
    it = {r["category"]: r for r in table.iter_rows(named=True)}["IT"]
    # category IT in 2026-01: finance (and agreed) −10, procurement 20 (tests/test_app.py)
    assert (it["Finance"], it["Procurement"], it["Agreed"], it["Gap (A − P)"]) == (-10, 20, -10, -30)  # numbers
    csv = pl.read_csv(io.BytesIO(exports.to_csv(table)))
    assert csv.columns == table.columns and csv.filter(pl.col("category") == "IT")["Agreed"].to_list() == [-10.0]
    xlsx = pl.read_excel(io.BytesIO(exports.to_xlsx(table, "savings")))
    assert xlsx.columns == table.columns and xlsx.filter(pl.col("category") == "IT")["Gap (A − P)"].to_list() == [
        -30.0]


def test_the_review_pack_shows_the_agreed_view(demo_db: Path, tmp_path: Path, agreed: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "t.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("TANDEM_DB", str(db))
    values = service.kpi_values(str(db), "x", 24321, 24321, "month", (), ())[0]
    con = connect(db)
    review.start(con, date(2026, 11, 2), "2026-10", values, by=LOCAL)
    con.close()
    sel = Scope(db, service.version(db), Span(24321, 24321, "month", "2026-10"), 24310, {}, None, "EUR")
    html = pack.build(sel)
    for header in ("Finance", "Procurement", "Agreed", "Gap (F − P)", "Gap (A − P)", "Agreed vs 2026-09"):
        assert f"<th>{header}</th>" in html
    now = sql_values(db, 24321, 24321)
    agreed_savings, procurement = (views.value_of(now, "savings", v) for v in ("agreed", "procurement"))
    assert f"<td class='nw'>{formats.value(agreed_savings, 'currency', 'EUR')}</td>" in html
    assert f"<td class='nw'>{formats.signed(agreed_savings - procurement, 'currency', 'EUR')}</td>" in html
    assert "How far apart finance, procurement and agreed are" in html
    assert "<td class='nw'>Joint KPI review</td>" in html  # the agreed definitions, in each KPI's section


def test_a_kpi_page_is_reached_at_its_url_path(demo_db: Path, agreed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch)
    go(at, "inventory_days").run()
    assert at.title[0].value == "Inventory days"
