"""Weak data flagged on the value it weakens (kpi_definitions/weak_data.py): `tandem kpis` rows carry their
excluded count and warnings (partial year-over-year base, missing FX, a filter the KPI cannot apply)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from cli.main import app
from tests.rows import VALID

runner = CliRunner()
EUR = {"TANDEM_REPORTING_CURRENCY": "EUR"}


def kpis(db: Path | str, *args: str) -> list[dict]:
    r = runner.invoke(app, ["kpis", "--db", str(db), "--format", "json", *args], env=EUR)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def row(rows: list[dict], kpi: str, view: str, period: str | None = None) -> dict:
    return next(x for x in rows if x["kpi"] == kpi and x["view"] == view and (period is None or x["period"] == period))


def codes(r: dict) -> list[str]:
    return [w["code"] for w in r["warnings"]]


def test_a_wholly_unconverted_month_is_null_and_a_partly_converted_span_carries_its_excluded_count(
        golden_db: Path) -> None:
    # Golden exports (tests/golden/cases.yaml): 2026-03's only invoice I31 and only contract PO line P8 are USD
    # with no March rate. March alone: nothing converts → null, never 0.
    march = kpis(golden_db, "--period", "2026-03")
    for kpi, view, excluded in [("savings", "procurement", 1), ("budget_variance", "finance", 1),
                                ("budget_variance", "procurement", 2), ("budget_variance_pct", "finance", 1)]:
        r = row(march, kpi, view)
        assert r["value"] is None and r["excluded"] == excluded, r
        assert r["warnings"][0]["code"] == "missing_fx"
        assert r["warnings"][0]["message"].startswith(f"No value: {excluded} rows with no FX rate for their month")
    # Q1: January and February convert. Savings (procurement) = 60 + 15 = 75 without P8; budget variance
    # (finance) = (500 + 160) − (550 + 100 + 50) = −40 without I31.
    q1 = kpis(golden_db, "--from", "2026-01", "--to", "2026-03", "--grain", "quarter")
    r = row(q1, "savings", "procurement")
    assert r["value"] == 75 and r["excluded"] == 1
    assert r["warnings"] == [{"code": "missing_fx", "message": "Computed without 1 rows with no FX rate for their month."}]
    r = row(q1, "budget_variance", "finance")
    assert r["value"] == -40 and r["excluded"] == 1 and codes(r) == ["missing_fx"]
    clean = row(kpis(golden_db, "--period", "2026-01"), "savings", "procurement")
    assert clean["value"] == 60 and clean["excluded"] == 0 and clean["warnings"] == []


def test_usd_data_with_no_rates_gives_null_finance_savings_and_budget_with_a_missing_fx_warning(tmp_path: Path) -> None:
    # Bug 2 of issue 16: USD invoices a year apart and a USD budget, reporting currency EUR, no fx_rates.
    inv = [dict(VALID["invoices"], invoice_id=f"I{n}", invoice_date=d, due_date=d, amount="100", currency="USD")
           for n, d in ((1, "2025-01-10"), (2, "2026-01-10"))]
    pl.DataFrame(inv).write_csv(tmp_path / "invoices.csv")
    pl.DataFrame([dict(VALID["budgets"], fiscal_period="2026-01", currency="USD")]).write_csv(tmp_path / "budgets.csv")
    db = tmp_path / "t.duckdb"
    assert runner.invoke(app, ["ingest", str(tmp_path), "--db", str(db)]).exit_code == 0
    rows = kpis(db, "--period", "2026-01", "--kpi", "savings", "--kpi", "budget_variance")
    savings, budget = row(rows, "savings", "finance"), row(rows, "budget_variance", "finance")
    assert savings["value"] is None and savings["excluded"] == 2 and codes(savings) == ["missing_fx"]  # I1 and I2
    assert budget["value"] is None and budget["excluded"] == 2 and codes(budget) == ["missing_fx"]  # I2, the budget
    # CSV carries the same: excluded as a number, warnings as "code: sentence"
    r = runner.invoke(app, ["kpis", "--db", str(db), "--period", "2026-01", "--kpi", "savings", "--format", "csv"],
                      env=EUR)
    got = {(x["kpi"], x["view"]): x for x in csv.DictReader(io.StringIO(r.stdout))}
    assert got[("savings", "finance")]["value"] == "" and got[("savings", "finance")]["excluded"] == "2"
    assert got[("savings", "finance")]["warnings"].startswith("missing_fx: No value: 2 rows with no FX rate")


def _invoices(per_month: dict[str, int]) -> list[dict]:
    """`n` EUR invoice lines of 10.00 each month, one a day from the 1st."""
    out = []
    for month, n in per_month.items():
        for i in range(n):
            d = f"{month}-{i % 28 + 1:02d}"
            out.append(dict(VALID["invoices"], invoice_id=f"I{month}-{i}", invoice_date=d, due_date=d,
                            paid_date=None, amount="10", currency="EUR"))
    return out


def test_a_partial_base_month_is_flagged_on_the_year_over_year_value_by_the_stated_rule(tmp_path: Path) -> None:
    # 2025-01 holds 5 lines, 2025-02 holds 6, each later month 10 (on 10 days). The norm of a base month is the
    # median of the 12 months after it: 10 lines on 10 days. Partial = under 60 %: 5 < 6 is partial; 6 is not.
    months = {"2025-01": 5, "2025-02": 6} | {f"{y}-{m:02d}": 10 for y, m in
                                             [(2025, m) for m in range(3, 13)] + [(2026, 1), (2026, 2)]}
    pl.DataFrame(_invoices(months)).write_csv(tmp_path / "invoices.csv")
    db = tmp_path / "t.duckdb"
    assert runner.invoke(app, ["ingest", str(tmp_path / "invoices.csv"), "--db", str(db)]).exit_code == 0
    rows = kpis(db, "--from", "2026-01", "--to", "2026-02", "--kpi", "savings")
    jan, feb = row(rows, "savings", "finance", "2026-01"), row(rows, "savings", "finance", "2026-02")
    assert jan["value"] == 50 - 100  # spend a year earlier 5 × 10 − spend now 10 × 10
    assert jan["warnings"] == [{"code": "partial_base", "message": (
        "Base month 2025-01 is partial: 5 invoice lines on 5 days, against 10 on 10 days in a normal month.")}]
    assert feb["value"] == 60 - 100 and feb["warnings"] == []  # 6 is 60 % of 10: not under it
    # no year-earlier base to be partial; and no PO export at all, so no value rather than a 0
    assert row(rows, "savings", "procurement", "2026-01")["warnings"] == [
        {"code": "no_data", "message": "No value for 2026-01: no PO lines are loaded."}]
    # a quarter's base is flagged by its partial month (and the quarter, whose invoices end in February, runs)
    q = kpis(db, "--period", "2026-Q1", "--grain", "quarter", "--kpi", "savings")
    assert codes(row(q, "savings", "finance")) == ["partial_period", "partial_base"]
    assert "2025-01 is partial" in row(q, "savings", "finance")["warnings"][1]["message"]


def test_a_filter_the_kpi_cannot_apply_is_a_warning_on_its_rows(golden_db: Path) -> None:
    rows = kpis(golden_db, "--period", "2026-01", "--where", "supplier_id=S1")
    for view in ("finance", "procurement"):
        r = row(rows, "budget_variance", view)  # budgets carry cost center and category, no supplier
        assert r["warnings"] == [{"code": "filter_ignored", "message": (
            "Budget variance ignores the supplier filter: its rows carry no supplier, so it is shown for all of "
            "them.")}]
        assert "filter_ignored" in codes(row(rows, "inventory_days", view))
        assert "filter_ignored" not in codes(row(rows, "savings", view))  # savings rows carry the supplier
    r = runner.invoke(app, ["kpis", "--db", str(golden_db), "--period", "2026-01", "--where", "supplier_id=S1"],
                      env=EUR | {"COLUMNS": "200"})
    assert "warning: filter_ignored: Budget variance ignores the supplier filter" in r.stderr


def test_the_demo_flags_its_2025_11_savings_on_a_partial_2024_11(demo_db: Path) -> None:
    # The demo's invoices start in 2024-11 with 691 lines; the twelve months after it hold ~1,450 each.
    r = row(kpis(demo_db, "--period", "2025-11", "--kpi", "savings"), "savings", "finance")
    assert codes(r) == ["partial_base"]
    assert r["warnings"][0]["message"].startswith("Base month 2024-11 is partial: 691 invoice lines on 30 days, against 1,457")
    assert row(kpis(demo_db, "--period", "2025-12", "--kpi", "savings"), "savings", "finance")["warnings"] == []


# --- the dashboard shows the same warnings: cards, KPI page, trend points, breakdown exports -------------


def _app(db: Path, monkeypatch, page: str | None = None, **widgets: object):  # noqa: ANN001, ANN202
    from tests.test_app import app

    return app(db, monkeypatch, page, **widgets)


def _captions(at) -> list[str]:  # noqa: ANN001
    return [c.value for c in at.caption]


def test_the_overview_card_flags_the_demo_2025_11_savings_on_its_partial_base(demo_db: Path, monkeypatch) -> None:  # noqa: ANN001
    at = _app(demo_db, monkeypatch, period="2025-11")
    weak = [c for c in _captions(at) if "Partial base" in c]
    assert len(weak) == 1 and "Base month 2024\\-11 is partial\\: 691 invoice lines" in weak[0]
    at = _app(demo_db, monkeypatch, period="2025-12")
    assert not [c for c in _captions(at) if "Partial base" in c]


def test_the_savings_page_marks_the_weak_trend_point_and_its_breakdown_export_carries_it(
        demo_db: Path, monkeypatch) -> None:  # noqa: ANN001
    import json as json_

    at = _app(demo_db, monkeypatch, "savings", period="2025-11")
    assert any("Partial base" in c for c in _captions(at))
    breakdown = at.dataframe[-1].value  # the breakdown table (and so its CSV/XLSX) carries each row's warnings
    with_value = breakdown[breakdown["Finance"].notna()]
    assert len(with_value) > 10 and with_value["Warnings"].notna().all()
    assert all(w.startswith("Finance: Base month 2024-11 is partial") for w in with_value["Warnings"])
    at.selectbox(key="period").set_value("2026-01").run()  # the trend 2025-02..2026-01 holds 2025-11
    trend = json_.loads(at.get("plotly_chart")[0].proto.spec)
    finance = next(t for t in trend["data"] if t["name"] == "Finance")
    weak = dict(zip(finance["x"], finance["marker"]["symbol"], strict=True))
    assert weak["2025-11"] == "circle-open" and weak["2025-12"] != "circle-open"  # only the partial base's point
    hover = dict(zip(finance["x"], finance["customdata"], strict=True))
    # the hover: the value in the product's format, then the reasons of a weak point
    assert hover["2025-11"].replace("<br>   ", " ").startswith("−EUR 4,273,162<br>⚠ Base month 2024-11 is partial")
    assert hover["2025-12"] == "EUR 179,463"
    assert "hollow point: weak data" in trend["layout"]["title"]["subtitle"]["text"]
    assert not any("Partial base" in c for c in _captions(at))  # 2026-01's own base is whole


def test_a_filter_a_kpi_cannot_apply_is_shown_on_its_card_and_page(golden_db: Path, monkeypatch) -> None:  # noqa: ANN001
    at = _app(golden_db, monkeypatch, period="2026-01", supplier=["S1"])
    said = [c for c in _captions(at) if "Filter not applied" in c]
    # budget variance (budgets carry no supplier) and inventory days (stock carries none): once on each card
    assert len(said) == 2
    assert any("Budget variance ignores the supplier filter" in c for c in said)
    assert any("Inventory days ignores the supplier filter" in c for c in said)
    at = _app(golden_db, monkeypatch, "budget_variance", period="2026-01", supplier=["S1"])
    assert [c for c in _captions(at) if "Filter not applied" in c] == [
        ":orange-badge[:material/warning: Filter not applied] Budget variance ignores the supplier filter\\: its rows "
        "carry no supplier\\, so it is shown for all of them\\."]


def test_the_breakdown_xlsx_carries_the_warnings_beside_the_numbers(demo_db: Path) -> None:
    import openpyxl

    from kpi_definitions.compute import Selection, compute
    from kpi_definitions.periods import parse_month
    from kpi_definitions.registry import registry
    from kpi_definitions.weak_data import warnings
    from reports import exports
    from store.db import reading
    from tandem import widgets

    sel = Selection(parse_month("2025-11"), parse_month("2025-11"), "month", ("category",))
    with reading(demo_db) as con:
        values = warnings(con, registry(), sel, compute(con, registry(), sel).values)
    table = widgets.side_by_side(values, registry()["savings"], ("category",), "EUR")
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(table, "savings"))).active
    cells = [[c.value for c in r] for r in sheet.iter_rows()]
    header = next(r for r in cells if "Warnings" in r)
    col = header.index("Warnings")
    body = cells[cells.index(header) + 1:]
    assert len(body) == table.height and all(isinstance(r[header.index("Finance")], float) for r in body)
    assert all(r[col].startswith("Finance: Base month 2024-11 is partial: 691 invoice lines") for r in body)


def test_a_sparse_start_is_judged_against_the_exports_typical_month(tmp_path: Path) -> None:
    # Issue 26 item 5: an export starting with 6 stray back-dated lines on 4 days (2024-01: 2 lines on one day,
    # 2024-02: 2 on one day, 2024-03: 1, 2024-04: 1), then 1,800 lines a month from 2024-12 (on 28 days).
    # The old norm of base month 2024-01, the median of the months with lines in 2024-02..2025-01, was
    # median(2, 1, 1, 1800, 1800) = 2: its 2 lines looked normal. The export's typical month is the median of
    # its twelve busiest months (9 months here: 1,800); the stray months hold under a tenth of it, so they are no
    # regular month, and the norm is the median of the regular months 2024-12 and 2025-01: 1,800 on 28 days.
    stray = [("2024-01-05", 2), ("2024-02-07", 2), ("2024-03-11", 1), ("2024-04-15", 1)]
    lines = [dict(VALID["invoices"], invoice_id=f"S{d}-{i}", invoice_date=d, due_date=d, po_id="", po_line="",
                  amount="10", paid_date=None) for d, n in stray for i in range(n)]
    for month in ("2024-12", "2025-01", "2025-02", "2025-03", "2025-04"):
        lines += [dict(VALID["invoices"], invoice_id=f"I{month}-{i}", invoice_date=f"{month}-{i % 28 + 1:02d}",
                       due_date=f"{month}-28", po_id="", po_line="", amount="10", paid_date=None)
                  for i in range(1800)]
    pl.DataFrame(lines).write_csv(tmp_path / "invoices.csv")
    db = tmp_path / "t.duckdb"
    assert runner.invoke(app, ["ingest", str(tmp_path / "invoices.csv"), "--db", str(db)]).exit_code == 0
    rows = kpis(db, "--period", "2025-01", "--kpi", "savings")
    r = row(rows, "savings", "finance")
    assert r["value"] == 2 * 10 - 1800 * 10  # 2024-01's two lines against January 2025's 1,800
    assert r["warnings"] == [{"code": "partial_base", "message": (
        "Base month 2024-01 is partial: 2 invoice lines on 1 days, against 1,800 on 28 days in a normal month.")}]
    # 2025-02's base 2024-02 likewise; a month with no line at all (2024-06 against 2023-06) has no value, and
    # says why, instead of a year-earlier spend read as savings
    assert codes(row(kpis(db, "--period", "2025-02", "--kpi", "savings"), "savings", "finance")) == ["partial_base"]
    june = row(kpis(db, "--period", "2024-06", "--kpi", "savings"), "savings", "finance")
    assert june["value"] is None and codes(june) == ["no_data"]
    assert june["warnings"][0]["message"] == "No value for 2024-06: no invoice lines in 2024-06."
