"""The KPI facts: invoice and PO lines joined once, at load time, to what they refer to (sql/facts.sql)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.errors import FAILURE, TandemError

SQL = Path(__file__).parent / "sql" / "facts.sql"
INVOICES = Path(__file__).parent / "sql" / "fact_invoices.sql"
INVOICES_OF_LOAD = Path(__file__).parent / "sql" / "facts_of_load.sql"
# The exports the facts are built from: a load of any other type leaves them as they are.
SOURCES = frozenset({"invoices", "purchase_orders", "contracts", "suppliers", "fx_rates"})
TABLES = ("fact_invoices", "fact_po", "facts_meta")


class CurrencyMismatch(TandemError):
    """The facts were converted to another reporting currency than the one asked for."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FAILURE)


def refresh(con: duckdb.DuckDBPyConnection, currency: str, export_type: str | None = None,
            load_id: int | None = None) -> None:
    """Rebuild the facts in `currency`, inside the caller's transaction (a failed load leaves the old ones).

    After a load of invoices (`load_id`), only that load's lines are replaced: the other sources did not
    change, so neither did any other line's facts. Anything else rebuilds both tables.
    """
    incremental = export_type == "invoices" and load_id is not None
    if incremental and not missing(con) and currency_of(con) == currency:
        _run(con, INVOICES_OF_LOAD.read_text(), {"ccy": currency, "load_id": load_id})
    else:
        _run(con, SQL.read_text(), {"ccy": currency})


def _run(con: duckdb.DuckDBPyConnection, script: str, params: dict[str, object]) -> None:
    script = script.replace("{fact_invoices}", INVOICES.read_text())
    for statement in script.split(";\n"):  # DuckDB binds parameters one statement at a time
        if not statement.strip():
            continue
        used = {k: v for k, v in params.items() if f"${k}" in statement}
        con.execute(statement, used) if used else con.execute(statement)


def currency_of(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT reporting_currency FROM facts_meta").fetchall()
    return rows[0][0] if rows else None


def check(con: duckdb.DuckDBPyConnection, wanted: str) -> None:
    """KPIs in `wanted` need facts converted to it (they are, unless the reporting currency setting changed)."""
    have = currency_of(con)
    if have != wanted:
        raise CurrencyMismatch(f"The KPI facts are in {have}, not {wanted}: run `tandem refresh` after changing "
                               "the reporting currency (TANDEM_REPORTING_CURRENCY).")


def missing(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE list_contains(?, table_name)",
                        [list(TABLES)]).fetchall()[0][0]
    return found < len(TABLES)
