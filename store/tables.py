"""The tables Tandem keeps: the contract's export types (declared in `store/exports.py`) and the load,
quarantine and review tables, with their DDL."""

from __future__ import annotations

import duckdb

from store.exports import DUCKDB_TYPES, EXPORT_TYPES, Col, ColumnType, ExportType

__all__ = ["DUCKDB_TYPES", "TABLES", "Col", "ColumnType", "ExportTable", "ensure", "existing"]

# The export types are declared in store/exports.py (the contract as data); `TABLES` is that same registry,
# so a type declared there (or by `declare(...)`) gets its table from `ensure` below.
ExportTable = ExportType
TABLES: dict[str, ExportType] = EXPORT_TYPES


META_DDL = """
CREATE SEQUENCE IF NOT EXISTS load_id_seq START 1;
CREATE TABLE IF NOT EXISTS load_log (
    load_id BIGINT PRIMARY KEY, file_name VARCHAR, file_path VARCHAR, content_hash VARCHAR,
    export_type VARCHAR, mapping VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_replaced BIGINT,
    rows_quarantined BIGINT, started_at TIMESTAMP, finished_at TIMESTAMP, outcome VARCHAR, message VARCHAR,
    rows_filtered BIGINT DEFAULT 0, loaded_by VARCHAR);
CREATE TABLE IF NOT EXISTS filtered (
    load_id BIGINT, file_name VARCHAR, export_type VARCHAR, line BIGINT, reason VARCHAR);
CREATE TABLE IF NOT EXISTS quarantine (
    load_id BIGINT, file_name VARCHAR, export_type VARCHAR, line BIGINT, column_name VARCHAR,
    rule VARCHAR, value VARCHAR, record VARCHAR);
CREATE TABLE IF NOT EXISTS dq_findings (
    export_type VARCHAR, rule VARCHAR, subject VARCHAR, rows BIGINT, detail VARCHAR, found_at TIMESTAMP);
CREATE SEQUENCE IF NOT EXISTS review_seq START 1;
CREATE TABLE IF NOT EXISTS reviews (review_id BIGINT PRIMARY KEY, held_on DATE, started_at TIMESTAMP, period VARCHAR);
CREATE TABLE IF NOT EXISTS review_kpis (review_id BIGINT, kpi VARCHAR, view VARCHAR, period VARCHAR, value DOUBLE);
CREATE TABLE IF NOT EXISTS review_findings (review_id BIGINT, export_type VARCHAR, rule VARCHAR, subject VARCHAR);
CREATE SEQUENCE IF NOT EXISTS review_item_seq START 1;
CREATE TABLE IF NOT EXISTS review_items (
    item_id BIGINT PRIMARY KEY, review_id BIGINT, kpi VARCHAR, kind VARCHAR, text VARCHAR, owner VARCHAR,
    due_date DATE, status VARCHAR, created_at TIMESTAMP, closed_at TIMESTAMP);
"""


def existing(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None: what the main schema holds under `name`."""
    return con.execute("SELECT any_value(table_type) FROM information_schema.tables "
                       "WHERE table_schema = 'main' AND table_name = ?", [name]).fetchall()[0][0]


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that is missing (a writer's first step; opening alone never changes the file).

    An export whose rows another layer stores elsewhere (invoice lines live with their KPI facts, and
    `invoices` is then a view) is left as it is.
    """
    stmts = [META_DDL] + [t.ddl() for t in TABLES.values() if existing(con, t.name) is None]
    con.execute("\n".join(stmts))
    if not con.execute("SELECT 1 FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'load_log' "
                       "AND column_name = 'rows_filtered'").fetchall():  # a database from before filters
        con.execute("ALTER TABLE load_log ADD COLUMN IF NOT EXISTS rows_filtered BIGINT DEFAULT 0")
    if not con.execute("SELECT 1 FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'load_log' "
                       "AND column_name = 'loaded_by'").fetchall():  # a database from before loads recorded who
        con.execute("ALTER TABLE load_log ADD COLUMN IF NOT EXISTS loaded_by VARCHAR")
