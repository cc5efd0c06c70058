"""Every row rule of contract section 1, broken once, with the exact quarantine record it produces."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.schemas import EXPORTS, pandera_schema
from tests.rows import VALID
from workspace.db import ingest_file

# A second valid row needs a key of its own: the column to change and its value.
SECOND_KEY = {"suppliers": ("supplier_id", "S2"), "contracts": ("contract_id", "C2"),
              "purchase_orders": ("po_line", "2"), "invoices": ("invoice_line", "2"),
              "budgets": ("cost_center", "CC2"), "inventory": ("item_id", "X2"),
              "consumption": ("item_id", "X2"), "fx_rates": ("currency", "GBP")}

# (export, column, bad text, rule reported)
BROKEN = [
    ("suppliers", "payment_terms_days", "400", "payment_terms_days between 0 and 365"),
    ("suppliers", "preferred", "maybe", "type: true/false, 1/0 or yes/no"),
    ("suppliers", "supplier_name", "", "required"),
    ("contracts", "end_date", "2025-12-31", "end_date >= start_date"),
    ("contracts", "baseline_unit_price", "-1", "baseline_unit_price >= 0"),
    ("contracts", "contract_unit_price", "-0.01", "contract_unit_price >= 0"),
    ("contracts", "savings_type", "rebate", "savings_type one of price_reduction, cost_avoidance"),
    ("contracts", "payment_terms_days", "-1", "payment_terms_days between 0 and 365"),
    ("contracts", "currency", "eur", "currency: three upper-case letters (ISO 4217)"),
    ("contracts", "start_date", "2026-02-30", "type: a date"),
    ("purchase_orders", "quantity", "0", "quantity > 0"),
    ("purchase_orders", "unit_price", "-3", "unit_price >= 0"),
    ("purchase_orders", "status", "draft", "status one of open, closed, cancelled"),
    ("purchase_orders", "po_line", "1.5", "type: a whole number"),
    ("purchase_orders", "quantity", "two", "type: a decimal number"),
    ("invoices", "due_date", "2026-01-09", "due_date >= invoice_date"),
    ("invoices", "po_line", "", "po_line given iff po_id given"),
    ("invoices", "amount", "nan", "type: a decimal number"),
    ("invoices", "currency", "EURO", "currency: three upper-case letters (ISO 4217)"),
    ("budgets", "budget_amount", "-5", "budget_amount >= 0"),
    ("budgets", "fiscal_period", "2026-13", "type: a period YYYY-MM"),
    ("inventory", "on_hand_qty", "-1", "on_hand_qty >= 0"),
    ("inventory", "safety_stock_qty", "-1", "safety_stock_qty >= 0"),
    ("inventory", "unit_cost", "-1", "unit_cost >= 0"),
    ("consumption", "quantity", "-1", "quantity >= 0"),
    ("consumption", "value", "-1", "value >= 0"),
    ("fx_rates", "rate_to_reporting", "0", "rate_to_reporting > 0"),
]


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    pl.DataFrame(rows).write_csv(path)
    return path


@pytest.mark.parametrize(("export", "column", "bad", "rule"), BROKEN, ids=[f"{b[0]}.{b[1]}={b[2]}" for b in BROKEN])
def test_broken_rule_is_quarantined_exactly(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, export: str, column: str, bad: str, rule: str
) -> None:
    good = dict(VALID[export])
    broken = {**good, column: bad}
    # Line 2 is valid, line 3 breaks the rule: strict mode loads neither and keeps both.
    other_key_col, other_key = SECOND_KEY[export]
    good2 = {**good, other_key_col: other_key}
    f = _csv(tmp_path / f"{export}.csv", [good2, broken])
    r = ingest_file(con, f)
    assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("rejected", 2, 0, 2)
    q = con.sql("SELECT line, column_name, rule, value FROM quarantine ORDER BY line, rule").pl()
    assert q.filter(pl.col("line") == 3).select("column_name", "rule", "value").row(0) == (
        column, rule, None if bad == "" else bad)
    assert q.filter(pl.col("line") == 2)["rule"].to_list() == ["held back: file rejected"]
    assert con.sql(f"SELECT count(*) FROM {export}").fetchall() == [(0,)]


def test_allow_partial_loads_the_valid_rows(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    good = VALID["purchase_orders"]
    rows = [good, {**good, "po_line": "2", "quantity": "-1"}, {**good, "po_line": "3"}]
    r = ingest_file(con, _csv(tmp_path / "purchase_orders.csv", rows), allow_partial=True)
    assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("partial", 3, 2, 1)
    assert con.sql("SELECT po_line FROM purchase_orders ORDER BY 1").fetchall() == [(1,), (3,)]
    assert con.sql("SELECT line, rule FROM quarantine").fetchall() == [(3, "quantity > 0")]


def test_duplicate_keys_in_one_file_are_all_quarantined(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    good = VALID["suppliers"]
    rows = [good, {**good, "supplier_name": "Acme again"}, {**good, "supplier_id": "S2"}]
    r = ingest_file(con, _csv(tmp_path / "suppliers.csv", rows), allow_partial=True)
    assert (r.rows_loaded, r.rows_quarantined) == (1, 2)
    assert con.sql("SELECT line, column_name, rule, value FROM quarantine ORDER BY line").fetchall() == [
        (2, "supplier_id", "key unique within the file", "S1"),
        (3, "supplier_id", "key unique within the file", "S1"),
    ]


def test_every_failure_of_a_row_is_reported(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    bad = {**VALID["invoices"], "amount": "abc", "due_date": "2026-01-01", "currency": "eur"}
    ingest_file(con, _csv(tmp_path / "invoices.csv", [bad]))
    assert con.sql("SELECT column_name, rule FROM quarantine ORDER BY column_name").fetchall() == [
        ("amount", "type: a decimal number"),
        ("currency", "currency: three upper-case letters (ISO 4217)"),
        ("due_date", "due_date >= invoice_date"),
    ]


def test_schema_checks_are_expressions_not_element_wise() -> None:
    for spec in EXPORTS.values():
        for col in pandera_schema(spec).columns.values():
            assert not any(c.element_wise for c in col.checks), (spec.name, col.name)
