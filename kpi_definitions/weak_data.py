"""Weak data, flagged on the value it weakens: a year-over-year value on a partial base month, rows left out
(no FX rate), a filter the KPI cannot apply. Each warning is a code and a short sentence (`warnings()`).

The rules (also in CONTRACT.md, `tandem kpis`):
- partial_base: a view compared with the same months a year earlier (`base_coverage` in its declaration)
  is flagged when one of its base months holds fewer than PARTIAL (60 %) of the lines, or of the days
  with data, of the norm: the median over the twelve months after the base month (up to the compared
  month) of the months with any line. Counted over the whole export (sql/coverage.sql), not the slice.
  A null value carries none (it has no base).
- missing_fx (or the view's `excluded_code`): the row was computed without `excluded` rows (no FX rate for
  their month); when its value is null, nothing of it converted.
- filter_ignored: a filter on a dimension the KPI's rows do not carry: the value is for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import polars as pl

from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.query import Selection
from kpi_definitions.registry import Registry

PARTIAL = 0.6  # a base month under 60 % of the norm's lines or days is partial
COVERAGE = {"invoices": ("fact_invoices", "invoice_date", "invoice lines"),
            "purchase_orders": ("fact_po", "order_date", "PO lines")}
# Each code's rule in a sentence (the dashboard's tooltip; CONTRACT.md, `tandem kpis`).
RULES = {
    "partial_base": (f"A year-over-year value is flagged when a month of its base (a year earlier) holds fewer than "
                     f"{PARTIAL:.0%} of the lines, or of the days with data, of a normal month: the median over the "
                     "12 months after that base month of the months with any line, counted over the whole export."),
    "missing_fx": ("Rows whose currency has no FX rate for their month are left out of the value; when every row "
                   "of it is left out, there is no value (never 0). Load the missing fx_rates to include them."),
    "missing_fx_or_terms": ("Paid lines with no FX rate for their month, or with no agreed terms (a supplier "
                            "missing from the supplier master), are left out of the value."),
    "no_events": ("Invoices without any approval event are left out of the value: nothing says whether a person "
                  "touched them. Load their approval_events to include them."),
    "filter_ignored": ("The KPI's rows do not carry the filtered dimension, so the filter cannot apply: the value "
                       "is for all of them."),
}
WARNING = pl.Struct({"code": pl.String, "message": pl.String})
ORDER = {"partial_base": 0, "filter_ignored": 2}  # any excluded code sorts between them (1)


def words(dim: str) -> str:
    """A dimension as a reader says it: supplier_id -> supplier, cost_center -> cost center."""
    return dim.removesuffix("_id").replace("_", " ")


def warnings(con: duckdb.DuckDBPyConnection, reg: Registry, sel: Selection, values: pl.DataFrame,
             cal: FiscalCalendar | None = None) -> pl.DataFrame:
    """compute()'s values with a `warnings` column: a list of {code, message}, empty when nothing is weak."""
    cal = cal or FiscalCalendar()
    rows = values.with_row_index("_row")
    owner = {name: reg.kpi_of(name) for name in values["kpi"].unique().to_list()}
    rows = rows.with_columns(pl.col("kpi").replace_strict(owner, default=None, return_dtype=pl.String).alias("_owner"))
    found = [_partial_base(con, reg, sel, cal, rows), _excluded(reg, rows), _ignored(reg, sel, rows)]
    found = [f for f in found if f.height]
    if not found:
        return values.with_columns(pl.lit([], dtype=pl.List(WARNING)).alias("warnings"))
    listed = (pl.concat(found).with_columns(pl.col("code").replace_strict(ORDER, default=1).alias("_order"))
              .sort("_row", "_order", maintain_order=True)
              .group_by("_row", maintain_order=True)
              .agg(pl.struct("code", "message").alias("warnings")))
    return (rows.join(listed, on="_row", how="left")
            .with_columns(pl.col("warnings").fill_null(pl.lit([], dtype=pl.List(WARNING))))
            .sort("_row").drop("_row", "_owner"))


def _partial_base(con: duckdb.DuckDBPyConnection, reg: Registry, sel: Selection, cal: FiscalCalendar,
                  rows: pl.DataFrame) -> pl.DataFrame:
    """(_row, code, message) for each row of a year-over-year view whose base holds a partial month."""
    empty = pl.DataFrame(schema={"_row": pl.UInt32, "code": pl.String, "message": pl.String})
    checked = [(k.name, v, view.base_coverage) for k in reg for v, view in k.views.items() if view.base_coverage]
    if not checked or not rows.height:
        return empty
    buckets = pl.DataFrame(cal.buckets(sel.first, sel.last, sel.grain), schema=["m", "period"], orient="row")
    out = []
    for source in sorted({c for *_, c in checked}):
        table, date, what = COVERAGE[source]
        sql = reg.sql("coverage").replace("{table}", table).replace("{date}", date)
        bases = (buckets["m"] - 12).to_list()
        cover = con.sql(sql, params={"bases": bases}).pl()
        weak = cover.filter((pl.col("lines") < PARTIAL * pl.col("norm_lines"))
                            | (pl.col("days") < PARTIAL * pl.col("norm_days")))
        if not weak.height:
            continue
        # a handful of months: their numbers written with thousands separators
        thousands = [pl.col(c).round(0).cast(pl.Int64).map_elements(lambda v: f"{v:,}", return_dtype=pl.String)
                     for c in ("lines", "days", "norm_lines", "norm_days")]
        weak = weak.with_columns(
            (pl.col("m") + 12).alias("m"),
            pl.format("Base month {}-{} is partial: {} {} on {} days, against {} on {} days in a normal month.",
                      pl.col("m") // 12, (pl.col("m") % 12 + 1).cast(pl.String).str.zfill(2), thousands[0],
                      pl.lit(what), thousands[1], thousands[2], thousands[3])
            .alias("month_text"))
        per_period = (buckets.join(weak, on="m").group_by("period", maintain_order=True)
                      .agg(pl.col("month_text").str.join(" ").alias("text")))
        views = pl.DataFrame([(k, v) for k, v, c in checked if c == source], schema=["_owner", "view"], orient="row")
        # a null value has no base to be weak (no line a year earlier): nothing to flag
        out.append(rows.filter(pl.col("value").is_not_null()).join(views, on=["_owner", "view"])
                   .join(per_period, on="period")
                   .select("_row", pl.lit("partial_base").alias("code"),
                           pl.col("text").alias("message")))
    return pl.concat(out) if out else empty


def _excluded(reg: Registry, rows: pl.DataFrame) -> pl.DataFrame:
    """(_row, code, message) for each row computed without some of its rows (or not computable without them)."""
    reasons = pl.DataFrame([(k.name, v, view.excluded_code, view.excluded) for k in reg for v, view in k.views.items()],
                           schema=["_owner", "view", "code", "reason"], orient="row")
    hit = rows.filter(pl.col("excluded") > 0).join(reasons, on=["_owner", "view"])
    count = pl.col("excluded").cast(pl.String)
    return hit.select("_row", "code", pl.when(pl.col("value").is_null())
                      .then(pl.lit("No value: ") + count + " " + pl.col("reason")
                            + pl.lit(" left out, and nothing else to compute it from."))
                      .otherwise(pl.lit("Computed without ") + count + " " + pl.col("reason") + pl.lit("."))
                      .alias("message"))


def _ignored(reg: Registry, sel: Selection, rows: pl.DataFrame) -> pl.DataFrame:
    """(_row, code, message) for each row of a KPI that cannot apply a filter of the selection."""
    notes = [(k.name, ignored_text(k.label, dims))
             for k in reg if (dims := ignored_filters(k.dimensions, sel.filters))]
    if not notes:
        return pl.DataFrame(schema={"_row": pl.UInt32, "code": pl.String, "message": pl.String})
    return rows.join(pl.DataFrame(notes, schema=["_owner", "message"], orient="row"), on="_owner").select(
        "_row", pl.lit("filter_ignored").alias("code"), "message")


def ignored_filters(dimensions: Sequence[str], filters: Mapping[str, Sequence[str]]) -> list[str]:
    """The filtered dimensions a KPI's rows do not carry (it is computed for all of them)."""
    return sorted(d for d, v in filters.items() if v and d not in dimensions)


def ignored_text(label: str, dims: Sequence[str]) -> str:
    names = " and ".join(words(d) for d in dims)
    return (f"{label} ignores the {names} filter: its rows carry no {names}, so it is shown for all of them.")
