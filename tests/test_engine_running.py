"""Running periods (kpi_definitions/running.py), hand-computed on a few exports loaded through the real ingestion.

Invoices (EUR, no PO): a year earlier 2025-01 100 (IT), 2025-02 50 (IT), 2025-03 30 (IT), 2025-04 40 (LOG);
now 2026-01 80 (IT), 2026-02 60 (IT) and 20 (LOG). The invoices end in 2026-02.
Purchase orders: P1 2026-01-05 on contract C1 (baseline 10, paid 9, quantity 2): procurement savings 2. The PO
lines end in 2026-01.

  2026-03            no invoice line yet: finance null with no_data, never 30 − 0 = 30 ("spend dropped to 0")
  2026-Q1 (running)  finance over January and February only: (100 + 50) − (80 + 60 + 20) = −10, not
                     (100 + 50 + 30) − 160 = 20; procurement over January only: 2
  FY2026 (July)      2025-07..2026-06: the invoices hold 2026-01 and 2026-02 of it (none in 2025-07..12, and
                     they end in 2026-02): −10 as above
  2026 (calendar)    the same two months: −10
  2026-02 LOG        LOG has no invoice in 2025-02 (its base): null, as the view says, but no running warning:
                     the export holds February (coverage is the export's, not the slice's)
  2026-02 by category: IT 50 − 60 = −10, LOG null (no base)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from kpi_definitions.engine import Engine, Request
from kpi_definitions.periods import FiscalCalendar, parse_month
from tests.rows import VALID
from workspace.db import connect, ingest_file

INVOICES = [("A1", "2025-01-10", "100", "IT"), ("A2", "2025-02-10", "50", "IT"), ("A3", "2025-03-10", "30", "IT"),
            ("A4", "2025-04-10", "40", "LOG"), ("B1", "2026-01-10", "80", "IT"), ("B2", "2026-02-10", "60", "IT"),
            ("B3", "2026-02-12", "20", "LOG")]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("running")
    rows = {
        "suppliers": [VALID["suppliers"]],
        "contracts": [VALID["contracts"]],
        "purchase_orders": [VALID["purchase_orders"]],
        "invoices": [dict(VALID["invoices"], invoice_id=i, po_id="", po_line="", invoice_date=d, due_date=d,
                          amount=a, category=c) for i, d, a, c in INVOICES],
    }
    path = folder / "running.duckdb"
    con = connect(path)
    try:
        for name, data in rows.items():
            pl.DataFrame(data).write_csv(folder / f"{name}.csv")
            r = ingest_file(con, folder / f"{name}.csv")
            assert r.ok and r.rows_quarantined == 0, r.outcome
    finally:
        con.close()
    return path


@pytest.fixture
def engine(db: Path) -> Iterator[Engine]:
    with Engine.reading(db) as e:
        yield e


def savings(engine: Engine, req: Request) -> dict[str, tuple[float | None, list[dict]]]:
    frame = engine.values(req.but(kpis=("savings",))).frame
    return {r["view"]: (r["value"], r["warnings"]) for r in frame.iter_rows(named=True)}


def test_a_month_the_invoices_have_not_reached_is_null_with_no_data(engine: Engine) -> None:
    got = savings(engine, Request.of(period="2026-03"))
    assert got["finance"] == (None, [{"code": "no_data",
                                      "message": "No value for 2026-03: the invoice lines end in 2026-02."}])
    assert got["procurement"] == (None, [{"code": "no_data",
                                          "message": "No value for 2026-03: the PO lines end in 2026-01."}])


def test_a_running_quarter_is_computed_up_to_each_views_last_month(engine: Engine) -> None:
    got = savings(engine, Request.of(grain="quarter", period="2026-Q1"))
    assert got["finance"] == (pytest.approx(150 - 160), [{
        "code": "partial_period", "message": "2026-Q1 covers 2026-01..2026-02 only: the invoice lines end in 2026-02."}])
    assert got["procurement"] == (pytest.approx(2), [{
        "code": "partial_period", "message": "2026-Q1 covers 2026-01 only: the PO lines end in 2026-01."}])
    cover = engine.values(Request.of(grain="quarter", period="2026-Q1", kpis=["savings"])).coverage
    assert cover.sort("view").select("view", "first", "last", "months", "of").rows() == [
        ("finance", parse_month("2026-01"), parse_month("2026-02"), 2, 3),
        ("procurement", parse_month("2026-01"), parse_month("2026-01"), 1, 3)]


def test_a_fiscal_year_covers_the_months_its_exports_hold(db: Path) -> None:
    with Engine.reading(db, calendar=FiscalCalendar(7)) as e:
        fy = savings(e, Request.of(grain="year", period="FY2026", calendar=FiscalCalendar(7)))
    assert fy["finance"] == (pytest.approx(-10), [{
        "code": "partial_period", "message": "FY2026 covers 2026-01..2026-02 only: the invoice lines end in 2026-02; "
                                            "no invoice lines in 2025-07..2025-12."}])
    with Engine.reading(db) as e:
        year = savings(e, Request.of(grain="year", period="2026"))
    assert year["finance"][0] == pytest.approx(-10)


def test_coverage_is_the_exports_not_the_slices(engine: Engine) -> None:
    frame = engine.values(Request.of(period="2026-02", kpis=["savings"], views=["finance"], by=["category"])).frame
    assert frame.select("category", "value", "warnings").rows() == [("IT", -10.0, []), ("LOG", None, [])]
    # a month with lines, but none for this slice, is a month of zero spend (LOG in 2026-01: 0 now, none a
    # year earlier either, so null by the view's own rule; IT: 100 − 80 = 20)
    jan = engine.values(Request.of(period="2026-01", kpis=["savings"], views=["finance"], by=["category"])).frame
    assert jan.select("category", "value", "warnings").rows() == [("IT", 20.0, [])]


def test_a_split_gives_a_period_without_data_a_null_row_per_slice(engine: Engine) -> None:
    frame = engine.values(Request.of(parse_month("2026-02"), parse_month("2026-03"), kpis=["savings"],
                                     views=["finance"], by=["category"])).frame
    assert frame.select("period", "category", "value").rows() == [
        ("2026-02", "IT", -10.0), ("2026-02", "LOG", None), ("2026-03", "IT", None), ("2026-03", "LOG", None)]
    assert [w[0]["code"] for w in frame.filter(period="2026-03")["warnings"]] == ["no_data", "no_data"]


def test_the_bridge_of_a_running_quarter_is_over_the_months_covered(engine: Engine) -> None:
    # the savings bridge reads invoices and POs: both cover January only (the POs end there):
    # procurement 2, finance 100 − 80 = 20; the steps walk from one to the other over that month
    b = engine.bridge(Request.of(grain="quarter", period="2026-Q1", kpis=["savings"]))
    assert (b.start, b.end) == (pytest.approx(2), pytest.approx(20))
    assert b.total == pytest.approx(20)
    assert b.warnings == ({"code": "partial_period",
                           "message": "2026-01..2026-03 covers 2026-01 only: the PO lines end in 2026-01; "
                                      "the invoice lines end in 2026-02."},)


def test_the_cli_says_the_same(db: Path) -> None:
    r = CliRunner().invoke(app, ["kpis", "--db", str(db), "--grain", "quarter", "--period", "2026-Q1", "--kpi",
                                 "savings", "--format", "json"], env={"TANDEM_REPORTING_CURRENCY": "EUR"})
    assert r.exit_code == 0, r.stderr
    rows = {d["view"]: d for d in json.loads(r.stdout)}
    assert rows["finance"]["value"] == pytest.approx(-10)
    assert rows["finance"]["warnings"][0]["code"] == "partial_period"
