"""Click-through: a selected bar or point of a chart, or a row of a table, opens the drill-down on the lines
behind it. The drill-down is opened by its link (query parameters), so the same view can be shared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

import polars as pl
import streamlit as st

from kpi_definitions.registry import Kpi
from tandem import safe_text, service
from tandem.selection import FILTER_PARAMS, Selected

DRILLDOWN = "pages/drilldown.py"
KEPT = ("grain", "period", *FILTER_PARAMS)  # what the filter bar put in the URL travels with the click


def link(kpi: Kpi, dims: Sequence[str], values: Sequence[str], params: Mapping[str, Sequence[str]],
         labels: Mapping[str, str]) -> dict[str, list[str]]:
    """The drill-down's query parameters for the lines behind `values` of `dims` of `kpi`, named as its
    widgets show them (?kpi=Payment+days&by=Supplier&lines_for=S0007), with the filter bar's parameters kept."""
    kept = {k: list(v) for k, v in params.items() if k in KEPT}
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


def row_pick(event: object, frame: pl.DataFrame, dims: Sequence[str]) -> list[str] | None:
    """The values of `dims` in the table row selected (by its position in `frame`, even after a sort), or None."""
    rows = (event or {}).get("selection", {}).get("rows", []) if isinstance(event, Mapping) else []
    if not rows or rows[0] >= frame.height:
        return None
    row = frame.row(rows[0], named=True)
    return [str(row[d]) for d in dims]


def filter_params(sel: Selected) -> dict[str, list[str]]:
    """The filter bar's selection as its bound widgets write it in the URL (suppliers by their label)."""
    options = service.options(str(sel.db), sel.ver)
    out = {"grain": [sel.grain], "period": [sel.span.label]}
    for param, dim in FILTER_PARAMS.items():
        if dim in sel.filters:
            label = dict(options.get(dim, []))
            out[param] = [safe_text.visible(label.get(v, v)) for v in sel.filters[dim]]
    return out


def open_lines(sel: Selected, kpi: Kpi, dims: Sequence[str], values: Sequence[str], labels: Mapping[str, str]) -> None:
    """Go to the drill-down on those lines (its URL carries them: the address bar then holds the link)."""
    st.switch_page(DRILLDOWN, query_params=link(kpi, dims, values, filter_params(sel), labels))
