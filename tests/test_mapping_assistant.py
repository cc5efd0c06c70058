"""`tandem mapping draft` and `tandem mapping check`: a draft from a header and a sample loads the file
with at most the edits docs/loading.md shows; a check previews the mapped rows and every broken rule, and
writes nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from pipelines.draft import draft
from pipelines.mappings import load_mapping
from store.errors import TandemError
from tests.conftest import write
from tests.gla import gla_export
from workspace.db import ingest_file

runner = CliRunner()

ERP = ("Beleg;Pos;Lieferant;Sachkonto;Kostenstelle;Warengruppe;Rechnungsdatum;Faellig;Betrag;Waehrung\n"
       "5100;1;L-1;400100;CC-1;Packaging;03.02.2026;05.03.2026;1.234,56;EUR\n"
       "5100;2;L-1;400200;CC-1;Services;03.02.2026;05.03.2026;-99,50;EUR\n"
       "5101;1;L-2;400100;CC-2;Packaging;04.02.2026;06.03.2026;10,00;EUR\n")


def test_a_draft_reads_separators_date_formats_and_repeated_documents(con: duckdb.DuckDBPyConnection,
                                                                      tmp_path: Path) -> None:
    f = write(tmp_path / "rechnungen.csv", ERP.replace(";Pos", "").replace(";1;", ";").replace(";2;", ";"))
    text = draft(f, "invoices")
    doc = yaml.safe_load(text)
    cols = doc["exports"]["invoices"]["columns"]
    assert doc["delimiter"] == ";" and cols["amount"]["decimal_separator"] == ","
    assert cols["invoice_date"]["date_format"] == "%d.%m.%Y"
    assert cols["invoice_line"] == {"number_within": ["invoice_id"]}  # Beleg repeats: lines numbered within it
    m = load_mapping(write(tmp_path / "m.yaml", text))
    cols = m.columns("invoices")
    assert cols["invoice_id"].from_ == ["Beleg"] and cols["amount"].from_ == ["Betrag"]
    # German names the synonyms do not know are TODO constants, each commented
    assert "# supplier_id: TODO" in text or cols["supplier_id"].from_ == ["Lieferant"]
    r = ingest_file(con, f, export_type="invoices", mapping=m)
    assert r.rows_read == r.rows_loaded + r.rows_quarantined + r.rows_filtered == 3
    assert r.outcome == "loaded"
    assert con.sql("SELECT sum(amount) FROM invoices").fetchall()[0][0] == pytest.approx(1234.56 - 99.5 + 10)


def test_the_drafted_gla_mapping_loads_the_gla_export_with_the_documented_edit(con: duckdb.DuckDBPyConnection,
                                                                              tmp_path: Path) -> None:
    gla = gla_export(tmp_path)  # the real export where the workspace has it (tests/gla.py)
    text = draft(gla)
    assert yaml.safe_load(text)["exports"]["invoices"]["columns"]["currency"] == {"value": "EUR"}
    assert "# currency: TODO" in text
    edited = text.replace("currency: {value: EUR}", "currency: {value: GBP}")  # the one edit docs/loading.md shows
    assert edited != text
    r = ingest_file(con, gla, mapping=load_mapping(write(tmp_path / "gla.yaml", edited)))
    source = pl.read_csv(gla, infer_schema=False)
    assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", source.height, source.height, 0)
    expected = source["Amount"].cast(pl.Float64).sum()
    assert con.sql("SELECT sum(amount) FROM invoices").fetchall()[0][0] == pytest.approx(expected, abs=0.005)
    assert con.sql("SELECT DISTINCT currency FROM invoices").fetchall() == [("GBP",)]


def test_draft_cli_writes_a_file_and_never_overwrites(tmp_path: Path) -> None:
    f = write(tmp_path / "invoices.csv", ERP)
    out = tmp_path / "m.yaml"
    r = runner.invoke(app, ["mapping", "draft", str(f), "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    assert load_mapping(out).export_type == "invoices"
    r = runner.invoke(app, ["mapping", "draft", str(f), "-o", str(out)])
    assert r.exit_code == 2 and "exists" in r.stderr


def test_check_previews_rows_and_every_broken_rule_without_loading(tmp_path: Path) -> None:
    f = write(tmp_path / "invoices.csv", ERP + "5102;1;L-2;400100;CC-2;Packaging;31.02.2026;06.03.2026;x;EUR\n")
    m = write(tmp_path / "m.yaml", draft(write(tmp_path / "clean.csv", ERP), "invoices"))
    r = runner.invoke(app, ["mapping", "check", str(f), "--mapping", str(m), "--rows", "10"],
                      env={"TANDEM_DB": str(tmp_path / "never.duckdb")})
    assert r.exit_code == 3, r.stderr
    assert "5100" in r.stdout and "1234.56" in r.stdout
    assert "line 5, column amount" in r.stdout and "line 5, column invoice_date" in r.stdout
    assert "4 rows read: 3 would load, 1 would be quarantined, 0 filtered out" in r.stdout
    assert not (tmp_path / "never.duckdb").exists()
    ok = runner.invoke(app, ["mapping", "check", str(tmp_path / "clean.csv"), "--mapping", str(m)])
    assert ok.exit_code == 0, ok.stdout


def test_the_data_page_previews_an_upload_as_mapped_without_loading(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.rows import VALID
    from tests.test_app import app as page

    db = tmp_path / "upload.duckdb"
    bad = pl.DataFrame([VALID["purchase_orders"], VALID["purchase_orders"] | {"po_line": "2", "status": "draft"}]
                       ).write_csv().encode()
    at = page(db, monkeypatch, "data")
    at.get("file_uploader")[0].set_value([("purchase_orders_march.csv", bad, "text/csv")]).run()
    [b for b in at.button if b.label == "Preview as mapped"][0].click().run()
    assert not at.exception
    texts = [t.value for t in at.text]
    assert "purchase_orders_march.csv as purchase_orders: 2 rows read, 1 would load, 1 would be quarantined, " \
           "0 filtered out" in texts
    assert any("line 3, column status" in t for t in texts)
    assert at.dataframe[0].value["po_line"].tolist() == [1, 2]
    assert not db.exists()  # nothing loaded, the database never opened


HOSTILE_HEADERS = [
    'Amount\nparsing:\n  decimal_separator: ","\n  thousands_separator: "."',  # a block written after a comment
    "Amount\r\nparsing: {decimal_separator: ','}",
    "Amount\u2028parsing: {decimal_separator: ','}",  # a Unicode line separator, a line break to YAML
    "Amount # parsing: x",
    "'Amount': {from: x}",
]


@pytest.mark.parametrize("hostile", HOSTILE_HEADERS, ids=range(len(HOSTILE_HEADERS)))
def test_a_hostile_header_reads_back_as_the_same_column_name_and_nothing_else(
        con: duckdb.DuckDBPyConnection, tmp_path: Path, hostile: str) -> None:
    """Issue 25: a header cell with line breaks once wrote a `parsing:` block into the drafted YAML, and
    every amount loaded ×100. The draft is written by a serializer: the cell is the column's name, whole."""
    import csv

    f = tmp_path / "invoices.csv"
    with f.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["invoice_id", "supplier_id", "invoice_date", hostile, "currency"])
        w.writerows([["I1", "S1", "2026-01-10", "12.50", "EUR"], ["I2", "S1", "2026-01-11", "1250.00", "EUR"]])
    text = draft(f, "invoices")
    doc = yaml.safe_load(text)
    assert set(doc) == {"name", "description", "exports"}  # nothing else at the top
    cols = doc["exports"]["invoices"]["columns"]
    assert cols["amount"] == {"from": hostile}  # the cell, whole, as the column's name
    assert set(doc["exports"]["invoices"]) == {"columns"}
    m = load_mapping(write(tmp_path / "m.yaml", text))
    assert m.parsing.decimal_separator == "." and m.parsing.thousands_separator == ""
    r = ingest_file(con, f, mapping=m)
    assert (r.outcome, r.rows_loaded) == ("loaded", 2)
    assert con.sql("SELECT amount FROM invoices ORDER BY invoice_id").fetchall() == [(12.5,), (1250.0,)]


# --- issue 26: what real registers still broke, each on a small file built here ------------------------------


def _csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8", preamble: str = "") -> Path:
    import csv
    import io

    buf = io.StringIO(newline="")
    buf.write(preamble)
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _load_drafted(con: duckdb.DuckDBPyConnection, tmp_path: Path, f: Path, text: str, **how: object):  # noqa: ANN202
    r = ingest_file(con, f, mapping=load_mapping(write(tmp_path / "m.yaml", text)), **how)
    assert r.rows_read == r.rows_loaded + r.rows_quarantined + r.rows_filtered
    return r


def test_decimal_commas_without_a_leading_zero_and_a_title_line(con: duckdb.DuckDBPyConnection,
                                                                tmp_path: Path) -> None:
    """`,5` was no number to the draft's sniffing: the amount column was missed. A title line above the
    header was taken as the header without a word."""
    rows = [["R-1", "L-1", "2026-02-03", "12,50"], ["R-2", "L-1", "2026-02-04", ",5"],
            ["R-3", "L-2", "2026-02-05", "1.234,00"], ["R-4", "L-2", "2026-02-05", "-,75"]]
    f = _csv(tmp_path / "rechnungen.csv", ["Beleg", "Lieferant", "Datum", "Betrag"], rows,
             preamble="Rechnungsausgangsbuch Februar 2026\n")
    text = draft(f, "invoices")
    doc = yaml.safe_load(text)
    assert doc["header_row"] == 2
    assert "# the header is on line 2: the line(s) above it are a preamble ('Rechnungsausgangsbuch Februar 2026')" in text
    assert doc["exports"]["invoices"]["columns"]["amount"] == {"from": "Betrag", "decimal_separator": ",",
                                                               "thousands_separator": "."}
    r = _load_drafted(con, tmp_path, f, text)
    assert (r.outcome, r.rows_loaded) == ("loaded", 4)
    # independent: 12.50 + 0.50 + 1234.00 - 0.75
    assert con.sql("SELECT sum(amount) FROM invoices").fetchall()[0][0] == pytest.approx(1246.25)


def test_an_amount_column_with_a_few_cells_that_are_not_numbers(con: duckdb.DuckDBPyConnection,
                                                               tmp_path: Path) -> None:
    """32 of 7,613 cells `None` or garbage: no amount column was proposed at all. Now it is, `None` read as
    empty, and the rows that are not numbers are quarantined (nothing lost)."""
    bad = {n: "None" for n in range(100, 7_613, 251)} | {7_000: "#REF!", 7_001: "#REF!"}
    rows = [[f"P{n}", "Acme", "2026-01-05", bad.get(n, f"{n}.{n % 100:02d}")] for n in range(7_613)]
    assert sum(1 for v in bad.values() if v == "None") == 30
    f = _csv(tmp_path / "payments.csv", ["Payment No", "Payee", "Payment Date", "Amount"], rows)
    text = draft(f, "invoices")
    amount = yaml.safe_load(text)["exports"]["invoices"]["columns"]["amount"]
    assert amount == {"from": "Amount", "empty": ["None"]}
    assert "32 of 7,613 sample cells are not numbers ('None' ×30, '#REF!' ×2): 'None' read as empty; the other " \
           "rows would be quarantined" in text
    r = _load_drafted(con, tmp_path, f, text, allow_partial=True)
    assert (r.rows_loaded, r.rows_quarantined) == (7_581, 32)
    expected = sum(Decimal(f"{n}.{n % 100:02d}") for n in range(7_613) if n not in bad)  # independent
    assert con.sql("SELECT sum(amount) FROM invoices").fetchall()[0][0] == pytest.approx(float(expected))


def test_a_date_is_no_id_and_a_row_number_is_no_document_key(tmp_path: Path) -> None:
    """`contract_id: {from: Contract Date}` and a portal's `_id` (1, 2, 3, ...) as the document key over a
    repeating payment reference: both were drafted."""
    contracts = _csv(tmp_path / "register.csv", ["Contract Date", "Vendor", "Reference", "Expiry", "Value"],
                     [["2024-01-0" + str(n), "Acme", f"K-{n}", "2025-12-31", "100.00"] for n in range(1, 6)])
    cols = yaml.safe_load(draft(contracts, "contracts"))["exports"]["contracts"]["columns"]
    assert cols["contract_id"] == {"from": "Reference"} and cols["start_date"] == {"from": "Contract Date"}
    portal = _csv(tmp_path / "portal.csv", ["_id", "Payment Reference", "Payee", "Date", "Amount"],
                  [[str(n), f"PR-{(n + 1) // 2}", "Acme", "2026-01-05", "10.00"] for n in range(1, 7)])
    text = draft(portal, "invoices")
    cols = yaml.safe_load(text)["exports"]["invoices"]["columns"]
    assert cols["invoice_id"] == {"from": "Payment Reference"}
    assert cols["invoice_line"] == {"number_within": ["invoice_id"]}
    assert "_id: a row number, not a key" in text


def test_the_export_type_is_guessed_with_its_reason(tmp_path: Path) -> None:
    """A payments file was guessed as suppliers without a word."""
    f = _csv(tmp_path / "payments_2026.csv", ["Vendor Name", "Vendor ID", "Payment Date", "Check Number", "Amount"],
             [["Acme", "V1", "2026-01-05", "1001", "12.50"], ["Beta", "V2", "2026-01-06", "1002", "99.00"]])
    text = draft(f)
    assert "  invoices:\n" in text
    reason = next(line for line in text.splitlines() if "# Export type" in line)
    assert reason.startswith("  # Export type invoices: 4 column name(s) match its columns (Amount, Payment Date, "
                             "Vendor ID, Vendor Name), with dates and amounts; next ")


@pytest.mark.parametrize(("encoding", "written"), [("cp1252", "cp1252"), ("utf-16-le", "utf-16-le"),
                                                   ("utf-16", "utf-16")])
def test_the_encoding_is_found_and_written_into_the_mapping(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                                            encoding: str, written: str) -> None:
    """A file that is not UTF-8 was decoded lossily without a word: the draft names the encoding, and the
    mapping loads the file with no --encoding."""
    rows = [["F-1", "Café Müller", "2026-01-05", "12.50"], ["F-2", "Señor Über", "2026-01-06", "7.25"]]
    f = _csv(tmp_path / "invoices.csv", ["Invoice", "Supplier", "Date", "Amount"], rows, encoding=encoding)
    text = draft(f)
    assert yaml.safe_load(text)["encoding"] == written
    r = _load_drafted(con, tmp_path, f, text)
    assert (r.outcome, r.rows_loaded) == ("loaded", 2)
    assert con.sql("SELECT supplier_id FROM invoices ORDER BY 1").fetchall() == [("Café Müller",), ("Señor Über",)]


def _workbook(path: Path) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(path)
    wb.add_worksheet("Cover").write_column(0, 0, ["Notes", "This workbook lists payments", "Source: finance"])
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, ["Payments 2026"])  # a title row above the header
    ws.write_row(1, 0, ["Payment Ref", "Payee", "Date", "Amount"])
    for n, row in enumerate([["P-1", "Acme", "2026-01-05", 10.5], ["P-1", "Acme", "2026-01-05", 0.5],
                             ["P-2", "Beta", "2026-01-06", 1200.0]], start=2):
        ws.write_row(n, 0, row)
    other = wb.add_worksheet("Other")
    other.write_row(0, 0, ["Invoice", "Supplier", "Date", "Amount"])
    other.write_row(1, 0, ["X-1", "Gamma", "2026-02-01", 5.0])
    wb.close()
    return path


def test_a_workbook_is_drafted_from_its_first_sheet_with_a_header(con: duckdb.DuckDBPyConnection,
                                                                  tmp_path: Path) -> None:
    f = _workbook(tmp_path / "payments.xlsx")
    text = draft(f, "invoices")
    doc = yaml.safe_load(text)
    assert (doc["sheet"], doc["header_row"]) == ("Data", 2)
    assert "# the first sheet with a header and rows (the workbook has Cover, Data, Other)" in text
    r = _load_drafted(con, tmp_path, f, text)
    assert (r.outcome, r.rows_loaded) == ("loaded", 3)
    assert con.sql("SELECT invoice_id, invoice_line, amount FROM invoices ORDER BY 1, 2").fetchall() == [
        ("P-1", 1, 10.5), ("P-1", 2, 0.5), ("P-2", 1, 1200.0)]
    other = yaml.safe_load(draft(f, "invoices", sheet="Other"))
    assert other["sheet"] == "Other" and "header_row" not in other
    with pytest.raises(TandemError, match="the workbook has no sheet 'Nope'; its sheets are Cover, Data, Other"):
        draft(f, sheet="Nope")
