"""Cuts of real public exports (tests/samples/README.md: source and licence of each): each loads with its
mapping, every row read is accounted for, and the monthly totals equal an independent sum of the file
written here with the csv module."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.load import LoadResult
from pipelines.mappings import load_mapping
from workspace.db import ingest_file

SAMPLES = Path(__file__).parent / "samples"


def _monthly(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, float]:
    return {m: v for m, v in con.sql(sql).fetchall()}


def _load(con: duckdb.DuckDBPyConnection, f: Path, mapping: object, **how: str) -> LoadResult:
    """Load a sample through its mapping; nothing is lost: read = loaded + quarantined + filtered."""
    r = ingest_file(con, f, mapping=mapping, **how)
    assert r.rows_read == r.rows_loaded + r.rows_quarantined + r.rows_filtered
    return r


def test_samples_are_small() -> None:
    for f in SAMPLES.glob("*.csv"):
        assert f.stat().st_size < 1_000_000, f


def test_scms_purchase_order_history(con: duckdb.DuckDBPyConnection) -> None:
    f = SAMPLES / "scms_delivery_history_cut.csv"
    r = _load(con, f, load_mapping(SAMPLES / "scms.yaml"), export_type="purchase_orders")
    assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_filtered) == (
        "loaded", 2000, 1021, 0, 979)
    # Independent: the file's own line values, by the month of the scheduled delivery date, without the
    # lines shipped from a distribution centre.
    expected: dict[str, float] = defaultdict(float)
    with f.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Fulfill Via"] != "From RDC":
                month = datetime.strptime(row["Scheduled Delivery Date"], "%d-%b-%y").strftime("%Y-%m")
                expected[month] += float(row["Line Item Value"])
    got = _monthly(con, "SELECT strftime(order_date, '%Y-%m'), sum(quantity * unit_price) FROM purchase_orders "
                        "GROUP BY 1")
    assert set(got) == set(expected) and len(got) == 43
    for month, total in expected.items():
        assert got[month] == pytest.approx(total, abs=0.005), month
    assert got["2006-06"] == pytest.approx(11627.45, abs=0.005)  # two lines: 551 + 11,076.45
    assert sum(got.values()) == pytest.approx(68_620_050.47, abs=0.01)
    # line numbers within a PO number, in file order, and the placeholders never reach a date
    assert con.sql("SELECT count(*) FROM purchase_orders WHERE order_date IS NULL").fetchall()[0][0] == 0
    assert con.sql("SELECT count(*) FROM filtered WHERE reason = 'from a distribution centre'").fetchall()[0][0] == 979


def test_bradford_payments_ledger(con: duckdb.DuckDBPyConnection) -> None:
    f = SAMPLES / "bradford_spend_2018-01.csv"
    r = _load(con, f, load_mapping(SAMPLES / "bradford.yaml"), export_type="invoices", encoding="cp1252")
    assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 8538, 8538, 0)
    expected: dict[str, float] = defaultdict(float)
    onetime = set()
    with f.open(encoding="cp1252", newline="") as fh:
        for row in csv.DictReader(fh):
            expected[row["Payment date"][:7]] += float(row["Net Amount"])
            if row["Supplier Number"] == "ONETIME":
                onetime.add(row["Supplier Name"].strip())
    got = _monthly(con, "SELECT strftime(invoice_date, '%Y-%m'), sum(amount) FROM invoices GROUP BY 1")
    assert set(got) == set(expected) == {"2018-01"}
    assert got["2018-01"] == pytest.approx(expected["2018-01"], abs=0.005)
    assert got["2018-01"] == pytest.approx(40_044_502.52, abs=0.005)
    assert con.sql("SELECT max(invoice_line) FROM invoices").fetchall()[0][0] == 51
    suppliers = {s for (s,) in con.sql("SELECT DISTINCT supplier_id FROM invoices").fetchall()}
    assert "ONETIME" not in suppliers and onetime <= suppliers
    assert con.sql("SELECT count(*) FROM invoices WHERE cost_center = 'UNASSIGNED'").fetchall()[0][0] > 0


def test_nfe_invoice_register(con: duckdb.DuckDBPyConnection) -> None:
    f = SAMPLES / "nfe_federal_purchases_2024-01.csv"
    r = _load(con, f, load_mapping(SAMPLES / "nfe.yaml"), export_type="invoices")
    assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_filtered) == (
        "loaded", 565, 211, 0, 354)
    # Independent: the item lines' totals by the month of their invoice's issue date, without the fiscal
    # operations that are no purchase (CFOP 1.9xx/2.9xx inbound notes, 5.9xx/6.9xx remittances and returns).
    expected: dict[str, float] = defaultdict(float)
    lines = 0
    with f.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["CFOP"][:2] not in {"19", "29", "59", "69"}:
                expected[row["DATA EMISSÃO"][:7]] += float(row["VALOR TOTAL"])
                lines += 1
    got = _monthly(con, "SELECT strftime(invoice_date, '%Y-%m'), sum(amount) FROM invoices GROUP BY 1")
    assert set(got) == set(expected) == {"2024-01"} and lines == 211
    assert got["2024-01"] == pytest.approx(expected["2024-01"], abs=0.005)
    assert got["2024-01"] == pytest.approx(2_427_025.50, abs=0.005)
    # the access key and item number are the line's key; no supplier master: 30 days' terms for each due date
    assert con.sql("SELECT count(DISTINCT invoice_id), max(invoice_line) FROM invoices").fetchall() == [(72, 43)]
    assert con.sql("SELECT DISTINCT due_date - invoice_date FROM invoices").fetchall() == [(30,)]
    assert con.sql("SELECT count(*) FROM invoices WHERE category = 'Unclassified'").fetchall() == [(1,)]


@pytest.mark.parametrize(("name", "etype", "encoding", "currency"), [
    ("scms_delivery_history_cut", "purchase_orders", "utf-8", "USD"),
    ("bradford_spend_2018-01", "invoices", "cp1252", "GBP"),
    ("nfe_federal_purchases_2024-01", "invoices", "utf-8", "BRL")])
def test_a_drafted_mapping_loads_each_sample_with_the_currency_edit(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                                                    name: str, etype: str, encoding: str,
                                                                    currency: str) -> None:
    from pipelines.draft import draft

    f = SAMPLES / f"{name}.csv"
    text = draft(f)
    assert f"  {etype}:\n" in text  # the export type guessed from the columns
    edited = text.replace("currency: {value: EUR}", f"currency: {{value: {currency}}}")
    m = load_mapping(tmp_path.joinpath("m.yaml").write_text(edited, encoding="utf-8") and tmp_path / "m.yaml")
    r = _load(con, f, m, encoding=encoding)
    assert (r.outcome, r.rows_quarantined) == ("loaded", 0)
