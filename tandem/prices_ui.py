"""The price page's own sections (our index against the market's, the price outlook) and the savings page's
option of savings net of the market's movement, composed from kpi_definitions/prices.py."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from kpi_definitions import prices
from kpi_definitions.registry import Kpi
from reports import charts
from reports.scope import Scope
from store.db import reading
from tandem import service, widgets
from tandem.service import Filters

MONTHS_SHOWN = 24  # the comparison chart: two years to the selected period's last month
ALL = "(all categories)"


@st.cache_data(show_spinner=False, max_entries=64)
def _categories(db: str, ver: str) -> list[str]:
    with reading(Path(db)) as con:
        return prices.mapped_categories(con)


@st.cache_data(show_spinner=False, max_entries=64)
def _comparison(db: str, ver: str, first: int, last: int, category: str | None, filters: Filters) -> pl.DataFrame:
    with reading(Path(db)) as con:
        return prices.comparison(con, service.reg(), first, last, category, dict(filters),
                                 service.cfg().reporting_currency)


@st.cache_data(show_spinner=False, max_entries=64)
def _outlook(db: str, ver: str, last: int, filters: Filters) -> pl.DataFrame:
    with reading(Path(db)) as con:
        return prices.outlook(con, service.reg(), last, dict(filters), service.cfg().reporting_currency)


@st.cache_data(show_spinner=False, max_entries=64)
def _net(db: str, ver: str, first: int, last: int, filters: Filters) -> pl.DataFrame:
    with reading(Path(db)) as con:
        return prices.savings_net_of_market(con, service.reg(), first, last, dict(filters),
                                            service.cfg().reporting_currency)


def sections(kpi: Kpi, sel: Scope) -> None:
    """What a KPI page adds after its breakdown: the market and the outlook on the price page, the
    net-of-market option on the savings page; nothing on the others."""
    if kpi.name == prices.PRICE_KPI:
        market(kpi, sel)
        outlook(sel)
    elif kpi.name == "savings":
        net_of_market(sel)


def figure(levels: pl.DataFrame, title: str) -> go.Figure:
    """Our index (the finance view's blue, thick) and each market index (gray, dashed) as levels."""
    fig = go.Figure()
    for name, rows in levels.group_by("series", maintain_order=True):
        ours = name[0] == prices.OURS
        fig.add_trace(go.Scatter(x=rows["period"].to_list(), y=rows["level"].to_list(), name=str(name[0]),
                                 mode="lines+markers" if ours else "lines",
                                 line=dict(color=charts.PALETTE["blue" if ours else "gray"], width=3 if ours else 2,
                                           dash=None if ours else "dash")))
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", font=dict(size=15)), height=380, font=charts.FONT,
                      margin=dict(l=16, r=16, t=60, b=10), plot_bgcolor="white", paper_bgcolor="white",
                      legend=dict(orientation="v", x=1.01, xanchor="left", y=1), hovermode="x unified")
    fig.update_yaxes(gridcolor="#e6e6e6", title=dict(text="Index (first month = 100)", font=dict(size=12)),
                     automargin=True)
    fig.update_xaxes(type="category", automargin=True, nticks=12)
    return fig


def market(kpi: Kpi, sel: Scope) -> None:
    st.subheader("Our prices against the market", anchor=False)
    cats = _categories(str(sel.db), sel.ver)
    if not cats:
        st.info("No market index loaded: load a `price_indices` export and a `category_index` export that names "
                "the index each category follows.")
        return
    category = st.selectbox("Category", [ALL, *cats], key="price_market_category", bind="query-params")
    data = service.months(str(sel.db), sel.ver)
    first = max(sel.span.last - MONTHS_SHOWN + 1, data[0] if data else 0)
    picked = None if category == ALL else category
    levels = _comparison(str(sel.db), sel.ver, first, sel.span.last, picked, sel.key)
    if not levels.height:
        st.info("No prices to compare for this selection.")
        return
    title = f"Price index{'' if picked is None else ' · ' + picked}: ours against the market"
    widgets.chart(figure(levels, title), "price-market", sel, kpi, title)
    st.caption("Ours: the finance view's chain-linked index, month by month (items bought in two months running, "
               "weighted by the earlier month's spend). The market: the loaded `price_indices`, rebased to 100 in the "
               "first month shown. A category without item quantities (services) has no index of ours.")


def outlook(sel: Scope) -> None:
    st.subheader(f"Price outlook for planning · as of {sel.span.label}", anchor=False)
    rows = _outlook(str(sel.db), sel.ver, sel.span.last, sel.key)
    if not rows.height:
        st.info("No category follows a market index: load a `category_index` export.")
        return
    currency = sel.currency
    table = rows.select(
        pl.col("category").alias("Category"), pl.col("index_name").alias("Index"),
        pl.col("our_change").alias("Ours, 12 mo"), pl.col("market_change").alias("Market, 12 mo"),
        pl.col("contracts_ending").alias("Contracts ending"), pl.col("spend_ending").alias("Their spend"),
        pl.col("below_market").alias("Market move since start"), pl.col("exposure").alias("At stake"))
    units = {"Ours, 12 mo": "ratio", "Market, 12 mo": "ratio", "Market move since start": "ratio",
             "Their spend": "currency", "At stake": "currency"}
    widgets.table(table, units, currency)
    widgets.table_downloads(table, f"price-outlook-{sel.span.label}", "price-outlook",
                            widgets.stamp_lines(sel, None, "Price outlook"), units, currency)
    st.caption("Ours and the market: price change over the 12 months to the period. Contracts ending: in the next "
               "12 months; their spend: over the last 12 months. A contract's price is taken to be at the market when "
               "it started, so at renewal it meets the market's move since then (from the index's first month when "
               "the index starts later). At stake = their spend × that move. A next-year target can start from the "
               "market's 12-month change as its price assumption.")


def net_of_market(sel: Scope) -> None:
    if not st.toggle("Savings net of market movement", key="savings_net_of_market",
                     help="Take out what the market's price index did to the category's prices over the year"):
        return
    rows = _net(str(sel.db), sel.ver, sel.span.first, sel.span.last, sel.key)
    if not rows.height:
        st.info("No savings by category for this selection.")
        return
    table = rows.select(
        pl.col("view").str.to_titlecase().alias("View"), pl.col("category").alias("Category"),
        pl.col("savings").alias("Savings"), pl.col("index_name").alias("Market index"),
        pl.col("market_change").alias("Market, 12 months"), pl.col("market_saving").alias("Market's part"),
        pl.col("net").alias("Savings net of market"))
    units = {"Savings": "currency", "Market's part": "currency", "Savings net of market": "currency",
             "Market, 12 months": "ratio"}
    widgets.table(table, units, sel.currency)
    st.caption("Market's part = − spend × m ÷ (1 + m), m the category's index change over the year to the period's "
               "last month: what this period's purchases would have saved had their prices only followed the market "
               "(positive when the market fell). Net = savings − market's part; a category without an index is left "
               "as it is.")
