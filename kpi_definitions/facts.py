"""The KPI facts: invoice and PO lines joined once, at load time, to what they refer to (sql/facts.sql).

Invoice lines are stored once, with their facts: `fact_invoices` is the table and `invoices` a view of its
export columns. A second copy of 10M lines cost a second 5 s write on every load, and twice the disk.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.errors import FAILURE, TandemError
from pipelines.schemas import DUCKDB_TYPES, EXPORTS
from pipelines.sqltext import ident

SQL = Path(__file__).parent / "sql" / "facts.sql"
INVOICES = Path(__file__).parent / "sql" / "fact_invoices.sql"
INVOICE_COLUMNS = [*EXPORTS["invoices"].column_names, "_load_id"]
# The exports the facts are built from: a load of any other type leaves them as they are.
SOURCES = frozenset({"invoices", "purchase_orders", "contracts", "suppliers", "fx_rates"})
TABLES = ("fact_invoices", "fact_po", "facts_meta")


class CurrencyMismatch(TandemError):
    """The facts were converted to another reporting currency than the one asked for."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FAILURE)


def refresh(con: duckdb.DuckDBPyConnection, currency: str, export_type: str | None = None) -> None:
    """Rebuild the facts in `currency`, inside the caller's transaction (a failed load leaves the old ones).

    A load of invoices wrote its lines' facts as it stored them (`add_invoices`): nothing is left to do
    unless the facts are in another currency. Anything else rebuilds both tables.
    """
    if export_type == "invoices" and not missing(con) and currency_of(con) == currency:
        return
    _run(con, SQL.read_text(), {"ccy": currency})


def table_of(export_type: str) -> str:
    """The table an export type's rows are stored in (invoice lines live in `fact_invoices`)."""
    return "fact_invoices" if export_type == "invoices" else export_type


def add_invoices(con: duckdb.DuckDBPyConnection, lines: str, currency: str) -> int:
    """Store invoice lines (`lines`: a relation of the export's columns and `_load_id`) with their facts."""
    sql = f"INSERT INTO fact_invoices SELECT * FROM ({_fact_invoices(lines)})"
    return int(con.execute(sql, {"ccy": currency}).fetchall()[0][0])


def create_store(con: duckdb.DuckDBPyConnection, currency: str) -> None:
    """`fact_invoices` and the `invoices` view, in a new database or one from before they were one."""
    kind = con.execute("SELECT any_value(table_type) FROM information_schema.tables "
                       "WHERE table_schema = 'main' AND table_name = 'invoices'").fetchall()[0][0]
    if kind == "VIEW":
        return
    if kind is None:  # a new database: no lines, typed as the contract says
        typed = ", ".join(f"CAST(NULL AS {DUCKDB_TYPES[c.type]}) AS {ident(c.name)}" for c in EXPORTS["invoices"].columns)
        lines = f"(SELECT {typed}, CAST(NULL AS BIGINT) AS _load_id WHERE false)"
    else:  # an older database kept the lines in a table of their own: move them in
        lines = "invoices"
    con.execute("BEGIN TRANSACTION")  # all or nothing: a move killed half-way must not lose the lines
    try:
        con.execute(f"CREATE OR REPLACE TABLE fact_invoices AS SELECT * FROM ({_fact_invoices(lines)})",
                    {"ccy": currency})
        con.execute("DROP TABLE IF EXISTS invoices")
        con.execute(f"CREATE VIEW invoices AS SELECT {', '.join(map(ident, INVOICE_COLUMNS))} FROM fact_invoices")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _fact_invoices(lines: str) -> str:
    return INVOICES.read_text().replace("{invoices}", lines)


def _run(con: duckdb.DuckDBPyConnection, script: str, params: dict[str, object]) -> None:
    script = script.replace("{fact_invoices}", _fact_invoices("invoices"))
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
