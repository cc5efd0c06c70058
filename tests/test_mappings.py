"""Source mappings: each transformation on a small hand-written sample, the bundled SAP and GLA mappings,
and a cut of the real GLA export (tests/samples/README.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.compile import _text, reader_types
from pipelines.mappings import IDENTITY, Mapping, load_mapping
from pipelines.schemas import EXPORTS
from store.errors import TandemError
from tests.conftest import table, write
from tests.gla import gla_export
from tests.rows import VALID
from workspace.db import connect, ingest_file

SAP_INVOICES = (
    "BELNR;BUZEI;LIFNR;EBELN;EBELP;MATNR;MATKL;KOSTL;HKONT;BLDAT;NETDT;AUGDT;MENGE;WRBTR;WAERS\n"
    "5100000001;1;  0000100234  ;4500000011;10;M-1;  Packaging ;CC-OPS;400100;03.02.2026;05.03.2026;01.03.2026;"
    "1.000;1.234,56;EUR\n"
    "5100000001;2;0000100234;;;;Services;CC-OPS;400200;03.02.2026;05.03.2026;;;-99,5;EUR\n"
)


def test_sap_mapping_decimal_comma_day_first_dates_padding(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    f = write(tmp_path / "invoices_sap.csv", SAP_INVOICES)
    r = ingest_file(con, f, mapping=load_mapping("sap"))
    assert (r.outcome, r.rows_loaded) == ("loaded", 2)
    rows = table(con, "invoices").sort("invoice_line").to_dicts()
    assert rows[0] == {
        "invoice_id": "5100000001", "invoice_line": 1, "supplier_id": "0000100234", "po_id": "4500000011",
        "po_line": 10, "item_id": "M-1", "category": "Packaging", "cost_center": "CC-OPS", "gl_account": "400100",
        "invoice_date": date(2026, 2, 3), "due_date": date(2026, 3, 5), "paid_date": date(2026, 3, 1),
        "quantity": 1000.0, "amount": 1234.56, "currency": "EUR",
    }
    assert (rows[1]["amount"], rows[1]["po_id"], rows[1]["po_line"], rows[1]["paid_date"]) == (-99.5, None, None, None)


GLA_SAMPLE = (
    "ID,VendorID,Vendor,AccountCode,AccountDescription,DocNo,Amount,Date,Source\n"
    "0,,JILL BARTLETT & COMPANY LTD,,Catering Charges,,1390.11,2008-04-01,338-april_2008\n"
    "1,V42,2CL COMMUNICATIONS LTD,5100,Postage,991,\"1,222.01\",2008-04-01,4-april_2008\n"
    "2,,ACCOR SERVICES,,,,-8109.34,2008-04-02,5-april_2008\n"
    "3,,ACCOR SERVICES,,,,-8109.34,2008-04-02,5-april_2008\n"
)


def test_gla_mapping_fallbacks_constants_and_generated_keys(tmp_path: Path) -> None:
    f = write(tmp_path / "gla.csv", GLA_SAMPLE)
    keys = []
    for n in (1, 2):  # two separate databases: the generated keys must be the same
        c = connect(tmp_path / f"db{n}.duckdb")
        r = ingest_file(c, f, mapping=load_mapping("gla"))
        assert (r.export_type, r.outcome, r.rows_loaded) == ("invoices", "loaded", 4)
        df = c.sql("SELECT * FROM invoices ORDER BY invoice_date, amount DESC, invoice_id").pl()
        keys.append(sorted(df["invoice_id"].to_list()))
        c.close()
    assert keys[0] == keys[1]
    assert len(set(keys[0])) == 4 and all(k.startswith("GLA-") for k in keys[0])  # identical rows 2 and 3 differ
    assert set(df["supplier_id"]) == {"JILL BARTLETT & COMPANY LTD", "V42", "ACCOR SERVICES"}
    by_amount = {row["amount"]: row for row in df.to_dicts()}
    assert by_amount[1222.01]["supplier_id"] == "V42" and by_amount[1222.01]["gl_account"] == "5100"
    assert by_amount[1390.11]["supplier_id"] == "JILL BARTLETT & COMPANY LTD"
    assert by_amount[1390.11]["gl_account"] == "UNKNOWN"
    assert by_amount[-8109.34]["category"] == "Unclassified"
    assert set(df["currency"]) == {"GBP"} and set(df["cost_center"]) == {"GLA"}
    first = by_amount[1390.11]
    assert first["invoice_date"] == first["due_date"] == first["paid_date"] == date(2008, 4, 1)


def test_trimming_strips_exactly_what_trim_strips() -> None:
    # The guarded trim must agree with DuckDB's trim() on every cell: all 17 space separators at either
    # end, inside, alone, tabs and non-ASCII text (which trim keeps), empty and NULL.
    spaces = [" ", "\u00a0", "\u1680", *map(chr, range(0x2000, 0x200B)), "\u202f", "\u205f", "\u3000"]
    cells = [None, "", "a", "\ta\t", "Café", "ä b", "€", "a\u00e9\u00a0"]
    cells += [s + "x" for s in spaces] + ["x" + s for s in spaces] + [s + "é y" + s for s in spaces] + spaces
    con = duckdb.connect()
    con.execute("CREATE TABLE t (c VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[c] for c in cells])
    got = con.sql(f"SELECT c, {_text('c', True)} AS guarded, NULLIF(trim(c), '') AS plain FROM t").fetchall()
    assert len(got) == len(cells) == 8 + 3 * 17 + 17
    assert [g for _, g, _ in got] == [p for _, _, p in got]
    assert {c: g for c, g, _ in got if c in ("x\u3000", "\u00a0x", "\ta\t")} == {
        "x\u3000": "x", "\u00a0x": "x", "\ta\t": "\ta\t"}


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("%m/%d/%Y %H:%M", "03/04/2026 17:45", date(2026, 3, 4)),
        ("%d-%b-%y", "04-Mar-26", date(2026, 3, 4)),
        ("%d/%m/%Y", "04/03/2026", date(2026, 3, 4)),
    ],
)
def test_date_formats(con: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str, text: str, expected: date) -> None:
    m = write(tmp_path / "m.yaml", f"""
name: custom
exports:
  fx_rates:
    columns:
      period: {{from: Month, date_format: "{fmt}"}}
      currency: {{value: USD}}
      rate_to_reporting: {{from: Rate, decimal_separator: ","}}
""")
    f = write(tmp_path / "rates.csv", f'Month,Rate\n"  {text} ","0,9"\n')
    r = ingest_file(con, f, mapping=load_mapping(m))
    assert (r.export_type, r.outcome) == ("fx_rates", "loaded")
    # A period keeps the month of the date the format gave.
    assert con.sql("SELECT period, currency, rate_to_reporting FROM fx_rates").fetchall() == [
        (expected.replace(day=1), "USD", 0.9)
    ]


def test_default_fills_only_empty_cells(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    m = write(tmp_path / "m.yaml", """
name: d
exports:
  suppliers:
    columns:
      supplier_id: {from: Id}
      supplier_name: {from: Name}
      preferred: {from: Pref, default: "no"}
      payment_terms_days: {from: Terms, default: 30}
""")
    f = write(tmp_path / "s.csv", "Id,Name,Pref,Terms\nA,Alpha,yes,\nB,Beta,, 45 \n")
    ingest_file(con, f, mapping=load_mapping(m))
    assert con.sql("SELECT supplier_id, preferred, payment_terms_days FROM suppliers ORDER BY 1").fetchall() == [
        ("A", True, 30), ("B", False, 45)]


def test_mapping_errors_name_the_problem(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", "name: x\nexports:\n  invoices:\n    columns:\n      amount: {from: A, value: 1}\n")
    with pytest.raises(TandemError, match="exports.invoices.columns.amount: give exactly one of 'from', 'value'"):
        load_mapping(bad)
    with pytest.raises(TandemError, match="unknown export type"):
        load_mapping(write(tmp_path / "t.yaml", "name: x\nexports:\n  bills: {}\n"))
    with pytest.raises(TandemError, match="does not exist"):
        load_mapping(tmp_path / "nope.yaml")


def test_mapping_reading_a_missing_source_column(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    f = write(tmp_path / "invoices.csv", "BELNR;BUZEI\n1;1\n")
    with pytest.raises(TandemError, match=r"reads column\(s\) .*LIFNR.* that the file does not have"):
        ingest_file(con, f, mapping=load_mapping("sap"))


def test_the_gla_export_loads_completely(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    gla = gla_export(tmp_path)  # the real export where the workspace has it (tests/gla.py)
    source = pl.read_csv(gla, infer_schema=False)
    n = source.height
    r = ingest_file(con, gla, mapping=load_mapping("gla"))
    assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", n, n, 0)
    expected = source["Amount"].cast(pl.Float64).sum()
    assert con.sql("SELECT sum(amount) FROM invoices").fetchall()[0][0] == pytest.approx(expected, abs=0.005)
    assert con.sql("SELECT count(*) FROM invoices WHERE amount < 0").fetchall()[0][0] > 0  # credits kept
    # Missing GBP rates are findings, not silent drops.
    assert con.sql("SELECT sum(rows) FROM dq_findings WHERE rule = 'missing FX rate'").fetchall()[0][0] == n
    again = ingest_file(con, gla, mapping=load_mapping("gla"))
    assert again.outcome == "unchanged"


def test_reader_types_only_plain_columns_read_as_they_are() -> None:
    """The clean path's reader types a number or date column only where its cell is the value as it is:
    not with a decimal comma, thousands separators, another date format, a default, or a source column
    that feeds two canonical columns."""
    spec = EXPORTS["invoices"]
    header = list(VALID["invoices"])
    assert reader_types(IDENTITY, spec, header) == {
        "invoice_line": ("invoice_line", "DOUBLE"), "po_line": ("po_line", "DOUBLE"),
        "invoice_date": ("invoice_date", "DATE"), "due_date": ("due_date", "DATE"),
        "paid_date": ("paid_date", "DATE"), "quantity": ("quantity", "DOUBLE"), "amount": ("amount", "DOUBLE")}
    mapping = Mapping.model_validate({"name": "m", "exports": {"invoices": {"columns": {
        "amount": {"from": "Net Amount"},                                      # renamed: still plain
        "quantity": {"from": "quantity", "decimal_separator": ","},           # decimal comma
        "invoice_date": {"from": "Posted"}, "due_date": {"from": "Posted"},  # one source, two columns
        "paid_date": {"from": "paid_date", "date_format": "%d/%m/%Y"},        # another format
        "po_line": {"from": "po_line", "default": "1"},                       # a default for empty cells
        "invoice_line": {"from": "invoice_line", "thousands_separator": ","},
    }}}})
    header = [*header, "net amount", "posted"]
    assert reader_types(mapping, spec, header) == {"amount": ("net amount", "DOUBLE")}
    assert reader_types(mapping.model_copy(update={"trim": False}), spec, header) == {}
