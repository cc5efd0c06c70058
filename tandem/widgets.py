"""The dashboard's shared widgets: filter bar, side-by-side KPI card, snapshot buttons, formatted tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from kpi_definitions.periods import Grain
from kpi_definitions.registry import Kpi
from store.errors import TandemError
from tandem import charts, exports, formats, service
from tandem.service import Filters, Span

GRAINS: tuple[Grain, ...] = ("month", "quarter", "year")
# URL parameter -> KPI dimension: short names, so a shared link stays readable.
FILTER_PARAMS = {"supplier": "supplier_id", "category": "category", "cost_center": "cost_center"}
FILTER_LABELS = {"supplier": "Supplier", "category": "Category", "cost_center": "Cost center"}
TREND_PERIODS = {"month": 12, "quarter": 8, "year": 5}
WATCH_EVERY_S = 3
PLOT_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
VIEW_MARKS = {"finance": ":blue[■]", "procurement": ":orange[■]"}  # the same colours as in every chart


@dataclass(frozen=True)
class Selected:
    """What the filter bar selected, with everything a page needs to ask the KPI layer for it."""

    db: Path
    ver: str
    span: Span
    trend_first: int
    filters: dict[str, list[str]]
    as_of: datetime | None
    currency: str

    @property
    def key(self) -> Filters:
        return service.as_filters(self.filters)

    @property
    def grain(self) -> Grain:
        return self.span.grain

    def values(self, span: Span | None = None, by: tuple[str, ...] = (),
               kpis: tuple[str, ...] | None = None) -> pl.DataFrame:
        s = span or self.span
        return service.kpi_values(str(self.db), self.ver, s.first, s.last, s.grain, by, self.key, kpis)[0]

    def notes(self) -> list[str]:
        """What the KPI layer left out or could not split, over the months charted (the trend's query)."""
        return service.kpi_values(str(self.db), self.ver, self.trend_first, self.span.last, self.grain, (), self.key,
                                  None)[1]

    def trend(self, kpis: tuple[str, ...] | None = None) -> pl.DataFrame:
        return service.kpi_values(str(self.db), self.ver, self.trend_first, self.span.last, self.grain, (), self.key,
                                  kpis)[0]

    def now_before_trend(self, kpis: tuple[str, ...] | None = None) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """This period, the one before and the trend. By month the first two are the trend's last two points:
        one query instead of three (on a large database that is most of a page's time)."""
        trend = self.trend(kpis)
        prev = self.span.previous
        if self.grain == "month" and prev.first >= self.trend_first:
            return (trend.filter(pl.col("period") == self.span.label), trend.filter(pl.col("period") == prev.label),
                    trend)
        return self.values(kpis=kpis), self.values(prev, kpis=kpis), trend

    def filter_text(self) -> str:
        if not self.filters:
            return "Filters: none (all suppliers, categories, cost centers)"
        parts = [f"{FILTER_LABELS[p]} = {', '.join(self.filters[d])}" for p, d in FILTER_PARAMS.items()
                 if d in self.filters]
        return "Filters: " + "; ".join(parts)

    def as_of_text(self) -> str:
        return f"Data as of {self.as_of:%Y-%m-%d %H:%M}" if self.as_of else "Data as of: no load yet"


def database_or_stop() -> tuple[Path, str]:
    db = service.cfg().db
    if not db.exists():
        st.info("No database yet: run `tandem demo`, or load your exports on the Data page or with `tandem ingest`.")
        st.stop()
    return db, service.version(db)


def filter_bar() -> Selected:
    """The one filter bar, in the sidebar, bound to the URL so a view can be shared as a link."""
    db, ver = database_or_stop()
    with st.sidebar:
        _watch(db, ver)
    try:
        rng = service.months(str(db), ver)
        problem = service.facts_problem(str(db), ver)
    except TandemError as exc:  # a long load holds the file: say so, the watcher reruns when it is done
        st.info(f"{exc.message} The page refreshes by itself when the load has finished.")
        st.stop()
    if problem:
        st.error(problem)
        st.stop()
    if rng is None:
        st.info("The database holds no orders, invoices or stock yet: load exports on the Data page.")
        st.stop()
    cal = service.calendar()
    data_first, data_last = rng
    opts = service.options(str(db), ver)
    with st.sidebar:
        st.header("Filters")
        # A bound widget writes what it shows into the URL, so links read like the screen: ?grain=quarter
        grain: Grain = st.selectbox("Grain (fiscal calendar)", GRAINS, index=0, key="grain", bind="query-params")
        labels = list(dict.fromkeys(lbl for _, lbl in cal.buckets(data_first, data_last, grain)))[::-1]
        period = st.selectbox("Period", labels, index=0, key="period", bind="query-params",
                              help="A period still running is shown up to the latest month with data.")
        first, last = cal.parse(period, grain)
        span = Span(max(first, data_first), min(last, data_last), grain, period)
        filters: dict[str, list[str]] = {}
        for param, dim in FILTER_PARAMS.items():
            choices = opts.get(dim, [])
            label_of = dict(choices)
            picked = st.multiselect(FILTER_LABELS[param], [v for v, _ in choices], key=param, bind="query-params",
                                    format_func=lambda v, m=label_of: m.get(v, v), placeholder="All")
            if picked:
                filters[dim] = list(picked)
        st.caption("■ blue is always **finance**, ■ orange always **procurement**; gaps are finance − procurement.")
        as_of = service.data_as_of(str(db), ver)
        st.caption(f"Data as of {as_of:%Y-%m-%d %H:%M}" if as_of else "No load yet")
    n = TREND_PERIODS[grain]
    step = {"month": 1, "quarter": 3, "year": 12}[grain]
    trend_first = max(data_first, cal.span(span.last - step * (n - 1), grain)[0])
    return Selected(db, ver, span, trend_first, filters, as_of, service.cfg().reporting_currency)


@st.fragment(run_every=WATCH_EVERY_S)
def _watch(db: Path, ver: str) -> None:
    """Rerun the page when a load (from the command line, or another user) has changed the database."""
    if service.version(db) != ver:
        st.rerun()


def value_of(values: pl.DataFrame, kpi: str, view: str, period: str | None = None) -> float | None:
    rows = values.filter((pl.col("kpi") == kpi) & (pl.col("view") == view))
    if period is not None:
        rows = rows.filter(pl.col("period") == period)
    return rows["value"][-1] if rows.height else None


def gap(finance: float | None, procurement: float | None) -> float | None:
    return None if finance is None or procurement is None else finance - procurement


def relative_gap(finance: float | None, procurement: float | None) -> float | None:
    """The gap as a share of the larger value: comparable across KPIs of different units."""
    if finance is None or procurement is None:
        return None
    scale = max(abs(finance), abs(procurement))
    return abs(finance - procurement) / scale if scale else 0.0


def gap_rows(now: pl.DataFrame) -> list[dict]:
    """Each KPI's gap as a share of the larger value, for the "where they disagree most" chart."""
    return [{"label": k.label, "relative_gap": relative_gap(value_of(now, k.name, "finance"),
                                                            value_of(now, k.name, "procurement"))}
            for k in service.reg()]


def gap_line(kpi: Kpi, now: pl.DataFrame, currency: str) -> None:
    f, p = value_of(now, kpi.name, "finance"), value_of(now, kpi.name, "procurement")
    st.text(f"Gap (finance − procurement): {formats.signed(gap(f, p), kpi.unit, currency)}")


def formatted(column: str, unit: str, currency: str, signed: bool = False) -> pl.Expr:
    """A value column as finance people read it (small, aggregated frames only: one call per row)."""
    fn = formats.signed if signed else formats.value
    return pl.col(column).map_elements(lambda v: fn(v, unit, currency), return_dtype=pl.String).fill_null("—")


def fmt(v: float | None, kpi: Kpi, currency: str) -> str:
    return formats.value(v, kpi.unit, currency)


def kpi_card(kpi: Kpi, sel: Selected, now: pl.DataFrame, before: pl.DataFrame, trend: pl.DataFrame,
             link: str | None = None) -> None:
    """One KPI: finance and procurement side by side, the gap, the change since the previous period, a trend."""
    with st.container(border=True):
        st.subheader(kpi.label, anchor=False)
        cols = st.columns(len(kpi.views))
        for col, view in zip(cols, kpi.views, strict=True):
            with col:
                metric(kpi, sel, view, now, before, view.capitalize(), help=kpi.views[view].definition)
        gap_line(kpi, now, sel.currency)
        st.plotly_chart(charts.sparkline(kpi, trend), key=f"spark-{kpi.name}", config={"staticPlot": True})
        if link:
            st.page_link(link, label=f"{kpi.label}: bridge and breakdown", icon=":material/arrow_forward:")


def metric(kpi: Kpi, sel: Selected, view: str, now: pl.DataFrame, before: pl.DataFrame, label: str,
           help: str | None = None) -> None:
    """One view's value with its change since the previous period, in neutral grey: a rise is not
    "good" for one team and "bad" for the other, so the arrow shows direction only."""
    v, p = value_of(now, kpi.name, view), value_of(before, kpi.name, view)
    change = v - p if v is not None and p is not None else None
    arrow = "off" if not change else "up" if change > 0 else "down"
    st.metric(f"{VIEW_MARKS.get(view, '')} {label}", fmt(v, kpi, sel.currency),
              formats.signed(change, kpi.unit, sel.currency) if change is not None else None, delta_color="off",
              delta_arrow=arrow, delta_description=f"vs {sel.span.previous.label}" if change is not None else None,
              help=help)


def stamp_lines(sel: Selected, kpi: Kpi | None, what: str) -> list[str]:
    """What a snapshot shows, written under it: a slide has no filter bar."""
    lines = [f"{what} · {sel.span.label} ({sel.grain})", sel.filter_text()]
    if kpi is not None:
        lines.append("Definitions: " + "; ".join(
            f"{name} v{v.version} (effective {v.effective_date}, owner {v.owner})" for name, v in kpi.views.items()))
    lines.append(f"{sel.as_of_text()} · Tandem")
    return lines


def chart(fig: go.Figure, key: str, sel: Selected, kpi: Kpi | None, what: str) -> None:
    """A chart with its snapshot buttons (PNG and SVG, stamped with what it shows)."""
    st.plotly_chart(fig, key=key, config=PLOT_CONFIG)
    stamped = charts.stamp(fig, stamp_lines(sel, kpi, what))
    name = f"tandem-{key}-{sel.span.label}"
    row = st.container(horizontal=True)
    row.download_button("Snapshot PNG", data=lambda: exports.image(stamped, "png"), file_name=f"{name}.png",
                       mime="image/png", on_click="ignore", key=f"png-{key}", icon=":material/photo_camera:")
    row.download_button("Snapshot SVG", data=lambda: exports.image(stamped, "svg"), file_name=f"{name}.svg",
                       mime="image/svg+xml", on_click="ignore", key=f"svg-{key}", icon=":material/image:")


def review_pack_button(sel: Selected) -> None:
    """The review pack for the meeting: overview, every KPI page and the open actions, one HTML file."""
    from tandem import pack  # pack builds on these widgets' helpers

    st.download_button("Review pack (HTML)", data=lambda: pack.build(sel).encode("utf-8"),
                       file_name=f"tandem-review-pack-{sel.span.label}.html", mime="text/html", on_click="ignore",
                       icon=":material/description:",
                       help="The overview, every KPI page and the open actions, in one self-contained file")


def table(df: pl.DataFrame) -> None:
    """A table without its index; dates as dates (Streamlit would show a polars Date with 00:00:00)."""
    dates = {c: st.column_config.DateColumn(format="YYYY-MM-DD") for c, t in df.schema.items() if t == pl.Date}
    st.dataframe(df, hide_index=True, column_config=dates or None)


def table_downloads(df: pl.DataFrame, name: str, key: str) -> None:
    """CSV and XLSX of exactly what the table shows, safe to open in a spreadsheet."""
    row = st.container(horizontal=True)
    row.download_button("CSV", data=lambda: exports.to_csv(df), file_name=f"{name}.csv", mime="text/csv",
                       on_click="ignore", key=f"csv-{key}", icon=":material/download:")
    row.download_button("XLSX", data=lambda: exports.to_xlsx(df, name), file_name=f"{name}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       on_click="ignore", key=f"xlsx-{key}", icon=":material/download:")


def side_by_side(values: pl.DataFrame, kpi: Kpi, dims: tuple[str, ...], currency: str) -> pl.DataFrame:
    """Values long (one row per view) to wide: one row per period and slice, a column per view, and the gap."""
    rows = values.filter(pl.col("kpi") == kpi.name)
    if not rows.height:
        return pl.DataFrame()
    wide = rows.pivot(on="view", index=["period", *dims], values="value")
    views = [v for v in kpi.views if v in wide.columns]
    if "finance" in wide.columns and "procurement" in wide.columns:
        wide = wide.with_columns(gap=pl.col("finance") - pl.col("procurement"))
    # Largest first (by either view), so the table reads in the chart's order.
    wide = wide.sort(pl.max_horizontal(pl.col(v).abs() for v in views), descending=True, nulls_last=True)
    shown = [formatted(c, kpi.unit, currency, signed=c == "gap") for c in [*views, "gap"] if c in wide.columns]
    return wide.select("period", *dims, *shown).rename({v: v.capitalize() for v in views} | (
        {"gap": "Gap (F − P)"} if "gap" in wide.columns else {}))


def plain(text: str) -> str:
    """Text from the data, made safe for a Markdown element (captions): every ASCII punctuation mark is
    backslash-escaped, so a supplier called `**x** [y](z)` or `:red[x]` shows exactly as written."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def notes(messages: list[str]) -> None:
    for m in dict.fromkeys(messages):
        st.caption(f"ℹ️ In the months charted: {m}")


def _measure(name: str) -> tuple[str, str]:
    """(label, unit) of a KPI or of a companion value (budget_variance_pct is a ratio of a currency KPI)."""
    reg = service.reg()
    owner = reg.kpi_of(name)
    if owner is None:
        return name, "currency"
    kpi = reg[owner]
    if name == kpi.name:
        return kpi.label, kpi.unit
    companion = next(c for c in kpi.companions if c.name == name)
    return companion.label, companion.unit


def moved_table(moved: pl.DataFrame, currency: str) -> pl.DataFrame:
    """Each KPI view then (at the last review) and now, formatted, largest relative move first."""
    if not moved.height:
        return pl.DataFrame({"KPI": [], "View": []}, schema={"KPI": pl.String, "View": pl.String})
    rows = []
    for r in moved.iter_rows(named=True):
        label, unit = _measure(r["kpi"])
        rows.append({"KPI": label, "View": r["view"].capitalize(),
                     "Then": f"{formats.value(r['then'], unit, currency)} ({r['period_then']})",
                     "Now": f"{formats.value(r['now'], unit, currency)} ({r['period_now']})",
                     "Change": formats.signed(r["change"], unit, currency),
                     "Relative": formats.ratio(r["relative"]) if r["relative"] is not None else "n/a"})
    return pl.DataFrame(rows)
