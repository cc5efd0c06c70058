"""The savings ledger's numbers beyond the KPI's views and bridge (savings_ledger.yaml): the bridge by initiative,
the invoice lines behind every step (click-through), a month's realised saving with its lines (what a booking
freezes), the evidence months before "realised", and the monthly forecast finance plans with (the pipeline
prorated by month, the realisation rate of each initiative and what is at risk). Named SQL: sql/ledger_*.sql,
lines_ledger_*.sql, on the relations of sql/base.sql."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from kpi_definitions import facts
from kpi_definitions.lines import LINE_LIMIT
from kpi_definitions.periods import FiscalCalendar, Grain, month_label
from kpi_definitions.query import Selection, params, render, used
from kpi_definitions.registry import Registry

KPI = "savings_ledger"
STAGES: tuple[str, ...] = ("identified", "negotiated", "contracted", "realised", "booked")
COUNTED: tuple[str, ...] = STAGES[1:]  # the stages the ledger's views and bridge count
# The steps of the bridge, in order, each a column of ledger_by_initiative.sql and lines_ledger_realised.sql.
STEPS: tuple[str, ...] = ("price_not_applied", "volume", "off_contract", "fx_scope", "not_booked")


def _run(con: duckdb.DuckDBPyConnection, reg: Registry, name: str, months: Sequence[tuple[int, str]],
         filters: Mapping[str, Sequence[str]] | None, currency: str, where: str = "",
         extra: Mapping[str, object] | None = None, limit: int | None = None, dims: Sequence[str] = ()
         ) -> pl.DataFrame:
    """Run the named query over `months` (month, label) with the KPI's filters; `where` narrows its rows by
    parameters given in `extra` (never by values in the text)."""
    facts.check(con, currency)
    first, last = min(m for m, _ in months), max(m for m, _ in months)
    sel = Selection(first, last, "month", (), filters or {})
    p = params(sel, FiscalCalendar(), reg[KPI].dimensions, currency, months=months, lookback=0) | dict(extra or {})
    sql = render(reg, name, {}, dims)
    if where:
        sql = f"SELECT * FROM ({sql}) WHERE {where}"
    if limit:
        sql += f"\nLIMIT {int(limit)}"
    return con.sql(sql, params=used(sql, p)).pl()


def _span(first: int, last: int) -> list[tuple[int, str]]:
    return [(m, "span") for m in range(first, last + 1)]


def realised(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int, grain: Grain = "month",
             by: Sequence[str] = (), filters: Mapping[str, Sequence[str]] | None = None, currency: str = "EUR",
             cal: FiscalCalendar | None = None) -> pl.DataFrame:
    """Realised savings by period of the grain (and `by` supplier_id or category) over months first..last: the
    bridge's subtotal between its leaks and what finance booked, computed from invoice lines (sql/ledger_realised.sql:
    period, the `by` columns, value, excluded)."""
    months = (cal or FiscalCalendar()).buckets(first, last, grain)
    out = _run(con, reg, "ledger_realised", months, filters, currency, dims=by)
    if by:  # a period with no rows at all comes back once with empty dimensions: not a combination
        out = out.filter(pl.all_horizontal(pl.col(d).is_not_null() for d in by))
    order = {label: i for i, (_, label) in enumerate(months)}
    return out.with_columns(pl.col("period").replace_strict(order, default=None).alias("_o")).sort("_o", *by).drop("_o")


def by_initiative(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int,
                  filters: Mapping[str, Sequence[str]] | None = None, currency: str = "EUR") -> pl.DataFrame:
    """The bridge by initiative over months first..last: one row per counted initiative with its negotiated,
    every step, realised (nominal and index-adjusted), booked and its lines (sql/ledger_by_initiative.sql)."""
    return _run(con, reg, "ledger_by_initiative", _span(first, last), filters, currency)


def step_lines(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int,
               filters: Mapping[str, Sequence[str]] | None = None, initiative: str | None = None,
               step: str | None = None, currency: str = "EUR", limit: int | None = LINE_LIMIT) -> pl.DataFrame:
    """The invoice lines behind the bridge over months first..last (one initiative's, or all), each with what it
    adds to every step; with `step`, only the lines that move it (largest first)."""
    where, extra = [], {}
    if initiative is not None:
        where.append("initiative_id = $initiative")
        extra["initiative"] = initiative
    column = {"price_not_applied": "price_not_applied", "off_contract": "off_contract", "fx": "fx",
              "market_index": "market_index", "scope": "scope", "realised": "realised", "volume": "units_bought",
              "fx_scope": "fx + market_index + scope"}.get(step or "")
    if step is not None and column is None:
        raise ValueError(f"no lines list the step {step!r}")
    if column is not None:
        where.append(f"({column}) <> 0")
    frame = _run(con, reg, "lines_ledger_realised", _span(first, last), filters, currency, " AND ".join(where), extra,
                 None)
    if column is not None:
        frame = frame.with_columns(pl.sum_horizontal(c.strip() for c in column.split("+")).alias("_moves")).sort(
            pl.col("_moves").abs(), descending=True).drop("_moves")
    return frame.head(limit) if limit else frame


@dataclass(frozen=True)
class Evidence:
    """A month of an initiative as finance would book it: the realised saving and the lines it is made of."""

    initiative_id: str
    month: int
    amount: float | None  # None: not computable (no FX rate for the window's first month)
    lines: pl.DataFrame  # invoice_id, invoice_line, invoice_date, quantity, amount, currency, amount_rep, baseline_rep, saving
    left_out: int  # lines with no FX rate

    @property
    def label(self) -> str:
        return month_label(self.month)


def month_evidence(con: duckdb.DuckDBPyConnection, reg: Registry, initiative_id: str, month: int,
                   currency: str = "EUR") -> Evidence:
    """What a booking of `month` of the initiative freezes: its realised saving (ledger_steps) and the lines on
    contract that make it (each line's saving adds up to it)."""
    start = _run(con, reg, "ledger_initiatives", [(month, "month")], None, currency, "initiative_id = $initiative",
                 {"initiative": initiative_id})
    lines = _run(con, reg, "lines_ledger_realised", [(month, "month")], None, currency,
                 "initiative_id = $initiative AND counted_as IN ('on contract', 'left out: no FX rate')",
                 {"initiative": initiative_id})
    left_out = lines.filter(pl.col("counted_as") != "on contract")
    lines = lines.filter(pl.col("counted_as") == "on contract")
    # the same lines and sums as ledger_steps' realised (a month of an initiative without r0 is not computable)
    amount = float(lines["realised"].sum()) if start.height and start["r0"][0] is not None else None
    frozen = lines.select("invoice_id", "invoice_line", "invoice_date", "quantity", "amount", "currency",
                          pl.col("amount_paid").alias("amount_rep"),
                          (pl.col("realised") + pl.col("amount_paid")).alias("baseline_rep"),
                          pl.col("realised").alias("saving"))
    return Evidence(initiative_id, month, amount, frozen, left_out.height)


def evidence_months(con: duckdb.DuckDBPyConnection, reg: Registry, initiative_id: str, first: int, last: int,
                    currency: str = "EUR") -> int:
    """The months first..last of the initiative's window holding invoice lines under its contract."""
    if last < first:
        return 0
    found = _run(con, reg, "ledger_evidence", _span(first, last), None, currency, "initiative_id = $initiative",
                 {"initiative": initiative_id})
    return int(found["months"][0]) if found.height else 0


# --- the monthly forecast --------------------------------------------------------------------------------------

FORECAST_SCHEMA = {"period": pl.String, "m": pl.Int64, "identified": pl.Float64, "negotiated": pl.Float64,
                   "contracted": pl.Float64, "realised": pl.Float64, "booked": pl.Float64, "expected": pl.Float64,
                   "at_risk": pl.Float64, "budget": pl.Float64, "actual": pl.Boolean}


def pipeline_months(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int,
                    filters: Mapping[str, Sequence[str]] | None = None, currency: str = "EUR") -> pl.DataFrame:
    """Every initiative in every month first..last its window reaches, with its prorated saving, realised and booked."""
    return _run(con, reg, "ledger_months", [(m, month_label(m)) for m in range(first, last + 1)], filters, currency)


def initiatives(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int, data_last: int,
                filters: Mapping[str, Sequence[str]] | None = None, currency: str = "EUR") -> pl.DataFrame:
    """Each initiative over months first..last as finance plans with it: its prorated saving up to `data_last` (the
    latest month with data) and after it, realised and booked so far, its realisation rate (realised ÷ prorated
    up to `data_last`; null before its window starts), what it is expected to bring after `data_last` and what
    of its saving is at risk, with the reason.

    Expected after the data: the prorated saving × the realisation rate so far (capped at 100 %; 100 % without
    history) for initiatives contracted or later; nothing for one not contracted yet (all of it is at risk).
    At risk: the prorated saving after the data that is not expected, and the realised saving of months
    finance refused to book."""
    months = pipeline_months(con, reg, first, last, filters, currency)
    return _initiatives(months, data_last)


def _initiatives(months: pl.DataFrame, data_last: int) -> pl.DataFrame:
    past = pl.col("m") <= data_last
    per = months.group_by("initiative_id", "name", "supplier_id", "category", "stage", "counted").agg(
        pl.col("prorated").filter(past).sum().alias("prorated_to_date"),
        pl.col("prorated").filter(~past).sum().alias("prorated_after"),
        pl.col("realised").filter(past).sum().alias("realised"),
        pl.col("booked").sum().alias("booked"),
        pl.col("realised").filter(past & pl.col("refused")).sum().alias("refused"),
    )
    contracted = pl.col("stage").is_in(["contracted", "realised", "booked"])
    rate = pl.when(pl.col("counted") & (pl.col("prorated_to_date").abs() > 0)).then(
        pl.col("realised") / pl.col("prorated_to_date"))
    per = per.with_columns(rate.alias("rate")).with_columns(
        pl.when(contracted).then(pl.col("prorated_after") * pl.col("rate").fill_null(1.0).clip(0.0, 1.0))
        .otherwise(0.0).alias("expected"))
    per = per.with_columns(
        pl.when(pl.col("counted")).then(pl.col("prorated_after") - pl.col("expected") + pl.col("refused"))
        .otherwise(0.0).alias("at_risk"))
    reason = (pl.when(~pl.col("counted")).then(pl.lit("identified only: not in the forecast"))
              .when(~contracted & (pl.col("prorated_after") > 0)).then(pl.lit("not contracted yet"))
              .when(pl.col("refused") != 0).then(pl.lit("finance refused to book a month"))
              .when(pl.col("rate") < 1).then(pl.format("realising {}% so far", (pl.col("rate") * 100).round(0).cast(pl.Int64)))
              .otherwise(pl.lit("")))
    return per.with_columns(reason.alias("risk")).sort("at_risk", "prorated_after", descending=True, nulls_last=True)


def forecast(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int, data_last: int,
             filters: Mapping[str, Sequence[str]] | None = None, currency: str = "EUR") -> pl.DataFrame:
    """The monthly forecast finance can plan with, months first..last (FORECAST_SCHEMA): the pipeline prorated by
    month and stage (identified; negotiated, not contracted yet; contracted or later), realised and booked, what
    is expected (realised up to `data_last`, then the prorated saving × each initiative's realisation rate), what
    is at risk, and the spend budget of the categories with initiatives. `actual`: a month with data."""
    months = pipeline_months(con, reg, first, last, filters, currency)
    rates = _initiatives(months, data_last).select("initiative_id", "rate")
    past = pl.col("m") <= data_last
    contracted = pl.col("stage").is_in(["contracted", "realised", "booked"])
    rows = months.join(rates, on="initiative_id", how="left").with_columns(
        pl.when(past).then(pl.col("realised"))
        .when(contracted).then(pl.col("prorated") * pl.col("rate").fill_null(1.0).clip(0.0, 1.0))
        .otherwise(None).alias("expected"))
    per_month = rows.group_by("m").agg(
        pl.col("prorated").filter(pl.col("stage") == "identified").sum().alias("identified"),
        pl.col("prorated").filter(pl.col("stage") == "negotiated").sum().alias("negotiated"),
        pl.col("prorated").filter(contracted).sum().alias("contracted"),
        pl.col("realised").filter(past).sum().alias("realised"),
        pl.col("booked").sum().alias("booked"),
        pl.col("expected").sum().alias("expected"),
        (pl.col("prorated").filter(pl.col("counted") & ~past).sum()
         - pl.col("expected").filter(pl.col("counted") & ~past).sum()
         + pl.col("realised").filter(past & pl.col("refused")).sum()).alias("at_risk"),
    )
    budget = _run(con, reg, "ledger_budget", [(m, month_label(m)) for m in range(first, last + 1)], filters, currency)
    out = (budget.select(pl.col("m").cast(pl.Int64), "period", pl.col("budget").cast(pl.Float64))
           .join(per_month.with_columns(pl.col("m").cast(pl.Int64)), on="m", how="left")
           .with_columns(pl.col(c).fill_null(0.0) for c in ("identified", "negotiated", "contracted", "realised",
                                                             "booked", "expected", "at_risk"))
           .with_columns(pl.when(pl.col("m") > data_last).then(None).otherwise(pl.col("realised")).alias("realised"),
                         (pl.col("m") <= data_last).alias("actual"))
           .sort("m"))
    return out.select(list(FORECAST_SCHEMA)).cast(FORECAST_SCHEMA)  # type: ignore[arg-type]
