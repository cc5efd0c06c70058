"""Weak data, flagged on the value it weakens: a period the data does not cover wholly (or at all), a
year-over-year value on a partial base month, rows left out (no FX rate), a filter the KPI cannot apply. Each
warning is a code and a short sentence (`warnings()`).

The rules (also in CONTRACT.md, `tandem kpis`):
- no_data / partial_period: a period none or only some of whose months the view's exports have reached
  (kpi_definitions/running.py): null, or computed over the months covered, which the sentence names.
- partial_base: a view compared with the same months a year earlier (`base_coverage` in its declaration)
  is flagged when one of its base months (a year before a covered month) holds fewer than PARTIAL (60 %) of
  the lines, or of the days with data, of the norm: the export's typical month near it, the median over the
  twelve months after the base month of the export's regular months (at least a tenth of the lines of its
  typical month, the median of its twelve busiest), else that typical month. Counted over the whole export
  (sql/coverage.sql), not the slice. A null value carries none (it has no base).
- missing_fx (or the view's `excluded_code`): the row was computed without `excluded` rows (no FX rate for
  their month); when its value is null, nothing of it converted.
- filter_ignored: a filter on a dimension the KPI's rows do not carry: the value is for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import ModuleType

import duckdb
import polars as pl

from kpi_definitions.dialects import expand
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.query import Selection
from kpi_definitions.registry import Registry

PARTIAL = 0.6  # a base month under 60 % of the norm's lines or days is partial
COVERAGE = {"invoices": ("fact_invoices", "invoice_date", "invoice lines"),
            "purchase_orders": ("fact_po", "order_date", "PO lines")}
# Each code's rule in a sentence (the dashboard's tooltip; CONTRACT.md, `tandem kpis`).
RULES = {
    "no_data": ("A period none of whose months the view's exports have reached (or that they miss) has no value, "
                "never 0: nothing was recorded yet, which is not the same as nothing spent."),
    "partial_period": ("A period still running (or one an export misses a month of) is computed over the months its "
                       "exports cover, which the warning names; a year-over-year view compares them with the same "
                       "months a year earlier."),
    "partial_base": (f"A year-over-year value is flagged when a month of its base (a year earlier) holds fewer than "
                     f"{PARTIAL:.0%} of the lines, or of the days with data, of a normal month: the median over the "
                     "12 months after that base month of the export's regular months (those with at least a tenth "
                     "of its typical month's lines), counted over the whole export."),
    "missing_fx": ("Rows whose currency has no FX rate for their month are left out of the value; when every row "
                   "of it is left out, there is no value (never 0). Load the missing fx_rates to include them."),
    "missing_fx_or_terms": ("Paid lines with no FX rate for their month, or with no agreed terms (a supplier "
                            "missing from the supplier master), are left out of the value."),
    "filter_ignored": ("The KPI's rows do not carry the filtered dimension, so the filter cannot apply: the value "
                       "is for all of them."),
}
WARNING = pl.Struct({"code": pl.String, "message": pl.String})
ORDER = {"no_data": -2, "partial_period": -1, "partial_base": 0, "filter_ignored": 2}  # excluded codes: 1


def words(dim: str) -> str:
    """A dimension as a reader says it: supplier_id -> supplier, cost_center -> cost center."""
    return dim.removesuffix("_id").replace("_", " ")


def warnings(con: duckdb.DuckDBPyConnection, reg: Registry, sel: Selection, values: pl.DataFrame,
             cal: FiscalCalendar | None = None, periods: pl.DataFrame | None = None,
             source_months: str | None = None, *, lib: ModuleType | None = None,
             run: Callable[[str, dict[str, object]], pl.DataFrame] | None = None) -> pl.DataFrame:
    """compute()'s values with a `warnings` column: a list of {code, message}, empty when nothing is weak.

    `periods`: each (_owner: the KPI, view, period)'s covered months and running-period warning (code, message,
    covered), as the engine planned them; computed here when not given. `source_months`: the SQL of the
    months of each export (sql/source_months.sql unless the engine reads them elsewhere); `lib` the SQL function
    library of the engine, `run` how it runs a query (this connection by default)."""
    from kpi_definitions import running

    cal = cal or FiscalCalendar()
    source_months = source_months or expand(reg.sql("source_months"), lib)
    run = run or (lambda sql, params: con.sql(sql, params=params).pl())
    rows = values.with_row_index("_row")
    owner = {name: reg.kpi_of(name) for name in values["kpi"].unique().to_list()}
    rows = rows.with_columns(pl.col("kpi").replace_strict(owner, default=None, return_dtype=pl.String).alias("_owner"))
    if periods is None:
        periods = running.frame(reg, running.from_rows(run(source_months, {}).iter_rows()),
                                cal.buckets(sel.first, sel.last, sel.grain),
                                {(o, v) for o, v in rows.select("_owner", "view").unique().iter_rows()})
    found = [_running(rows, periods), _partial_base(run, reg, source_months, rows, periods, lib), _excluded(reg, rows),
             _ignored(reg, sel, rows)]
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


def _running(rows: pl.DataFrame, periods: pl.DataFrame) -> pl.DataFrame:
    """(_row, code, message) for each row of a period its exports cover in part (partial_period) or not at all."""
    said = periods.filter(pl.col("code").is_not_null()).select("_owner", "view", "period", "code", "message")
    return rows.join(said, on=["_owner", "view", "period"]).select("_row", "code", "message")


def _partial_base(run: Callable[[str, dict[str, object]], pl.DataFrame], reg: Registry, source_months: str,
                  rows: pl.DataFrame, periods: pl.DataFrame, lib: ModuleType | None) -> pl.DataFrame:
    """(_row, code, message) for each row of a year-over-year view whose base holds a partial month: the month a
    year before each covered month of its period."""
    empty = pl.DataFrame(schema={"_row": pl.UInt32, "code": pl.String, "message": pl.String})
    checked = [(k.name, v, view.base_coverage) for k in reg for v, view in k.views.items() if view.base_coverage]
    if not checked or not rows.height:
        return empty
    out = []
    for source in sorted({c for *_, c in checked}):
        _, _, what = COVERAGE[source]
        views = pl.DataFrame([(k, v) for k, v, c in checked if c == source], schema=["_owner", "view"], orient="row")
        bases = (periods.join(views, on=["_owner", "view"]).explode("covered").drop_nulls("covered")
                 .select("_owner", "view", "period", (pl.col("covered") - 12).alias("m")))
        if not bases.height:
            continue
        sql = expand(reg.sql("coverage"), lib).replace("{source_months}", source_months)
        cover = run(sql, {"bases": sorted(set(bases["m"].to_list())), "source": source})
        weak = cover.filter((pl.col("lines") < PARTIAL * pl.col("norm_lines"))
                            | (pl.col("days") < PARTIAL * pl.col("norm_days")))
        if not weak.height:
            continue
        # a handful of months: their numbers written with thousands separators
        thousands = [pl.col(c).round(0).cast(pl.Int64).map_elements(lambda v: f"{v:,}", return_dtype=pl.String)
                     for c in ("lines", "days", "norm_lines", "norm_days")]
        weak = weak.with_columns(
            pl.format("Base month {}-{} is partial: {} {} on {} days, against {} on {} days in a normal month.",
                      pl.col("m") // 12, (pl.col("m") % 12 + 1).cast(pl.String).str.zfill(2), thousands[0],
                      pl.lit(what), thousands[1], thousands[2], thousands[3])
            .alias("month_text"))
        per_period = (bases.join(weak.select("m", "month_text"), on="m").sort("m")
                      .group_by("_owner", "view", "period", maintain_order=True)
                      .agg(pl.col("month_text").str.join(" ").alias("text")))
        # a null value has no base to be weak (no line a year earlier): nothing to flag
        out.append(rows.filter(pl.col("value").is_not_null()).join(per_period, on=["_owner", "view", "period"])
                   .select("_row", pl.lit("partial_base").alias("code"), pl.col("text").alias("message")))
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
