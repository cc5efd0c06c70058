"""Compiling a mapping into SQL: money written with its currency (issue 26), read by one parser shared with
the draft; a code in the cell that contradicts the row's currency quarantines the row under its rule."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.compile import CODE_RULE, NumberStyle, number_sql
from pipelines.draft import Numbers, draft
from pipelines.mappings import load_mapping
from tests.conftest import write
from workspace.db import connect, ingest_file

US = NumberStyle(".", ",", ("$",), True)
EU = NumberStyle(",", ".", ("€",), True)


@pytest.mark.parametrize(("text", "style", "value"), [
    ("$129,348.42", US, 129348.42), ("$ 200.25", US, 200.25), ("-$5.00", US, -5.0), ("$-5.00", US, -5.0),
    ("($1,000.50)", US, -1000.5), ("1,317,169.92 CAD", US, 1317169.92), ("CAD 12.00", US, 12.0),
    ("$1,311,936.00 USD", US, 1311936.0), ("12", US, 12.0), ("1.317.169,92 €", EU, 1317169.92),
    ("€1.317.169,92", EU, 1317169.92), ("1.317.169,92\u00a0€", EU, 1317169.92), (",5 €", EU, 0.5),
    ("$$5", US, None), ("5 $ 5", US, None), ("abc", US, None), ("£5", US, None), ("", US, None),
])
def test_one_parser_reads_money_with_its_currency(text: str, style: NumberStyle, value: float | None) -> None:
    got = duckdb.sql(f"SELECT {number_sql('t', style)} FROM (SELECT ? AS t)", params=[text]).fetchall()  # type: ignore[call-arg]
    assert got == [(value,)]


def test_the_draft_reads_cells_with_the_loaders_parser() -> None:
    """What the draft proposes reads each cell as the loader will: the same SQL, run on the sample."""
    cells = ["$129,348.42", "$ 200.25", "1,317,169.92 CAD", "$1,311,936.00 USD", "($5.00)"]
    fit = Numbers().fit(cells)
    assert fit is not None and fit.style == NumberStyle(".", ",", ("$",), True) and not fit.bad
    assert Numbers().read(cells, fit.style) == [129348.42, 200.25, 1317169.92, 1311936.0, -5.0]


REGISTER = [  # a contracts register in CAD, as a purchase-order export: one line per contract, its value
    ("C-1", "Acme", "01/02/2024", "$129,348.42"),
    ("C-2", "Beta", "05/02/2024", "$ 200.25"),
    ("C-3", "Gamma", "07/02/2024", "1,317,169.92 CAD"),
    ("C-4", "Delta", "09/02/2024", "$1,311,936.00 USD"),  # a code that is not the register's currency
    ("C-5", "Acme", "12/03/2024", "CAD 1,000.00"),  # the code before the number
]


def _register(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Contract Number", "Vendor", "Contract Date", "Value"])
        w.writerows(REGISTER)
    return path


def test_a_drafted_register_loads_its_money_and_quarantines_a_contradicting_code(tmp_path: Path) -> None:
    """Issue 26: the draft stripped the symbols when it sniffed the column, the loader did not, and every
    row was quarantined. Now the draft proposes the symbols and codes, a register with only a value gets
    quantity 1, the currency comes from the code the cells carry, and `$1,311,936.00 USD` in a CAD register
    is quarantined under its rule, never read silently as CAD."""
    f = _register(tmp_path / "register.csv")
    text = draft(f, "purchase_orders")
    cols = yaml.safe_load(text)["exports"]["purchase_orders"]["columns"]
    assert cols["unit_price"] == {"from": "Value", "thousands_separator": ",", "currency_symbols": ["$"],
                                  "currency_codes": True}
    assert cols["quantity"] == {"value": "1"} and cols["currency"] == {"value": "CAD"}
    assert "# quantity: no quantity in the file: each line taken as 1 unit of its value" in text
    con = connect(tmp_path / "t.duckdb")
    try:
        r = ingest_file(con, f, mapping=load_mapping(write(tmp_path / "m.yaml", text)), allow_partial=True)
        assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (5, 4, 1)
        assert con.sql("SELECT line, column_name, rule, value FROM quarantine").fetchall() == [
            (5, "unit_price", CODE_RULE, "$1,311,936.00 USD")]
        # independent: the CAD cells' numbers, by hand
        expected = Decimal("129348.42") + Decimal("200.25") + Decimal("1317169.92") + Decimal("1000.00")
        assert con.sql("SELECT sum(quantity * unit_price), min(currency), max(currency) FROM purchase_orders"
                       ).fetchall() == [(pytest.approx(float(expected)), "CAD", "CAD")]
    finally:
        con.close()


def test_money_settings_for_a_european_export(tmp_path: Path) -> None:
    """`1.317.169,92 €`: a decimal comma, '.' thousands and the symbol after the number, set for the export."""
    f = write(tmp_path / "invoices.csv",
              "invoice_id,invoice_line,supplier_id,category,cost_center,gl_account,invoice_date,due_date,amount,currency\n"
              'A1,1,S1,C,CC,GL,2024-01-05,2024-02-04,"1.317.169,92 €",EUR\n'
              'A2,1,S1,C,CC,GL,2024-01-06,2024-02-05,"-200,25 €",EUR\n'
              'A3,1,S1,C,CC,GL,2024-01-06,2024-02-05,"€ 0,75",EUR\n')
    m = load_mapping(write(tmp_path / "m.yaml", 'name: eu\nparsing: {decimal_separator: ",", thousands_separator: ".", '
                                                'currency_symbols: ["€"]}\nexports:\n  invoices: {}\n'))
    con = connect(tmp_path / "t.duckdb")
    try:
        r = ingest_file(con, f, mapping=m)
        assert (r.outcome, r.rows_loaded) == ("loaded", 3)
        assert con.sql("SELECT sum(amount) FROM invoices").fetchall()[0][0] == pytest.approx(1317169.92 - 200.25 + 0.75)
    finally:
        con.close()


def test_without_the_setting_a_symbol_is_a_cell_that_does_not_parse(tmp_path: Path) -> None:
    f = write(tmp_path / "invoices.csv",
              "invoice_id,invoice_line,supplier_id,category,cost_center,gl_account,invoice_date,due_date,amount,currency\n"
              'A1,1,S1,C,CC,GL,2024-01-05,2024-02-04,"$129,348.42",USD\n')
    con = connect(tmp_path / "t.duckdb")
    try:
        r = ingest_file(con, f)
        assert r.outcome == "rejected"
        assert con.sql("SELECT rule, value FROM quarantine WHERE column_name = 'amount'").fetchall() == [
            ("type: a decimal number", "$129,348.42")]
    finally:
        con.close()
