"""Running periods: the months of a request each KPI view has data for, and what its rows say about the others.

"The last month with data" is the view's, not the database's. A view is made of the exports it declares
(`sources` in its declaration: invoices for finance's savings, purchase orders for procurement's, stock
snapshots and consumption for inventory days; an agreed view made from a bridge reads both views' exports),
and a month is *covered* when each of them holds a row in it. Coverage is counted over the whole export,
never the slice: a supplier's quiet month is a month of zero, a month the export has not reached yet (or that
is missing from it) is no month at all. A period of the request is computed over its covered months only:

- all of them: as declared;
- some of them (a running quarter, a year to date, an export with a missing month): over those months, and
  each of its rows carries a `partial_period` warning naming them ("2026-Q4 covers 2026-10 only: the invoice
  lines end in 2026-10");
- none: no value (null, never 0: finance's savings of a month without invoices is not last year's spend),
  with a `no_data` warning.

A year-over-year view compares the covered months with the same months a year earlier, so a running quarter
is compared with the same part of the quarter a year before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from kpi_definitions.periods import month_label
from kpi_definitions.registry import Kpi, Registry

WHAT = {"invoices": "invoice lines", "purchase_orders": "PO lines", "inventory": "stock snapshots",
        "consumption": "consumption rows"}
SOURCES = tuple(WHAT)


@dataclass(frozen=True)
class Coverage:
    """The months each export the KPIs read holds rows in (month indexes)."""

    months: dict[str, frozenset[int]]

    def of(self, sources: Sequence[str]) -> frozenset[int]:
        """The months covered for a view reading `sources`: each of them holds a row (no sources declared: any
        export does)."""
        if not sources:
            return frozenset().union(*self.months.values()) if self.months else frozenset()
        sets = [self.months.get(s, frozenset()) for s in sources]
        return frozenset.intersection(*sets)


def coverage(con: duckdb.DuckDBPyConnection, sql: str) -> Coverage:
    """The months of each export, from `sql` (rows of source, m, ...: sql/source_months.sql)."""
    return from_rows(con.execute(sql).fetchall())


def from_rows(rows: Iterable[Sequence[object]]) -> Coverage:
    """The months of each export from rows of (source, m, ...)."""
    found: dict[str, set[int]] = {s: set() for s in SOURCES}
    for source, m, *_ in rows:
        if m is not None:
            found.setdefault(str(source), set()).add(int(m))  # type: ignore[call-overload]
    return Coverage({s: frozenset(v) for s, v in found.items()})


@dataclass(frozen=True)
class Period:
    """One period of a request for one view: all its months, those covered, and what its rows must say."""

    label: str
    months: tuple[int, ...]
    covered: tuple[int, ...]
    code: str | None = None  # partial_period, no_data or None
    message: str | None = None


def periods(buckets: Iterable[tuple[int, str]], cov: Coverage, sources: Sequence[str]) -> list[Period]:
    """Each period of `buckets` (month, label) with its covered months and its warning, in order."""
    by_label: dict[str, list[int]] = {}
    for m, label in buckets:
        by_label.setdefault(label, []).append(m)
    have = cov.of(sources)
    out = []
    for label, months in by_label.items():
        covered = [m for m in months if m in have]
        missing = [m for m in months if m not in have]
        if not missing:
            out.append(Period(label, tuple(months), tuple(covered)))
        elif not covered:
            out.append(Period(label, tuple(months), (), "no_data",
                              f"No value for {label}: {_reasons(missing, cov, sources)}."))
        else:
            out.append(Period(label, tuple(months), tuple(covered), "partial_period",
                              f"{label} covers {ranges(covered)} only: {_reasons(missing, cov, sources)}."))
    return out


def ranges(months: Sequence[int]) -> str:
    """Months as runs: "2026-10", "2026-01..2026-03", "2025-01..2025-03 and 2025-05"."""
    runs: list[list[int]] = []
    for m in sorted(months):
        if runs and m == runs[-1][-1] + 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    texts = [month_label(r[0]) if len(r) == 1 else f"{month_label(r[0])}..{month_label(r[-1])}" for r in runs]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]


def _words(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _reasons(missing: Sequence[int], cov: Coverage, sources: Sequence[str]) -> str:
    """Why `missing` months are not covered, by export: not reached yet, before it starts, or missing from it."""
    parts: list[str] = []
    for source in sources or SOURCES:
        have = cov.months.get(source, frozenset())
        lacking = [m for m in missing if m not in have]
        if not lacking:
            continue
        what = WHAT.get(source, source)
        if not have:
            parts.append(f"no {what} are loaded")
            continue
        first, last = min(have), max(have)
        after = [m for m in lacking if m > last]
        before = [m for m in lacking if m < first]
        holes = [m for m in lacking if first < m < last]
        if after:
            parts.append(f"the {what} end in {month_label(last)}")
        if before:
            parts.append(f"the {what} start in {month_label(first)}")
        if holes:
            parts.append(f"no {what} in {ranges(holes)}")
    if not sources and parts:  # any export would do: none has these months
        return "no export holds " + ranges(missing)
    return "; ".join(parts) if parts else "no data"


def words(sources: Sequence[str]) -> str:
    """The exports in words: "invoice lines and PO lines"."""
    return _words([WHAT.get(s, s) for s in sources or SOURCES])


def sources_of(kpi: Kpi, view: str) -> tuple[str, ...]:
    """The exports a view is made of: its declared ones, and for an agreed view made from the bridge both bridge
    views' too (its steps read them)."""
    v = kpi.views[view]
    if not v.from_bridge or kpi.bridge is None:
        return v.sources
    ends = (kpi.views[kpi.bridge.from_view], kpi.views[kpi.bridge.to_view])
    found = (*v.sources, *(s for e in ends for s in e.sources))
    return () if any(not e.sources for e in ends) and not v.sources else tuple(dict.fromkeys(found))


SCHEMA = {"_owner": pl.String, "view": pl.String, "period": pl.String, "code": pl.String, "message": pl.String,
          "covered": pl.List(pl.Int64)}


def frame(reg: Registry, cov: Coverage, buckets: Sequence[tuple[int, str]], pairs: Iterable[tuple[str, str]]
          ) -> pl.DataFrame:
    """The periods of each (KPI, view) of `pairs` as a frame: _owner, view, period, code, message, covered."""
    rows = [{"_owner": k, "view": v, "period": p.label, "code": p.code, "message": p.message, "covered": list(p.covered)}
            for k, v in sorted(pairs) if k in reg.kpis and v in reg[k].views
            for p in periods(buckets, cov, sources_of(reg[k], v))]
    return pl.DataFrame(rows, schema=SCHEMA)
