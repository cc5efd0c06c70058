"""The fuller mapping language of issue 16, each on a hand-written sample: tokens read as empty, row
filters with a reason, computed columns, line numbers within a key, master data from transactions.
Every load asserts read = loaded + quarantined + filtered."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import load as load_module
from pipelines.load import LoadResult
from pipelines.mappings import load_mapping
from store.errors import TandemError
from tests.conftest import table, write
from workspace.db import ingest_file


def _balanced(r: LoadResult) -> None:
    assert r.rows_read == r.rows_loaded + r.rows_quarantined + r.rows_filtered, r


def _mapping(tmp_path: Path, text: str) -> object:
    return load_mapping(write(tmp_path / "m.yaml", text))


PO_HEAD = "PO,Vendor,Type,Ordered,Delivered,Qty,LineValue,Curr\n"
PO_MAP = """name: scms
empty: ["N/A - From RDC"]
exports:
  purchase_orders:
    columns:
      po_id: {from: PO}
      po_line: {value: 1}
      supplier_id: {from: Vendor}
      category: {value: Health}
      cost_center: {value: X}
      order_date: {from: [Ordered, Delivered], empty: ["Date Not Captured"]}
      quantity: {from: Qty}
      unit_price: {from: LineValue}
      currency: {from: Curr}
      status: {value: closed}
"""


def test_tokens_read_as_empty_fall_back_or_are_missing(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    f = write(tmp_path / "po.csv", PO_HEAD +
              "A1,V1,Order,N/A - From RDC,2024-01-05,10,1.5,USD\n"     # mapping-wide token: falls back
              "A2,V1,Order,Date Not Captured,2024-01-07,4,2,USD\n"     # column token: falls back
              "A3,V2,Order,2024-02-01,Date Not Captured,1,5,USD\n"     # the first source is there
              "A4,V2,Order,Date Not Captured,N/A - From RDC,2,7,USD\n"  # both empty: required, quarantined
              "A5,V2,Order, Date Not Captured ,2024-03-01,2,7,USD\n")  # trimmed before the comparison
    r = ingest_file(con, f, mapping=_mapping(tmp_path, PO_MAP), allow_partial=True)
    _balanced(r)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (5, 4, 1)
    got = {x["po_id"]: x["order_date"] for x in table(con, "purchase_orders").to_dicts()}
    assert got == {"A1": date(2024, 1, 5), "A2": date(2024, 1, 7), "A3": date(2024, 2, 1), "A5": date(2024, 3, 1)}
    q = con.sql("SELECT line, column_name, rule FROM quarantine").fetchall()
    assert q == [(5, "order_date", "required")]


def test_a_token_in_a_nullable_column_is_a_missing_value(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    m = _mapping(tmp_path, PO_MAP.replace("      status:", "      item_id: {from: Type, empty: [Order]}\n      status:"))
    f = write(tmp_path / "po.csv", PO_HEAD + "A1,V1,Order,2024-01-05,,10,1.5,USD\nA2,V1,Kit,2024-01-05,,1,1,USD\n")
    r = ingest_file(con, f, mapping=m)
    _balanced(r)
    assert r.rows_loaded == 2
    assert dict(con.sql("SELECT po_id, item_id FROM purchase_orders").fetchall()) == {"A1": None, "A2": "Kit"}


FILTERS = """
    filters:
      - reason: internal transfer
        where: {column: Type, equals: Transfer}
      - reason: totals row
        where: {any: [{column: PO, starts_with: TOTAL}, {all: [{column: PO, empty: true}, {not: {column: Qty, empty: true}}]}]}
"""


def test_filters_leave_rows_out_with_their_reason(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    m = _mapping(tmp_path, PO_MAP.replace("    columns:\n", FILTERS + "    columns:\n", 1))
    f = write(tmp_path / "po.csv", PO_HEAD +
              "A1,V1,Order,2024-01-05,,10,1.5,USD\n"
              "A2,V1,Transfer,2024-01-05,,1,1,USD\n"
              "A3,V1,Order,2024-01-05,,-1,1,USD\n"      # quantity > 0 fails: quarantined, not filtered
              ",,,,,13,,\n"                             # no PO but a quantity: a totals row
              "TOTAL (USD),,,,,,2.5,\n")
    r = ingest_file(con, f, mapping=m, allow_partial=True)
    _balanced(r)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_filtered) == (5, 1, 1, 3)
    assert con.sql("SELECT line, reason FROM filtered ORDER BY line").fetchall() == [
        (3, "internal transfer"), (5, "totals row"), (6, "totals row")]
    log = con.sql("SELECT rows_read, rows_loaded, rows_quarantined, rows_filtered, message FROM load_log").fetchall()
    assert log[0][:4] == (5, 1, 1, 3) and "1 internal transfer, 2 totals row" in log[0][4]
    assert con.sql("SELECT count(*) FROM quarantine").fetchall()[0][0] == 1


def test_a_rejected_file_holds_back_only_the_rows_not_filtered(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    m = _mapping(tmp_path, PO_MAP.replace("    columns:\n", FILTERS + "    columns:\n", 1))
    f = write(tmp_path / "po.csv", PO_HEAD + "A1,V1,Order,2024-01-05,,10,1.5,USD\n"
              "A2,V1,Transfer,2024-01-05,,1,1,USD\nA3,V1,Order,bad,,1,1,USD\n")
    r = ingest_file(con, f, mapping=m)  # strict
    _balanced(r)
    assert (r.outcome, r.rows_loaded, r.rows_quarantined, r.rows_filtered) == ("rejected", 0, 2, 1)
    assert sorted(x[0] for x in con.sql("SELECT line FROM quarantine").fetchall()) == [2, 4]


def test_a_filter_on_a_column_the_file_lacks_says_so(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    m = _mapping(tmp_path, PO_MAP.replace("    columns:\n", "    filters: [{reason: r, where: {column: Nope, "
                                          "equals: x}}]\n    columns:\n", 1))
    with pytest.raises(TandemError, match="filters on column 'Nope'"):
        ingest_file(con, write(tmp_path / "po.csv", PO_HEAD + "A1,V1,Order,2024-01-05,,10,1.5,USD\n"), mapping=m)


def test_a_plain_mapping_keeps_the_clean_insert(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # The new features cost nothing when a mapping does not use them: no staging, no second pass.
    def staged(*a: object, **k: object) -> None:
        raise AssertionError("a plain file went to the staged path")

    monkeypatch.setattr(load_module, "_load_staged", staged)
    f = write(tmp_path / "po.csv", PO_HEAD + "A1,V1,Order,2024-01-05,,10,1.5,USD\n")
    r = ingest_file(con, f, mapping=_mapping(tmp_path, PO_MAP.replace('empty: ["N/A - From RDC"]\n', "")))
    _balanced(r)
    assert r.rows_loaded == 1


COMPUTED = """name: erp
parsing: {decimal_separator: ",", date_format: "%d.%m.%Y"}
exports:
  invoices:
    columns:
      invoice_id: {expr: "concat(Doc, '/', Year)"}
      invoice_line: {number_within: [invoice_id]}
      supplier_id: {from: Vendor}
      category: {value: Services}
      cost_center: {value: CC}
      gl_account: {value: "6000"}
      invoice_date: {expr: "date(Year, Month, 1)"}
      due_date: {from: Due}
      amount: {expr: '"Line Value" - Discount * 2'}
      quantity: {from: Qty}
      currency: {value: EUR}
"""


def test_computed_columns_and_line_numbers(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    f = write(tmp_path / "inv.csv", "Doc;Year;Month;Vendor;Due;Line Value;Discount;Qty\n"
              "9001;2024;1;V1;01.03.2024;100,50;0,25;1\n"
              "9001;2024;1;V1;01.03.2024;10;0;2\n"
              "9002;2024;2;V2;01.03.2024;7;1;3\n"
              "9001;2025;13;V2;01.03.2025;7;1;3\n"           # no month 13: invoice_date empty, quarantined
              "9001;2024;1;V1;01.03.2024;x;1;3\n")           # not a number: amount empty, quarantined
    m = _mapping(tmp_path, COMPUTED.replace("name: erp\n", "name: erp\ndelimiter: ';'\n"))
    r = ingest_file(con, f, export_type="invoices", mapping=m, allow_partial=True)
    _balanced(r)
    assert (r.rows_loaded, r.rows_quarantined) == (3, 2)
    rows = {(x["invoice_id"], x["invoice_line"]): (x["invoice_date"], x["amount"])
            for x in table(con, "invoices").to_dicts()}
    assert rows == {("9001/2024", 1): (date(2024, 1, 1), 100.0), ("9001/2024", 2): (date(2024, 1, 1), 10.0),
                    ("9002/2024", 1): (date(2024, 2, 1), 5.0)}
    q = sorted(con.sql("SELECT line, column_name FROM quarantine").fetchall())
    assert q == [(5, "invoice_date"), (6, "amount")]


def test_division_gives_unit_price_and_zero_is_empty(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    m = _mapping(tmp_path, PO_MAP.replace("unit_price: {from: LineValue}", 'unit_price: {expr: "LineValue / Qty"}'))
    f = write(tmp_path / "po.csv", PO_HEAD + "A1,V1,Order,2024-01-05,,4,10,USD\nA2,V1,Order,2024-01-05,,0,3,USD\n")
    r = ingest_file(con, f, mapping=m, allow_partial=True)
    _balanced(r)
    assert con.sql("SELECT po_id, unit_price FROM purchase_orders").fetchall() == [("A1", 2.5)]
    assert con.sql("SELECT column_name FROM quarantine ORDER BY 1").fetchall() == [("quantity",), ("unit_price",)]


@pytest.mark.parametrize(("expr", "says"), [
    ("__import__('os')", "one of the functions concat, date"),
    ("Qty ** 2", "a column name, a number"),
    ("Qty; DROP TABLE x", "a column name, a number, 'text'"),
    ("Vendor + 'x'", "numbers on both sides"),
    ("date(Year, Month)", "three parts"),
    ("(Qty", "')'"),
])
def test_expressions_outside_the_grammar_are_mapping_errors(tmp_path: Path, expr: str, says: str) -> None:
    f = write(tmp_path / "m.yaml", PO_MAP.replace("unit_price: {from: LineValue}",
                                                  "unit_price: {expr: " + _yaml_str(expr) + "}"))
    with pytest.raises(TandemError) as exc:
        load_mapping(f)
    assert "exports.purchase_orders.columns.unit_price.expr" in exc.value.message and says in exc.value.message


def _yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_an_expression_naming_a_missing_column_says_so(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    m = _mapping(tmp_path, PO_MAP.replace("unit_price: {from: LineValue}", 'unit_price: {expr: "Value / Qty"}'))
    with pytest.raises(TandemError, match=r"reads column\(s\) Value that the file does not have"):
        ingest_file(con, write(tmp_path / "po.csv", PO_HEAD + "A1,V1,Order,2024-01-05,,4,10,USD\n"), mapping=m)


SUPPLIERS = """name: payments
exports:
  suppliers:
    distinct: {rule: RULE}
    columns:
      supplier_id: {from: VendorNo}
      supplier_name: {from: Vendor}
      preferred: {value: "no"}
      payment_terms_days: {from: Terms}
"""
PAYMENTS = ("VendorNo,Vendor,Terms\n"
            "V1,Acme Ltd,30\n"
            "V2,Beta,14\n"
            "V1,ACME LIMITED,60\n"
            "V1,ACME LIMITED,60\n"
            ",Nobody,30\n"
            "V3,Gamma,x\n"
            "V3,Gamma,45\n")


@pytest.mark.parametrize(("rule", "acme", "terms"), [
    ("first", "Acme Ltd", 30), ("last", "ACME LIMITED", 60), ("most_frequent", "ACME LIMITED", 60)])
def test_master_data_from_a_payments_file(con: duckdb.DuckDBPyConnection, tmp_path: Path, rule: str, acme: str,
                                          terms: int) -> None:
    f = write(tmp_path / "payments.csv", PAYMENTS)
    r = ingest_file(con, f, export_type="suppliers", mapping=_mapping(tmp_path, SUPPLIERS.replace("RULE", rule)),
                    allow_partial=True)
    _balanced(r)
    # V1 three rows -> one; V3's unparsed terms lose to its number; the row with no key is quarantined.
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_filtered) == (7, 3, 1, 3)
    got = {x["supplier_id"]: (x["supplier_name"], x["payment_terms_days"]) for x in table(con, "suppliers").to_dicts()}
    assert got == {"V1": (acme, terms), "V2": ("Beta", 14), "V3": ("Gamma", 45)}
    merged = con.sql("SELECT line, reason FROM filtered ORDER BY line").fetchall()
    assert [x[0] for x in merged] == [4, 5, 8] and merged[0][1].startswith("merged into line 2 (same supplier_id")
    assert f"3 merged (same supplier_id; other columns: {rule.replace('_', ' ')})" in r.message


def test_the_documented_mapping_examples_are_valid(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "loading.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in doc.split("```yaml\n")[1:]]
    assert len(blocks) >= 3
    for n, block in enumerate(blocks):
        load_mapping(write(tmp_path / f"readme{n}.yaml", block))


def test_a_due_date_derived_from_the_invoice_date_and_agreed_terms(con: duckdb.DuckDBPyConnection,
                                                                   tmp_path: Path) -> None:
    m = _mapping(tmp_path, COMPUTED.replace("      due_date: {from: Due}\n",
                                            '      due_date: {expr: "add_days(date(Year, Month, 1), 30)"}\n')
                 .replace("name: erp\n", "name: erp\ndelimiter: ';'\n"))
    f = write(tmp_path / "inv.csv", "Doc;Year;Month;Vendor;Due;Line Value;Discount;Qty\n"
              "9001;2024;1;V1;;100,50;0,25;1\n9002;2024;2;V2;;7;1;3\n")
    r = ingest_file(con, f, export_type="invoices", mapping=m)
    _balanced(r)
    assert dict(con.sql("SELECT invoice_id, due_date FROM invoices").fetchall()) == {
        "9001/2024": date(2024, 1, 31), "9002/2024": date(2024, 3, 2)}
    m2 = _mapping(tmp_path, PO_MAP.replace("status: {value: closed}", "status: {value: closed}\n      "
                                           "item_id: {expr: \"concat('due ', add_days(Ordered, 14))\"}"))
    r = ingest_file(con, write(tmp_path / "po.csv", PO_HEAD + "A1,V1,Order,2024-01-05,,10,1.5,USD\n"), mapping=m2)
    _balanced(r)
    assert con.sql("SELECT item_id FROM purchase_orders").fetchall() == [("due 2024-01-19",)]


TERMS_MAP = """name: erp
exports:
  invoices:
    columns:
      invoice_id: {from: Doc}
      invoice_line: {number_within: [invoice_id]}
      supplier_id: {from: Vendor}
      category: {value: Services}
      cost_center: {value: CC1}
      gl_account: {value: "6000"}
      invoice_date: {from: Posted}
      due_date: {after_supplier_terms: Posted}
      amount: {from: Amount}
      currency: {value: EUR}
"""
# the same with the file's own date format (the derived due date is written as ISO text before typing)
TERMS_MAP_DMY = TERMS_MAP.replace("{from: Posted}", '{from: Posted, date_format: "%d.%m.%Y %H:%M"}').replace(
    "{after_supplier_terms: Posted}", '{after_supplier_terms: Posted, date_format: "%d.%m.%Y %H:%M"}')


def test_a_due_date_from_the_invoice_date_and_the_supplier_masters_terms(con: duckdb.DuckDBPyConnection,
                                                                         tmp_path: Path) -> None:
    master = write(tmp_path / "suppliers.csv", "supplier_id,supplier_name,country,preferred,payment_terms_days\n"
                   "V1,Acme,NL,yes,30\nV2,Bolt,DE,no,60\n")
    assert ingest_file(con, master).rows_loaded == 2
    f = write(tmp_path / "inv.csv", "Doc,Vendor,Posted,Amount\n9001,V1,2024-01-15,10\n9001,V1,2024-01-15,5\n"
              "9002,V2,2024-01-31,7\n9003,V9,2024-02-01,3\n")
    r = ingest_file(con, f, export_type="invoices", mapping=_mapping(tmp_path, TERMS_MAP), allow_partial=True)
    _balanced(r)
    assert (r.rows_loaded, r.rows_quarantined) == (3, 1)
    # V1: 15 Jan + 30 days = 14 Feb; V2: 31 Jan + 60 days = 31 Mar (2024 is a leap year)
    assert sorted(con.sql("SELECT invoice_id, invoice_line, due_date FROM invoices").fetchall()) == [
        ("9001", 1, date(2024, 2, 14)), ("9001", 2, date(2024, 2, 14)), ("9002", 1, date(2024, 3, 31))]
    # V9 is not in the supplier master: no terms, no due date (never invented), quarantined for it
    assert con.sql("SELECT line, column_name FROM quarantine").fetchall() == [(5, "due_date")]
    # with terms for a supplier the master does not hold, it loads: 1 Feb + 45 days = 17 Mar
    m = _mapping(tmp_path, TERMS_MAP.replace("{after_supplier_terms: Posted}",
                                             "{after_supplier_terms: Posted, terms_if_unknown: 45}"))
    r = ingest_file(con, write(tmp_path / "inv2.csv", "Doc,Vendor,Posted,Amount\n9003,V9,2024-02-01,3\n"),
                    export_type="invoices", mapping=m)
    _balanced(r)
    assert con.sql("SELECT due_date FROM invoices WHERE invoice_id = '9003'").fetchall() == [(date(2024, 3, 17),)]
    # `tandem mapping check` loads nothing, so it sees no supplier master: the default terms, or a missing due date
    assert load_module.check_file(tmp_path / "inv2.csv", m, "invoices").preview["due_date"].to_list() == [
        date(2024, 3, 17)]
    c = load_module.check_file(f, _mapping(tmp_path, TERMS_MAP), "invoices")
    assert (c.rows_valid, c.rows_invalid) == (0, 4) and set(c.failures["column"]) == {"due_date"}


def test_a_due_date_from_terms_with_the_files_own_date_format(con: duckdb.DuckDBPyConnection,
                                                               tmp_path: Path) -> None:
    ingest_file(con, write(tmp_path / "suppliers.csv", "supplier_id,supplier_name,country,preferred,"
                           "payment_terms_days\nV1,Acme,NL,yes,30\n"))
    f = write(tmp_path / "inv.csv", "Doc,Vendor,Posted,Amount\n9001,V1,31.01.2024 17:45,10\n")
    r = ingest_file(con, f, export_type="invoices", mapping=_mapping(tmp_path, TERMS_MAP_DMY))
    _balanced(r)
    assert r.rows_loaded == 1  # 31 Jan + 30 days = 1 Mar 2024
    assert con.sql("SELECT invoice_date, due_date FROM invoices").fetchall() == [(date(2024, 1, 31), date(2024, 3, 1))]


def test_supplier_terms_derive_only_an_invoice_due_date(tmp_path: Path) -> None:
    with pytest.raises(TandemError, match="terms_if_unknown goes with after_supplier_terms"):
        _mapping(tmp_path, TERMS_MAP.replace("{after_supplier_terms: Posted}", "{from: Posted, terms_if_unknown: 5}"))
    m = _mapping(tmp_path, TERMS_MAP.replace("invoice_date: {from: Posted}", "invoice_date: {after_supplier_terms: Posted}"))
    f = write(tmp_path / "inv.csv", "Doc,Vendor,Posted,Amount\n9001,V1,2024-01-15,10\n")
    with pytest.raises(TandemError, match="derives an invoice's due_date only, not invoices.invoice_date"):
        load_module.check_file(f, m, "invoices")
