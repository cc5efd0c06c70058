"""Prices against the market: our price index and the market's as levels, savings net of the market's
movement, and the price outlook per category for joint planning (named SQL in sql/price_levels.sql,
market_levels.sql, market_change.sql, price_outlook.sql)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import polars as pl

from kpi_definitions import facts
from kpi_definitions.compute import compute
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.query import Selection, params, render, used
from kpi_definitions.registry import Registry

OURS = "Our prices"
PRICE_KPI = "price_change"


def _run(con: duckdb.DuckDBPyConnection, reg: Registry, name: str, first: int, last: int,
         filters: Mapping[str, Sequence[str]] | None, currency: str, dims: Sequence[str] = (),
         one_bucket: bool = False) -> pl.DataFrame:
    facts.check(con, currency)
    sel = Selection(first, last, "month", (), filters or {})
    cal = FiscalCalendar()
    months = [(m, "span") for m in range(first, last + 1)] if one_bucket else [
        (m, cal.label(m, "month")) for m in range(first, last + 1)]
    p = params(sel, cal, reg[PRICE_KPI].dimensions, currency, months=months)
    sql = render(reg, name, {}, dims)
    return con.sql(sql, params=used(sql, p)).pl()


def comparison(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int, category: str | None = None,
               filters: Mapping[str, Sequence[str]] | None = None, currency: str = "EUR") -> pl.DataFrame:
    """Our price index and the market's by month over first..last, both 100 in the first month: columns
    period, m, series, level. With `category`, ours for that category and the index it follows; without,
    ours for the whole selection and every index."""
    filters = dict(filters or {})
    if category is not None:
        filters["category"] = [category]
    ours = _run(con, reg, "price_levels", first, last, filters, currency).select(
        "period", "m", pl.lit(OURS).alias("series"), "level")
    market = _run(con, reg, "market_levels", first, last, None, currency)
    if category is not None:
        market = market.filter(pl.col("categories").str.split(", ").list.contains(category))
    market = market.select("period", "m", pl.col("index_name").alias("series"), "level")
    return pl.concat([ours, market], how="vertical_relaxed").sort("series", "m")


def market_change(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int,
                  filters: Mapping[str, Sequence[str]] | None = None, currency: str = "EUR") -> pl.DataFrame:
    """Per category that follows an index: the index's change over the year to `last`, and the span's spend."""
    return _run(con, reg, "market_change", first, last, filters, currency, one_bucket=True)


def savings_net_of_market(con: duckdb.DuckDBPyConnection, reg: Registry, first: int, last: int,
                          filters: Mapping[str, Sequence[str]] | None = None, currency: str = "EUR",
                          kpi: str = "savings") -> pl.DataFrame:
    """Savings per category under each view, and net of the market's movement.

    If this span's purchases had moved with the market (change m over the year to `last`), they would
    have cost spend ÷ (1 + m) a year earlier: the market's part of any saving is
        market saving = spend ÷ (1 + m) − spend = − spend × m ÷ (1 + m)
    (positive when the market fell), and savings net of market = savings − market saving. A category
    without an index, or without the index's month a year earlier, is left as it is (market saving 0).
    """
    market = market_change(con, reg, first, last, filters, currency).with_columns(
        market_saving=(-pl.col("spend") * pl.col("market_change") / (1 + pl.col("market_change"))).fill_null(0.0))
    values = compute(con, reg, Selection(first, last, "month", ("category",), filters or {}), currency=currency,
                     kpis=[kpi]).values.filter(pl.col("kpi") == kpi)
    # savings add up month by month; a category not computable in any month stays not computable
    span = values.group_by("view", "category").agg(
        pl.when(pl.col("value").count() > 0).then(pl.col("value").sum()).alias("savings"))
    return (span.join(market.select("category", "index_name", "market_change", "market_saving"), on="category",
                      how="left")
            .with_columns(pl.col("market_saving").fill_null(0.0))
            .with_columns(net=pl.col("savings") - pl.col("market_saving"))
            .sort("view", "category"))


def outlook(con: duckdb.DuckDBPyConnection, reg: Registry, last: int,
            filters: Mapping[str, Sequence[str]] | None = None, currency: str = "EUR") -> pl.DataFrame:
    """Per category that follows an index, as of month `last`: our price change and the market's over the
    year, and the contracts ending in the next twelve months with their spend, how far the market moved
    since they started (spend-weighted) and the spend that move puts at stake."""
    first = last - 11
    rows = _run(con, reg, "price_outlook", first, last, filters, currency, one_bucket=True)
    ours = compute(con, reg, Selection(last, last, "month", ("category",), filters or {}), currency=currency,
                   kpis=[PRICE_KPI], views=["finance"]).values.select("category", pl.col("value").alias("our_change"))
    return rows.join(ours, on="category", how="left").select(
        "category", "index_name", "our_change", "market_change", "contracts_ending", "spend_ending",
        "below_market", "exposure")


def mapped_categories(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The categories that follow a market index (export category_index), in order."""
    return [r[0] for r in con.execute("SELECT category FROM category_index ORDER BY category").fetchall()]
