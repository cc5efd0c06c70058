"""`tandem mapping draft` and `tandem mapping check`: a draft from a header and a sample loads the file
with at most the edits the README shows; a check previews the mapped rows and every broken rule, and
writes nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from pipelines.draft import draft
from pipelines.mappings import load_mapping
from tandem.cli import app
from tandem.db import ingest_file
from tests.conftest import write
from tests.test_mappings import REAL_GLA

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


def test_the_drafted_gla_mapping_loads_the_real_file_with_the_readme_edit(con: duckdb.DuckDBPyConnection,
                                                                         tmp_path: Path) -> None:
    text = draft(REAL_GLA)
    assert yaml.safe_load(text)["exports"]["invoices"]["columns"]["currency"] == {"value": "EUR"}
    assert "# currency: TODO" in text
    edited = text.replace("currency: {value: EUR}", "currency: {value: GBP}")  # the README's one edit
    assert edited != text
    r = ingest_file(con, REAL_GLA, mapping=load_mapping(write(tmp_path / "gla.yaml", edited)))
    assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 7037, 7037, 0)
    expected = pl.read_csv(REAL_GLA, infer_schema=False)["Amount"].cast(pl.Float64).sum()
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
