"""The KPI pages, one per declaration of the registry: every view with its definition, the trend, the bridge
and the breakdown. A new KPI declaration gets its page and navigation entry from `page()`, with no page file."""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi_definitions import views
from kpi_definitions.registry import Kpi
from reports import charts, formats, pack
from reports.scope import Scope
from tandem import agreement_targets, agreement_ui, click, prices_ui, selection, service, widgets

DIM_LABELS = {"supplier_id": "Supplier", "category": "Category", "cost_center": "Cost center", "item_id": "Item",
              "location": "Location", "savings_type": "Savings type"}
TOP = 15  # bars a breakdown chart shows; the table below it has every value


def page(kpi: Kpi) -> st.Page:
    """The KPI's page for st.navigation (and st.page_link): at /<kpi name>, titled and iconed as declared."""
    def body() -> None:
        show(kpi.name)

    body.__name__ = kpi.name
    return st.Page(body, title=kpi.label, icon=kpi.icon, url_path=kpi.name)


def pages() -> list[st.Page]:
    return [page(k) for k in service.reg()]


def show(name: str) -> None:
    kpi = service.reg()[name]
    st.title(kpi.label)
    st.text(kpi.description)
    sel = selection.filter_bar()
    now, before, trend = sel.now_before_trend()
    now, before, trend = agreement_ui.as_defined_today(kpi, sel, now, before, trend)  # a toggle, off by default
    _definitions(kpi, sel, now, before)
    agreement_targets.kpi_lines(kpi, sel)
    for companion in kpi.companions:
        shown = views.compare(kpi, now, companion.name).values
        st.text(f"{companion.label}: " + ", ".join(f"{views.style(kpi, v).word} {formats.value(x, companion.unit)}"
                                                    for v, x in shown.items()))
    widgets.notes(sel.notes())
    st.subheader("Over time", anchor=False)
    st.caption("Select a point for the lines behind it.")
    picked = widgets.chart(charts.trend(kpi, trend, currency=sel.currency,
                                        targets=agreement_targets.trend_targets(sel, kpi.name)),
                           f"{kpi.name}-trend", sel, kpi, f"{kpi.label}: trend", select=True)
    if (period := click.point_period(picked)) is not None:  # a point clicked: that period's lines, right here
        click.lines_panel(click.at_period(sel, period), kpi, (), (), DIM_LABELS, f"{kpi.label} in {period}")
    _bridge(kpi, sel)
    _breakdown(kpi, sel)
    prices_ui.sections(kpi, sel)  # the market and the outlook (prices), savings net of market (savings)


def _definitions(kpi: Kpi, sel: Scope, now: pl.DataFrame, before: pl.DataFrame) -> None:
    """Each view's number with the definition it is computed by, right next to it."""
    cols = st.columns(len(kpi.views))
    for col, (view_name, view) in zip(cols, kpi.views.items(), strict=True):
        with col.container(border=True):
            widgets.metric(kpi, sel, view_name, now, before, f"{views.style(kpi, view_name).label} · {sel.span.label}")
            st.text(view.definition)
            st.caption(f"Owner: {view.owner} · version {view.version} · effective {formats.day(view.effective_date)}")
    widgets.gap_lines(kpi, now, sel.currency)
    widgets.ignored(kpi, now)


def _bridge(kpi: Kpi, sel: Scope) -> None:
    if kpi.bridge is None:
        return
    ends = views.words([views.style(kpi, kpi.bridge.from_view).word, views.style(kpi, kpi.bridge.to_view).word])
    st.subheader("Why the two numbers differ" if len(kpi.views) == 2 else f"Why the {ends} numbers differ",
                 anchor=False)
    b = service.bridge_of(str(sel.db), sel.ver, kpi.name, sel.span.first, sel.span.last, sel.key)
    if b.reason:
        st.info(f"No bridge for {sel.span.label}: {b.reason}.")
        return
    widgets.chart(charts.waterfall(kpi, b, currency=sel.currency), f"{kpi.name}-bridge", sel, kpi, f"{kpi.label}: bridge")
    rows = b.listed()  # a netted step (one bar in the chart) is followed by its parts, which add up to it
    # "Change": each step signed (+EUR 1,234 / −EUR 1,234), as it moves the number from one view to the other
    steps = pl.DataFrame(rows, schema={"Step": pl.String, "Change": pl.Float64, "What it is": pl.String}, orient="row")
    widgets.table(steps.drop("What it is"), {"Change": kpi.unit}, sel.currency)
    # what each step is, in full, under the table (a table cell cut the longer ones off; beside it, at 1024 px
    # the table was too narrow for its amounts)
    st.markdown("\n".join(f"- **{widgets.plain(step)}**: {widgets.plain(what)}" for step, _, what in rows))
    if kpi.bridge.convention:
        st.caption(f"Convention: {kpi.bridge.convention}")


ORDERS = {"value": "Largest value", "gap": "Largest gap"}


def _breakdown(kpi: Kpi, sel: Scope) -> None:
    st.subheader("Breakdown", anchor=False)
    dims = [d for d in kpi.dimensions]
    c1, c2 = st.columns([2, 1])
    dim = c1.selectbox("Split by", dims, key=f"{kpi.name}_by", bind="query-params",
                       format_func=lambda d: DIM_LABELS.get(d, d))
    order = c2.radio("Bars", list(ORDERS), key=f"{kpi.name}_order", bind="query-params", horizontal=True,
                     format_func=ORDERS.get, help="Which values the chart shows: the largest under any view, or "
                                                  "where the views differ most")
    values = sel.values(by=(dim,), kpis=(kpi.name,))
    rows = values.filter(pl.col("kpi") == kpi.name)
    if not rows.height:
        st.info("Nothing to split for this selection.")
        return
    names = pack.dimension_names(sel, dim)  # supplier names beside their ids
    wide = widgets.side_by_side(rows, kpi, (dim,), sel.currency).drop("period")
    gap = next((g.header for g in views.gaps(kpi) if g.header in wide.columns), None)
    by_gap = order == "gap" and gap is not None
    if by_gap:  # the largest gaps first, in the chart and the table: where the two teams' numbers part
        wide = wide.sort(pl.col(gap).abs(), descending=True, nulls_last=True)
        keep = wide[dim].cast(pl.String).head(TOP).to_list()
        shown = rows.filter(pl.col(dim).cast(pl.String).is_in(keep))
    else:
        shown, keep = charts.top(rows, dim, TOP), None  # the values with the largest magnitude under any view
    title = (f"{kpi.label} by {DIM_LABELS.get(dim, dim).lower()}"
             + (f" (largest {TOP}{' gaps' if by_gap else ''})" if shown[dim].n_unique() == TOP else ""))
    picked = widgets.chart(charts.breakdown(kpi, shown, dim, title, sel.currency, names, keep),
                           f"{kpi.name}-by-{dim}", sel, kpi, title, select=True)
    if (value := click.chart_pick(picked)) is not None:  # a bar clicked: the lines behind it, right here
        click.lines_panel(sel, kpi, (dim,), (value,), DIM_LABELS, names.get(value, value))
    table = pack.with_names(wide, dim, names)
    table = agreement_targets.with_targets(table, rows, kpi, sel, dim)  # approved targets of the slices shown
    units = widgets.units_of(table, kpi.unit)
    st.caption("Select a bar or a row for the lines behind it.")
    event = widgets.table(table, units, sel.currency, key=f"{kpi.name}-rows-{dim}", on_select="rerun")
    if (row := click.row_pick(event, table, (dim,))) is not None:
        click.lines_panel(sel, kpi, (dim,), row, DIM_LABELS, names.get(row[0], row[0]))
    widgets.table_downloads(table, f"{kpi.name}-by-{dim}-{sel.span.label}", f"{kpi.name}-by",
                            widgets.stamp_lines(sel, kpi, f"{kpi.label} by {DIM_LABELS.get(dim, dim).lower()}"),
                            units, sel.currency)
