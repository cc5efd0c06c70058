"""Click-through: a selected bar or point of a chart, or a row of a table, opens the drill-down on the lines
behind it. The drill-down is opened by its link (query parameters), so the same view can be shared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from urllib.parse import urlencode

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from kpi_definitions.periods import Span
from kpi_definitions.registry import Kpi
from reports import safe_text
from reports.scope import FILTER_PARAMS, Scope
from tandem import service

DRILLDOWN = "pages/drilldown.py"
KEPT = ("grain", "period", *FILTER_PARAMS)  # what the filter bar put in the URL travels with the click


def link(kpi: Kpi, dims: Sequence[str], values: Sequence[str], params: Mapping[str, Sequence[str]],
         labels: Mapping[str, str]) -> dict[str, list[str]]:
    """The drill-down's query parameters for the lines behind `values` of `dims` of `kpi`, named as its
    widgets show them (?kpi=Payment+days&by=Supplier&lines_for=S0007), with the filter bar's parameters kept."""
    kept = {k: list(v) for k, v in params.items() if k in KEPT}
    if not dims:  # a trend point: the period's lines, not split
        return kept | {"kpi": [kpi.label]}
    return kept | {"kpi": [kpi.label], "by": [labels.get(d, d) for d in dims],
                   "lines_for": [" · ".join(safe_text.visible(str(v)) for v in values)]}


def url(params: Mapping[str, Sequence[str]]) -> str:
    """The shareable address (relative to the app) of a drill-down link."""
    return "drilldown?" + urlencode({k: list(v) for k, v in params.items()}, doseq=True)


def chart_pick(event: object) -> str | None:
    """The value behind the bar or point selected (the chart's customdata carries it first), or None."""
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, Mapping) else []
    if not points:
        return None
    data = points[0].get("customdata")
    return str(data[0]) if isinstance(data, list | tuple) and data else None


def point_period(event: object) -> str | None:
    """The period of the trend point selected (its x: "2026-09", "2026-Q3"), or None."""
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, Mapping) else []
    x = points[0].get("x") if points else None
    return str(x) if x is not None else None


def at_period(sel: Scope, period: str) -> Scope:
    """The same selection for one period of the trend (at the page's grain)."""
    first, last = service.calendar().parse(period, sel.grain)
    return replace(sel, span=Span(first, last, sel.grain, period))


def row_pick(event: object, frame: pl.DataFrame, dims: Sequence[str]) -> list[str] | None:
    """The values of `dims` in the table row selected (by its position in `frame`, even after a sort), or None."""
    rows = (event or {}).get("selection", {}).get("rows", []) if isinstance(event, Mapping) else []
    if not rows or rows[0] >= frame.height:
        return None
    row = frame.row(rows[0], named=True)
    return [str(row[d]) for d in dims]


def filter_params(sel: Scope) -> dict[str, list[str]]:
    """The filter bar's selection as its bound widgets write it in the URL (suppliers by their label)."""
    options = service.options(str(sel.db), sel.ver)
    out = {"grain": [sel.grain], "period": [sel.span.label]}
    for param, dim in FILTER_PARAMS.items():
        if dim in sel.filters:
            label = dict(options.get(dim, []))
            out[param] = [safe_text.visible(label.get(v, v)) for v in sel.filters[dim]]
    return out


def lines_panel(sel: Scope, kpi: Kpi, dims: Sequence[str], values: Sequence[str], labels: Mapping[str, str],
                shown_as: str | None = None) -> None:
    """The lines behind a selected bar or row, right under it: every view side by side with its value, line
    count and lines, the gap, and the drill-down's link (to open it whole, or to share it).

    (A page whose widgets are bound to the URL cannot switch to another page with new query parameters:
    Streamlit refuses to set a bound parameter. So the lines open here, and the link opens the drill-down.)"""
    from kpi_definitions import views
    from reports import formats
    from tandem import widgets

    narrow = dict(zip(dims, values, strict=True))
    what = shown_as or " · ".join(values)
    with st.container(border=True):
        split = f"{' and '.join(labels.get(d, d) for d in dims)} · " if dims else ""
        st.markdown(f"**Lines behind {widgets.plain(safe_text.visible(what))}** · {kpi.label} · {split}"
                    f"{sel.span.label}")
        slice_values = sel.values(by=tuple(dims), kpis=(kpi.name,))
        for d, v in narrow.items():
            slice_values = slice_values.filter(pl.col(d).cast(pl.String) == v)
        compared = views.compare(kpi, slice_values.filter(pl.col("kpi") == kpi.name))
        st.text(" · ".join([f"{views.style(kpi, v).label} {formats.value(compared.values.get(v), kpi.unit, sel.currency)}"
                            for v in kpi.views]
                           + [f"Gap ({g.words}) {formats.signed(compared.gaps.get(g.column), kpi.unit, sel.currency)}"
                              for g in views.gaps(kpi)]))
        params = link(kpi, dims, values, filter_params(sel), labels)
        try:
            st.page_link(DRILLDOWN, label="Open in the drill-down (a link to share)", icon=":material/open_in_new:",
                         query_params=params)
        except StreamlitPageNotFoundError:  # a page run on its own (no navigation): the same link, as an address
            st.markdown(f"[Open in the drill-down (a link to share)]({url(params)})")
        for col, view in zip(st.columns(len(kpi.views)), kpi.views, strict=True):
            own = narrow if set(narrow) <= set(kpi.view_dimensions(view)) else None
            lines = sel.lines(kpi.name, view, narrow=own)
            with col:
                style = views.style(kpi, view)
                st.markdown(f"{style.mark} **{style.label}** · {lines.height:,} lines"
                            + ("" if own is not None else f" (not split by {', '.join(dims)}: all of them)"))
                widgets.table(lines.rename({c: formats.header(c) for c in lines.columns}), height=260)
