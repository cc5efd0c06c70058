"""The fiscal calendar: month indexes, period labels and the month spans of months, quarters and years."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
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
