"""Agreed definitions from the bridge: the agreed value of a KPI is its bridge's start value (procurement's)
plus the bridge steps the agreed definition counts, computed from the same SQL as the bridge, so it sits on
the bridge to the cent, for every period of any grain and every slice.

An agreed definition has versions (1, 2, ...), each with an effective date: a period's value uses the
version in effect on the first day of the period's last month (the latest version effective by then);
a period before every version has no agreed value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from kpi_definitions import facts, macros
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.query import Query, Selection, bridge_queries, lookback, params, render, unit_of, used
from kpi_definitions.registry import NAME, Counted, Kpi, Registry, View

VIEW = "agreed"  # the name of the view agreed definitions make
LABEL, COLOUR, OWNER = "Agreed", "violet", "Finance and procurement (agreed)"


class AgreementError(ValueError):
    """A definition that cannot be agreed as stated; the message is one sentence for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Version:
    """One approved version of a KPI's agreed definition."""

    kpi: str
    version: int
    effective_date: date
    counts: tuple[str, ...]  # the bridge steps the agreed value counts
    definition: str


def versions_of(kpi: Kpi, view_name: str = VIEW) -> list[Version]:
    """The versions an agreed view declares (`from_bridge`)."""
    return [Version(kpi.name, c.version, c.effective_date, c.counts, c.definition)
            for c in kpi.views[view_name].from_bridge]


def check_steps(reg: Registry, kpi_name: str, counts: Sequence[str]) -> Kpi:
    """The KPI, if an agreed definition of it may count `counts`; otherwise a sentence."""
    if kpi_name not in reg.kpis:
        raise AgreementError(f"There is no KPI named {kpi_name!r} (known: {', '.join(reg.names)}).")
    kpi = reg[kpi_name]
    if kpi.bridge is None:
        raise AgreementError(f"{kpi.label} has no bridge, so there are no steps to agree on.")
    known = list(kpi.bridge.names)  # a netted step's parts can be counted on their own
    unknown = [c for c in counts if c not in known]
    if unknown:
        raise AgreementError(f"{kpi.label}'s bridge has no step {', '.join(repr(u) for u in unknown)} "
                             f"(its steps: {', '.join(known)}).")
    if len(set(counts)) != len(counts):
        raise AgreementError("A step is chosen twice.")
    labels = kpi.bridge.labels
    for step, part in kpi.bridge.overlaps(counts):
        raise AgreementError(f"“{labels[step]}” already adds up its parts, “{labels[part]}” among them: count the "
                             "step or some of its parts, not both.")
    return kpi


def in_effect(versions: Sequence[Version], day: date) -> Version | None:
    """The version in effect on `day`: the latest one effective by then (None before the first)."""
    live = [v for v in versions if v.effective_date <= day]
    return max(live, key=lambda v: (v.effective_date, v.version)) if live else None


def _month_start(m: int) -> date:
    return date(m // 12, m % 12 + 1, 1)


def span_value(con: duckdb.DuckDBPyConnection, reg: Registry, kpi_name: str, counts: Sequence[str],
               months: Sequence[int], filters: Mapping[str, Sequence[str]] | None = None, *,
               currency: str = "EUR") -> tuple[float | None, dict[str, float]]:
    """The bridge's start value and each step over one span of months and one slice (the bridge's own SQL)."""
    macros.ensure(con)
    start_q, _end_q, steps_q = bridge_queries(reg, kpi_name, min(months), max(months), filters, currency=currency)
    if list(months) != list(range(min(months), max(months) + 1)):  # a span with gaps: only those months
        span = [(m, "span") for m in months]
        p = params(Selection(min(months), max(months), "month", (), filters or {}), FiscalCalendar(),
                   reg[kpi_name].dimensions, currency, months=span)
        start_q, steps_q = Query(start_q.label, start_q.sql, p), Query(steps_q.label, steps_q.sql, p)
    rows = con.sql(start_q.sql, params=start_q.params).fetchall()
    start = rows[0][1] if rows else None
    row = con.sql(steps_q.sql, params=steps_q.params).pl().row(0, named=True)
    steps = {n: float(row[n] or 0.0) for n in reg[kpi_name].bridge.names}  # type: ignore[union-attr]
    return (None if start is None else float(start)), steps


def value(con: duckdb.DuckDBPyConnection, reg: Registry, kpi_name: str, counts: Sequence[str],
          months: Sequence[int], filters: Mapping[str, Sequence[str]] | None = None, *,
          currency: str = "EUR") -> float | None:
    """The agreed value over `months` for one slice: the start value + the counted steps."""
    check_steps(reg, kpi_name, counts)
    start, steps = span_value(con, reg, kpi_name, counts, months, filters, currency=currency)
    return None if start is None else start + sum(steps[c] for c in counts)


MAX_SLICES = 15  # slices a split computes agreed values for (the largest by the start view); each is a query


def _steps(con: duckdb.DuckDBPyConnection, reg: Registry, kpi_name: str, months: Sequence[int],
           filters: Mapping[str, Sequence[str]], currency: str, counts: Sequence[str]) -> dict[str, float]:
    """The counted bridge steps over exactly `months` for one slice: the bridge's own SQL, only the counted
    columns selected (DuckDB then leaves out the work of the others)."""
    kpi = reg[kpi_name]
    p = params(Selection(min(months), max(months), "month", (), filters), FiscalCalendar(), kpi.dimensions,
               currency, months=[(m, "span") for m in months])
    columns = ", ".join(c for c in counts if NAME.match(c))  # registry-checked step names
    sql = f"SELECT {columns} FROM ({render(reg, kpi.bridge.sql, {}, ())})"  # type: ignore[union-attr]
    row = con.sql(sql, params=used(sql, p)).pl().row(0, named=True)
    return {c: float(row[c] or 0.0) for c in counts}


def frame(con: duckdb.DuckDBPyConnection, reg: Registry, kpi_name: str, versions: Sequence[Version],
          sel: Selection, *, cal: FiscalCalendar | None = None, currency: str = "EUR",
          view_name: str = VIEW, notes: list[str] | None = None) -> pl.DataFrame:
    """The agreed view's rows for compute()'s long table: one per period of the grain and combination of `by`,
    each computed with the version in effect in that period (no version yet: no value).

    The start value is the bridge's start view computed for every period and slice at once (the value the
    bridge starts from over the same months); the counted steps run the bridge SQL per period and slice, for
    the MAX_SLICES largest slices of a split (a note names the rest)."""
    cal = cal or FiscalCalendar()
    kpi = check_steps(reg, kpi_name, ())
    facts.check(con, currency)
    macros.ensure(con)
    periods: dict[str, list[int]] = {}
    for m, label in cal.buckets(sel.first, sel.last, sel.grain):
        periods.setdefault(label, []).append(m)
    start_view = kpi.views[kpi.bridge.from_view]  # type: ignore[union-attr]
    start_q = Query("start", render(reg, start_view.sql, start_view.bind, sel.by),
                    params(sel, cal, kpi.dimensions, currency, lookback=lookback(start_view)))
    starts = con.sql(start_q.sql, params=start_q.params).pl()
    by = list(sel.by)
    if by:
        starts = starts.filter(pl.all_horizontal(pl.col(d).is_not_null() for d in by))
    starts = starts.with_columns(pl.col(d).cast(pl.String) for d in by)
    start_of = {(r["period"], *(r[d] for d in by)): r["value"] for r in starts.iter_rows(named=True)}
    slices: list[tuple[str, ...]] = [()]
    if by:
        ranked = (starts.group_by(by).agg(pl.col("value").abs().sum().alias("size"))
                  .sort(["size", *by], descending=[True, *([False] * len(by))], nulls_last=True))
        slices = [tuple(r) for r in ranked.select(by).iter_rows()]
        if len(slices) > MAX_SLICES and notes is not None:
            notes.append(f"{kpi_name} ({view_name}) is split for the {MAX_SLICES} largest of {len(slices)} "
                         f"{', '.join(by)} values only")
        slices = sorted(slices[:MAX_SLICES])
    rows = []
    for label, months in periods.items():
        version = in_effect(versions, _month_start(max(months)))
        for combo in slices:
            start = start_of.get((label, *combo))
            agreed = None
            if version is not None and start is not None:
                agreed = float(start)
                if version.counts:
                    filters = {d: list(v) for d, v in sel.filters.items() if v}
                    filters.update({d: [v] for d, v in zip(by, combo, strict=True)})
                    steps = _steps(con, reg, kpi_name, months, filters, currency, version.counts)
                    agreed += sum(steps[c] for c in version.counts)
            rows.append({"kpi": kpi_name, "view": view_name, "period": label,
                         **dict(zip(by, combo, strict=True)), "value": agreed,
                         "unit": unit_of(kpi.unit, currency), "excluded": 0,
                         "version": None if version is None else version.version})
    schema = {"kpi": pl.String, "view": pl.String, "period": pl.String, **{d: pl.String for d in by},
              "value": pl.Float64, "unit": pl.String, "excluded": pl.Int64, "version": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def view_of(kpi: Kpi, versions: Sequence[Version]) -> View:
    """The agreed view of a KPI with these approved versions (the latest one's text, version and date)."""
    latest = max(versions, key=lambda v: v.version)
    start = kpi.views[kpi.bridge.from_view]  # type: ignore[union-attr]
    return View(label=LABEL, colour=COLOUR, definition=latest.definition, sql=start.sql, lines=start.lines,
                bind=start.bind, year_before=start.year_before,  # its SQL and lines are the start view's
                owner=OWNER, version=str(latest.version), effective_date=latest.effective_date,
                from_bridge=tuple(Counted(version=v.version, effective_date=v.effective_date, counts=v.counts,
                                          definition=v.definition) for v in sorted(versions, key=lambda v: v.version)))


def with_agreed(reg: Registry, versions: Sequence[Version]) -> Registry:
    """The registry with an agreed view on every KPI that has approved versions (a KPI whose declaration
    already has an `agreed` view keeps it: a fully declared view wins)."""
    by_kpi: dict[str, list[Version]] = {}
    for v in versions:
        by_kpi.setdefault(v.kpi, []).append(v)
    kpis = {}
    for kpi in reg:
        found = by_kpi.get(kpi.name)
        if found and kpi.bridge is not None and VIEW not in kpi.views:
            kpi = kpi.model_copy(update={"views": {**kpi.views, VIEW: view_of(kpi, found)}})
        kpis[kpi.name] = kpi
    return Registry(kpis, reg.sql_dir)


def as_defined_today(reg: Registry, today: date) -> Registry:
    """The registry with every agreed view made from the bridge reduced to the version in effect `today`,
    applied to every period ("as defined today"); by default each period uses the version effective then.

    A view with no version in effect yet keeps its versions (nothing is defined today to apply instead); a
    fully declared view (its own SQL, no versions from the bridge) is as it is."""
    kpis = {}
    for kpi in reg:
        changed = {}
        for name, view in kpi.views.items():
            if not view.from_bridge:
                continue
            now = in_effect(versions_of(kpi, name), today)
            if now is not None:
                only = Counted(version=now.version, effective_date=date.min, counts=now.counts, definition=now.definition)
                changed[name] = view.model_copy(update={"from_bridge": (only,)})
        kpis[kpi.name] = kpi.model_copy(update={"views": {**kpi.views, **changed}}) if changed else kpi
    return Registry(kpis, reg.sql_dir)


__all__ = ["VIEW", "as_defined_today", "AgreementError", "Version", "check_steps", "versions_of", "view_of", "with_agreed",
           "frame", "in_effect", "span_value", "value"]
