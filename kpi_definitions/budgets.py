"""Funds available, bucket by bucket, and "before I buy": where a budget goes under each view (sql/funds_buckets.sql,
the same lines and budget as the funds_available KPI), what is left per cost center and category this period and
to year end, and whether a request of an amount fits, fits only while pending requests wait, or does not fit.

The buckets: every line holding budget lands in exactly one (a PO line's value splits into what is invoiced, what
was received and what is still open; a requisition line on a loaded PO line is not counted again), so budget −
the buckets a view counts = that view's funds available.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
import polars as pl

from kpi_definitions import facts
from kpi_definitions.periods import FiscalCalendar, month_label
from kpi_definitions.query import Query, Selection, params, render
from kpi_definitions.registry import Registry
from store.errors import USAGE, TandemError

KPI = "funds_available"
DIMENSIONS = ("cost_center", "category")
# The buckets, from what is spent to what is only asked for, with how a reader names them.
BUCKETS: dict[str, str] = {
    "non_po_invoices": "Invoices without a PO",
    "invoiced_on_po": "Invoiced on a PO",
    "received_not_invoiced": "Received, not invoiced",
    "open_po": "Open orders",
    "approved_not_ordered": "Approved, not ordered",
    "pending_requisitions": "Pending requisitions",
}
Horizon = Literal["period", "year"]
Verdict = Literal["fits", "fits_with_pending", "does_not_fit"]


def _query(reg: Registry, name: str, first: int, last: int, filters: Mapping[str, Sequence[str]] | None,
           by: Sequence[str], currency: str) -> Query:
    sel = Selection(first, last, "month", tuple(by), filters or {})
    span = [(m, "span") for m in range(first, last + 1)]
    return Query(name.replace("_", " "), render(reg, name, {}, tuple(by)),
                 params(sel, FiscalCalendar(), DIMENSIONS, currency, months=span, lookback=0))


def buckets(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int,
            filters: Mapping[str, Sequence[str]] | None = None, by: Sequence[str] = (), currency: str = "EUR"
            ) -> pl.DataFrame:
    """Per bucket (and slice of `by`) over months first..last: what finance and procurement count in it, and a
    `budget` row (null without one); every bucket is listed, 0 where nothing lands."""
    facts.check(con, currency)
    q = _query(reg, "funds_buckets", first, last, filters, by, currency)
    got = con.sql(q.sql, params=q.params).pl().with_columns(pl.col(d).cast(pl.String) for d in by)
    if by:  # every bucket of every slice with a budget or a line
        slices = got.select(*by).unique()
        names = pl.DataFrame({"bucket": ["budget", *BUCKETS]})
        got = slices.join(names, how="cross").join(got, on=["bucket", *by], how="left")
    else:
        got = pl.DataFrame({"bucket": ["budget", *BUCKETS]}).join(got, on="bucket", how="left")
    # a bucket nothing lands in is 0; a slice without a budget row has no budget (null, never 0)
    lines = pl.col("bucket") != "budget"
    return got.with_columns(*(pl.when(lines).then(pl.col(c).fill_null(0.0)).otherwise(pl.col(c)).alias(c)
                              for c in ("finance", "procurement")), pl.col("excluded").fill_null(0),
                            pl.col("bucket").replace_strict({"budget": "Budget", **BUCKETS}).alias("label"))


def funds(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int,
          filters: Mapping[str, Sequence[str]] | None = None, by: Sequence[str] = DIMENSIONS, currency: str = "EUR"
          ) -> pl.DataFrame:
    """Per slice of `by` over months first..last: the budget, what each view counts against it, the pending
    requisitions, and what is available under each view (null without a budget row)."""
    b = buckets(con, reg, first, last, filters, by, currency)
    budget_rows = b.filter(pl.col("bucket") == "budget").select(*by, pl.col("finance").alias("budget"),
                                                                pl.col("excluded").alias("budget_excluded"))
    sums = (pl.col("finance").sum().alias("used_finance"), pl.col("procurement").sum().alias("used_procurement"),
            pl.col("procurement").filter(pl.col("bucket") == "pending_requisitions").sum().alias("pending"))
    lines = b.filter(pl.col("bucket") != "budget")
    if by:
        out = lines.group_by(*by).agg(*sums).join(budget_rows, on=list(by), how="full", coalesce=True)
    else:
        out = pl.concat([lines.select(*sums), budget_rows], how="horizontal")
    # a slice without a budget row has no funds available (never −its use), as the KPI says
    has_budget = pl.col("budget").is_not_null()
    return out.with_columns(
        available_finance=pl.when(has_budget).then(pl.col("budget") - pl.col("used_finance")),
        available_procurement=pl.when(has_budget).then(pl.col("budget") - pl.col("used_procurement")),
    ).sort(list(by) or ["budget"])


def horizon_months(month: int, horizon: Horizon, cal: FiscalCalendar) -> tuple[int, int, str]:
    """The months a check covers: the month itself, or the whole fiscal year holding it; and their label."""
    if horizon == "period":
        return month, month, month_label(month)
    start = cal.year_start(month)
    return start, start + 11, cal.label(month, "year")


def resolve(con: duckdb.DuckDBPyConnection, cost_center: str, category: str) -> tuple[str, str]:
    """The cost center and category a request names, as the budgets spell them: exact, else the one category of
    that cost center's budgets that starts with what was typed (`IT` for `IT Hardware`); a sentence otherwise."""
    known = con.execute("SELECT DISTINCT cost_center, category FROM budgets").fetchall()
    centers = sorted({c for c, _ in known})
    if cost_center not in centers:
        raise TandemError(f"No budget for cost center {cost_center!r}; cost centers with a budget: "
                          f"{', '.join(centers) or 'none (load budgets first)'}.", USAGE)
    cats = sorted({k for c, k in known if c == cost_center})
    if category in cats:
        return cost_center, category
    starts = [k for k in cats if k.lower().startswith(category.strip().lower())] if category.strip() else []
    if len(starts) == 1:
        return cost_center, starts[0]
    raise TandemError(f"No budget for category {category!r} in cost center {cost_center}; its categories: "
                      f"{', '.join(cats)}.", USAGE)


@dataclass(frozen=True)
class Funds:
    """One cost center and category over a span: its budget, each view's use, the pending requests, and what is
    available under each view (None without a budget)."""

    label: str
    budget: float | None
    used_finance: float
    used_procurement: float
    pending: float
    available_finance: float | None
    available_procurement: float | None


@dataclass(frozen=True)
class Check:
    """A request of `amount` against one cost center and category: this period's funds, the year's, and the
    verdict on the horizon asked for, with the shortfall (> 0) or what is left (≤ 0 means room) after it."""

    cost_center: str
    category: str
    amount: float
    horizon: Horizon
    period: Funds
    year: Funds
    verdict: Verdict
    short_by: float  # > 0: how much the request is short (finance's view); 0 when it fits
    short_once_pending: float  # > 0: how much it is short once every pending request is approved
    left_after: float  # what the request leaves under finance's view (negative: the shortfall)

    @property
    def judged(self) -> Funds:
        return self.year if self.horizon == "year" else self.period


def _funds(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int, label: str, cost_center: str,
           category: str, currency: str) -> Funds:
    row = funds(con, reg, first, last, {"cost_center": [cost_center], "category": [category]}, (),
                currency).row(0, named=True)
    return Funds(label, row["budget"], row["used_finance"] or 0.0, row["used_procurement"] or 0.0,
                 row["pending"] or 0.0, row["available_finance"], row["available_procurement"])


def check(con: duckdb.DuckDBPyConnection, reg: Registry, cost_center: str, category: str, amount: float, month: int,
          cal: FiscalCalendar | None = None, currency: str = "EUR", horizon: Horizon = "year") -> Check:
    """Whether a request of `amount` fits the budget of `cost_center` and `category`: this month's and the fiscal
    year's funds, and the verdict on `horizon`.

    fits: it fits even once every pending request is approved (procurement's funds available);
    fits_with_pending: it fits what finance shows available, but not once the pending requests are approved;
    does_not_fit: it is more than finance shows available (short by the difference)."""
    if not 0 < amount < float("inf"):  # inf passed `> 0` and came back as "n/a more than available"
        raise TandemError(f"An amount of {amount:g}: give the request's amount, more than 0.", USAGE)
    cal = cal or FiscalCalendar()
    cost_center, category = resolve(con, cost_center, category)
    period = _funds(con, reg, month, month, month_label(month), cost_center, category, currency)
    first, last, year_label = horizon_months(month, "year", cal)
    year = _funds(con, reg, first, last, year_label, cost_center, category, currency)
    judged = year if horizon == "year" else period
    if judged.available_finance is None or judged.available_procurement is None:
        raise TandemError(f"No budget for {cost_center} × {category} in {judged.label}: nothing to check the request "
                          "against.", USAGE)
    fin, proc = judged.available_finance, judged.available_procurement
    verdict: Verdict = "fits" if amount <= proc else "fits_with_pending" if amount <= fin else "does_not_fit"
    return Check(cost_center, category, amount, horizon, period, year, verdict,
                 short_by=max(amount - fin, 0.0), short_once_pending=max(amount - proc, 0.0), left_after=fin - amount)
