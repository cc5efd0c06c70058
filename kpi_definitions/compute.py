"""Running the declared KPI SQL: values by period and slice, and the bridge between two views."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from kpi_definitions import facts, macros
from kpi_definitions.periods import FiscalCalendar, Grain
from kpi_definitions.query import Query, Selection, bridge_queries, lookback, params, render, unit_of
from kpi_definitions.registry import Kpi, Registry, Step

UNIT_LABELS = {"days": "days", "ratio": "ratio"}  # currency KPIs report the reporting currency's code


@dataclass
class KpiValues:
    """Long table of values (kpi, view, period, the `by` dimensions, value, unit, excluded) plus notes."""

    values: pl.DataFrame
    notes: list[str]


@dataclass(frozen=True)
class BridgeStep:
    name: str
    label: str
    description: str
    value: float
    parts: tuple[BridgeStep, ...] = ()  # a netted step's parts, which add up to its value


@dataclass(frozen=True)
class BridgeResult:
    kpi: str
    start_view: str
    end_view: str
    start: float | None
    end: float | None
    steps: tuple[BridgeStep, ...]
    reason: str | None = None  # why there are no steps

    def listed(self) -> list[tuple[str, float, str]]:
        """(label, value, what it is) of each step, a netted step followed by its parts (which add up to it)."""
        rows: list[tuple[str, float, str]] = []
        for s in self.steps:
            rows.append((s.label, s.value, s.description))
            rows += [(f"↳ {p.label}", p.value, f"Part of “{s.label}”: {p.description}") for p in s.parts]
        return rows

    @property
    def total(self) -> float | None:
        if self.start is None or not self.steps:
            return None
        return self.start + sum(s.value for s in self.steps)


def compute(con: duckdb.DuckDBPyConnection, reg: Registry, sel: Selection, *, currency: str = "EUR",
            cal: FiscalCalendar | None = None, kpis: Sequence[str] | None = None,
            views: Sequence[str] | None = None) -> KpiValues:
    """Every requested KPI under every view, one row per period of the grain and combination of `by`."""
    cal = cal or FiscalCalendar()
    facts.check(con, currency)
    macros.ensure(con)
    order = {label: i for i, (_, label) in enumerate(cal.buckets(sel.first, sel.last, sel.grain))}
    frames: list[pl.DataFrame] = []
    notes: list[str] = []
    for kpi, view_name, query in _plan(reg, sel, cal, currency, kpis, views, notes):
        if kpi.views[view_name].from_bridge:  # an agreed view: the bridge's start value + the counted steps
            from kpi_definitions import agreement

            frames.append(agreement.frame(con, reg, kpi.name, agreement.versions_of(kpi, view_name), sel, cal=cal,
                                          currency=currency, view_name=view_name, notes=notes).drop("version"))
            continue
        frames += _view_frames(con, kpi, view_name, query, sel.by, currency)
        excluded = int(frames[-1]["excluded"].sum() or 0)
        if excluded:
            notes.append(f"{kpi.name} ({view_name}) is computed without {excluded:,} {kpi.views[view_name].excluded}")
    schema = {"kpi": pl.String, "view": pl.String, "period": pl.String, **{d: pl.String for d in sel.by},
              "value": pl.Float64, "unit": pl.String, "excluded": pl.Int64}
    if not frames:
        return KpiValues(pl.DataFrame(schema=schema), notes)
    values = (pl.concat(frames, how="vertical_relaxed")
              .with_columns(_order=pl.col("period").replace_strict(order, default=None))
              .sort("_order", maintain_order=True).drop("_order"))
    return KpiValues(values.select(list(schema)), notes)


def _plan(reg: Registry, sel: Selection, cal: FiscalCalendar, currency: str, kpis: Sequence[str] | None,
          views: Sequence[str] | None, notes: list[str]) -> Iterator[tuple[Kpi, str, Query]]:
    """The query of every requested KPI view the selection can be computed for (notes say why not)."""
    for kpi in reg:
        if kpis is not None and kpi.name not in kpis:
            continue
        # A filter the KPI cannot apply is a warning on each of its rows (kpi_definitions/weak_data.py).
        for view_name, view in kpi.views.items():
            if views is not None and view_name not in views:
                continue
            dims = kpi.view_dimensions(view_name)
            missing = [d for d in sel.by if d not in dims]
            if missing:
                notes.append(f"{kpi.name} ({view_name}) cannot be split by {', '.join(missing)}: "
                             f"its rows carry {', '.join(dims)}")
                continue
            yield kpi, view_name, Query(f"{kpi.name} ({view_name})", render(reg, view.sql, view.bind, sel.by),
                                        params(sel, cal, kpi.dimensions, currency, lookback=lookback(view)))


def _view_frames(con: duckdb.DuckDBPyConnection, kpi: Kpi, view_name: str, query: Query, by: Sequence[str],
                 currency: str) -> list[pl.DataFrame]:
    raw = con.sql(query.sql, params=query.params).pl()
    if by:  # a period with no rows at all comes back once with empty dimensions: not a combination
        raw = raw.filter(pl.all_horizontal(pl.col(d).is_not_null() for d in by))
    raw = raw.with_columns(pl.col(d).cast(pl.String) for d in by).sort(["period", *by])
    out = []
    for name, column, unit in [(kpi.name, "value", kpi.unit), *((c.name, c.column, c.unit) for c in kpi.companions)]:
        out.append(raw.select(
            pl.lit(name).alias("kpi"), pl.lit(view_name).alias("view"), "period", *by,
            pl.col(column).cast(pl.Float64).alias("value"), pl.lit(unit_of(unit, currency)).alias("unit"),
            pl.col("excluded").cast(pl.Int64)))
    return out


def bridge(con: duckdb.DuckDBPyConnection, reg: Registry, kpi_name: str, first: int, last: int,
           filters: Mapping[str, Sequence[str]] | None = None, *, currency: str = "EUR") -> BridgeResult:
    """The steps from one view's value to the other's over months first..last (one span, one slice)."""
    kpi = reg[kpi_name]
    facts.check(con, currency)
    macros.ensure(con)
    if kpi.bridge is None:
        raise ValueError(f"{kpi_name} declares no bridge")
    b = kpi.bridge
    start_q, end_q, steps_q = bridge_queries(reg, kpi_name, first, last, filters, currency=currency)

    def end_value(query: Query) -> float | None:
        rows = con.sql(query.sql, params=query.params).fetchall()
        return rows[0][1] if rows else None

    start, end = end_value(start_q), end_value(end_q)
    if start is None or end is None:
        missing = [v for v, x in ((b.from_view, start), (b.to_view, end)) if x is None]
        return BridgeResult(kpi.name, b.from_view, b.to_view, start, end, (),
                            f"the {' and the '.join(missing)} value{'s are' if len(missing) > 1 else ' is'} "
                            "not computable for this selection")
    row = con.sql(steps_q.sql, params=steps_q.params).pl().row(0, named=True)
    def step(s: Step) -> BridgeStep:
        return BridgeStep(s.name, s.label, s.description, float(row[s.name] or 0.0), tuple(step(p) for p in s.parts))

    steps = tuple(step(s) for s in b.steps)
    return BridgeResult(kpi.name, b.from_view, b.to_view, start, end, steps)


def explain(reg: Registry, sel: Selection, *, currency: str = "EUR", cal: FiscalCalendar | None = None,
            kpis: Sequence[str] | None = None, views: Sequence[str] | None = None, bridges: bool = True,
            lines: bool = False) -> list[Query]:
    """The queries `compute` would run for the selection, with their parameter values, without running them:
    each KPI view's, and (`bridges`) each declared bridge's over the whole range, and (`lines`) each view's
    drill-down lines. They run after the macros of `macros.text()` exist on the connection."""
    from kpi_definitions.lines import lines_query  # the drill-down builds on this module

    cal = cal or FiscalCalendar()
    by_kpi: dict[str, list[Query]] = {}
    for kpi, view_name, query in _plan(reg, sel, cal, currency, kpis, views, []):
        by_kpi.setdefault(kpi.name, []).append(query)
        if lines and (q := lines_query(reg, kpi.name, view_name, sel.first, sel.last, sel.filters,
                                       currency=currency, cal=cal)):
            by_kpi[kpi.name].append(q)
    for name, queries in by_kpi.items():
        if bridges and reg[name].bridge is not None:
            queries += bridge_queries(reg, name, sel.first, sel.last, sel.filters, currency=currency)
    return [q for queries in by_kpi.values() for q in queries]


def data_months(con: duckdb.DuckDBPyConnection, reg: Registry) -> tuple[int, int] | None:
    """First and last month with orders, invoices, stock or consumption; None on an empty database."""
    macros.ensure(con)
    first, last = con.sql(reg.sql("data_months")).fetchall()[0]
    return None if last is None else (int(first), int(last))


def resolve_range(cal: FiscalCalendar, grain: Grain, latest: int | None, period: str | None = None,
                  start: str | None = None, end: str | None = None) -> tuple[int, int]:
    """The months a request covers (periods.resolve, the one resolver of the CLI and the app)."""
    from kpi_definitions.periods import resolve

    span = resolve(cal, grain, None if latest is None else (latest, latest), period, start, end)
    return span.first, span.last
