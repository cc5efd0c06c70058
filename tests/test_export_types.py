"""The contract as data (store/exports.py): a new export type is one declaration — its table, mapping,
validation, quarantine, freshness and findings follow from it — and a declaration that contradicts itself
is refused with a sentence."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.draft import draft
from pipelines.freshness import freshness_sql
from pipelines.load import check_file
from pipelines.mappings import load_mapping
from store.errors import TandemError
from store.exports import (
    EXPORT_TYPES,
    DeclarationError,
    Reference,
    above,
    dated,
    declare,
    declared,
    export_type,
    one_of,
)
from tests.conftest import write
from workspace.db import connect, ingest_file

# A goods-receipt export, declared here and nowhere else.
DELIVERIES = export_type(
    "deliveries", "delivery_id str, line int, po_id str, po_line int, delivered_on date, quantity dec, state str?",
    ("delivery_id", "line"),
    rules=(above("quantity", 0), dated("delivered_on"), one_of("state", ("complete", "partial"))),
    across=(Reference(("po_id", "po_line"), "purchase_orders", "unknown PO line",
                      "deliveries name a po_id/po_line missing from purchase_orders"),),
    dated="delivered_on",
    example={"delivery_id": "D1", "line": "1", "po_id": "P1", "po_line": "1", "delivered_on": "2026-03-02",
             "quantity": "5", "state": "complete"},
)

FILE = ("delivery_id,line,po_id,po_line,delivered_on,quantity,state\n"
        "D1,1,P1,1,2026-03-02,5,complete\n"
        "D1,2,P1,2,2026-03-03,2.5,\n"
        "D2,1,P9,1,2026-03-04,0,partial\n"     # quantity > 0 fails
        "D3,1,P9,1,2026-03-05,1,lost\n")       # state one of complete, partial fails


def test_a_new_export_type_is_one_declaration(tmp_path: Path) -> None:
    with declared(DELIVERIES):
        con = connect(tmp_path / "t.duckdb")  # a writer creates the declared type's table
        try:
            r = ingest_file(con, write(tmp_path / "deliveries_march.csv", FILE), allow_partial=True)
            # 4 read: 2 loaded, 2 quarantined with the declared rules' names
            assert (r.export_type, r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined) == (
                "deliveries", "partial", 4, 2, 2)
            assert con.sql("SELECT delivery_id, line, delivered_on, quantity, state FROM deliveries ORDER BY line"
                           ).fetchall() == [("D1", 1, date(2026, 3, 2), 5.0, "complete"),
                                            ("D1", 2, date(2026, 3, 3), 2.5, None)]
            assert con.sql("SELECT line, column_name, rule, value FROM quarantine ORDER BY line").fetchall() == [
                (4, "quantity", "quantity > 0", "0"), (5, "state", "state one of complete, partial", "lost")]
            # the reference is a finding while no purchase orders are loaded (2 loaded lines name a PO line)
            assert con.sql("SELECT export_type, rule, subject, rows FROM dq_findings").fetchall() == [
                ("deliveries", "unknown PO line", "(no purchase_orders loaded)", 2)]
            # freshness: the latest delivered_on of the loaded rows
            fresh = con.sql(freshness_sql()).pl().filter(pl.col("export_type") == "deliveries")
            assert fresh.select("rows_in_database", "data_until").row(0) == (2, "2026-03-03")

            # a clean file goes straight into the table (the clean path), its example row included
            clean = write(tmp_path / "deliveries_april.csv", "delivery_id,line,po_id,po_line,delivered_on,quantity,"
                          "state\n" + ",".join(DELIVERIES.example.values()).replace("D1", "D9") + "\n")
            assert ingest_file(con, clean).outcome == "loaded"
            assert con.sql("SELECT count(*) FROM deliveries").fetchall() == [(3,)]

            # a mapping names it, the draft proposes one, the check previews it
            m = load_mapping(write(tmp_path / "m.yaml", "name: wms\nexports:\n  deliveries:\n    columns:\n"
                                   "      delivery_id: {from: GRN}\n"))
            renamed = write(tmp_path / "grn.csv", FILE.replace("delivery_id", "GRN"))
            c = check_file(renamed, m)
            assert (c.export_type, c.rows_read, c.rows_valid, c.rows_invalid) == ("deliveries", 4, 2, 2)
            drafted = load_mapping(write(tmp_path / "d.yaml", draft(renamed, "deliveries")))
            assert drafted.export_type == "deliveries"
        finally:
            con.close()
    assert "deliveries" not in EXPORT_TYPES  # withdrawn with the block
    with pytest.raises(TandemError, match="unknown export type"):
        load_mapping(tmp_path / "m.yaml")


@pytest.mark.parametrize(("change", "says"), [
    ({"key": ("nope",)}, "the key (nope) must name columns of the export"),
    ({"rules": (above("weight", 0),)}, "rule 'weight > 0' reads weight, not a column of the export"),
    ({"dated": "state"}, "dated must name a date or period column, not 'state'"),
    ({"across": (Reference(("po_id",), "shipments", "unknown shipment"),)},
     "reference 'unknown shipment' names 'shipments', which is not declared (declare it first)"),
    ({"example": {"weight": "1"}}, "the example has column(s) weight the export does not"),
])
def test_a_declaration_that_contradicts_itself_is_refused(change: dict, says: str) -> None:
    from dataclasses import replace

    with pytest.raises(DeclarationError) as exc:
        declare(replace(DELIVERIES, **change))
    assert str(exc.value) == f"Export type 'deliveries': {says}."
    assert "deliveries" not in EXPORT_TYPES


def test_freshness_reads_the_declared_date_of_every_export(golden_db: Path) -> None:
    con = duckdb.connect(str(golden_db), read_only=True)
    try:
        fresh = con.sql(freshness_sql()).pl()
        # every declared type, once; undated master data has no date
        assert fresh["export_type"].to_list() == sorted(EXPORT_TYPES)
        by = {r["export_type"]: r for r in fresh.iter_rows(named=True)}
        for name, t in EXPORT_TYPES.items():
            n = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            until = con.execute(f"SELECT strftime(max({t.dated}), '%Y-%m-%d') FROM {name}").fetchall()[0][0] \
                if t.dated else None
            assert (by[name]["rows_in_database"], by[name]["data_until"]) == (n, until), name
    finally:
        con.close()


def test_every_declared_example_row_loads(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # in declaration order, each type after those it refers to (category_index needs its index loaded)
    for name, t in EXPORT_TYPES.items():
        assert t.example, name
        f = write(tmp_path / f"{name}.csv", ",".join(t.example) + "\n" + ",".join(t.example.values()) + "\n")
        r = ingest_file(con, f)
        assert (r.outcome, r.rows_loaded) == ("loaded", 1), (name, r.message)


def test_each_declared_demo_hook_names_a_file_the_demo_writes(tmp_path: Path) -> None:
    from workspace.demo import write_demo

    files = {f.stem: f.suffix.lstrip(".") for f in write_demo(tmp_path, n_suppliers=20)}
    assert files == {t.demo: t.demo_format for t in EXPORT_TYPES.values() if t.demo}
