"""The facts of budgets and approval flows (sql/fact_flow.sql): approval events in time order with their waits,
one row per requisition, order and invoice, the stages each completed, and the lines that hold budget before an
invoice. Rebuilt whole, inside the transaction of every load that changes one of their sources (an invoice can
change an old order's open amount and an old invoice's match), so a page reads a few rows, never the events."""

from __future__ import annotations

from pathlib import Path

import duckdb

from kpi_definitions.dialects import Named

SQL = Named(Path(__file__).parent / "sql")  # built by DuckDB: its function library
NAME = "fact_flow"
TABLES = ("fact_waits", "fact_documents", "fact_cycles", "fact_funds_lines", "fact_funds_months")
# The exports the flow facts are built from: a load of another type leaves them as they are.
SOURCES = frozenset({"requisitions", "approval_events", "purchase_orders", "receipts", "invoices", "fx_rates"})


def rebuild(con: duckdb.DuckDBPyConnection, currency: str) -> None:
    """Rebuild every flow fact in `currency` (inside the caller's transaction; the invoice facts first)."""
    for statement in SQL.statements(NAME):  # DuckDB binds parameters one statement at a time
        con.execute(statement, {"ccy": currency}) if "$ccy" in statement else con.execute(statement)
