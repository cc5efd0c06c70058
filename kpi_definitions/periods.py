"""The fiscal calendar: month indexes, period labels, the month spans of months, quarters and years, and the one
resolver from what a user asked for (a period, a range, nothing) to the months shown (CLI and app alike)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from typing import Literal

Grain = Literal["month", "quarter", "year"]
GRAINS: tuple[Grain, ...] = ("month", "quarter", "year")

# A month is carried as one integer, year * 12 + month - 1, the same expression the KPI SQL uses,
# so that "twelve months earlier" is `m - 12` on both sides.
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(FY)?(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(FY)?(\d{4})$")


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def month_label(m: int) -> str:
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def parse_month(text: str) -> int:
    match = _MONTH.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a month YYYY-MM")
    return month_index(int(match[1]), int(match[2]))


def days_in(m: int) -> int:
    return calendar.monthrange(m // 12, m % 12 + 1)[1]


@dataclass(frozen=True)
class FiscalCalendar:
    """Years and quarters that start in `start_month`; a fiscal year is named by the year it ends in."""

    start_month: int = 1

    @property
    def prefix(self) -> str:
        return "" if self.start_month == 1 else "FY"

    def fiscal_year(self, m: int) -> int:
        year, month = m // 12, m % 12 + 1
        return year if self.start_month == 1 or month < self.start_month else year + 1

    def year_start(self, m: int) -> int:
        """The first month of the fiscal year containing month m."""
        return month_index(self.fiscal_year(m) - (0 if self.start_month == 1 else 1), self.start_month)

    def quarter(self, m: int) -> int:
        return (m - self.year_start(m)) // 3 + 1

    def label(self, m: int, grain: Grain) -> str:
        if grain == "month":
            return month_label(m)
        if grain == "quarter":
            return f"{self.prefix}{self.fiscal_year(m)}-Q{self.quarter(m)}"
        return f"{self.prefix}{self.fiscal_year(m)}"

    def span(self, m: int, grain: Grain) -> tuple[int, int]:
        """First and last month of the grain period containing month m."""
        if grain == "month":
            return m, m
        start = self.year_start(m)
        if grain == "year":
            return start, start + 11
        first = start + 3 * (self.quarter(m) - 1)
        return first, first + 2

    def parse(self, text: str, grain: Grain) -> tuple[int, int]:
        """A period label (`2026-03`, `2026-Q1`, `FY2026`) as its first and last month at `grain`.

        A month given with a coarser grain names the quarter or year that contains it.
        """
        text = text.strip()
        if _MONTH.match(text):
            return self.span(parse_month(text), grain)
        if q := _QUARTER.match(text):
            self._check_prefix(text, q[1])
            start = self._first_month_of_year(int(q[2])) + 3 * (int(q[3]) - 1)
            return start, start + 2
        if y := _YEAR.match(text):
            self._check_prefix(text, y[1])
            start = self._first_month_of_year(int(y[2]))
            return start, start + 11
        raise ValueError(f"{text!r} is not a period: use YYYY-MM, {self.prefix}YYYY-Qn or {self.prefix}YYYY")

    def _first_month_of_year(self, fiscal_year: int) -> int:
        return month_index(fiscal_year if self.start_month == 1 else fiscal_year - 1, self.start_month)

    def _check_prefix(self, text: str, prefix: str | None) -> None:
        if (prefix or "") != self.prefix:
            want = "without" if not self.prefix else "with"
            raise ValueError(f"{text!r}: fiscal years start in month {self.start_month}, so labels are {want} 'FY'")

    def buckets(self, first: int, last: int, grain: Grain) -> list[tuple[int, str]]:
        """Each month of first..last with the label of its period at `grain` (partial periods to date)."""
        if last < first:
            raise ValueError(f"the range ends ({month_label(last)}) before it starts ({month_label(first)})")
        return [(m, self.label(m, grain)) for m in range(first, last + 1)]

    def year_to_date(self, m: int) -> tuple[int, int]:
        return self.year_start(m), m


STEP: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Span:
    """The months a page or a command shows: first..last at a grain, under the label the user picked."""

    first: int
    last: int
    grain: Grain
    label: str
    cal: FiscalCalendar = field(default=FiscalCalendar(), compare=False, repr=False)

    @property
    def previous(self) -> Span:
        """The same stretch one period earlier (a month, a quarter, a year), for 'change since'."""
        shift = STEP[self.grain]
        return Span(self.first - shift, self.last - shift, self.grain, self.cal.label(self.last - shift, self.grain),
                    self.cal)


def span_of(month: int, grain: Grain, cal: FiscalCalendar | None = None) -> Span:
    """The period of the grain holding `month`, up to that month."""
    cal = cal or FiscalCalendar()
    return Span(cal.span(month, grain)[0], month, grain, cal.label(month, grain), cal)


def resolve(cal: FiscalCalendar, grain: Grain, data: tuple[int, int] | None, period: str | None = None,
            start: str | None = None, end: str | None = None, *, clamp: bool = False) -> Span:
    """The months a request covers: `period` (a month or a label of the grain), or `start`..`end`, or the
    period of the grain holding the latest month with data, up to that month.

    `data` is the first and last month with data (None on an empty database). With `clamp`, the months
    are cut to the data's: a period still running is shown up to the latest month with data (the app).
    """
    if period and (start or end):
        raise ValueError("give either a period or a range (from/to), not both")
    if period:
        first, last = cal.parse(period, grain)
        label = period.strip()
    elif start or end:
        if not (start and end):
            raise ValueError("a range needs both its first and its last period")
        first = cal.parse(start, "month" if len(start) == 7 else grain)[0]
        last = cal.parse(end, "month" if len(end) == 7 else grain)[1]
        if last < first:
            raise ValueError(f"the range ends ({end}) before it starts ({start})")
        label = f"{start}..{end}"
    else:
        if data is None:
            raise ValueError("the database holds no orders, invoices or stock yet: load exports or run `tandem demo`")
        return span_of(data[1], grain, cal)
    if clamp and data is not None:
        first, last = max(first, data[0]), min(last, data[1])
        if last < first:  # the period lies wholly before or after the data: nothing to cut it to
            raise ValueError(f"{label} holds no data: the data runs from {month_label(data[0])} to "
                             f"{month_label(data[1])}, so choose a period in it")
    return Span(first, last, grain, label, cal)
