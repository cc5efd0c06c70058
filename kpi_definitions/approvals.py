"""The approval flow, read from its facts (sql/fact_flow.sql): cycle time per stage (median and P90 per period and
slice, each document once), queue time per approval step and role, the first-pass approval rate, the documents
waiting longest now, a document's lines and its event timeline, and the invoices the two views of a contested
KPI (touchless rate, first-time match) count differently. Every figure is a named query; this module runs them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import polars as pl

from kpi_definitions import facts
from kpi_definitions.dialects import expand
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.query import Query, Selection, params, render, shared
from kpi_definitions.registry import Registry

# The stages of the flow, in order, with how a reader names them.
STAGES: dict[str, str] = {
    "requisition_to_approval": "Requisition to approval",
    "approval_to_po": "Approval to PO",
    "po_to_receipt": "PO to receipt",
    "receipt_to_invoice": "Receipt to invoice",
    "invoice_to_payment": "Invoice to payment",
}
DOCUMENT_TYPES: dict[str, str] = {"requisition": "Requisition", "purchase_order": "Purchase order",
                                  "invoice": "Invoice"}
FLOW_DIMENSIONS = ("supplier_id", "category", "cost_center")  # what a document carries (its first line's)
DIFFERS = {"touchless_rate": "touchless_rate_differ", "first_time_match": "first_time_match_differ"}
LIMIT = 5_000


def query(reg: Registry, name: str, sel: Selection, cal: FiscalCalendar | None = None, currency: str = "EUR",
          **extra: object) -> Query:
    """The named query `name` over the selection's periods and filters (split by `sel.by`), ready to run."""
    p = params(sel, cal or FiscalCalendar(), FLOW_DIMENSIONS, currency, lookback=0) | extra
    body = reg.sql(name).replace("{dims}", "".join(f", {d}" for d in sel.by))
    # the shared relations it uses (sql/base.sql), if any: the waiting list reads the facts alone
    sql = render(reg, name, {}, sel.by) if shared(reg.sql("base"), body) else expand(body)
    return Query(name.replace("_", " "), sql, p)


def _run(con: duckdb.DuckDBPyConnection, q: Query, currency: str) -> pl.DataFrame:
    facts.check(con, currency)
    return con.sql(q.sql, params=q.params).pl()


def _in_order(frame: pl.DataFrame, sel: Selection, cal: FiscalCalendar | None, first: str | None = None
              ) -> pl.DataFrame:
    """Rows in the calendar's order of periods (then by `first`, a column holding stage names)."""
    cal = cal or FiscalCalendar()
    order = {label: i for i, (_, label) in enumerate(cal.buckets(sel.first, sel.last, sel.grain))}
    keys = [pl.col("period").replace_strict(order, default=None).alias("_p")]
    if first is not None:
        keys.insert(0, pl.col(first).replace_strict({s: i for i, s in enumerate(STAGES)}, default=None).alias("_s"))
    by = [k.meta.output_name() for k in keys]
    return frame.with_columns(keys).sort([*by, *sel.by], nulls_last=True).drop(by)


def cycle_times(con: duckdb.DuckDBPyConnection, reg: Registry, sel: Selection, cal: FiscalCalendar | None = None,
                currency: str = "EUR") -> pl.DataFrame:
    """Per stage, period and slice of `sel.by`: documents that completed the stage, median and P90 days."""
    out = _run(con, query(reg, "approval_cycles", sel, cal, currency), currency)
    return _in_order(out.with_columns(pl.col(d).cast(pl.String) for d in sel.by), sel, cal, "stage")


def queue_times(con: duckdb.DuckDBPyConnection, reg: Registry, sel: Selection, cal: FiscalCalendar | None = None,
                currency: str = "EUR") -> pl.DataFrame:
    """Per document type, step and approver role over the span: waits, documents, median, P90 and total days
    (the longest median first)."""
    out = _run(con, query(reg, "approval_queues", Selection(sel.first, sel.last, sel.grain, (), sel.filters), cal,
                          currency), currency)
    return out.sort(["median_days", "document_type", "step", "actor_role"], descending=[True, False, False, False],
                    nulls_last=True)


def first_pass(con: duckdb.DuckDBPyConnection, reg: Registry, sel: Selection, cal: FiscalCalendar | None = None,
               currency: str = "EUR") -> pl.DataFrame:
    """Per period, document type and slice: documents decided, approved at the first pass, and the rate."""
    out = _run(con, query(reg, "approval_first_pass", sel, cal, currency), currency)
    return _in_order(out.with_columns(pl.col(d).cast(pl.String) for d in sel.by), sel, cal)


def waiting(con: duckdb.DuckDBPyConnection, reg: Registry, filters: Mapping[str, Sequence[str]] | None = None,
            limit: int = 20, currency: str = "EUR") -> pl.DataFrame:
    """The documents waiting now, longest first (now: the latest approval event in the data)."""
    sel = Selection(0, 0, "month", (), filters or {})
    return _run(con, query(reg, "approval_waiting", sel, None, currency, limit=int(limit)), currency)


def timeline(con: duckdb.DuckDBPyConnection, reg: Registry, document_type: str, document_id: str,
             currency: str = "EUR") -> pl.DataFrame:
    """One document's events in time order, with the wait before each (hours)."""
    q = Query("approval timeline", expand(reg.sql("approval_timeline")),
              {"document_type": document_type, "document_id": document_id})
    return _run(con, q, currency)


def document(con: duckdb.DuckDBPyConnection, reg: Registry, document_type: str, document_id: str,
             currency: str = "EUR") -> pl.DataFrame:
    """One document's lines as its export has them."""
    q = Query("approval document", expand(reg.sql("approval_document")),
              {"document_type": document_type, "document_id": document_id})
    return _run(con, q, currency)


def counted_differently(con: duckdb.DuckDBPyConnection, reg: Registry, kpi: str, first: int, last: int,
                        filters: Mapping[str, Sequence[str]] | None = None, currency: str = "EUR",
                        limit: int | None = LIMIT) -> pl.DataFrame:
    """The invoices of months first..last that `kpi`'s two views count differently, with why (a contested KPI:
    touchless rate, first-time match; an empty frame for another)."""
    if kpi not in DIFFERS:
        return pl.DataFrame()
    q = query(reg, DIFFERS[kpi], Selection(first, last, "month", (), filters or {}), None, currency)
    if limit:
        q = Query(q.label, f"{q.sql}\nLIMIT {int(limit)}", q.params)
    return _run(con, q, currency)


def explain(reg: Registry, sel: Selection, cal: FiscalCalendar | None = None, currency: str = "EUR") -> list[Query]:
    """The queries of the approval figures for a selection, with their parameter values, without running them."""
    return [query(reg, "approval_cycles", sel, cal, currency),
            query(reg, "approval_queues", Selection(sel.first, sel.last, sel.grain, (), sel.filters), cal, currency),
            query(reg, "approval_first_pass", sel, cal, currency),
            query(reg, "approval_waiting", Selection(0, 0, "month", (), sel.filters), None, currency, limit=20)]
