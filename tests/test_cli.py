"""The `tandem` command line: summaries, exit statuses and one-sentence errors (contract section 4)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.rows import VALID

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def _file(tmp_path: Path, name: str, rows: list[dict[str, str]]) -> Path:
    pl.DataFrame(rows).write_csv(tmp_path / name)
    return tmp_path / name


def test_ingest_prints_a_summary_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    _file(folder, "suppliers.csv", [VALID["suppliers"]])
    _file(folder, "budgets.csv", [VALID["budgets"]])
    code, out, _ = _run("ingest", str(folder), "--db", str(tmp_path / "t.duckdb"))
    assert code == 0
    assert "suppliers.csv" in out and "budgets.csv" in out and "loaded" in out
    code, out, _ = _run("ingest", str(folder / "budgets.csv"), "--db", str(tmp_path / "t.duckdb"))
    assert code == 0 and "unchanged" in out


def test_rejected_file_exits_3_and_names_line_column_rule(tmp_path: Path) -> None:
    f = _file(tmp_path, "purchase_orders.csv", [VALID["purchase_orders"], {**VALID["purchase_orders"],
                                                                           "po_line": "2", "status": "draft"}])
    code, out, err = _run("ingest", str(f), "--db", str(tmp_path / "t.duckdb"))
    assert code == 3
    assert 'purchase_orders.csv, line 3, column status: status one of open, closed, cancelled (value "draft")' in err
    assert "nothing loaded" in out
    code, _, _ = _run("ingest", str(f), "--db", str(tmp_path / "t.duckdb"), "--allow-partial")
    assert code == 0


@pytest.mark.parametrize(
    ("setup", "args", "code", "message"),
    [
        (None, ["ingest", "{tmp}/missing.csv"], 2, "missing.csv: no such file."),
        ("bills.csv:a,b\n1,2\n", ["ingest", "{tmp}/bills.csv"], 3, "cannot tell the export type"),
        ("x.csv:a\n1\n", ["ingest", "{tmp}/x.csv", "--type", "bills"], 2, "Unknown export type 'bills'"),
        ("invoices.csv:invoice_id,amount\n1,2\n", ["ingest", "{tmp}/invoices.csv"], 3,
         "Missing required column(s) for invoices: invoice_line, supplier_id"),
        ("invoices.csv:", ["ingest", "{tmp}/invoices.csv"], 3, "invoices.csv: the file is empty."),
        ("invoices.xlsx:a,b\n1,2\n", ["ingest", "{tmp}/invoices.xlsx"], 3, "named as XLSX but the content is CSV text"),
        ("invoices.csv:\x00\x9f\x92garbage\x00", ["ingest", "{tmp}/invoices.csv"], 3, "binary data"),
        ("suppliers.csv:supplier_id,supplier_name\nS1,Caf\xe9\n", ["ingest", "{tmp}/suppliers.csv"], 3,
         "line 2 is not valid utf-8 (byte 0xE9); try --encoding cp1252 or latin-1."),
        ("fake.duckdb:this is not a database at all", ["ingest", "{tmp}/x.csv", "--db", "{tmp}/fake.duckdb"], 1,
         "is not a DuckDB database file"),
        (None, ["ingest", "{tmp}", "--mapping", "nosuch"], 2, "Mapping file nosuch does not exist."),
    ],
)
def test_errors_are_one_sentence_with_the_contract_exit_status(
    tmp_path: Path, setup: str | None, args: list[str], code: int, message: str
) -> None:
    (tmp_path / "x.csv").write_text("supplier_id\nS1\n")
    if setup:
        name, content = setup.split(":", 1)
        (tmp_path / name).write_bytes(content.encode("latin-1"))
    got, out, err = _run(*[a.format(tmp=tmp_path) for a in args])
    assert got == code, (out, err)
    assert message in " ".join(err.split())
    assert "Traceback" not in err
    assert not (tmp_path / "tandem.duckdb").exists()


def test_locked_database_is_reported_not_waited_on(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    f = _file(tmp_path, "suppliers.csv", [VALID["suppliers"]])
    # the holder keeps the file open until it is killed (its sleep is the scenario, not a wait: the test reads
    # its "ready" line, then kills it)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
                               "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        code, _, err = _run("ingest", str(f), "--db", str(db))
        assert code == 1
        assert f"Database {db} is in use by another process" in " ".join(err.split())
    finally:
        holder.kill()
        holder.wait()  # the process has ended: the OS has released its lock on the file
    code, _, _ = _run("ingest", str(f), "--db", str(db))
    assert code == 0


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    r = runner.invoke(app, ["--debug", "ingest", str(tmp_path / "missing.csv")])
    assert r.exception is not None and "no such file" in str(r.exception)


def test_console_script_is_installed(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "tandem"
    proc = subprocess.run([str(exe), "ingest", str(tmp_path / "nope.csv")], capture_output=True, text=True)
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_kpis_json_csv_and_table(golden_db: Path) -> None:
    import csv
    import io
    import json

    code, stdout, stderr = _run("kpis", "--db", str(golden_db), "--period", "2026-01", "--format", "json")
    assert code == 0, stderr
    doc = json.loads(stdout)
    by_key = {(d["kpi"], d["view"]): d for d in doc}
    savings = by_key[("savings", "finance")]
    # the golden base month 2025-01 holds 2 lines, under 60 % of the median 3.5 of the months after it
    assert [w["code"] for w in savings.pop("warnings")] == ["partial_base"]
    assert savings == {"kpi": "savings", "view": "finance", "period": "2026-01", "dimensions": {}, "value": -200.0,
                       "unit": "EUR", "excluded": 0, "target": None, "forecast": None, "status": None}  # no target
    assert by_key[("budget_variance_pct", "procurement")]["value"] == round(-100 / 550, 6)
    assert by_key[("budget_variance_pct", "procurement")]["unit"] == "ratio"
    assert by_key[("inventory_days", "finance")] == {"kpi": "inventory_days", "view": "finance", "period": "2026-01",
                                                     "dimensions": {}, "value": 41.0, "unit": "days", "excluded": 0,
                                                     "warnings": [], "target": None, "forecast": None, "status": None}
    # 10 KPIs (price change, funds available, touchless, first-time match, the savings ledger) + the companion,
    # two views each
    assert len(doc) == 22

    code, stdout, stderr = _run("kpis", "--db", str(golden_db), "--from", "2026-01", "--to", "2026-02", "--kpi", "savings",
              "--by", "cost_center", "--format", "csv")
    assert code == 0, stderr
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert rows[0].keys() == {"kpi", "view", "period", "cost_center", "value", "unit", "excluded", "warnings",
                              "target", "forecast", "status"}
    got = {(x["view"], x["period"], x["cost_center"]): x["value"] for x in rows}
    assert got[("finance", "2026-02", "CC2")] == "-47.0" and got[("procurement", "2026-01", "CC2")] == "40.0"
    assert got[("finance", "2026-01", "CC3")] == ""  # null: no invoices a year earlier

    code, stdout, stderr = _run("kpis", "--db", str(golden_db), "--period", "2026-Q1", "--grain", "quarter",
                                "--kpi", "payment_days")
    assert code == 0 and "2026-Q1" in stdout and "days" in stdout


def test_kpis_defaults_to_the_latest_month_and_reports_usage_errors(golden_db: Path) -> None:
    import json

    code, stdout, stderr = _run("kpis", "--db", str(golden_db), "--format", "json", "--kpi", "budget_variance_pct")
    assert code == 0
    assert {d["period"] for d in json.loads(stdout)} == {"2026-03"}
    assert {d["kpi"] for d in json.loads(stdout)} == {"budget_variance_pct"}
    for args, text in [
        (["--kpi", "nope"], "Unknown KPI 'nope'"),
        (["--by", "colour"], "Unknown dimension 'colour'"),
        (["--period", "2026-13"], "'2026-13' is not a period"),
        (["--period", "2026-01", "--from", "2026-01", "--to", "2026-02"], "either a period or a range"),
        (["--where", "supplier"], "use DIM=VALUE"),
    ]:
        code, stdout, stderr = _run("kpis", "--db", str(golden_db), *args)
        assert code == 2 and text in stderr, (args, stderr)
    code, stdout, stderr = _run("kpis", "--db", str(golden_db), "--format", "json", "--by", "cost_center", "--kpi",
                                "inventory_days")
    assert code == 0 and json.loads(stdout) == []
    assert "inventory_days (finance) cannot be split by cost_center" in stderr


def test_changing_the_reporting_currency_asks_for_a_refresh(golden_db: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    monkeypatch.setenv("TANDEM_REPORTING_CURRENCY", "USD")
    code, _, err = _run("kpis", "--db", str(db), "--period", "2026-01")
    assert code == 1
    assert "The KPI facts are in EUR, not USD: run `tandem refresh`" in " ".join(err.split())
    code, out, _ = _run("refresh", "--db", str(db))
    assert code == 0 and "KPI facts rebuilt in USD" in out
    code, out, _ = _run("kpis", "--db", str(db), "--period", "2026-01", "--kpi", "savings", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {r["unit"] for r in rows} == {"USD"}
