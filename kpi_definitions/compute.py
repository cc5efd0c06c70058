"""Running the declared KPI SQL: values by period and slice, and the bridge between two views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import polars as pl

from kpi_definitions import facts
from kpi_definitions.periods import FiscalCalendar, Grain
from kpi_definitions.registry import FILTERABLE, Kpi, Registry

UNIT_LABELS = {"days": "days", "ratio": "ratio"}  # currency KPIs report the reporting currency's code


@dataclass(frozen=True)
class Selection:
    """What to compute: the months of the range, the grain that groups them, the split and the filters."""

    first: int
    last: int
    grain: Grain = "month"
    by: tuple[str, ...] = ()
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)


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


@dataclass(frozen=True)
class BridgeResult:
    kpi: str
    start_view: str
    end_view: str
    start: float | None
    end: float | None
    steps: tuple[BridgeStep, ...]
    reason: str | None = None  # why there are no steps

    @property
    def total(self) -> float | None:
        if self.start is None or not self.steps:
            return None
        return self.start + sum(s.value for s in self.steps)


def render(reg: Registry, sql_name: str, bind: Mapping[str, str], dims: Sequence[str]) -> str:
    """The full query of a view or bridge: the shared relations, then its own SQL with names bound.

    Only registry-checked names are ever put into the text; every value travels as a parameter.
    """
    body = reg.sql(sql_name).replace("{dims}", "".join(f", {d}" for d in dims))
    for key, column in bind.items():
        body = body.replace("{" + key + "}", column)
    return f"WITH {reg.sql('base')}\nSELECT * FROM (\n{body}\n)"


def params(sel: Selection, cal: FiscalCalendar, dims_of_kpi: Sequence[str], currency: str,
           months: Sequence[tuple[int, str]] | None = None) -> dict[str, object]:
    buckets = months if months is not None else cal.buckets(sel.first, sel.last, sel.grain)
    months_ = [m for m, _ in buckets]
    out: dict[str, object] = {"months": months_, "labels": [lbl for _, lbl in buckets], "ccy": currency,
                              "m_lo": min(months_) - 12, "m_hi": max(months_)}
    for dim in FILTERABLE:
        values = sel.filters.get(dim)
        out[dim] = list(values) if values and dim in dims_of_kpi else None
    return out


def unit_of(kpi_unit: str, currency: str) -> str:
    return currency if kpi_unit == "currency" else kpi_unit


def compute(con: duckdb.DuckDBPyConnection, reg: Registry, sel: Selection, *, currency: str = "EUR",
            cal: FiscalCalendar | None = None, kpis: Sequence[str] | None = None,
            views: Sequence[str] | None = None) -> KpiValues:
    """Every requested KPI under every view, one row per period of the grain and combination of `by`."""
    cal = cal or FiscalCalendar()
    facts.check(con, currency)
    order = {label: i for i, (_, label) in enumerate(cal.buckets(sel.first, sel.last, sel.grain))}
    frames: list[pl.DataFrame] = []
    notes: list[str] = []
    for kpi in reg:
        if kpis is not None and kpi.name not in kpis:
            continue
        unfiltered = sorted(d for d in sel.filters if sel.filters[d] and d not in kpi.dimensions)
        if unfiltered:
            notes.append(f"{kpi.name} is not split by {', '.join(unfiltered)}: shown for all of them")
        for view_name, view in kpi.views.items():
            if views is not None and view_name not in views:
                continue
            dims = kpi.view_dimensions(view_name)
            missing = [d for d in sel.by if d not in dims]
            if missing:
                notes.append(f"{kpi.name} ({view_name}) cannot be split by {', '.join(missing)}: "
                             f"its rows carry {', '.join(dims)}")
                continue
            frames += _view_frames(con, reg, kpi, view_name, sel, cal, currency)
            excluded = int(frames[-1]["excluded"].sum() or 0)
            if excluded:
                notes.append(f"{kpi.name} ({view_name}) is computed without {excluded:,} {view.excluded}")
    schema = {"kpi": pl.String, "view": pl.String, "period": pl.String, **{d: pl.String for d in sel.by},
              "value": pl.Float64, "unit": pl.String, "excluded": pl.Int64}
    if not frames:
        return KpiValues(pl.DataFrame(schema=schema), notes)
    values = (pl.concat(frames, how="vertical_relaxed")
              .with_columns(_order=pl.col("period").replace_strict(order, default=None))
              .sort("_order", maintain_order=True).drop("_order"))
    return KpiValues(values.select(list(schema)), notes)


def _view_frames(con: duckdb.DuckDBPyConnection, reg: Registry, kpi: Kpi, view_name: str, sel: Selection,
                 cal: FiscalCalendar, currency: str) -> list[pl.DataFrame]:
    view = kpi.views[view_name]
    sql = render(reg, view.sql, view.bind, sel.by)
    raw = con.sql(sql, params=params(sel, cal, kpi.dimensions, currency)).pl()
    if sel.by:  # a period with no rows at all comes back once with empty dimensions: not a combination
        raw = raw.filter(pl.all_horizontal(pl.col(d).is_not_null() for d in sel.by))
    raw = raw.with_columns(pl.col(d).cast(pl.String) for d in sel.by).sort(["period", *sel.by])
    out = []
    for name, column, unit in [(kpi.name, "value", kpi.unit), *((c.name, c.column, c.unit) for c in kpi.companions)]:
        out.append(raw.select(
            pl.lit(name).alias("kpi"), pl.lit(view_name).alias("view"), "period", *sel.by,
            pl.col(column).cast(pl.Float64).alias("value"), pl.lit(unit_of(unit, currency)).alias("unit"),
            pl.col("excluded").cast(pl.Int64)))
    return out


def bridge(con: duckdb.DuckDBPyConnection, reg: Registry, kpi_name: str, first: int, last: int,
           filters: Mapping[str, Sequence[str]] | None = None, *, currency: str = "EUR") -> BridgeResult:
    """The steps from one view's value to the other's over months first..last (one span, one slice)."""
    kpi = reg[kpi_name]
    facts.check(con, currency)
    if kpi.bridge is None:
        raise ValueError(f"{kpi_name} declares no bridge")
    b = kpi.bridge
    sel = Selection(first, last, "month", (), filters or {})
    span = [(m, "span") for m in range(first, last + 1)]
    p = params(sel, FiscalCalendar(), kpi.dimensions, currency, months=span)

    def end_value(view_name: str) -> float | None:
        view = kpi.views[view_name]
        rows = con.sql(render(reg, view.sql, view.bind, ()), params=p).fetchall()
        return rows[0][1] if rows else None

    start, end = end_value(b.from_view), end_value(b.to_view)
    if start is None or end is None:
        missing = b.from_view if start is None else b.to_view
        return BridgeResult(kpi.name, b.from_view, b.to_view, start, end, (),
                            f"the {missing} value is not computable for this selection")
    row = con.sql(render(reg, b.sql, {}, ()), params=p).pl().row(0, named=True)
    steps = tuple(BridgeStep(s.name, s.label, s.description, float(row[s.name] or 0.0)) for s in b.steps)
    return BridgeResult(kpi.name, b.from_view, b.to_view, start, end, steps)


def data_months(con: duckdb.DuckDBPyConnection, reg: Registry) -> tuple[int, int] | None:
    """First and last month with orders, invoices, stock or consumption; None on an empty database."""
    first, last = con.sql(reg.sql("data_months")).fetchall()[0]
    return None if last is None else (int(first), int(last))


def resolve_range(cal: FiscalCalendar, grain: Grain, latest: int | None, period: str | None = None,
                  start: str | None = None, end: str | None = None) -> tuple[int, int]:
    """The months a request covers (periods.resolve, the one resolver of the CLI and the app)."""
    from kpi_definitions.periods import resolve

    span = resolve(cal, grain, None if latest is None else (latest, latest), period, start, end)
    return span.first, span.last
