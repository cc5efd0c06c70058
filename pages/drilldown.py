"""Drill-down: a KPI view split by one or more dimensions, then the PO, invoice or stock lines behind a row."""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi_definitions import views
from tandem import kpi_page, pack, safe_text, selection, service, widgets

ALL = "(all)"

st.title("Drill-down")
sel = selection.filter_bar()
reg = service.reg()
c1, c2, c3 = st.columns(3)
kpi = reg[c1.selectbox("KPI", reg.names, key="kpi", bind="query-params", format_func=lambda n: reg[n].label)]
view = c2.selectbox("View", list(kpi.views), key="view", bind="query-params",
                    format_func=lambda v: views.style(kpi, v).label)
dims = kpi.view_dimensions(view)
by = tuple(c3.multiselect("Split by", dims, default=dims[:1], key="by", bind="query-params", max_selections=3,
                          format_func=lambda d: kpi_page.DIM_LABELS.get(d, d), placeholder="No split"))
st.text(kpi.views[view].definition)

values = sel.values(by=by, kpis=(kpi.name,)).filter((pl.col("kpi") == kpi.name) & (pl.col("view") == view))
aggregate = values.select(*by, "value").sort("value", descending=True, nulls_last=True)
split = " and ".join(kpi_page.DIM_LABELS.get(d, d).lower() for d in by) or "nothing"
st.subheader(f"{kpi.label} ({views.style(kpi, view).word}) by {split} · {sel.span.label}", anchor=False)
shown = aggregate.rename({"value": kpi.label})  # numbers: the screen formats them, files keep them numbers
for d in by:  # supplier names beside their ids
    shown = pack.with_names(shown, d, pack.dimension_names(sel, d))
widgets.table(shown, {kpi.label: kpi.unit}, sel.currency)
widgets.table_downloads(shown, f"{kpi.name}-{view}-by-{'-'.join(by) or 'all'}-{sel.span.label}", "aggregate",
                        widgets.stamp_lines(sel, kpi, f"{kpi.label} ({views.style(kpi, view).word}) by {split}"),
                        {kpi.label: kpi.unit}, sel.currency)

st.subheader("Lines behind the number", anchor=False)
rows = {" · ".join(str(r[d]) for d in by): {d: str(r[d]) for d in by} for r in aggregate.iter_rows(named=True)}
picked = st.selectbox(f"Lines for {split}", [ALL, *rows], key="lines_for", bind="query-params",
                      disabled=not by, format_func=safe_text.visible)  # names from the data: controls shown
lines = service.lines(sel.db, kpi.name, view, sel.span.first, sel.span.last, sel.filters,
                      narrow=rows.get(picked))
st.caption(f"{lines.height:,} lines" + (f" (the first {service.LINE_LIMIT:,})" if lines.height == service.LINE_LIMIT
                                         else "") + f" · {widgets.plain(sel.filter_text())}")
widgets.table(lines)
widgets.table_downloads(lines, f"{kpi.name}-{view}-lines-{sel.span.label}", "lines",
                        widgets.stamp_lines(sel, kpi, f"Lines behind {kpi.label} ({views.style(kpi, view).word})"
                                            + (f" · {picked}" if by and picked != ALL else "")))
