"""Agreed definitions from the bridge: the agreed value of a KPI is its bridge's start value (procurement's)
plus the bridge steps the agreed definition counts, computed from the same SQL as the bridge, so it sits on
the bridge to the cent, for every period of any grain and every slice. It is rendered as SQL on the same path
as every other view (`agreed_query`): one query per request, whatever the grain, span and number of slices.

An agreed definition has versions (1, 2, ...), each with an effective date. Which version a month counts:
- an amount (savings, budget variance: values and steps add up over months) takes its version month by month,
  the version in effect on the first day of the month; a period with a version change part-way is split into
  segments of months under one version, the bridge is computed per segment and slice, and each segment counts
  its own version's steps (the start value is the period's). A month before the first version counts the first
  version's steps.
- a ratio or a number of days (a weighted average: its steps do not add up over months) takes the version in
  effect on the first day of the period's last covered month for the whole period.
A period whose last covered month precedes every version has no agreed value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import ModuleType

import duckdb

from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.query import Query, Selection, body, bridge_queries, bucket_params, compose, params, same
from kpi_definitions.registry import NAME, Counted, Kpi, Registry, View
from kpi_definitions.running import Period

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
    start_q, _end_q, steps_q = bridge_queries(reg, kpi_name, min(months), max(months), filters, currency=currency)
    if list(months) != list(range(min(months), max(months) + 1)):  # a span with gaps: only those months
        span = [(m, "span") for m in months]
        p = params(Selection(min(months), max(months), "month", (), filters or {}), FiscalCalendar(),
                   reg[kpi_name].dimensions, currency, months=span)
        start_q, steps_q = Query(start_q.label, start_q.sql, p), Query(steps_q.label, steps_q.sql, p)
    rows = con.sql(start_q.sql, params=start_q.params).fetchall()
    start = rows[0][1] if rows else None
    found = con.sql(steps_q.sql, params=steps_q.params).pl()
    row = found.row(0, named=True) if found.height else {}
    steps = {n: float(row.get(n) or 0.0) for n in reg[kpi_name].bridge.names}  # type: ignore[union-attr]
    return (None if start is None else float(start)), steps


def value(con: duckdb.DuckDBPyConnection, reg: Registry, kpi_name: str, counts: Sequence[str],
          months: Sequence[int], filters: Mapping[str, Sequence[str]] | None = None, *,
          currency: str = "EUR") -> float | None:
    """The agreed value over `months` for one slice: the start value + the counted steps."""
    check_steps(reg, kpi_name, counts)
    start, steps = span_value(con, reg, kpi_name, counts, months, filters, currency=currency)
    return None if start is None else start + sum(steps[c] for c in counts)


def additive(kpi: Kpi) -> bool:
    """Whether the KPI's values and bridge steps add up over months (an amount), so that a version can apply
    month by month; a ratio or a number of days is a weighted average, and takes one version per period."""
    return kpi.unit == "currency"


def segments(kpi: Kpi, versions: Sequence[Version], periods: Sequence[Period]) -> list[tuple[int, str, int]]:
    """(month, segment, version) for each covered month of the periods that have an agreed value: the months of a
    period under one version form one segment (named after the period when the whole period is under one).

    An amount (`additive`) takes its version month by month: the version in effect on the month's first day,
    or the first version for a month before it; a period whose last covered month precedes every version has
    no agreed value. A ratio or a number of days takes the version in effect on the first day of the period's
    last covered month for the whole period."""
    out: list[tuple[int, str, int]] = []
    first = min(versions, key=lambda v: (v.effective_date, v.version)) if versions else None
    for p in periods:
        if not p.covered or first is None:
            continue
        last = in_effect(versions, _month_start(max(p.covered)))
        if last is None:
            continue
        if additive(kpi):
            chosen = [(m, (in_effect(versions, _month_start(m)) or first).version) for m in p.covered]
        else:
            chosen = [(m, last.version) for m in p.covered]
        several = len({v for _, v in chosen}) > 1
        out += [(m, f"{p.label} (v{v})" if several else p.label, v) for m, v in chosen]
    return out


def agreed_query(reg: Registry, kpi: Kpi, view_name: str, periods: Sequence[Period], by: Sequence[str],
                 filters: Sequence[tuple[str, Sequence[str]]], currency: str, lib: ModuleType | None = None
                 ) -> Query | None:
    """The agreed view as one query for every period and slice: the start view's value plus, per segment of
    months under one version (`segments`), the bridge steps that version counts, from the bridge's own SQL
    grouped by segment and slice. None when no period has a covered month."""
    view, bridge = kpi.views[view_name], kpi.bridge
    assert bridge is not None  # registry.check: an agreed view from the bridge needs one
    months = [(m, p.label) for p in periods for m in p.covered]
    if not months:
        return None
    start = kpi.views[bridge.from_view]
    segs = segments(kpi, versions_of(kpi, view_name), periods)
    # the bridge's SQL over the segments: the same text with its buckets (month, period) renamed
    steps_sql = re.sub(r"\bbuckets\b", "agreed_segments", body(reg, bridge.sql, {}, by))
    cases = " ".join(f"WHEN {int(c.version)} THEN "
                     + (" + ".join(f"coalesce(s.{n}, 0)" for n in c.counts if NAME.match(n)) or "0.0")
                     for c in view.from_bridge)
    counted = f"CASE v.version {cases} ELSE 0.0 END" if cases else "0.0"
    final = f"""SELECT st.period{"".join(f", st.{d}" for d in by)},
       CASE WHEN st.value IS NOT NULL AND st.period IN (SELECT period FROM agreed_versions)
            THEN st.value + coalesce(c.counted, 0) END AS value,
       st.excluded
FROM agreed_start st
LEFT JOIN agreed_counted c ON {same("c", "st", by)}"""
    relations = [
        ("agreed_segments", "@rows($seg_months AS m INTEGER, $segments AS period VARCHAR, $versions AS version INTEGER)"),
        ("agreed_versions", "SELECT DISTINCT g.period AS segment, b.period, g.version\n"
                            "FROM agreed_segments g JOIN buckets b ON b.m = g.m"),
        ("agreed_start", body(reg, start.sql, start.bind, by)),
        ("agreed_steps", steps_sql),
        ("agreed_counted", f"SELECT v.period{''.join(f', s.{d}' for d in by)}, sum({counted}) AS counted\n"
                           f"FROM agreed_steps s JOIN agreed_versions v ON v.segment = s.period\n"
                           f"GROUP BY v.period{''.join(f', s.{d}' for d in by)}"),
    ]
    p = bucket_params(months, filters, kpi.dimensions, currency, lookback=12)  # the bridge reads a year back
    p |= {"seg_months": [m for m, _, _ in segs], "segments": [g for _, g, _ in segs],
          "versions": [v for _, _, v in segs]}
    return Query(f"{kpi.name} ({view_name})", compose(reg, relations, final, lib), p)


def view_of(kpi: Kpi, versions: Sequence[Version]) -> View:
    """The agreed view of a KPI with these approved versions (the latest one's text, version and date)."""
    latest = max(versions, key=lambda v: v.version)
    start = kpi.views[kpi.bridge.from_view]  # type: ignore[union-attr]
    end = kpi.views[kpi.bridge.to_view]  # type: ignore[union-attr]
    sources = tuple(dict.fromkeys((*start.sources, *end.sources)))  # the bridge reads both views' exports
    return View(label=LABEL, colour=COLOUR, definition=latest.definition, sql=start.sql, lines=start.lines,
                bind=start.bind, year_before=start.year_before, sources=sources,  # SQL and lines: the start view's
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
           "agreed_query", "segments", "in_effect", "span_value", "value"]
