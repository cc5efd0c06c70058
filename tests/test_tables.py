"""The store's export tables follow their declarations: a table a release created before a nullable column was
declared gains it (NULL on the rows it holds), and rows are stored by column name afterwards."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from store.tables import columns_of
from tests.conftest import write
from workspace.db import connect, ingest_file

# purchase_orders as the release before approved_at/issued_at created it (store/exports.py then)
OLD_PURCHASE_ORDERS = ("CREATE TABLE purchase_orders (po_id VARCHAR, po_line BIGINT, supplier_id VARCHAR, "
                       "contract_id VARCHAR, item_id VARCHAR, category VARCHAR, cost_center VARCHAR, order_date DATE, "
                       "quantity DOUBLE, unit_price DOUBLE, currency VARCHAR, status VARCHAR, _load_id BIGINT)")


def test_a_declared_nullable_column_is_added_to_an_existing_table(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    old = duckdb.connect(str(db))
    old.execute(OLD_PURCHASE_ORDERS)
    old.execute("INSERT INTO purchase_orders VALUES ('P0', 1, 'S1', NULL, NULL, 'IT', 'CC1', DATE '2025-12-01', 2, 5, "
                "'EUR', 'closed', 0)")
    old.close()

    con = connect(db)  # a writer: migrations, then `tables.ensure`
    try:
        cols = columns_of(con, "purchase_orders")
        assert cols[-3:] == ["_load_id", "approved_at", "issued_at"]  # added at the end, after the load id
        kept = con.sql("SELECT po_id, approved_at IS NULL AS a, issued_at IS NULL AS i FROM purchase_orders").fetchall()
        assert kept == [("P0", True, True)]  # the stored row is kept, its new cells empty
        # a file in the declared column order is stored by name, each value in its own column
        f = write(tmp_path / "purchase_orders.csv",
                  "po_id,po_line,supplier_id,contract_id,item_id,category,cost_center,order_date,quantity,unit_price,"
                  "currency,status,approved_at,issued_at\n"
                  "P1,1,S1,,,IT,CC1,2026-01-05,2,9,EUR,open,2026-01-04T17:00:00+01:00,2026-01-05T08:00:00Z\n")
        r = ingest_file(con, f)
        assert (r.outcome, r.rows_loaded) == ("loaded", 1), r.message
        got = con.sql("SELECT po_id, status, strftime(approved_at, '%Y-%m-%d %H:%M') AS approved, "
                      "strftime(issued_at, '%Y-%m-%d %H:%M') AS issued, _load_id = ? AS this_load "
                      "FROM purchase_orders ORDER BY po_id", params=[r.load_id]).pl()
        assert got.rows() == [("P0", "closed", None, None, False),
                              ("P1", "open", "2026-01-04 16:00", "2026-01-05 08:00", True)]  # UTC
    finally:
        con.close()
    again = connect(db)  # a second writer adds nothing more
    try:
        assert columns_of(again, "purchase_orders") == cols
    finally:
        again.close()


def test_a_file_without_the_new_columns_still_loads(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    f = write(tmp_path / "purchase_orders.csv",
              "po_id,po_line,supplier_id,contract_id,item_id,category,cost_center,order_date,quantity,unit_price,"
              "currency,status\nP1,1,S1,,,IT,CC1,2026-01-05,2,9,EUR,open\n")
    r = ingest_file(con, f)
    assert (r.outcome, r.rows_loaded) == ("loaded", 1)
    assert con.sql("SELECT approved_at, issued_at FROM purchase_orders").pl().null_count().row(0) == (1, 1)
    assert isinstance(con.sql("SELECT approved_at FROM purchase_orders").pl().schema["approved_at"], pl.Datetime)
