"""The KPI facts: invoice and PO lines joined once, at load time, to what they refer to (sql/facts.sql)."""

from __future__ import annotations

from pathlib import Path

import duckdb

SQL = Path(__file__).parent / "sql" / "facts.sql"
# The exports the facts are built from: a load of any other type leaves them as they are.
SOURCES = frozenset({"invoices", "purchase_orders", "contracts", "suppliers", "fx_rates"})
TABLES = ("fact_invoices", "fact_po")


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the facts; inside the caller's transaction, so a failed load leaves the old ones."""
    con.execute(SQL.read_text())


def missing(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('fact_invoices', 'fact_po')"
                        ).fetchall()[0][0]
    return found < len(TABLES)
