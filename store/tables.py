"""The store's tables: the contract's export types (declared in `store/exports.py`) with their DDL, and the load
log, quarantine and findings as the store's numbered migrations (store/migrations)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from store.exports import DUCKDB_TYPES, EXPORT_TYPES, Col, ColumnType, ExportType
from store.schema import Schema
from store.sqltext import ident

__all__ = ["DUCKDB_TYPES", "SCHEMA", "TABLES", "Col", "ColumnType", "ExportTable", "columns_of", "ensure", "existing"]

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
    """Create every export table that is missing, and add to an existing one the declared columns it lacks
    that a row may leave empty (a release that declares `approved_at ts?` on purchase orders): a writer's first
    step, after the numbered migrations of SCHEMA; opening alone never changes the file.

    An added column is NULL on the rows already stored, which is what an export without it says; a new required
    column cannot be added this way (its stored rows would break its rule) and is left to a migration. Rows are
    inserted by name (store/sink.py), so an added column's place at the end of the table does not matter. An
    export whose rows another layer stores elsewhere (invoice lines live with their KPI facts, and `invoices` is
    then a view) is left as it is.
    """
    stmts = []
    for t in TABLES.values():
        kind = existing(con, t.name)
        if kind is None:
            stmts.append(t.ddl())
        elif kind == "BASE TABLE":
            have = set(columns_of(con, t.name))
            stmts += [f"ALTER TABLE {ident(t.name)} ADD COLUMN IF NOT EXISTS {ident(c.name)} {DUCKDB_TYPES[c.type]};"
                      for c in t.columns if c.nullable and c.name not in have]
    if stmts:
        con.execute("\n".join(stmts))


def columns_of(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """The columns a table of the main schema has, in order."""
    return [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                                      "AND table_name = ? ORDER BY ordinal_position", [name]).fetchall()]
