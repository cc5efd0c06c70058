"""Drill-down: a KPI split by one or more dimensions, every view side by side with the gap, then the PO,
invoice or stock lines behind a row under each view. Its address is the link a click elsewhere opens."""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi_definitions import views
from kpi_definitions.lines import LINE_LIMIT
from reports import formats, pack, safe_text
from tandem import kpi_page, selection, service, widgets

ALL = "(all)"

st.title("Drill-down")
sel = selection.filter_bar()
reg = service.reg()
c1, c2 = st.columns([1, 2])
kpi = reg[c1.selectbox("KPI", reg.names, key="kpi", bind="query-params", format_func=lambda n: reg[n].label)]
dims = list(dict.fromkeys(d for v in kpi.views for d in kpi.view_dimensions(v)))  # any view's split
by = tuple(c2.multiselect("Split by", dims, default=dims[:1], key="by", bind="query-params", max_selections=3,
                          format_func=lambda d: kpi_page.DIM_LABELS.get(d, d), placeholder="No split"))
label = {d: kpi_page.DIM_LABELS.get(d, formats.header(d)) for d in by}
split = " and ".join(label[d].lower() for d in by) or "nothing"

values = sel.values(by=by, kpis=(kpi.name,)).filter(pl.col("kpi") == kpi.name)
wide = widgets.side_by_side(values, kpi, by, sel.currency)
gap = next((g.header for g in views.gaps(kpi) if g.header in wide.columns), None)
if wide.height:  # largest gap first (else, as side_by_side sorts: largest value first)
    wide = wide.drop("period")
    wide = wide.sort(pl.col(gap).abs(), descending=True, nulls_last=True) if gap else wide
st.subheader(f"{kpi.label} by {split} · {sel.span.label}", anchor=False)
st.caption(f"Every view side by side{', largest gap first' if gap else ''}. Select a row for the lines behind it.")
shown = wide
for d in by:  # supplier names beside their ids
    shown = pack.with_names(shown, d, pack.dimension_names(sel, d))
shown = shown.rename({d: label[d] + (" ID" if d in pack.NAMED and pack.NAMED[d] in shown.columns else "")
                      for d in by if d in shown.columns})
keys = [" · ".join(str(r[d]) for d in by) for r in wide.select(by).iter_rows(named=True)] if by else []
st.session_state["_drill_keys"] = keys


def _row_picked() -> None:
    """A row selected in the table: its lines, through the picker below (the link then names them)."""
    rows = st.session_state["aggregate"].selection.rows
    if rows and rows[0] < len(st.session_state["_drill_keys"]):
        st.session_state["lines_for"] = st.session_state["_drill_keys"][rows[0]]


units = widgets.units_of(shown, kpi.unit)
widgets.table(shown, units, sel.currency, key="aggregate", on_select=_row_picked if by else "ignore")
widgets.table_downloads(shown, f"{kpi.name}-by-{'-'.join(by) or 'all'}-{sel.span.label}", "aggregate",
                        widgets.stamp_lines(sel, kpi, f"{kpi.label} by {split}"), units, sel.currency)

st.subheader("Lines behind the number", anchor=False)
picked = st.selectbox(f"Lines for {split}", [ALL, *keys], key="lines_for", bind="query-params",
                      disabled=not by, format_func=safe_text.visible)  # names from the data: controls shown
narrow = dict(zip(by, picked.split(" · "), strict=False)) if by and picked != ALL and picked in keys else None
row = wide.row(keys.index(picked), named=True) if narrow else None
if row is not None and gap:
    st.text(f"{safe_text.visible(picked)}: " + " · ".join(
        [f"{views.style(kpi, v).label} {formats.value(row.get(views.style(kpi, v).label), kpi.unit, sel.currency)}"
         for v in kpi.views] + [f"{gap} {formats.signed(row.get(gap), kpi.unit, sel.currency)}"]))
for view in kpi.views:
    style = views.style(kpi, view)
    own = narrow if narrow is None or set(narrow) <= set(kpi.view_dimensions(view)) else None
    lines = sel.lines(kpi.name, view, narrow=own)
    lines = lines.rename({c: formats.header(c) for c in lines.columns})
    more = f" (the first {LINE_LIMIT:,})" if lines.height == LINE_LIMIT else ""
    st.markdown(f"**{style.mark} {style.label}** · {lines.height:,} lines{more}")
    st.caption(widgets.plain(kpi.views[view].definition) + (
        f" · not split by {split}: all its lines" if narrow and own is None else ""))
    widgets.table(lines)
    widgets.table_downloads(lines, f"{kpi.name}-{view}-lines-{sel.span.label}", f"lines-{view}",
                            widgets.stamp_lines(sel, kpi, f"Lines behind {kpi.label} ({style.word})"
                                                + (f" · {picked}" if narrow else "")))
st.caption(widgets.plain(sel.filter_text()))
