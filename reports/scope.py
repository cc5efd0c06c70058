"""What a reader looks at: a span of the fiscal calendar, filters, the data version and where its numbers come
from. The face's filter bar makes one (tandem/selection.py); `tandem pack` makes one from its options (`resolve`).
Every page, pack and deck reads its numbers through a scope, so they all ask the same questions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType

import polars as pl

from kpi_definitions import dimensions
from kpi_definitions.compute import BridgeResult
from kpi_definitions.engine import Request, canonical
from kpi_definitions.periods import STEP, Grain, Span, resolve
from kpi_definitions.registry import Kpi
from reports import safe_text, source
from store.errors import FAILURE, USAGE, TandemError

# URL parameter -> KPI dimension (short names, so a shared link stays readable) and its label: declared once,
# in kpi_definitions/dimensions.py.
FILTER_PARAMS = dimensions.filter_params()
FILTER_LABELS = dimensions.filter_labels()
TREND_PERIODS = {"month": 12, "quarter": 8, "year": 5}  # periods a trend shows, per grain


@dataclass(frozen=True)
class Scope:
    """What is selected, with everything needed to ask the KPI layer for it. `source` is reports.source (read
    now) or tandem.service (the same functions, cached per data version)."""

    db: Path
    ver: str
    span: Span
    trend_first: int
    filters: dict[str, list[str]]
    as_of: datetime | None
    currency: str
    source: ModuleType = field(default=source, compare=False, repr=False)

    @property
    def key(self) -> source.Filters:
        """The filters in the engine's one canonical form."""
        return canonical(self.filters)

    @property
    def grain(self) -> Grain:
        return self.span.grain

    def request(self, span: Span | None = None, by: tuple[str, ...] = (), kpis: tuple[str, ...] | None = None,
                first: int | None = None) -> Request:
        """What the engine is asked for this selection: its span (or `span`, or months `first`..the span's last:
        the trend), its filters, a split and some KPIs."""
        s = span or self.span
        return Request(s.first if first is None else first, s.last, s.grain, kpis, None, by, self.key)

    def values(self, span: Span | None = None, by: tuple[str, ...] = (),
               kpis: tuple[str, ...] | None = None) -> pl.DataFrame:
        return self.source.values(str(self.db), self.ver, self.request(span, by, kpis))[0]

    def notes(self, kpis: tuple[str, ...] | None = None) -> list[str]:
        """What the KPI layer left out or could not split for `kpis` (None: all), over the months charted: the
        trend's query for the same KPIs, so a page asks it once."""
        return self.source.values(str(self.db), self.ver, self.request(kpis=kpis, first=self.trend_first))[1]

    def trend(self, kpis: tuple[str, ...] | None = None) -> pl.DataFrame:
        return self.source.values(str(self.db), self.ver, self.request(kpis=kpis, first=self.trend_first))[0]

    def bridge(self, kpi: str, span: Span | None = None) -> BridgeResult:
        """A KPI's bridge over the selected span (or `span`) and filters."""
        return self.source.bridge(str(self.db), self.ver, self.request(span, kpis=(kpi,)), kpi)

    def lines(self, kpi: str, view: str, narrow: Mapping[str, str] | None = None) -> pl.DataFrame:
        """The rows behind a KPI view for the selection (narrowed to one row of a breakdown)."""
        return self.source.lines(str(self.db), self.ver, self.request(kpis=(kpi,)), kpi, view, narrow)

    def now_before_trend(self, kpis: tuple[str, ...] | None = None) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """This period, the one before and the trend. By month the first two are the trend's last two points:
        one query instead of three (on a large database that is most of a page's time)."""
        trend = self.trend(kpis)
        prev = self.span.previous
        if self.grain == "month" and prev.first >= self.trend_first:
            return (trend.filter(pl.col("period") == self.span.label), trend.filter(pl.col("period") == prev.label),
                    trend)
        return self.values(kpis=kpis), self.values(prev, kpis=kpis), trend

    def filter_text(self) -> str:
        if not self.filters:
            return "Filters: none (all suppliers, categories, cost centers)"
        parts = [f"{FILTER_LABELS[p]} = {', '.join(safe_text.visible(v) for v in self.filters[d])}"
                 for p, d in FILTER_PARAMS.items() if d in self.filters]
        return "Filters: " + "; ".join(parts)

    def as_of_text(self) -> str:
        return f"Data as of {self.as_of:%Y-%m-%d %H:%M}" if self.as_of else "Data as of: no load yet"


def trend_start(data_first: int, span: Span, cal_span, grain: Grain) -> int:  # noqa: ANN001 - FiscalCalendar.span
    """The first month a trend of TREND_PERIODS periods ending with `span` charts (not before the data)."""
    return max(data_first, cal_span(span.last - STEP[grain] * (TREND_PERIODS[grain] - 1), grain)[0])


def resolved(db: Path, period: str | None, grain: Grain = "month", filters: dict[str, list[str]] | None = None,
             src: ModuleType = source) -> Scope:
    """What the filter bar would select for `period` (None: the latest), without a browser: `tandem pack`."""
    ver = src.version(db)
    rng = src.months(str(db), ver)
    if rng is None:
        raise TandemError("The database holds no orders, invoices or stock yet: load exports or run `tandem demo`.",
                          FAILURE)
    cal = src.calendar()
    try:
        span = resolve(cal, grain, rng, period, clamp=True)
    except ValueError as exc:
        raise TandemError(f"{exc}.", USAGE) from None
    return Scope(db, ver, span, trend_start(rng[0], span, cal.span, grain), filters or {},
                 src.data_as_of(str(db), ver), src.cfg().reporting_currency, src)


def stamp_lines(scope: Scope, kpi: Kpi | None, what: str) -> list[str]:
    """What a snapshot shows, written inside it: a slide has no filter bar."""
    lines = [f"{what} · {scope.span.label} ({scope.grain})", scope.filter_text()]
    if kpi is not None:
        lines.append("Definitions: " + "; ".join(
            f"{name} v{v.version} (effective {v.effective_date}, owner {v.owner})" for name, v in kpi.views.items()))
    lines.append(f"{scope.as_of_text()} · Tandem")
    return lines
