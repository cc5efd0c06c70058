"""Nothing one row can break: the contract's numbers and dates have stated ranges (docs/loading.md, "Stated ranges"),
a value outside is quarantined with its rule on both load paths, and every output of a value that got
into the database anyway (NaN, ±inf, 1e300 written past ingestion) stays readable and valid JSON."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from pipelines import load
from pipelines.schemas import EXPORTS, MAX_MONEY, MAX_QUANTITY, MAX_RATE
from reports import formats
from tests.rows import VALID
from workspace.db import connect, ingest_file

runner = CliRunner()


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


# (export, column, bad value, rule) for every stated range; each value is one step beyond its bound.
OUTSIDE = [
    ("invoices", "amount", "1e28", "amount within ±1e13"),
    ("invoices", "amount", "-1e308", "amount within ±1e13"),
    ("invoices", "amount", "10000000000001", "amount within ±1e13"),
    ("invoices", "quantity", "-2e12", "quantity within ±1e12"),
    ("invoices", "invoice_date", "9999-12-31", "invoice_date between 1990-01-01 and 2100-12-31"),
    ("invoices", "due_date", "2101-01-01", "due_date between 1990-01-01 and 2100-12-31"),
    ("invoices", "paid_date", "1989-12-31", "paid_date between 1990-01-01 and 2100-12-31"),
    ("fx_rates", "rate_to_reporting", "1e308", "rate_to_reporting at most 1e6"),
    ("fx_rates", "period", "2200-01", "period between 1990-01 and 2100-12"),
    ("purchase_orders", "quantity", "1e13", "quantity at most 1e12"),
    ("purchase_orders", "unit_price", "1e14", "unit_price at most 1e13"),
    ("purchase_orders", "order_date", "1900-01-05", "order_date between 1990-01-01 and 2100-12-31"),
    ("contracts", "baseline_unit_price", "2e13", "baseline_unit_price at most 1e13"),
    ("contracts", "contract_unit_price", "2e13", "contract_unit_price at most 1e13"),
    ("contracts", "start_date", "1899-12-31", "start_date between 1900-01-01 and 9999-12-31"),
    ("budgets", "budget_amount", "1e20", "budget_amount at most 1e13"),
    ("budgets", "fiscal_period", "1989-12", "fiscal_period between 1990-01 and 2100-12"),
    ("inventory", "on_hand_qty", "1e15", "on_hand_qty at most 1e12"),
    ("inventory", "safety_stock_qty", "1e15", "safety_stock_qty at most 1e12"),
    ("inventory", "unit_cost", "1e15", "unit_cost at most 1e13"),
    ("inventory", "snapshot_date", "2999-01-31", "snapshot_date between 1990-01-01 and 2100-12-31"),
    ("consumption", "quantity", "1e13", "quantity at most 1e12"),
    ("consumption", "value", "1e14", "value at most 1e13"),
    ("consumption", "period", "9999-12", "period between 1990-01 and 2100-12"),
]


def _bad_row(export: str, column: str, value: str) -> dict[str, str]:
    row = {**VALID[export], column: value}
    if export == "invoices" and column in ("invoice_date", "paid_date", "due_date") and value > "2100":
        row["due_date"] = value  # only the range fails, not due_date >= invoice_date
    if export == "contracts" and column == "start_date":
        row["start_date"] = value
    return row


def _second(export: str, row: dict[str, str]) -> dict[str, str]:
    """A valid row with another key, so that a file has one good and one bad row."""
    key = EXPORTS[export].key[0]
    other = {**VALID[export]}
    other[key] = {"date": "2026-02-28", "period": "2026-02"}.get(EXPORTS[export].column(key).type, "K2")
    return other


@pytest.mark.parametrize(("export", "column", "value", "rule"), OUTSIDE)
def test_a_value_outside_its_range_is_quarantined_with_its_rule(
        tmp_path: Path, export: str, column: str, value: str, rule: str) -> None:
    f = _csv(tmp_path / f"{export}.csv", [_second(export, VALID[export]), _bad_row(export, column, value)])
    con = connect(tmp_path / "t.duckdb")
    try:
        strict = ingest_file(con, f)
        assert strict.outcome == "rejected" and strict.rows_loaded == 0
        q = con.sql("SELECT line, column_name, rule, value FROM quarantine WHERE rule <> 'held back: file rejected'"
                    ).fetchall()
        assert (3, column, rule, value) in q and {line for line, *_ in q} == {3}
        partial = ingest_file(con, f, allow_partial=True)
        assert partial.outcome == "partial" and partial.rows_loaded == 1 and partial.rows_quarantined == 1
        assert con.execute(f"SELECT count(*) FROM {export}").fetchall() == [(1,)]
    finally:
        con.close()


INSIDE = [
    ("invoices", "amount", str(-MAX_MONEY)), ("invoices", "amount", str(MAX_MONEY)),
    ("invoices", "quantity", str(-MAX_QUANTITY)), ("invoices", "invoice_date", "1990-01-01"),
    ("fx_rates", "rate_to_reporting", str(MAX_RATE)), ("fx_rates", "rate_to_reporting", "1e-9"),
    ("contracts", "end_date", "9999-12-31"),  # the ERP convention for an open-ended contract
    ("budgets", "fiscal_period", "2100-12"), ("purchase_orders", "order_date", "2100-12-31"),
]


@pytest.mark.parametrize(("export", "column", "value"), INSIDE)
def test_values_at_the_bounds_load(tmp_path: Path, export: str, column: str, value: str) -> None:
    f = _csv(tmp_path / f"{export}.csv", [_bad_row(export, column, value)])
    con = connect(tmp_path / "t.duckdb")
    try:
        r = ingest_file(con, f)
        assert r.outcome == "loaded", r.failures
    finally:
        con.close()


def _spy_on_staged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    staged = load._load_staged

    def spy(con, job, allow_partial):  # noqa: ANN001, ANN202
        calls.append(job.path.name)
        return staged(con, job, allow_partial)

    monkeypatch.setattr(load, "_load_staged", spy)
    return calls


def test_the_clean_path_applies_the_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean-shaped CSV is inserted straight into its table and checked there with the same schema:
    a value out of range sends it to the staged path, which quarantines it; one inside loads clean."""
    calls = _spy_on_staged(monkeypatch)
    con = connect(tmp_path / "t.duckdb")
    try:
        good = _csv(tmp_path / "invoices_good.csv", [{**VALID["invoices"], "amount": "9999999999999"}])
        assert ingest_file(con, good).outcome == "loaded" and calls == []  # loaded by the clean path
        bad = _csv(tmp_path / "invoices_bad.csv", [{**VALID["invoices"], "invoice_id": "I2", "amount": "1e28"}])
        r = ingest_file(con, bad)
        assert calls == ["invoices_bad.csv"] and r.outcome == "rejected"
        assert con.sql("SELECT amount FROM invoices").fetchall() == [(9999999999999.0,)]
    finally:
        con.close()


def test_the_staged_path_applies_the_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files the clean path does not take (another encoding, XLSX) are checked by the same rules."""
    calls = _spy_on_staged(monkeypatch)
    con = connect(tmp_path / "t.duckdb")
    try:
        rows = [{**VALID["fx_rates"], "rate_to_reporting": "1e308"}, {**VALID["fx_rates"], "currency": "GBP"}]
        latin = tmp_path / "fx_rates_latin.csv"
        latin.write_bytes(pl.DataFrame(rows).write_csv().encode("latin-1"))
        r = ingest_file(con, latin, encoding="latin-1", allow_partial=True)
        assert calls == ["fx_rates_latin.csv"]
        assert (r.outcome, r.rows_loaded, r.rows_quarantined) == ("partial", 1, 1)
        assert r.failures is not None and r.failures["rule"].to_list() == ["rate_to_reporting at most 1e6"]
        xlsx = tmp_path / "invoices_q1.xlsx"
        pl.DataFrame([{**VALID["invoices"], "invoice_date": "9999-12-31", "due_date": "9999-12-31"}]).write_excel(xlsx)
        r = ingest_file(con, xlsx)
        assert r.outcome == "rejected" and r.failures is not None
        assert set(r.failures["rule"]) == {"invoice_date between 1990-01-01 and 2100-12-31",
                                           "due_date between 1990-01-01 and 2100-12-31"}
    finally:
        con.close()


def test_the_issue_rows_are_refused_by_the_cli(tmp_path: Path) -> None:
    """issue 13, finding 2: 1e28, an FX rate of 1e308, two 1e308 amounts, a date 9999-12-31."""
    db = str(tmp_path / "t.duckdb")
    ok = _csv(tmp_path / "invoices.csv", [VALID["invoices"]])
    assert runner.invoke(app, ["ingest", str(ok), "--db", db]).exit_code == 0
    cases = {
        "invoices_big.csv": [{**VALID["invoices"], "invoice_id": "B", "amount": "1e28"}],
        "fx_rates_big.csv": [{**VALID["fx_rates"], "rate_to_reporting": "1e308"}],
        "invoices_two.csv": [{**VALID["invoices"], "invoice_id": "T", "invoice_line": str(i), "amount": "1e308"}
                             for i in (1, 2)],
        "invoices_far.csv": [{**VALID["invoices"], "invoice_id": "F", "invoice_date": "9999-12-31",
                              "due_date": "9999-12-31"}],
    }
    rules = {"invoices_big.csv": "amount within ±1e13", "fx_rates_big.csv": "rate_to_reporting at most 1e6",
             "invoices_two.csv": "amount within ±1e13",
             "invoices_far.csv": "invoice_date between 1990-01-01 and 2100-12-31"}
    for name, rows in cases.items():
        r = runner.invoke(app, ["ingest", str(_csv(tmp_path / name, rows)), "--db", db])
        assert r.exit_code == 3, r.output
        assert rules[name] in r.stderr and "rejected" in r.stdout
    r = runner.invoke(app, ["kpis", "--db", db, "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = _strict_json(r.stdout)
    assert isinstance(doc, list) and {row["period"] for row in doc} == {"2026-01"}  # not 9999-12


def _poisoned_db(tmp_path: Path, demo_db: Path) -> Path:
    """The demo database with rows no file could load: NaN, +inf, 1e300 and two 1.7e308 amounts in the
    latest month, and an FX rate of 1e308 there, written past ingestion; the facts rebuilt from them."""
    db = tmp_path / "poisoned.duckdb"
    shutil.copy(demo_db, db)
    con = duckdb.connect(str(db))
    try:
        month = con.execute("SELECT max(invoice_date) FROM invoices").fetchall()[0][0]
        for i, amount in enumerate(["'nan'", "'inf'", "1e300", "1.7e308", "1.7e308"]):
            con.execute(f"INSERT INTO fact_invoices SELECT * REPLACE ('POISON{i}' AS invoice_id, CAST({amount} AS DOUBLE) "
                        f"AS amount) FROM fact_invoices WHERE invoice_date = DATE '{month}' LIMIT 1")
        con.execute("UPDATE fx_rates SET rate_to_reporting = 1e308 WHERE rate_to_reporting IS NOT NULL AND "
                    "period = (SELECT max(period) FROM fx_rates)")
    finally:
        con.close()
    r = runner.invoke(app, ["refresh", "--db", str(db)])
    assert r.exit_code == 0, r.output
    return db


def test_outputs_of_values_past_ingestion_never_raise(tmp_path: Path, demo_db: Path) -> None:
    db = str(_poisoned_db(tmp_path, demo_db))
    for args in ([], ["--by", "category"], ["--grain", "year"]):
        r = runner.invoke(app, ["kpis", "--db", db, "--format", "json", *args])
        assert r.exit_code == 0, r.output
        assert "not finite" in r.stderr  # the poison reached the KPIs: NaN/Infinity before this fix
        doc = _strict_json(r.stdout)
        assert isinstance(doc, list) and doc
        assert all(row["value"] is None or math.isfinite(row["value"]) for row in doc)
        table = runner.invoke(app, ["kpis", "--db", db, *args])
        assert table.exit_code == 0 and "Traceback" not in table.output and "InvalidOperation" not in table.output
        assert "n/a" in table.stdout
        rows = list(csv.reader(io.StringIO(runner.invoke(app, ["kpis", "--db", db, "--format", "csv", *args]).stdout)))
        at = rows[0].index("value")  # columns may follow it (unit, excluded, warnings, ...)
        assert rows[0][at + 1] == "unit"
        for row in rows[1:]:
            assert row[at] == "" or math.isfinite(float(row[at]))


@pytest.mark.parametrize("v", [float("nan"), float("inf"), float("-inf"), 1e300, -1e28, 1.7e308, Decimal("1E+28"),
                               Decimal("NaN"), None, "x", 10**40])
@pytest.mark.parametrize("unit", ["EUR", "currency", "days", "ratio"])
def test_formats_never_raise(v: object, unit: str) -> None:
    shown = formats.value(v, unit)  # type: ignore[arg-type]
    gap = formats.signed(v, unit)  # type: ignore[arg-type]
    assert shown == "n/a" or formats.OUT_OF_RANGE in shown
    assert gap == "n/a" or formats.OUT_OF_RANGE in gap
    assert formats.json_number(v) is None or math.isfinite(formats.json_number(v))  # type: ignore[arg-type]


def test_formats_of_large_but_real_values_are_exact() -> None:
    assert formats.money(999_999_999_999_999) == "EUR 999,999,999,999,999"
    assert formats.money(-1e28) == "EUR −1.0e+28 (out of range)"
    assert formats.money(float("inf")) == "n/a" and formats.days(float("-inf")) == "n/a"
    assert formats.json_number(float("nan")) is None and formats.json_number(1.5) == 1.5
