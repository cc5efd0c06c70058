"""The store's tables: the contract's export types (declared in `store/exports.py`) with their DDL, and the load
log, quarantine and findings as the store's numbered migrations (store/migrations)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from store.exports import DUCKDB_TYPES, EXPORT_TYPES, Col, ColumnType, ExportType
from store.schema import Schema

__all__ = ["DUCKDB_TYPES", "SCHEMA", "TABLES", "Col", "ColumnType", "ExportTable", "ensure", "existing"]

# The export types are declared in store/exports.py (the contract as data); `TABLES` is that same registry,
# so a type declared there (or by `declare(...)`) gets its table from `ensure` below.
ExportTable = ExportType
TABLES: dict[str, ExportType] = EXPORT_TYPES

# The store's own tables (load log, filtered and quarantined rows, findings) as numbered migrations; the export
# tables follow their declarations (`ensure`).
SCHEMA = Schema.from_folder("store", Path(__file__).parent / "migrations")


def existing(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None: what the main schema holds under `name`."""
    return con.execute("SELECT any_value(table_type) FROM information_schema.tables "
                       "WHERE table_schema = 'main' AND table_name = ?", [name]).fetchall()[0][0]


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create every export table that is missing, from the declarations (a writer's first step, after the
    numbered migrations of SCHEMA; opening alone never changes the file).

    An export whose rows another layer stores elsewhere (invoice lines live with their KPI facts, and
    `invoices` is then a view) is left as it is.
    """
    stmts = [t.ddl() for t in TABLES.values() if existing(con, t.name) is None]
    if stmts:
        con.execute("\n".join(stmts))
