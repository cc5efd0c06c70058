"""The Overview's "what stands out" and the click-through links, on the hand-built golden exports and the demo."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from kpi_definitions.registry import registry
from tandem import click, kpi_page
from tests.test_app import ROOT, app


def test_overview_lists_each_kpis_largest_gap_by_slice_with_hand_computed_values(
        golden_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(golden_db, monkeypatch, period="2026-01")
    gaps = at.dataframe[0].value
    rows = {(r["KPI"], r["Split"]): r for r in gaps.to_dict("records")}
    # savings 2026-01 by supplier: S1 finance −10, procurement 20 (gap −30); S2 −160 vs 40 (gap −200): S2
    s2 = rows[("Savings", "Supplier")]
    assert (s2["Slice"], s2["Finance"], s2["Procurement"], s2["Gap"]) == ("Beta", -160.0, 40.0, -200.0)  # S2, by name
    # budget variance by category: IT −40 vs −90 (gap +50), LOG −40 vs −40 (0), OTH nothing: IT
    it = rows[("Budget variance", "Category")]
    assert (it["Slice"], it["Gap"]) == ("IT", 50.0)
    assert list(gaps.columns) == ["KPI", "Split", "Slice", "Finance", "Procurement", "Gap"]  # numbers, no unit column
    assert [s.value for s in at.subheader if "Moved most" in s.value] and "Data quality" in [s.value for s in at.subheader]


def test_overview_warns_of_findings_and_shows_what_moved_since_the_review(demo_db: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "review.duckdb"
    shutil.copy(demo_db, db)
    at = app(db, monkeypatch, "review")
    [b for b in at.button if b.label == "Start this week's review"][0].click().run()
    at = app(db, monkeypatch)
    # the demo holds one finding (invoices naming the unknown supplier S9999) and no quarantined rows
    assert [w.value for w in at.warning] == ["0 rows quarantined by the input rules; 1 data-quality finding "
                                             "across files, covering 3 rows."]
    moved = at.dataframe[1].value  # nothing moved since the review that just started: every change is 0
    assert list(moved.columns) == ["KPI", "View", "Now", "Change", "Relative"] and set(moved["Change"]) == {0.0}


def test_a_click_link_names_what_the_drilldown_shows_and_keeps_the_filters() -> None:
    kpi = registry()["payment_days"]
    params = click.link(kpi, ("supplier_id",), ("S0007",),
                        {"grain": ["month"], "period": ["2026-10"], "category": ["MRO"]}, kpi_page.DIM_LABELS)
    assert params == {"grain": ["month"], "period": ["2026-10"], "category": ["MRO"], "kpi": ["Payment days"],
                      "by": ["Supplier"], "lines_for": ["S0007"]}
    assert parse_qs(click.url(params).split("?", 1)[1]) == params
    event = {"selection": {"points": [{"x": "Northwind", "customdata": ["S0007", "finance", "10.0 days"]}]}}
    assert click.chart_pick(event) == "S0007" and click.chart_pick({"selection": {"points": []}}) is None


def test_the_link_of_a_clicked_bar_opens_the_lines_behind_it_under_every_view(demo_db: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DB", str(demo_db))
    kpi = registry()["payment_days"]
    params = click.link(kpi, ("supplier_id",), ("S0007",), {"period": ["2026-10"]}, kpi_page.DIM_LABELS)
    at = AppTest.from_file(str(ROOT / "pages" / "drilldown.py"), default_timeout=120)
    at.query_params.update({k: v[0] for k, v in params.items()})
    at.run()
    assert not at.exception
    assert at.selectbox(key="lines_for").value == "S0007" and at.multiselect(key="by").value == ["supplier_id"]
    finance, procurement = at.dataframe[1].value, at.dataframe[2].value
    assert set(finance["Supplier ID"]) == {"S0007"} == set(procurement["Supplier ID"]) and len(finance) > 0
    assert "Days taken" in finance.columns


def test_a_clicked_trend_point_opens_that_periods_lines_under_every_view(golden_db: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The page shows 2026-02; the point clicked is 2026-01: the panel holds January's lines, not February's."""
    monkeypatch.setenv("TANDEM_DB", str(golden_db))
    event = {"selection": {"points": [{"x": "2026-01", "y": 12.0, "customdata": "12.0 days"}]}}
    assert click.point_period(event) == "2026-01" and click.point_period({"selection": {"points": []}}) is None
    assert click.link(registry()["payment_days"], (), (), {"period": ["2026-01"]}, kpi_page.DIM_LABELS) == {
        "period": ["2026-01"], "kpi": ["Payment days"]}  # the drill-down of the whole period

    def page(db: str) -> None:
        from pathlib import Path

        from kpi_definitions.registry import registry
        from reports import pack
        from tandem import click, kpi_page

        sel = pack.selected(Path(db), "2026-02")
        click.lines_panel(click.at_period(sel, "2026-01"), registry()["payment_days"], (), (), kpi_page.DIM_LABELS,
                          "Payment days in 2026-01")

    at = AppTest.from_function(page, args=(str(golden_db),), default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.markdown[0].value == "**Lines behind Payment days in 2026\\-01** · Payment days · 2026-01"  # escaped
    finance = at.dataframe[0].value  # the lines paid in January (finance counts by paid date), not February's
    assert len(at.dataframe) == 2 and len(finance) > 0  # every view's lines side by side
    assert all((d.year, d.month) == (2026, 1) for d in finance["Paid date"])
    i11 = finance[finance["Invoice ID"] == "I11"].iloc[0]
    assert (i11["Days taken"], i11["Agreed terms"]) == (10, 60)  # invoiced 12 Jan, paid 22 Jan: 10 days
