"""The dashboard's shared widgets: KPI cards and metrics, charts with snapshot buttons, tables with downloads.

What a page shows (the filter bar and its selection) is tandem/selection.py; the views and their gaps come
from the KPI layer (kpi_definitions/views.py).
"""

from __future__ import annotations

import re

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from kpi_definitions import views, weak_data
from kpi_definitions.registry import Kpi
from reports import charts, deck, exports, formats, pack
from reports.scope import Scope
from tandem import agreement_targets, grid, selection, service

PLOT_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
value_of = views.value_of


# A metric's value and label are cut with "…" when their column is narrower than the text (st.metric's default):
# on a 1024-px screen that turned headline numbers into "EUR …". Let them wrap (at the space after the currency),
# in a size that follows the screen's width. Below 1200 px the page's side margins shrink, so its tables fit.
FIT_NUMBERS = """<style>
[data-testid="stMetricValue"] div, [data-testid="stMetricValue"] p,
[data-testid="stMetricLabel"] div, [data-testid="stMetricLabel"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: break-word; }
[data-testid="stMetricValue"] { font-size: clamp(1.15rem, 1.9vw, 2.25rem) !important; }
/* the change and its "vs 2026-09" go on two lines in a narrow column instead of "vs 2…" */
div:has(> [data-testid="stMetricDeltaDescription"]) { flex-wrap: wrap !important; row-gap: 0.2rem; }
[data-testid="stMetricDeltaDescription"], [data-testid="stMetricDeltaDescription"] p {
  white-space: nowrap !important; overflow: visible !important; text-overflow: clip !important; }
@media (max-width: 1200px) {  /* a 1024-px screen: the page's own margins gave its tables 564 px, now 676 */
  [data-testid="stMainBlockContainer"] { padding-left: 1.5rem !important; padding-right: 1.5rem !important; } }
</style>"""


def fit_numbers() -> None:
    """Every page: headline numbers wrap instead of being cut (called once by app.py)."""
    st.html(FIT_NUMBERS)


def gap_lines(kpi: Kpi, now: pl.DataFrame, currency: str) -> None:
    """Each gap of the KPI in words, one line each: "Gap (<view> − <base>): <signed value>"."""
    compared = views.compare(kpi, now)
    for g in views.gaps(kpi):
        st.text(f"Gap ({g.words}): {formats.signed(compared.gaps[g.column], kpi.unit, currency)}")


def formatted(column: str, unit: str, currency: str, signed: bool = False) -> pl.Expr:
    """A value column as accountants read it (small, aggregated frames only: one call per row)."""
    fn = formats.signed if signed else formats.value
    return pl.col(column).map_elements(lambda v: fn(v, unit, currency), return_dtype=pl.String).fill_null("—")


def fmt(v: float | None, kpi: Kpi, currency: str) -> str:
    return formats.value(v, kpi.unit, currency)


def kpi_card(kpi: Kpi, sel: Scope, now: pl.DataFrame, before: pl.DataFrame, trend: pl.DataFrame,
             link: st.Page | None = None, compact: bool = False) -> None:
    """One KPI: its views side by side, the gaps, the change since the previous period, a trend. The values sit
    in a row that wraps (each as wide as its number): a narrow screen puts one under the other instead of
    cutting a headline number to "EUR …"."""
    with st.container(border=True):
        st.subheader(kpi.label, anchor=False)
        with st.container(horizontal=True, gap="medium"):
            for view in kpi.views:
                metric(kpi, sel, view, now, before, views.style(kpi, view).label, help=kpi.views[view].definition,
                       width="content")
        gap_lines(kpi, now, sel.currency)
        ignored(kpi, now)
        agreement_targets.card_lines(kpi, sel)  # approved joint targets: target vs actual, forecast, status
        spark = charts.sparkline(kpi, trend, agreement_targets.trend_targets(sel, kpi.name), height=90 if compact else 140,
                                 currency=sel.currency)
        st.plotly_chart(spark, key=f"spark-{kpi.name}", config={"staticPlot": True})
        if link is not None:
            st.page_link(link, label="Bridge and breakdown", icon=":material/arrow_forward:",
                         help=f"{kpi.label}: the bridge between the views and the breakdown")


def metric(kpi: Kpi, sel: Scope, view: str, now: pl.DataFrame, before: pl.DataFrame, label: str,
           help: str | None = None, width: str = "stretch") -> None:
    """One view's value with its change since the previous period, in neutral grey: a rise is not
    "good" for one team and "bad" for the other, so the arrow shows direction only."""
    v, p = value_of(now, kpi.name, view), value_of(before, kpi.name, view)
    change = v - p if v is not None and p is not None else None
    arrow = "off" if not change else "up" if change > 0 else "down"
    st.metric(f"{views.style(kpi, view).mark} {label}", fmt(v, kpi, sel.currency),
              formats.signed(change, kpi.unit, sel.currency) if change is not None else None, delta_color="off",
              delta_arrow=arrow, delta_description=f"vs {sel.span.previous.label}" if change is not None else None,
              help=help, width=width)
    weak(now, kpi.name, view)


# What a weak-data warning (kpi_definitions/weak_data.py) is called on a card, by its code.
WEAK_TITLES = {"partial_base": "Partial base", "missing_fx": "Rows left out", "missing_fx_or_terms": "Rows left out",
               "filter_ignored": "Filter not applied"}


def warnings_of(now: pl.DataFrame, kpi: str, view: str | None = None) -> list[dict]:
    """The warnings ({code, message}) on a KPI's rows of `now` (one view's, or every view's once)."""
    if "warnings" not in now.columns:
        return []
    rows = now.filter(pl.col("kpi") == kpi)
    if view is not None:
        rows = rows.filter(pl.col("view") == view)
    return list({(w["code"], w["message"]): w for ws in rows["warnings"].to_list() for w in ws or []}.values())


def _warning(w: dict) -> None:
    st.caption(f":orange-badge[:material/warning: {WEAK_TITLES.get(w['code'], 'Weak data')}] {plain(w['message'])}",
               help=weak_data.RULES.get(w["code"]))


def weak(now: pl.DataFrame, kpi: str, view: str) -> None:
    """Under a view's value: why it is weak (a partial year-earlier base, rows left out), if it is."""
    for w in warnings_of(now, kpi, view):
        if w["code"] != "filter_ignored":  # said once for the KPI (`ignored`)
            _warning(w)


def ignored(kpi: Kpi, now: pl.DataFrame) -> None:
    """Once on a KPI: a filter of the selection it cannot apply (shown for all of them)."""
    for w in warnings_of(now, kpi.name):
        if w["code"] == "filter_ignored":
            _warning(w)


stamp_lines = selection.stamp_lines
# tables live in tandem/grid.py (targets and prices show tables too, below the widgets)
table, number_format, STYLED_CELLS = grid.table, grid.number_format, grid.STYLED_CELLS


def chart(fig: go.Figure, key: str, sel: Scope, kpi: Kpi | None, what: str, select: bool = False) -> object:
    """A chart with its snapshot buttons, stamped inside the image with what it shows: a 16:9 slide PNG
    (1280×720 at twice the pixels), and PNG and SVG at the size the page draws it. With `select`, a click on
    a bar or point reruns the page with the selection, which is returned (tandem/click.py)."""
    picked = (st.plotly_chart(fig, key=key, config=PLOT_CONFIG, on_select="rerun", selection_mode="points")
              if select else st.plotly_chart(fig, key=key, config=PLOT_CONFIG))
    lines = stamp_lines(sel, kpi, what)
    name = f"tandem-{key}-{sel.span.label}"
    row = st.container(horizontal=True)
    # the stamped copies are made when a button is pressed, not on every run of the page
    row.download_button("Slide PNG (16:9)", data=lambda: exports.image(charts.stamp(fig, lines, "slide"), "png"),
                        file_name=f"{name}-slide.png", mime="image/png", on_click="ignore", key=f"slide-{key}",
                        icon=":material/slideshow:")
    row.download_button("Snapshot PNG", data=lambda: exports.image(charts.stamp(fig, lines, "screen"), "png"),
                        file_name=f"{name}.png", mime="image/png", on_click="ignore", key=f"png-{key}",
                        icon=":material/photo_camera:")
    row.download_button("Snapshot SVG", data=lambda: exports.image(charts.stamp(fig, lines, "screen"), "svg"),
                        file_name=f"{name}.svg", mime="image/svg+xml", on_click="ignore", key=f"svg-{key}",
                        icon=":material/image:")
    return picked


def review_pack_button(sel: Scope) -> None:
    """The review pack for the meeting: overview, every KPI page and the open actions, as a PDF handout,
    a PowerPoint deck or one HTML file (the same as `tandem pack`)."""
    name = f"tandem-review-pack-{sel.span.label}"
    row = st.container(horizontal=True)
    row.download_button("Review pack (PDF)", data=lambda: pack.pdf(sel), file_name=f"{name}.pdf",
                       mime="application/pdf", on_click="ignore", icon=":material/picture_as_pdf:",
                       help="A handout: the overview, each KPI's values, bridge and top breakdown, the open actions")
    row.download_button("Deck (PPTX)", data=lambda: deck.pptx(sel), file_name=f"{name}.pptx",
                       mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
                       on_click="ignore", icon=":material/slideshow:",
                       help="One 16:9 slide per KPI with both views' numbers, the trend, the bridge and the definitions")
    row.download_button("Review pack (HTML)", data=lambda: pack.build(sel).encode("utf-8"),
                       file_name=f"{name}.html", mime="text/html", on_click="ignore",
                       icon=":material/description:",
                       help="The overview, every KPI page and the open actions, in one self-contained file")


def table_downloads(df: pl.DataFrame, name: str, key: str, header: list[str] | None = None,
                    units: dict[str, str] | None = None, currency: str = "EUR") -> None:
    """CSV and XLSX of exactly what the table shows, as numbers, safe to open in a spreadsheet; the XLSX
    opens with `header` (period, filters, definitions, data as-of) above the table."""
    row = st.container(horizontal=True)
    row.download_button("CSV", data=lambda: exports.to_csv(df), file_name=f"{name}.csv", mime="text/csv",
                       on_click="ignore", key=f"csv-{key}", icon=":material/download:")
    row.download_button("XLSX", data=lambda: exports.to_xlsx(df, name, header, units, currency),
                       file_name=f"{name}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       on_click="ignore", key=f"xlsx-{key}", icon=":material/download:")


def side_by_side(values: pl.DataFrame, kpi: Kpi, dims: tuple[str, ...], currency: str) -> pl.DataFrame:
    """The KPI layer's side-by-side table (a column per view, then the gaps: "Gap (F − P)"), as numbers:
    files get the numbers, the screen formats them (`units_of`)."""
    wide = views.side_by_side(values, kpi, dims)
    if not wide.height:
        return pl.DataFrame()
    names = [v for v in kpi.views if v in wide.columns]
    gaps = [g.column for g in views.gaps(kpi) if g.column in wide.columns]
    out = wide.select("period", *dims, *names, *gaps).rename(
        {v: views.style(kpi, v).label for v in names} | {g.column: g.header for g in views.gaps(kpi)
                                                          if g.column in gaps})
    return with_warnings(out, values, kpi, dims)


def with_warnings(wide: pl.DataFrame, values: pl.DataFrame, kpi: Kpi, dims: tuple[str, ...]) -> pl.DataFrame:
    """A side-by-side table with a `Warnings` column: each view's weak-data warnings on that row, in words
    ("Finance: Base month 2024-11 is partial: …"), so exports carry them beside the numbers."""
    if "warnings" not in values.columns:
        return wide
    said = (values.filter(pl.col("kpi") == kpi.name).explode("warnings").drop_nulls("warnings")
            .with_columns(pl.col("view").replace_strict({v: views.style(kpi, v).label for v in kpi.views},
                                                        default=pl.col("view")).alias("_label"))
            .group_by("period", *dims, maintain_order=True)
            .agg((pl.col("_label") + ": " + pl.col("warnings").struct.field("message")).unique(maintain_order=True)
                 .str.join(" | ").alias("Warnings")))
    if not said.height:
        return wide
    return wide.join(said.with_columns(pl.col(d).cast(wide.schema[d]) for d in dims), on=["period", *dims],
                     how="left", maintain_order="left")


def units_of(df: pl.DataFrame, unit: str) -> dict[str, str]:
    """Every number column of a KPI table in the KPI's unit."""
    return {c: unit for c, t in df.schema.items() if t.is_numeric()}


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


def moved_table(moved: pl.DataFrame) -> pl.DataFrame:
    """Each KPI view then (at the last review) and now, largest relative move first, as numbers (so the
    table sorts by them); `unit` is each row's unit, for `table(..., unit_column="unit")`."""
    schema = {"KPI": pl.String, "View": pl.String, "Then": pl.Float64, "Period then": pl.String, "Now": pl.Float64,
              "Period now": pl.String, "Change": pl.Float64, "Relative": pl.Float64, "unit": pl.String}
    if not moved.height:
        return pl.DataFrame(schema=schema)
    reg = service.reg()
    measures = {k: _measure(k) for k in moved["kpi"].unique().to_list()}  # per KPI, not per row
    return pl.DataFrame({
        "KPI": [measures[k][0] for k in moved["kpi"]],
        "View": [views.label_of(reg, k, v) for k, v in zip(moved["kpi"], moved["view"], strict=True)],
        "Then": moved["then"], "Period then": moved["period_then"], "Now": moved["now"],
        "Period now": moved["period_now"], "Change": moved["change"], "Relative": moved["relative"],
        "unit": [measures[k][1] for k in moved["kpi"]]}, schema=schema)


MOVED_UNITS = {"Then": "", "Now": "", "Change": "", "Relative": "ratio"}  # "" = the row's unit


def moved(moved_frame: pl.DataFrame, currency: str, key: str | None = None, compact: bool = False) -> None:
    """The "KPIs that moved most" table: numbers in each KPI's unit, sorting as numbers (`compact`: now and the
    change only, for the Overview)."""
    frame = moved_table(moved_frame)
    if compact:
        frame = frame.select("KPI", "View", "Now", "Change", "Relative", "unit")
    elif frame.height and frame["Period then"].n_unique() == 1 and frame["Period now"].n_unique() == 1:
        # one period then and one now (the usual case): said once above the table, which then fits at 1024 px
        st.caption(f"Then: {frame['Period then'][0]} at the review · now: {frame['Period now'][0]}")
        frame = frame.drop("Period then", "Period now")
    table(frame, {c: u for c, u in MOVED_UNITS.items() if c in frame.columns}, currency, key=key, unit_column="unit")


def settled() -> None:
    """Mark the end of a run of the page: an invisible element whose `data-tandem-settled` counts this session's
    finished runs. Together with Streamlit's own `data-test-script-state="notRunning"` on the app and no element
    marked stale, it says the page shows everything it will (tests/browser.py `settled`): what browser tests and
    the browser benchmark wait for instead of a fixed time."""
    runs = st.session_state.get("_tandem_runs", 0) + 1
    st.session_state["_tandem_runs"] = runs
    st.html(f'<div data-tandem-settled="{runs}" style="display:none"></div>')
