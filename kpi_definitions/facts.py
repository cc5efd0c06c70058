"""The KPI facts: invoice and PO lines joined once, at load time, to what they refer to (sql/facts.sql)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.errors import FAILURE, TandemError

SQL = Path(__file__).parent / "sql" / "facts.sql"
# The exports the facts are built from: a load of any other type leaves them as they are.
SOURCES = frozenset({"invoices", "purchase_orders", "contracts", "suppliers", "fx_rates"})
TABLES = ("fact_invoices", "fact_po", "facts_meta")


class CurrencyMismatch(TandemError):
    """The facts were converted to another reporting currency than the one asked for."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FAILURE)


def refresh(con: duckdb.DuckDBPyConnection, currency: str) -> None:
    """Rebuild the facts in `currency`; inside the caller's transaction, so a failed load leaves the old ones."""
    for statement in SQL.read_text().split(";\n"):  # DuckDB binds parameters one statement at a time
        if "$ccy" in statement:
            con.execute(statement, {"ccy": currency})
        elif statement.strip():
            con.execute(statement)


def currency(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT reporting_currency FROM facts_meta").fetchall()
    return rows[0][0] if rows else None


def check(con: duckdb.DuckDBPyConnection, wanted: str) -> None:
    """KPIs in `wanted` need facts converted to it (they are, unless the reporting currency setting changed)."""
    have = currency(con)
    if have != wanted:
        raise CurrencyMismatch(f"The KPI facts are in {have}, not {wanted}: run `tandem refresh` after changing "
                               "the reporting currency (TANDEM_REPORTING_CURRENCY).")


def missing(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE list_contains(?, table_name)",
                        [list(TABLES)]).fetchall()[0][0]
    return found < len(TABLES)
