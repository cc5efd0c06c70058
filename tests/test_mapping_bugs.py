"""Regression tests for the bugs of issue 16: mapping errors that say where and what is allowed, a
two-type mapping without --type, a load summary that cuts no file name, and null (never 0) for finance
savings and budget variance when no amount converts to the reporting currency."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from pipelines.mappings import load_mapping
from store.errors import USAGE, TandemError
from tests.conftest import write
from tests.rows import VALID

runner = CliRunner()


@pytest.mark.parametrize(("text", "says"), [
    ("name: x\nparse: 1\n", ["'parse' is not a setting at the top level", "allowed there: name,", "exports"]),
    ("name: x\nexports:\n  invoices:\n    columns:\n      amount: {frm: A}\n",
     ["'frm' is not a setting at exports.invoices.columns.amount", "from, value"]),
    ("name: x\nexports:\n  invoices:\n    columns:\n      amount: {from: A, value: 1}\n",
     ["exports.invoices.columns.amount: give exactly one of"]),
    ("name: x\nexports:\n  invoicez: {}\n", ["unknown export type(s) invoicez", "invoices"]),
    ("exports: {}\n", ["name is required"]),
    ("name: [x\n", ["not valid YAML at line 2"]),
])
def test_a_mapping_error_names_the_file_the_field_and_what_is_allowed(tmp_path: Path, text: str,
                                                                      says: list[str]) -> None:
    f = write(tmp_path / "m.yaml", text)
    with pytest.raises(TandemError) as exc:
        load_mapping(f)
    assert exc.value.exit_code == USAGE
    assert str(f) in exc.value.message and "validation error" not in exc.value.message
    for s in says:
        assert s in exc.value.message, exc.value.message


def test_a_two_type_mapping_without_type_names_its_types(tmp_path: Path) -> None:
    m = write(tmp_path / "m.yaml", "name: two\nexports:\n  invoices: {}\n  suppliers: {}\n")
    f = write(tmp_path / "export.csv", "a\n1\n")
    r = runner.invoke(app, ["ingest", str(f), "--mapping", str(m), "--db", str(tmp_path / "t.duckdb")])
    assert r.exit_code == USAGE
    assert "invoices, suppliers" in r.stderr and "--type" in r.stderr


def test_the_load_summary_cuts_no_file_name(tmp_path: Path) -> None:
    name = "suppliers_" + "scms_delivery_history_dataset_2006_2015_a_long_name" * 2 + ".csv"
    pl.DataFrame([VALID["suppliers"]]).write_csv(tmp_path / name)
    r = runner.invoke(app, ["ingest", str(tmp_path / name), "--db", str(tmp_path / "t.duckdb")],
                      env={"COLUMNS": "60"})
    assert r.exit_code == 0, r.stderr
    assert name in r.stdout and "…" not in r.stdout


def test_finance_savings_and_budget_variance_are_null_without_a_rate(tmp_path: Path) -> None:
    # USD invoices a year apart and a USD budget, reporting currency EUR, no fx_rates: nothing converts.
    inv = [dict(VALID["invoices"], invoice_id=f"I{n}", invoice_date=d, due_date=d, amount="100", currency="USD")
           for n, d in ((1, "2025-01-10"), (2, "2026-01-10"))]
    pl.DataFrame(inv).write_csv(tmp_path / "invoices.csv")
    pl.DataFrame([dict(VALID["budgets"], currency="USD")]).write_csv(tmp_path / "budgets.csv")
    db = str(tmp_path / "t.duckdb")
    assert runner.invoke(app, ["ingest", str(tmp_path), "--db", db]).exit_code == 0
    r = runner.invoke(app, ["kpis", "--db", db, "--period", "2026-01", "--format", "json",
                            "--kpi", "savings", "--kpi", "budget_variance"], env={"TANDEM_REPORTING_CURRENCY": "EUR"})
    assert r.exit_code == 0, r.stderr
    rows = {(x["kpi"], x["view"]): x["value"] for x in json.loads(r.stdout)}
    assert rows[("savings", "finance")] is None
    assert rows[("budget_variance", "finance")] is None
    assert rows[("budget_variance_pct", "finance")] is None


@pytest.mark.parametrize(("expr", "says"), [
    ("(" * 600 + "Qty" + ")" * 600, "is 1,203 characters long, over the limit of 1,000; compute the column in the "
                                    "export, or in steps"),
    ("(" * 40 + "Qty" + ")" * 40, "at character 33: nested more than 32 deep (parentheses, functions or signs inside "
                                  "one another); write it with fewer levels"),
    ("-" * 200 + "Qty", "at character 33: nested more than 32 deep"),
    ("concat(" * 40 + "Qty" + ")" * 40, "nested more than 32 deep"),
    ("+".join(["Qty"] * 100), "reads 100 column names, over the limit of 64"),
    ("Qty" + " + Qty" * 400, "is 2,403 characters long, over the limit of 1,000"),
])
def test_a_deep_or_long_expression_is_refused_with_a_sentence(tmp_path: Path, expr: str, says: str) -> None:
    """Issue 25: a deeply nested expression gave "RecursionError"; a very long one took 27 s and 3.6 GB."""
    f = write(tmp_path / "m.yaml", "name: x\nexports:\n  purchase_orders:\n    columns:\n      unit_price: {expr: "
              + json.dumps(expr) + "}\n")
    with pytest.raises(TandemError) as exc:
        load_mapping(f)
    assert exc.value.exit_code == USAGE
    assert "exports.purchase_orders.columns.unit_price.expr: expression '" in exc.value.message
    assert says in exc.value.message and "Recursion" not in exc.value.message
    assert len(exc.value.message) < 400  # the expression is shown by its start, not whole


@pytest.mark.parametrize("delimiter", [";;", "ab", "", "\n", "x"])
def test_a_delimiter_that_cannot_separate_cells_is_one_sentence(tmp_path: Path, delimiter: str) -> None:
    """Issue 25: a two-character delimiter gave Python's TypeError text."""
    f = write(tmp_path / "m.yaml", f"name: x\ndelimiter: {json.dumps(delimiter)}\nexports:\n  invoices: {{}}\n")
    with pytest.raises(TandemError) as exc:
        load_mapping(f)
    said = {";;": "a delimiter is one character, not 2 characters (';;')",
            "ab": "a delimiter is one character, not 2 characters ('ab')",
            "": "a delimiter is one character, not nothing",
            "\n": "'\\n' cannot separate cells (a letter, digit, quote or line end); use , ; | or a tab",
            "x": "'x' cannot separate cells (a letter, digit, quote or line end); use , ; | or a tab"}[delimiter]
    assert f"Mapping file {f} is not valid: delimiter: {said}" in exc.value.message
    assert "TypeError" not in exc.value.message and "must be a 1-character string" not in exc.value.message
    data = write(tmp_path / "invoices.csv", "a;b\n1;2\n")
    r = runner.invoke(app, ["mapping", "draft", str(data), "--delimiter", delimiter])
    assert r.exit_code == USAGE and "Traceback" not in r.stderr and "TypeError" not in r.stderr
    assert " ".join(r.stderr.split()) == f"error: --delimiter: {said}."
