"""The facts of budgets and approval flows (sql/fact_flow.sql): approval events in time order with their waits,
one row per requisition, order and invoice, the stages each completed, and the lines that hold budget before an
invoice, kept current inside the transaction of every load that changes one of their sources, so a page reads a few
rows, never the events.

A load of invoices rebuilds only the documents it touched (`update_invoices`): the rebuild of every PO line,
invoice line and event was 84 % of a monthly load at 10M lines (docs/benchmarks.md). Any other source rebuilds
them whole (`rebuild`): a requisition, an event, an order or a receipt is read by documents of every kind."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from kpi_definitions.dialects import Named

SQL = Named(Path(__file__).parent / "sql")  # built by DuckDB: its function library
NAME = "fact_flow"
TABLES = ("fact_waits", "fact_documents", "fact_cycles", "fact_funds_lines", "fact_funds_months", "fact_po_invoiced")
# The exports the flow facts are built from: a load of another type leaves them as they are.
SOURCES = frozenset({"requisitions", "approval_events", "purchase_orders", "receipts", "invoices", "fx_rates"})

# What a load of invoices touched (sql/fact_flow_touched.sql): the orders its lines are on (_t_po) and the
# invoices whose facts can change (_t_inv). The placeholders of sql/fact_flow.sql scoped to them.
_IN_POS = "{} IN (SELECT po_id FROM _t_po)"
_IN_INVOICES = "{} IN (SELECT invoice_id FROM _t_inv)"
_DOCUMENTS = ("(document_type = 'purchase_order' AND document_id IN (SELECT po_id FROM _t_po)) OR "
              "(document_type = 'invoice' AND document_id IN (SELECT invoice_id FROM _t_inv))")
# Each table's rows that a load of invoices rebuilds (deleted, then inserted by the scoped statement).
_TOUCHED = {"fact_po_invoiced": _IN_POS.format("po_id"), "fact_documents": _DOCUMENTS, "fact_waits": _DOCUMENTS,
            "fact_cycles": _DOCUMENTS, "fact_funds_lines": f"source = 'PO line' AND {_IN_POS.format('document')}",
            "fact_funds_months": "true"}  # a few rows per month and slice: summed again from the lines
_CREATE = re.compile(r"^CREATE OR REPLACE TABLE (\w+) AS\n", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{(in_pos|in_invoices):([\w.]+)\}")
_NEW = re.compile(r"\{new:(\w+)\}")
# No PO line's earlier invoices ({prior} unless a load only appends), typed as fact_po_invoiced's rows.
_NO_PRIOR = ("(SELECT po_id, po_line, amount_rep AS invoiced, 0::BIGINT AS unconverted, invoice_date AS first_invoiced, "
             "invoice_date AS last_invoiced, 0::BIGINT AS lines, quantity FROM fact_invoices WHERE false)")


def rebuild(con: duckdb.DuckDBPyConnection, currency: str) -> None:
    """Rebuild every flow fact in `currency` (inside the caller's transaction; the invoice facts first)."""
    _run(con, currency, _statements(scoped=False))


def update_invoices(con: duckdb.DuckDBPyConnection, currency: str) -> bool:
    """Rebuild the flow facts of the documents the newest load of invoices touched (inside the caller's
    transaction, the invoice facts first); True when that sufficed, False when a replaced invoice line had left an
    order the load did not touch and everything was rebuilt instead."""
    append = False
    for statement in SQL.statements("fact_flow_touched"):  # _t_append decides whether older invoices can change
        _run(con, currency, [statement.replace("{tail}", "false" if append else "true")])
        if "TABLE _t_append" in statement:
            append = bool(con.execute("SELECT append FROM _t_append").fetchall()[0][0])
    newest = int(con.execute("SELECT max(_load_id) FROM fact_invoices").fetchall()[0][0]) if append else None
    _run(con, currency, _statements(scoped=True, newest=newest))
    for table in ("_t_po", "_t_inv", "_t_prior", "_t_append", "_t_po_lines", "_t_receipts"):
        con.execute(f"DROP TABLE {table}")
    counted, lines = con.execute("SELECT (SELECT coalesce(sum(lines), 0) FROM fact_po_invoiced), "
                                 "(SELECT count(*) FROM fact_invoices WHERE po_found)").fetchall()[0]
    if counted == lines:
        return True
    rebuild(con, currency)
    return False


def _statements(scoped: bool, newest: int | None = None) -> list[str]:
    """sql/fact_flow.sql's statements, whole or scoped to what a load of invoices touched (`newest`: the load id
    of a load that only appends, whose own lines are then the only ones read)."""
    out: list[str] = []
    for statement in SQL.statements(NAME):
        statement = (_NEW.sub(lambda m: "true" if newest is None else f"{m[1]}._load_id = {newest}", statement)
                     .replace("{prior}", _NO_PRIOR if newest is None else "_t_prior"))
        if not scoped:
            out.append(_PLACEHOLDER.sub("true", statement).replace("{events}", "true").replace("{documents}", "true")
                       .replace("{requisitions}", "true").replace("{purchase_orders}", "purchase_orders")
                       .replace("{receipts}", "receipts"))
            continue
        statement = (_PLACEHOLDER.sub(lambda m: (_IN_POS if m[1] == "in_pos" else _IN_INVOICES).format(m[2]), statement)
                     .replace("{events}", _DOCUMENTS.replace("document_", "e.document_"))
                     .replace("{documents}", _DOCUMENTS).replace("{requisitions}", "false")
                     .replace("{purchase_orders}", "_t_po_lines").replace("{receipts}", "_t_receipts"))
        made = _CREATE.search(statement)
        if made is None:  # a temp table or a drop: as it is
            out.append(statement)
            continue
        table = made[1]
        out.append(f"DELETE FROM {table} WHERE {_TOUCHED[table]}")
        out.append(f"INSERT INTO {table} SELECT * FROM (\n{statement[made.end():]}\n)")
    return out


def _run(con: duckdb.DuckDBPyConnection, currency: str, statements: list[str]) -> None:
    for statement in statements:  # DuckDB binds parameters one statement at a time
        con.execute(statement, {"ccy": currency}) if "$ccy" in statement else con.execute(statement)
