"""The KPI engine: one request object in (`Request`), and one object every face asks (`Engine`) for KPI values,
bridges, the lines behind a value, the values a filter can take, the months with data, and the SQL it runs.

A request says what to compute, as a metrics layer's query does (MetricFlow's query request, Cube's query):
KPIs, views, grain and span, the dimensions to split by, the filters, and "as defined today". It is frozen and
hashable (a cache key), and its filters have one canonical form, a sorted tuple of (dimension, sorted values),
which is the form that reaches the SQL parameters.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import polars as pl

from kpi_definitions import dialects, dimensions, running
from kpi_definitions.compute import BridgeResult, BridgeStep
from kpi_definitions.periods import GRAINS, FiscalCalendar, Grain, resolve
from kpi_definitions.query import Query, Selection, body, bucket_params, compose, lookback, render, same, unit_of
from kpi_definitions.registry import DIMENSIONS, Kpi, Registry, Step
from kpi_definitions.weak_data import WARNING
from store.db import frame

Filters = tuple[tuple[str, tuple[str, ...]], ...]  # ((dimension, (value, ...)), ...), both levels sorted
# Aggregate awareness: facts -> the same sums over every supplier or item (kpi_definitions/facts.py), read instead
# by a request that neither splits nor filters by that dimension (a few hundred rows a month instead of one per
# supplier or item).
ROLLUPS = {"fact_invoice_months": ("fact_invoice_rollup", "supplier_id"),
           "fact_paid_months": ("fact_paid_rollup", "supplier_id"),
           "fact_po_months": ("fact_po_rollup", "supplier_id"),
           "fact_stock": ("fact_stock_rollup", "item_id"), "fact_consumption": ("fact_consumption_rollup", "item_id")}


def rolled_up(query: Query | None, req: Request) -> Query | None:
    """The query reading sums rolled up over a dimension (suppliers, items) when the request neither splits nor
    filters by it."""
    if query is None:
        return None
    kept = frozenset(t for t, (_, dim) in ROLLUPS.items() if dim in req.by or any(d == dim for d, _ in req.filters))
    return Query(query.label, _rolled(query.sql, kept), query.params)


@functools.lru_cache(maxsize=1024)
def _rolled(sql: str, kept: frozenset[str]) -> str:
    """`sql` reading the rollup of every table of ROLLUPS but those `kept` (the same texts come back for every
    request: kept once)."""
    for table, (rollup, _) in ROLLUPS.items():
        if table not in kept:
            sql = re.sub(rf"\b{table}\b", rollup, sql)
    return sql


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
                 calendar: FiscalCalendar | None = None, dialect: str = "duckdb", parallel: bool = False) -> None:
        self.con = con
        self.parallel = parallel  # a read-only connection: a request's views may run on two cursors at once
        self.reg = reg
        self.currency = currency
        self.calendar = calendar or FiscalCalendar()
        self.lib = dialects.dialect(dialect)  # the SQL function library of the engine that runs the queries

    def run(self, query: Query | str, params: Mapping[str, object] | None = None) -> pl.DataFrame:
        """Run one query and return its rows: the one place SQL meets the connection (another engine overrides
        this, and `sql`, and nothing else)."""
        if isinstance(query, Query):
            query, params = query.sql, query.params
        return frame(self.con, query, dict(params) if params else None)

    def run_all(self, queries: Sequence[Query]) -> list[pl.DataFrame]:
        """Each query's rows, in one statement (`together`): a request's views are a score of small queries, and
        DuckDB spends more on readying each statement than on running it. On a read-only connection (`parallel`)
        and more than one core, in two statements readied and run at once, one on a cursor of the connection
        (each statement is planned on one core). Should the views' columns not unite (one names as text what
        another names as a number), each runs alone."""
        if len(queries) < 2:
            return [self.run(q) for q in queries]
        try:
            if self.parallel and len(queries) >= 4 and (os.cpu_count() or 1) > 1:
                return self._two_at_once(queries)
            return _united(self.run, queries)
        except duckdb.Error:
            return [self.run(q) for q in queries]

    def _two_at_once(self, queries: Sequence[Query]) -> list[pl.DataFrame]:
        """`run_all` in two halves of about the same SQL, the second on a cursor in a thread of its own. Only on
        a read-only connection: a cursor would not see the caller's uncommitted writes."""
        halves: tuple[list[int], list[int]] = ([], [])
        sizes = [0, 0]
        for i in sorted(range(len(queries)), key=lambda i: -len(queries[i].sql)):
            side = 0 if sizes[0] <= sizes[1] else 1
            halves[side].append(i)
            sizes[side] += len(queries[i].sql)
        cursor = self.con.cursor()
        found: dict[int, list[pl.DataFrame]] = {}
        failed: list[BaseException] = []

        def second() -> None:
            try:
                found[1] = _united(lambda sql, params: frame(cursor, sql, params), [queries[i] for i in halves[1]])
            except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread below
                failed.append(exc)

        thread = threading.Thread(target=second, name="tandem-kpi-half", daemon=True)
        thread.start()
        try:
            found[0] = _united(self.run, [queries[i] for i in halves[0]])
        finally:
            thread.join()
            cursor.close()
        if failed:
            raise failed[0]
        out: list[pl.DataFrame | None] = [None] * len(queries)
        for side in (0, 1):
            for i, rows in zip(halves[side], found[side], strict=True):
                out[i] = rows
        return out  # type: ignore[return-value] - every index is one half's

    def sql(self, name: str) -> str:
        """A named SQL file of the KPI layer rendered for this engine's dialect."""
        return dialects.expand(self.reg.sql(name), self.lib)

    @classmethod
    @contextmanager
    def reading(cls, db: Path | str, reg: Registry | None = None, *, currency: str = "EUR",
                calendar: FiscalCalendar | None = None) -> Iterator[Engine]:
        """An engine on a short-lived read-only connection (store.db.reading), closed when the block ends."""
        from kpi_definitions.registry import registry
        from store.db import reading

        with reading(db) as con:
            yield cls(con, reg or registry(), currency=currency, calendar=calendar, parallel=True)

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
    def coverage(self) -> running.Coverage:
        """The months each export holds rows in (running.py): what every answer is cut to."""
        return running.from_rows(self.run(self.source_months_sql()).iter_rows())

    def source_months_sql(self) -> str:
        return self.sql("source_months")

    def values(self, req: Request) -> Values:
        """Every requested KPI under every requested view: one row per period of the grain and combination of
        the `by` values, each with its warnings. A period is computed over the months its view's exports cover
        (running.py): a running one says which, one with none is null."""
        self._ready()
        reg = self.registry_for(req)
        notes: list[str] = []
        plans = self._plan(reg, req, self.coverage(), notes)
        order = {label: i for i, (_, label) in enumerate(self.calendar.buckets(req.first, req.last, req.grain))}
        frames: list[pl.DataFrame] = []
        ran = [p for p in plans if p.query is not None]
        found = dict(zip((id(p) for p in ran), self.run_all([p.query for p in ran]), strict=True))
        for plan in plans:
            frames += self._frames(plan, req.by, found.get(id(plan)))
            excluded = int(frames[-1]["excluded"].sum() or 0) if frames else 0
            if excluded:
                notes.append(f"{plan.kpi.name} ({plan.view}) is computed without {excluded:,} "
                             f"{plan.kpi.views[plan.view].excluded}")
        schema = {"kpi": pl.String, "view": pl.String, "period": pl.String, **{d: pl.String for d in req.by},
                  "value": pl.Float64, "unit": pl.String, "excluded": pl.Int64}
        values = (pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame(schema=schema))
        values = (values.with_columns(_order=pl.col("period").replace_strict(order, default=None))
                  .sort("_order", maintain_order=True).drop("_order").select(list(schema)))
        periods = pl.DataFrame([{"_owner": p.kpi.name, "view": p.view, "period": q.label, "code": q.code,
                                 "message": q.message, "covered": list(q.covered)}
                                for p in plans for q in p.periods], schema=running.SCHEMA)
        from kpi_definitions import weak_data

        warned = weak_data.warnings(self.con, reg, req.selection(), values, self.calendar, periods,
                                    self.source_months_sql(), lib=self.lib, run=self.run)
        cover = periods.select(
            pl.col("_owner").alias("kpi"), "view", "period",
            pl.col("covered").list.min().alias("first"), pl.col("covered").list.max().alias("last"),
            pl.col("covered").list.len().alias("months"))
        of = pl.DataFrame([(q.label, len(q.months)) for q in (plans[0].periods if plans else [])],
                          schema=["period", "of"], orient="row")
        return Values(warned, notes, cover.join(of, on="period", how="left") if of.height else cover)

    def _ready(self) -> None:
        from kpi_definitions import facts

        facts.check(self.con, self.currency)

    def _plan(self, reg: Registry, req: Request, cov: running.Coverage | None, notes: list[str]) -> list[_Planned]:
        """The query of every requested KPI view the request can be computed for (notes say why not), with the
        months each of its periods covers (`cov` None: every month, as `explain` shows a query unrun)."""
        buckets = self.calendar.buckets(req.first, req.last, req.grain)
        out = []
        for kpi in reg:
            if req.kpis is not None and kpi.name not in req.kpis:
                continue
            for view_name in kpi.views:
                if req.views is not None and view_name not in req.views:
                    continue
                dims = kpi.view_dimensions(view_name)
                missing = [d for d in req.by if d not in dims]
                if missing:
                    notes.append(f"{kpi.name} ({view_name}) cannot be split by {', '.join(missing)}: "
                                 f"its rows carry {', '.join(dims)}")
                    continue
                periods = (running.periods(buckets, cov, running.sources_of(kpi, view_name)) if cov is not None
                           else running.periods(buckets, running.Coverage({"*": frozenset(m for m, _ in buckets)}),
                                                ("*",)))
                query = view_query(reg, kpi, view_name, periods, req.by, req.filters, self.currency, self.lib)
                out.append(_Planned(kpi, view_name, periods, rolled_up(query, req)))
        return out

    def _frames(self, plan: _Planned, by: Sequence[str], found: pl.DataFrame | None) -> list[pl.DataFrame]:
        """A planned view's rows: its query's (`found`, run with the request's others; None: it has none), and a
        null row (per slice seen) for each period with no data."""
        kpi, by = plan.kpi, list(by)
        if found is not None:
            raw = found
        else:
            raw = pl.DataFrame(schema={"period": pl.String, **{d: pl.String for d in by}, "value": pl.Float64,
                                       "excluded": pl.Int64})
        if by:  # a period with no rows at all comes back once with empty dimensions: not a combination
            raw = raw.filter(pl.all_horizontal(pl.col(d).is_not_null() for d in by))
        raw = raw.with_columns(pl.col(d).cast(pl.String) for d in by)
        empty = [p.label for p in plan.periods if not p.covered]
        if empty:
            slices = raw.select(by).unique() if by else pl.DataFrame({"_": [0]})
            blank = pl.DataFrame({"period": empty}).join(slices, how="cross").drop("_", strict=False)
            raw = pl.concat([raw, blank], how="diagonal_relaxed")
        raw = raw.sort(["period", *by])
        columns = [(kpi.name, "value", kpi.unit)]
        if not kpi.views[plan.view].from_bridge:  # an agreed view from the bridge reports the KPI alone
            columns += [(c.name, c.column, c.unit) for c in kpi.companions]
        out = []
        for name, column, unit in columns:
            if column not in raw.columns:
                raw = raw.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
            out.append(raw.select(
                pl.lit(name).alias("kpi"), pl.lit(plan.view).alias("view"), "period", *by,
                pl.col(column).cast(pl.Float64).alias("value"), pl.lit(unit_of(unit, self.currency)).alias("unit"),
                pl.col("excluded").cast(pl.Int64).fill_null(0)))
        return out

    def bridge(self, req: Request, kpi: str | None = None) -> BridgeResult:
        """The steps from a KPI's bridge start view to its end view over the whole span of `req` (the months its
        exports cover), one slice (its filters). `kpi`: the request's first KPI unless named."""
        self._ready()
        name = kpi or (req.kpis[0] if req.kpis else None)
        if name is None:
            raise ValueError("name the KPI whose bridge to compute")
        reg = self.registry_for(req)
        k = reg[name]
        if k.bridge is None:
            raise ValueError(f"{name} declares no bridge")
        b = k.bridge
        label = running.ranges(range(req.first, req.last + 1))  # the span in words: "2026-01..2026-03"
        span = running.periods([(m, label) for m in range(req.first, req.last + 1)], self.coverage(),
                               bridge_sources(k))[0]
        warnings = () if span.code is None else ({"code": span.code, "message": span.message},)
        query = rolled_up(bridge_query(reg, k, [(m, label) for m in span.covered], (), req.filters, self.currency,
                                       self.lib), req)
        row = {}
        if query is not None:
            found = self.run(query)
            row = found.row(0, named=True) if found.height else {}
        start, end = row.get("start_value"), row.get("end_value")
        if start is None or end is None:
            missing = [v for v, x in ((b.from_view, start), (b.to_view, end)) if x is None]
            return BridgeResult(k.name, b.from_view, b.to_view, start, end, (),
                                f"the {' and the '.join(missing)} value{'s are' if len(missing) > 1 else ' is'} "
                                "not computable for this selection", warnings)

        def step(s: Step) -> BridgeStep:
            return BridgeStep(s.name, s.label, s.description, float(row.get(s.name) or 0.0),
                              tuple(step(p) for p in s.parts))

        return BridgeResult(k.name, b.from_view, b.to_view, start, end, tuple(step(s) for s in b.steps), None,
                            warnings)

    def bridges(self, req: Request) -> pl.DataFrame:
        """Each requested KPI's bridge as data, per period of the grain and slice of `req.by` (one query per KPI):
        a row for the start view's value, one per step (and per part of a netted step, `part_of` naming it), one
        for the end view's value. Columns: kpi, period, the `by` dimensions, kind (start, step, part, end), name
        (the view or the step), label, part_of, value, unit, warnings. A step is null where the start or the end
        value is (nothing to walk between); a period with no data has null values and a no_data warning."""
        from kpi_definitions.views import style

        self._ready()
        reg, by = self.registry_for(req), list(req.by)
        buckets = self.calendar.buckets(req.first, req.last, req.grain)
        cov = self.coverage()
        schema = {"kpi": pl.String, "period": pl.String, **{d: pl.String for d in by}, "kind": pl.String,
                  "name": pl.String, "label": pl.String, "part_of": pl.String, "value": pl.Float64,
                  "unit": pl.String, "warnings": pl.List(WARNING)}
        frames = []
        for kpi in reg:
            if kpi.bridge is None or (req.kpis is not None and kpi.name not in req.kpis):
                continue
            if any(d not in kpi.dimensions for d in by):
                continue
            b = kpi.bridge
            periods = running.periods(buckets, cov, bridge_sources(kpi))
            query = rolled_up(bridge_query(reg, kpi, [(m, p.label) for p in periods for m in p.covered], by,
                                           req.filters, self.currency, self.lib), req)
            wide = (self.run(query) if query is not None
                    else pl.DataFrame(schema={"period": pl.String, **{d: pl.String for d in by}}))
            if by:
                wide = wide.filter(pl.all_horizontal(pl.col(d).is_not_null() for d in by))
            wide = wide.with_columns(pl.col(d).cast(pl.String) for d in by)
            empty = [p.label for p in periods if not p.covered]
            if empty:
                slices = wide.select(by).unique() if by else pl.DataFrame({"_": [0]})
                wide = pl.concat([wide, pl.DataFrame({"period": empty}).join(slices, how="cross").drop(
                    "_", strict=False)], how="diagonal_relaxed")
            for col in ("start_value", "end_value", *b.names):
                if col not in wide.columns:
                    wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(col))
            walkable = pl.col("start_value").is_not_null() & pl.col("end_value").is_not_null()
            unit = unit_of(kpi.unit, self.currency)
            entries = [("start", b.from_view, style(kpi, b.from_view).label, None, pl.col("start_value"))]
            for s in b.steps:
                entries.append(("step", s.name, s.label, None,
                                pl.when(walkable).then(pl.col(s.name).fill_null(0.0))))
                entries += [("part", p.name, p.label, s.name, pl.when(walkable).then(pl.col(p.name).fill_null(0.0)))
                            for p in s.parts]
            entries.append(("end", b.to_view, style(kpi, b.to_view).label, None, pl.col("end_value")))
            said = {p.label: [{"code": p.code, "message": p.message}] if p.code else [] for p in periods}
            long = pl.concat([wide.select(pl.lit(kpi.name).alias("kpi"), "period", *by,
                                          pl.lit(kind).alias("kind"), pl.lit(n).alias("name"),
                                          pl.lit(label).alias("label"), pl.lit(part_of, dtype=pl.String).alias("part_of"),
                                          value.cast(pl.Float64).alias("value"), pl.lit(unit).alias("unit"),
                                          pl.lit(i).alias("_entry"))
                              for i, (kind, n, label, part_of, value) in enumerate(entries)])
            order = {p.label: i for i, p in enumerate(periods)}
            long = (long.with_columns(pl.col("period").replace_strict(order, default=None).alias("_period"),
                                      pl.col("period").replace_strict(said, default=[], return_dtype=pl.List(WARNING))
                                      .alias("warnings"))
                    .sort(["_period", *by, "_entry"]).drop("_period", "_entry"))
            frames.append(long.select(list(schema)))
        return pl.concat(frames) if frames else pl.DataFrame(schema=schema)

    def lines(self, req: Request, kpi: str, view: str, narrow: Mapping[str, str] | None = None,
              limit: int | None = None) -> pl.DataFrame:
        """The rows behind `kpi` (`view`) over the request's span and slice, as the view counts them."""
        from kpi_definitions.lines import LINE_LIMIT, lines_query

        self._ready()
        query = lines_query(self.registry_for(req), kpi, view, req.first, req.last, req.filter_map(), narrow,
                            LINE_LIMIT if limit is None else limit, self.currency, self.calendar, self.lib)
        return pl.DataFrame() if query is None else self.run(query)

    def options(self) -> dict[str, list[tuple[str, str]]]:
        """The values each filter of the filter bar can take, with a label (supplier names from the master)."""
        from kpi_definitions import facts

        # the monthly sums hold every supplier, category and cost center of the lines (POs that count)
        small = {} if facts.missing(self.con) else {"invoices": "fact_invoice_months", "purchase_orders": "fact_po_months"}
        out: dict[str, list[tuple[str, str]]] = {}
        for dim, value, label in self.run(dimensions.options_sql(tables=small)).iter_rows():
            out.setdefault(dim, []).append((value, label))
        return out

    def data_months(self) -> tuple[int, int] | None:
        """First and last month with orders, invoices, stock or consumption; None on an empty database."""
        from kpi_definitions import facts

        # the months kept with the facts; a database whose facts are outdated still says what it holds
        found = self.run(self.sql("data_months" if facts.missing(self.con) else "data_months_facts"))
        first, last = found.row(0)
        return None if last is None else (int(first), int(last))

    def explain(self, req: Request, bridges: bool = True, lines: bool = False) -> list[Query]:
        """The queries `values` runs for the request, with their parameter values, without running them (an
        agreed view's is its own SQL); with `bridges`, each requested KPI's `bridges` query; with `lines`, each
        view's drill-down lines over the span."""
        return explain(self.registry_for(req), req, self.currency, self.calendar, self.coverage(), bridges, lines,
                       self.lib)


@dataclass(frozen=True)
class _Planned:
    kpi: Kpi
    view: str
    periods: list[running.Period]
    query: Query | None  # None: no period has a covered month


def view_query(reg: Registry, kpi: Kpi, view_name: str, periods: Sequence[running.Period], by: Sequence[str],
               filters: Filters, currency: str, lib: ModuleType | None = None) -> Query | None:
    """A view's query over the covered months of `periods`, split `by`; None when no month is covered."""
    months = [(m, p.label) for p in periods for m in p.covered]
    if not months:
        return None
    view = kpi.views[view_name]
    if view.from_bridge:
        from kpi_definitions.agreement import agreed_query

        return agreed_query(reg, kpi, view_name, periods, by, filters, currency, lib)
    return Query(f"{kpi.name} ({view_name})", render(reg, view.sql, view.bind, by, lib),
                 bucket_params(months, filters, kpi.dimensions, currency, lookback(view)))


# a quoted literal, a comment, or a parameter: only the last is renamed ('$ccy' in a literal is text)
_TOKENS = re.compile(r"'(?:[^']|'')*'|--[^\n]*|\$([A-Za-z_]\w*)")


def _united(run: Callable[[str, dict[str, object]], pl.DataFrame], queries: Sequence[Query]) -> list[pl.DataFrame]:
    """Each query's rows from one statement (`together`) run by `run`. A view's frame also has the other views'
    columns, all NULL: what reads it picks its own by name."""
    sql, names = together(tuple(q.sql for q in queries), tuple(tuple(q.params) for q in queries))
    values = {f"q{i}_{k}": v for i, q in enumerate(queries) for k, v in q.params.items()}
    rows = run(sql, {k: values[k] for k in names})
    parts = rows.partition_by("_q", as_dict=True, include_key=False)
    return [parts.get((i,), rows.clear().drop("_q")) for i in range(len(queries))]


@functools.lru_cache(maxsize=64)
def together(sqls: tuple[str, ...], names: tuple[tuple[str, ...], ...]) -> tuple[str, tuple[str, ...]]:
    """Several DuckDB queries as one statement whose rows say which query they belong to (`_q`, its index), and
    the names of its parameters: each query's own, renamed `q<index>_<name>`, since two views look back over
    different months. Columns are united by name: a view's row has NULL in the columns of the others."""
    def renamed(i: int, sql: str) -> str:
        return _TOKENS.sub(lambda m: f"$q{i}_{m.group(1)}" if m.group(1) in names[i] else m.group(0), sql)

    parts = [f"SELECT {i} AS _q, * FROM (\n{renamed(i, sql)}\n)" for i, sql in enumerate(sqls)]
    return "\nUNION ALL BY NAME\n".join(parts), tuple(f"q{i}_{k}" for i, ks in enumerate(names) for k in ks)


def bridge_sources(kpi: Kpi) -> tuple[str, ...]:
    """The exports a bridge reads: both its views'."""
    b = kpi.bridge
    assert b is not None
    ends = (kpi.views[b.from_view], kpi.views[b.to_view])
    if any(not e.sources for e in ends):
        return ()
    return tuple(dict.fromkeys(s for e in ends for s in e.sources))


def bridge_query(reg: Registry, kpi: Kpi, months: Sequence[tuple[int, str]], by: Sequence[str], filters: Filters,
                 currency: str, lib: ModuleType | None = None) -> Query | None:
    """One query for a bridge over every period of `months` and slice of `by`: the start view's value, the end
    view's and each step (columns start_value, end_value, then the bridge's own). None without a month."""
    b = kpi.bridge
    if b is None or not months:
        return None
    start, end = kpi.views[b.from_view], kpi.views[b.to_view]
    dims = "".join(f", {d}" for d in by)
    keys = f"SELECT period{dims} FROM bridge_start UNION SELECT period{dims} FROM bridge_end"
    steps = ", ".join(f"t.{n}" for n in b.names)
    final = f"""SELECT k.period{"".join(f", k.{d}" for d in by)}, s.value AS start_value, e.value AS end_value, {steps}
FROM ({keys}) k
LEFT JOIN bridge_start s ON {same("s", "k", by)}
LEFT JOIN bridge_end e ON {same("e", "k", by)}
LEFT JOIN bridge_steps t ON {same("t", "k", by)}"""
    relations = [("bridge_start", body(reg, start.sql, start.bind, by)), ("bridge_end", body(reg, end.sql, end.bind, by)),
                 ("bridge_steps", body(reg, b.sql, {}, by))]
    label = f"{kpi.name} bridge: {b.from_view} to {b.to_view}, step by step"
    return Query(label, compose(reg, relations, final, lib),
                 bucket_params(months, filters, kpi.dimensions, currency, 12))


def explain(reg: Registry, req: Request, currency: str, calendar: FiscalCalendar, cov: running.Coverage | None,
            bridges: bool = True, lines: bool = False, lib: ModuleType | None = None) -> list[Query]:
    """The queries the engine runs for `req` (`cov` None: as if every month had data), rendered for `lib`."""
    from kpi_definitions.lines import lines_query

    engine = Engine.__new__(Engine)  # planning needs no connection
    engine.reg, engine.currency, engine.calendar, engine.lib = reg, currency, calendar, lib or dialects.dialect()
    engine.parallel = False
    by_kpi: dict[str, list[Query]] = {}
    for plan in engine._plan(reg, req, cov, []):
        queries = by_kpi.setdefault(plan.kpi.name, [])
        if plan.query is not None:
            queries.append(plan.query)
        if lines and (q := lines_query(reg, plan.kpi.name, plan.view, req.first, req.last, req.filter_map(),
                                       currency=currency, cal=calendar, lib=engine.lib)):
            queries.append(q)
    buckets = calendar.buckets(req.first, req.last, req.grain)
    everything = running.Coverage({"*": frozenset(m for m, _ in buckets)})
    for name, queries in by_kpi.items():
        kpi = reg[name]
        if bridges and kpi.bridge is not None and all(d in kpi.dimensions for d in req.by):
            periods = (running.periods(buckets, cov, bridge_sources(kpi)) if cov is not None
                       else running.periods(buckets, everything, ("*",)))
            q = rolled_up(bridge_query(reg, kpi, [(m, p.label) for p in periods for m in p.covered], req.by,
                                       req.filters, currency, lib), req)
            if q is not None:
                queries.append(q)
    return [q for queries in by_kpi.values() for q in queries]
