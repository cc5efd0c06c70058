"""The loading commands on the ingestion API (cli/data.py): `tandem ingest` through load_many, `mapping draft
--sheet/--encoding`, `mapping check` saying what reading did and reading with the mapping's own encoding, the
workbook limits from the settings (TANDEM_MAX_XLSX_RATIO among them), and the demo writer's one loop."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
import yaml
from typer.testing import CliRunner

from cli.main import app
from store.db import reading
from store.exports import declared, export_type
from tests.rows import VALID

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_ingest_loads_file_after_file_and_says_why_one_could_not_be_read(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    pl.DataFrame([VALID["suppliers"]]).write_csv(folder / "suppliers.csv")
    (folder / "budgets.csv").write_text("", encoding="utf-8")  # empty: refused with its sentence, the next loads
    pl.DataFrame([VALID["purchase_orders"], VALID["purchase_orders"] | {"po_line": "2", "status": "draft"}]
                 ).write_csv(folder / "purchase_orders.csv")
    db = tmp_path / "t.duckdb"
    code, out, err = _run("ingest", str(folder), "--db", str(db), "--allow-partial")
    assert code == 3  # a file refused: the contract's REJECTED
    assert "error: budgets.csv: the file is empty." in err
    assert 'purchase_orders.csv, line 3, column status: status one of open, closed, cancelled (value "draft")' in err
    assert "suppliers.csv" in out and "partial" in out
    with reading(db) as con:
        assert con.execute("SELECT export_type, outcome, rows_loaded FROM load_log ORDER BY load_id").fetchall() == [
            ("budgets", "rejected", 0), ("purchase_orders", "partial", 1), ("suppliers", "loaded", 1)]


def test_an_unknown_type_stops_before_any_file_loads(tmp_path: Path) -> None:
    pl.DataFrame([VALID["suppliers"]]).write_csv(tmp_path / "suppliers.csv")
    code, _, err = _run("ingest", str(tmp_path / "suppliers.csv"), "--db", str(tmp_path / "t.duckdb"), "--type", "bills")
    assert code == 2 and "Unknown export type 'bills'" in err


def _payments(path: Path, encoding: str = "utf-8", preamble: str = "") -> Path:
    rows = "".join(f"{i};Lieferant {i};Café;CC{i};6000;0{i}.02.2026;1.2{i}0,50\n" for i in range(1, 6))
    path.write_bytes((preamble + "Beleg;Lieferant;Warengruppe;Kostenstelle;Sachkonto;Datum;Betrag\n" + rows)
                     .encode(encoding))
    return path


def test_draft_takes_the_encoding_given_and_writes_it_into_the_mapping(tmp_path: Path) -> None:
    f = _payments(tmp_path / "zahlungen.csv", "cp1252")
    code, out, _ = _run("mapping", "draft", str(f), "--type", "invoices")
    assert code == 0 and yaml.safe_load(out)["encoding"] == "cp1252"  # detected
    code, out, _ = _run("mapping", "draft", str(f), "--type", "invoices", "--encoding", "latin-1")
    assert code == 0 and yaml.safe_load(out)["encoding"] == "latin-1"  # given
    assert "# the encoding given (latin-1)" in out


def test_draft_reads_the_sheet_given(tmp_path: Path) -> None:
    f = tmp_path / "register.xlsx"
    wb = xlsxwriter.Workbook(f)
    wb.add_worksheet("Notes").write_column(0, 0, ["Read me", "then the data"])
    for name, code in (("EUR", "EUR"), ("GBP", "GBP")):
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, ["Invoice No", "Vendor ID", "Date", "Amount", "Currency"])
        for i in range(1, 4):
            ws.write_row(i, 0, [f"I{i}", f"V{i}", f"2026-01-0{i}", f"1{i}.50", code])
    wb.close()
    first = yaml.safe_load(_run("mapping", "draft", str(f), "--type", "invoices")[1])
    chosen = yaml.safe_load(_run("mapping", "draft", str(f), "--type", "invoices", "--sheet", "GBP")[1])
    assert (first["sheet"], chosen["sheet"]) == ("EUR", "GBP")
    code, _, err = _run("mapping", "draft", str(f), "--sheet", "USD")
    assert code == 2 and "the workbook has no sheet 'USD'; its sheets are Notes, EUR, GBP" in err


def test_check_says_what_reading_did_and_reads_with_the_mappings_encoding(tmp_path: Path) -> None:
    f = _payments(tmp_path / "zahlungen.csv", "cp1252", preamble="Zahlungen Februar 2026\nStand 01.03.2026\n")
    m = tmp_path / "m.yaml"
    m.write_text(yaml.safe_dump({"name": "m", "encoding": "cp1252", "delimiter": ";",
                                 "parsing": {"date_format": "%d.%m.%Y", "decimal_separator": ",",
                                             "thousands_separator": "."},
                                 "exports": {"invoices": {"columns": {
                                     "invoice_id": {"from": "Beleg"}, "invoice_line": {"value": 1},
                                     "supplier_id": {"from": "Lieferant"}, "category": {"from": "Warengruppe"},
                                     "cost_center": {"from": "Kostenstelle"}, "gl_account": {"from": "Sachkonto"},
                                     "invoice_date": {"from": "Datum"}, "due_date": {"from": "Datum"},
                                     "amount": {"from": "Betrag"}, "currency": {"value": "EUR"}}}}}),
                 encoding="utf-8")
    code, out, err = _run("mapping", "check", str(f), "--mapping", str(m), "--rows", "2")
    assert code == 0, err
    # no --encoding: the mapping's cp1252 reads `Café`; the header is found on line 3, and said
    assert "zahlungen.csv: the header is on line 3: lines 1–2 above it skipped (a preamble)" in " ".join(out.split())
    assert "Café" in out and "5 rows read: 5 would load, 0 would be quarantined, 0 filtered out" in out
    code, out, _ = _run("mapping", "check", str(f), "--mapping", str(m), "--encoding", "cp437")
    assert code == 0 and "CafΘ" in out  # an encoding the user forces wins over the mapping's (0xE9 is Θ in cp437)


def test_the_workbook_limits_come_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.limits import zip_bomb
    from pipelines.archive import check_workbook
    from store.errors import TandemError
    from workspace.db import limits

    good = tmp_path / "good.xlsx"
    pl.DataFrame([VALID["budgets"]]).write_excel(good)
    bomb = zip_bomb(good, tmp_path / "budgets.xlsx", sheet_mb=40)  # 40 MB of rows that pack ~1000:1
    assert limits().xlsx_ratio == 100
    with pytest.raises(TandemError, match="inflates to over 100 times its packed size, the limit "
                                          r"\(TANDEM_MAX_XLSX_RATIO\)"):
        check_workbook(bomb, limits())
    monkeypatch.setenv("TANDEM_MAX_XLSX_RATIO", "5000")
    assert check_workbook(bomb, limits()).unpacked > 40_000_000  # counted to the end (~330:1), not refused
    monkeypatch.setenv("TANDEM_MAX_XLSX_RATIO", "7")
    code, _, err = _run("mapping", "check", str(bomb), "--mapping", "sap")
    assert code == 3 and "over 7 times its packed size, the limit (TANDEM_MAX_XLSX_RATIO)" in err


def test_the_demo_writes_every_declared_type_with_a_demo_frame(tmp_path: Path) -> None:
    from workspace.demo import write_demo

    # a type declared with a demo frame (here the suppliers' frame again, as a Parquet file) is written with no
    # change to the writer; the rates come first, then the contract's order
    vendors = export_type("vendors", "supplier_id str, supplier_name str, country str?, preferred bool, "
                          "payment_terms_days int", ("supplier_id",), demo="suppliers", demo_format="parquet")
    with declared(vendors):
        files = write_demo(tmp_path / "demo", n_suppliers=20)
    assert [f.name for f in files] == ["fx_rates.parquet", "suppliers.xlsx", "contracts.csv", "purchase_orders.csv",
                                       "invoices.csv", "budgets.csv", "inventory.csv", "consumption.csv",
                                       "price_indices.csv", "category_index.csv", "requisitions.csv",
                                       "approval_events.csv", "receipts.csv", "savings_initiatives.csv",
                                       "vendors.parquet"]
    assert pl.read_parquet(files[-1]).equals(pl.read_excel(files[1]), null_equal=True)
    with declared(export_type("deliveries", "delivery_id str", ("delivery_id",), demo="deliveries")), \
            pytest.raises(KeyError, match="declares the demo frame 'deliveries', which generate\\(\\) does not make"):
        write_demo(tmp_path / "demo2", n_suppliers=20)


@pytest.mark.slow
def test_the_demo_writes_its_exports_beside_the_database_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `tandem demo --db elsewhere/...` wrote its exports into ./data/demo of whatever folder it ran in
    monkeypatch.delenv("TANDEM_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    code, _, err = _run("demo", "--db", str(tmp_path / "elsewhere" / "t.duckdb"), "--suppliers", "20")
    assert code == 0, err
    assert (tmp_path / "elsewhere" / "demo" / "invoices.csv").is_file()
    assert not (tmp_path / "data").exists()
