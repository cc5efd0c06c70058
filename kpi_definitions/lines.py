"""The drill-down: the rows behind a KPI view for a span and a slice (PO, invoice or stock lines), listed
by the view's `lines` SQL with the same shared relations, filters and conversion as its value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType

import duckdb
import polars as pl

from kpi_definitions import facts
from kpi_definitions.dialects import expand
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.query import Query, Selection, lookback, params, render
from kpi_definitions.registry import FILTERABLE, Registry

LINE_LIMIT = 5_000


def lines_query(reg: Registry, kpi: str, view: str, first: int, last: int, filters: Mapping[str, Sequence[str]],
                narrow: Mapping[str, str] | None = None, limit: int | None = LINE_LIMIT, currency: str = "EUR",
                cal: FiscalCalendar | None = None, lib: ModuleType | None = None) -> Query | None:
    """The query listing the lines behind `kpi` (`view`) over months first..last; None when the view lists none
    (rendered for the engine of `lib`, DuckDB's by default).

    `narrow` holds one value for each of some of the view's dimensions (the row picked in a drill-down).
    """
    k = reg[kpi]
    v = k.views[view]
    if v.lines is None:
        return None
    filters = dict(filters)
    sql = render(reg, v.lines, v.bind, (), lib)
    bind: dict[str, object] = {}
    kept: list[str] = []
    for i, (dim, value) in enumerate((narrow or {}).items()):
        if dim not in k.view_dimensions(view):
            raise ValueError(f"{kpi} ({view}) is not split by {dim}")
        if dim in FILTERABLE:
            filters[dim] = [value]
        else:  # not a filter of the shared relations (savings_type): filter the listed rows by name
            kept.append(f"@text({dim}) = $narrow{i}")
            bind[f"narrow{i}"] = value
    if kept:
        sql = expand(f"SELECT * FROM ({sql}) WHERE {' AND '.join(kept)}", lib)
    if limit:
        sql += f"\nLIMIT {int(limit)}"
    sel = Selection(first, last, "month", (), filters)
    span = [(m, "span") for m in range(first, last + 1)]
    bind |= params(sel, cal or FiscalCalendar(), k.dimensions, currency, months=span, lookback=lookback(v))
    return Query(f"{kpi} ({view}) lines", sql, bind)


def lines(con: duckdb.DuckDBPyConnection, reg: Registry, kpi: str, view: str, first: int, last: int,
          filters: Mapping[str, Sequence[str]], narrow: Mapping[str, str] | None = None,
          limit: int | None = LINE_LIMIT, currency: str = "EUR", cal: FiscalCalendar | None = None) -> pl.DataFrame:
    """The rows behind a KPI view for a span and slice, as the view counts them (empty when it lists none)."""
    query = lines_query(reg, kpi, view, first, last, filters, narrow, limit, currency, cal)
    if query is None:
        return pl.DataFrame()
    facts.check(con, currency)
    return con.sql(query.sql, params=query.params).pl()
