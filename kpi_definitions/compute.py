"""Running the declared KPI SQL: values by period and slice, and the bridge between two views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from kpi_definitions.periods import FiscalCalendar, Grain
from kpi_definitions.query import Query, Selection
from kpi_definitions.registry import Registry

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
    # partial_period or no_data ({code, message}) when the span reaches past the months its exports cover
    warnings: tuple[dict[str, str], ...] = ()

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
    """Every requested KPI under every view, one row per period of the grain and combination of `by`: the
    engine's values (kpi_definitions/engine.py) without their warnings (weak_data.warnings adds them)."""
    from kpi_definitions.engine import Engine, Request

    req = Request(sel.first, sel.last, sel.grain, None if kpis is None else tuple(kpis),
                  None if views is None else tuple(views), tuple(sel.by), sel.filters)  # type: ignore[arg-type]
    r = Engine(con, reg, currency=currency, calendar=cal).values(req)
    return KpiValues(r.frame.drop("warnings"), r.notes)


def bridge(con: duckdb.DuckDBPyConnection, reg: Registry, kpi_name: str, first: int, last: int,
           filters: Mapping[str, Sequence[str]] | None = None, *, currency: str = "EUR") -> BridgeResult:
    """The steps from one view's value to the other's over months first..last (one span, one slice)."""
    from kpi_definitions.engine import Engine, Request

    return Engine(con, reg, currency=currency).bridge(Request.of(first, last, filters=filters), kpi_name)


def explain(reg: Registry, sel: Selection, *, currency: str = "EUR", cal: FiscalCalendar | None = None,
            kpis: Sequence[str] | None = None, views: Sequence[str] | None = None, bridges: bool = True,
            lines: bool = False) -> list[Query]:
    """The queries `compute` would run for the selection, with their parameter values, without running them,
    as if every month of it had data (`Engine.explain` knows which have): each KPI view's (an agreed view's is
    its own SQL), and (`bridges`) each declared bridge's, and (`lines`) each view's drill-down lines, each
    exactly as it runs."""
    from kpi_definitions import engine

    req = engine.Request(sel.first, sel.last, sel.grain, None if kpis is None else tuple(kpis),
                         None if views is None else tuple(views), tuple(sel.by), sel.filters)  # type: ignore[arg-type]
    return engine.explain(reg, req, currency, cal or FiscalCalendar(), None, bridges, lines)


def data_months(con: duckdb.DuckDBPyConnection, reg: Registry) -> tuple[int, int] | None:
    """First and last month with orders, invoices, stock or consumption; None on an empty database."""
    from kpi_definitions.engine import Engine

    return Engine(con, reg).data_months()


def resolve_range(cal: FiscalCalendar, grain: Grain, latest: int | None, period: str | None = None,
                  start: str | None = None, end: str | None = None) -> tuple[int, int]:
    """The months a request covers (periods.resolve, the one resolver of the CLI and the app)."""
    from kpi_definitions.periods import resolve

    span = resolve(cal, grain, None if latest is None else (latest, latest), period, start, end)
    return span.first, span.last
