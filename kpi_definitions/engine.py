"""The KPI engine: one request object in (`Request`), and one object every face asks (`Engine`) for KPI values,
bridges, the lines behind a value, the values a filter can take, the months with data, and the SQL it runs.

A request says what to compute, as a metrics layer's query does (MetricFlow's query request, Cube's query):
KPIs, views, grain and span, the dimensions to split by, the filters, and "as defined today". It is frozen and
hashable (a cache key), and its filters have one canonical form, a sorted tuple of (dimension, sorted values),
which is the form that reaches the SQL parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from kpi_definitions.periods import GRAINS, FiscalCalendar, Grain, resolve
from kpi_definitions.query import Query, Selection
from kpi_definitions.registry import DIMENSIONS, Registry

Filters = tuple[tuple[str, tuple[str, ...]], ...]  # ((dimension, (value, ...)), ...), both levels sorted


def canonical(filters: Mapping[str, Sequence[str]] | Filters | None) -> Filters:
    """The one form of a filter: dimensions sorted, each with its distinct values sorted; an empty one dropped."""
    if not filters:
        return ()
    items = filters.items() if isinstance(filters, Mapping) else filters
    out: dict[str, set[str]] = {}
    for dim, values in items:
        if isinstance(values, str):  # one value given bare: never split it into characters
            values = (values,)
        out.setdefault(str(dim), set()).update(str(v) for v in values)
    return tuple((d, tuple(sorted(v))) for d, v in sorted(out.items()) if v)


@dataclass(frozen=True)
class Request:
    """What to compute: months `first`..`last` (month indexes, periods.month_index) grouped by `grain`, for
    `kpis` (None: all) under `views` (None: every view, the agreed ones too), split `by` dimensions, narrowed by
    `filters`, with agreed views under the version in effect on `as_defined_today` for every period (None: each
    period under the version in effect then). Build one with `Request.of`."""

    first: int
    last: int
    grain: Grain = "month"
    kpis: tuple[str, ...] | None = None
    views: tuple[str, ...] | None = None
    by: tuple[str, ...] = ()
    filters: Filters = ()
    as_defined_today: date | None = None

    def __post_init__(self) -> None:
        # one form whatever was given (lists, a mapping of filters): equal requests hash alike
        if self.grain not in GRAINS:
            raise ValueError(f"unknown grain {self.grain!r}: use {', '.join(GRAINS)}")
        if self.last < self.first:
            raise ValueError("the range ends before it starts")
        object.__setattr__(self, "kpis", None if self.kpis is None else tuple(dict.fromkeys(self.kpis)))
        object.__setattr__(self, "views", None if self.views is None else tuple(dict.fromkeys(self.views)))
        object.__setattr__(self, "by", tuple(dict.fromkeys(self.by)))
        object.__setattr__(self, "filters", canonical(self.filters))
        for dim in self.by:
            if dim not in DIMENSIONS:
                raise ValueError(f"unknown dimension {dim!r} (known: {', '.join(DIMENSIONS)})")

    @classmethod
    def of(cls, first: int | None = None, last: int | None = None, *, grain: Grain = "month",
           period: str | None = None, start: str | None = None, end: str | None = None,
           calendar: FiscalCalendar | None = None, data: tuple[int, int] | None = None,
           kpis: Sequence[str] | None = None, views: Sequence[str] | None = None, by: Sequence[str] = (),
           filters: Mapping[str, Sequence[str]] | Filters | None = None,
           as_defined_today: date | None = None) -> Request:
        """A request from months (`first`, `last`), or a period label (`2026-Q4`, `FY2026`, `2026-03`), or a range
        `start`..`end` of labels, resolved with the fiscal `calendar` (periods.resolve); with none of them, the
        period of the grain holding the last month of `data` (first and last month with data), up to that month.

        A period reaching past the data is kept as asked: the engine computes it up to the last month with data
        and says so on every row (a running period)."""
        if first is None or last is None:
            if first is not None or last is not None:
                raise ValueError("give both the first and the last month, or a period")
            span = resolve(calendar or FiscalCalendar(), grain, data, period, start, end)
            first, last = span.first, span.last
        elif period or start or end:
            raise ValueError("give months or a period (or a range), not both")
        return cls(first, last, grain, None if kpis is None else tuple(kpis), None if views is None else tuple(views),
                   tuple(by), canonical(filters), as_defined_today)

    def filter_map(self) -> dict[str, list[str]]:
        """The filters as a mapping, dimension -> values."""
        return {d: list(v) for d, v in self.filters}

    def selection(self) -> Selection:
        return Selection(self.first, self.last, self.grain, self.by, self.filter_map())

    def but(self, **changes: Any) -> Request:
        """The same request with some fields changed (`req.but(by=("category",))`)."""
        if "filters" in changes:
            changes["filters"] = canonical(changes["filters"])
        return replace(self, **changes)


@dataclass
class Values:
    """What `Engine.values` answers: the long table (kpi, view, period, the `by` dimensions, value, unit,
    excluded, warnings: a list of {code, message}), notes on what could not be computed, and the months each
    row covers (`coverage`: kpi, view, period, first, last, months, of: a running period covers fewer months
    than it has)."""

    frame: pl.DataFrame
    notes: list[str]
    coverage: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def values(self) -> pl.DataFrame:  # the name compute()'s result used
        return self.frame


class Engine:
    """The one way a face asks for KPIs: `values`, `bridge`, `bridges`, `lines`, `options`, `data_months`,
    `explain`, on one connection (read-only is enough), in one reporting currency and fiscal calendar."""

    def __init__(self, con: duckdb.DuckDBPyConnection, reg: Registry, *, currency: str = "EUR",
                 calendar: FiscalCalendar | None = None) -> None:
        self.con = con
        self.reg = reg
        self.currency = currency
        self.calendar = calendar or FiscalCalendar()

    @classmethod
    @contextmanager
    def reading(cls, db: Path | str, reg: Registry | None = None, *, currency: str = "EUR",
                calendar: FiscalCalendar | None = None) -> Iterator[Engine]:
        """An engine on a short-lived read-only connection (store.db.reading), closed when the block ends."""
        from kpi_definitions.registry import registry
        from store.db import reading

        with reading(db) as con:
            yield cls(con, reg or registry(), currency=currency, calendar=calendar)

    # -- requests -------------------------------------------------------------------------------------------
    def request(self, **kw: Any) -> Request:
        """`Request.of` with this engine's calendar and the months with data (for a request naming no period)."""
        kw.setdefault("calendar", self.calendar)
        if kw.get("first") is None and not (kw.get("period") or kw.get("start") or kw.get("end")):
            kw.setdefault("data", self.data_months())
        return Request.of(**kw)

    def registry_for(self, req: Request) -> Registry:
        """The registry a request is computed with: agreed views reduced to today's version when it asks."""
        if req.as_defined_today is None:
            return self.reg
        from kpi_definitions.agreement import as_defined_today

        return as_defined_today(self.reg, req.as_defined_today)

    # -- answers --------------------------------------------------------------------------------------------
    def values(self, req: Request) -> Values:
        """Every requested KPI under every requested view: one row per period of the grain and combination of
        the `by` values, each with its warnings."""
        from kpi_definitions import weak_data
        from kpi_definitions.compute import compute

        reg, sel = self.registry_for(req), req.selection()
        r = compute(self.con, reg, sel, currency=self.currency, cal=self.calendar,
                    kpis=list(req.kpis) if req.kpis else None, views=list(req.views) if req.views else None)
        return Values(weak_data.warnings(self.con, reg, sel, r.values, self.calendar), r.notes)

    def bridge(self, req: Request, kpi: str | None = None):  # -> compute.BridgeResult
        """The steps from a KPI's bridge start view to its end view over the whole span of `req`, one slice (its
        filters). `kpi`: the request's first KPI unless named."""
        from kpi_definitions.compute import bridge

        name = kpi or (req.kpis[0] if req.kpis else None)
        if name is None:
            raise ValueError("name the KPI whose bridge to compute")
        return bridge(self.con, self.registry_for(req), name, req.first, req.last, req.filter_map(),
                      currency=self.currency)

    def bridges(self, req: Request) -> pl.DataFrame:
        """Each requested KPI's bridge as data, per period of the grain and slice of `req.by`: one row for the
        start view's value, one per step (and per part of a netted step), one for the end view's value.
        Columns: kpi, period, the `by` dimensions, kind (start, step, part, end), name (the view or the step),
        label, part_of (the netted step a part belongs to), value, unit."""
        # First version: one bridge per period and slice (replaced by one query per request).
        from kpi_definitions.views import style

        reg = self.registry_for(req)
        rows: list[dict[str, object]] = []
        names = [k.name for k in reg if k.bridge is not None and (req.kpis is None or k.name in req.kpis)]
        periods: dict[str, list[int]] = {}
        for m, label in self.calendar.buckets(req.first, req.last, req.grain):
            periods.setdefault(label, []).append(m)
        for name in names:
            kpi = reg[name]
            slices: list[tuple[str, ...]] = [()]
            if req.by:
                if any(d not in kpi.dimensions for d in req.by):
                    continue
                vals = self.values(req.but(kpis=(name,), views=(kpi.bridge.from_view,)))  # type: ignore[union-attr]
                slices = sorted({tuple(r) for r in vals.frame.select(list(req.by)).iter_rows()})
            for label, months in periods.items():
                for combo in slices:
                    f = {**req.filter_map(), **{d: [v] for d, v in zip(req.by, combo, strict=True)}}
                    b = self.bridge(req.but(first=min(months), last=max(months), filters=f), name)
                    dims = dict(zip(req.by, combo, strict=True))
                    unit = kpi.unit if kpi.unit != "currency" else self.currency
                    rows.append({"kpi": name, "period": label, **dims, "kind": "start", "name": b.start_view,
                                 "label": style(kpi, b.start_view).label, "part_of": None, "value": b.start, "unit": unit})
                    for s in b.steps:
                        rows.append({"kpi": name, "period": label, **dims, "kind": "step", "name": s.name,
                                     "label": s.label, "part_of": None, "value": s.value, "unit": unit})
                        rows += [{"kpi": name, "period": label, **dims, "kind": "part", "name": p.name,
                                  "label": p.label, "part_of": s.name, "value": p.value, "unit": unit}
                                 for p in s.parts]
                    rows.append({"kpi": name, "period": label, **dims, "kind": "end", "name": b.end_view,
                                 "label": style(kpi, b.end_view).label, "part_of": None, "value": b.end, "unit": unit})
        schema = {"kpi": pl.String, "period": pl.String, **{d: pl.String for d in req.by}, "kind": pl.String,
                  "name": pl.String, "label": pl.String, "part_of": pl.String, "value": pl.Float64, "unit": pl.String}
        return pl.DataFrame(rows, schema=schema)

    def lines(self, req: Request, kpi: str, view: str, narrow: Mapping[str, str] | None = None,
              limit: int | None = None) -> pl.DataFrame:
        """The rows behind `kpi` (`view`) over the request's span and slice, as the view counts them."""
        from kpi_definitions.lines import LINE_LIMIT
        from kpi_definitions.lines import lines as kpi_lines

        return kpi_lines(self.con, self.registry_for(req), kpi, view, req.first, req.last, req.filter_map(),
                         narrow, LINE_LIMIT if limit is None else limit, self.currency, self.calendar)

    def options(self) -> dict[str, list[tuple[str, str]]]:
        """The values each filter of the filter bar can take, with a label (supplier names from the master)."""
        from kpi_definitions.dimensions import options_sql

        out: dict[str, list[tuple[str, str]]] = {}
        for dim, value, label in self.con.execute(options_sql()).fetchall():
            out.setdefault(dim, []).append((value, label))
        return out

    def data_months(self) -> tuple[int, int] | None:
        """First and last month with orders, invoices, stock or consumption; None on an empty database."""
        from kpi_definitions.compute import data_months

        return data_months(self.con, self.reg)

    def explain(self, req: Request, bridges: bool = True, lines: bool = False) -> list[Query]:
        """The queries `values` runs for the request (and each bridge's, and each view's lines), without running
        them, with their parameter values."""
        from kpi_definitions.compute import explain

        return explain(self.registry_for(req), req.selection(), currency=self.currency, cal=self.calendar,
                       kpis=list(req.kpis) if req.kpis else None, views=list(req.views) if req.views else None,
                       bridges=bridges, lines=lines)
