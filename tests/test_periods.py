"""The fiscal calendar: labels, spans and parsing, with a January and a July start."""

from __future__ import annotations

import pytest

from kpi_definitions.periods import FiscalCalendar, days_in, month_label, parse_month

JAN, JUL = FiscalCalendar(1), FiscalCalendar(7)


def m(text: str) -> int:
    return parse_month(text)


def test_calendar_year_labels() -> None:
    assert [JAN.label(m("2026-03"), g) for g in ("month", "quarter", "year")] == ["2026-03", "2026-Q1", "2026"]
    assert JAN.label(m("2026-12"), "quarter") == "2026-Q4"


def test_july_start_names_the_year_it_ends_in() -> None:
    assert JUL.label(m("2025-07"), "year") == "FY2026"
    assert JUL.label(m("2026-06"), "year") == "FY2026"
    assert JUL.label(m("2026-07"), "year") == "FY2027"
    assert JUL.label(m("2025-09"), "quarter") == "FY2026-Q1"
    assert JUL.label(m("2026-01"), "quarter") == "FY2026-Q3"
    assert JUL.span(m("2026-02"), "year") == (m("2025-07"), m("2026-06"))
    assert JUL.parse("FY2026-Q1", "quarter") == (m("2025-07"), m("2025-09"))
    assert JUL.parse("FY2026", "year") == (m("2025-07"), m("2026-06"))
    assert JUL.year_to_date(m("2026-02")) == (m("2025-07"), m("2026-02"))


def test_april_start() -> None:
    apr = FiscalCalendar(4)
    assert apr.label(m("2026-03"), "year") == "FY2026" and apr.label(m("2026-04"), "year") == "FY2027"
    assert apr.label(m("2026-04"), "quarter") == "FY2027-Q1"


def test_parse_and_buckets() -> None:
    assert JAN.parse("2026-Q2", "quarter") == (m("2026-04"), m("2026-06"))
    assert JAN.parse("2026-05", "quarter") == (m("2026-04"), m("2026-06"))  # a month names its quarter
    assert JAN.buckets(m("2026-02"), m("2026-04"), "quarter") == [
        (m("2026-02"), "2026-Q1"), (m("2026-03"), "2026-Q1"), (m("2026-04"), "2026-Q2")]
    with pytest.raises(ValueError, match="labels are without 'FY'"):
        JAN.parse("FY2026", "year")
    with pytest.raises(ValueError, match="labels are with 'FY'"):
        JUL.parse("2026-Q1", "quarter")
    with pytest.raises(ValueError, match="not a month"):
        parse_month("2026-13")
    with pytest.raises(ValueError, match="before it starts"):
        JAN.buckets(m("2026-03"), m("2026-01"), "month")


def test_month_helpers() -> None:
    assert month_label(m("2024-02")) == "2024-02"
    assert days_in(m("2024-02")) == 29 and days_in(m("2026-02")) == 28 and days_in(m("2026-01")) == 31


def test_one_resolver_for_the_command_line_and_the_filter_bar() -> None:
    from kpi_definitions.periods import Span, resolve

    data = (m("2025-01"), m("2026-10"))
    # the CLI: a year is the whole year; the app clamps a running year to the latest month with data
    assert resolve(JAN, "year", data, "2026") == Span(m("2026-01"), m("2026-12"), "year", "2026")
    assert resolve(JAN, "year", data, "2026", clamp=True) == Span(m("2026-01"), m("2026-10"), "year", "2026")
    assert resolve(JAN, "quarter", data) == Span(m("2026-10"), m("2026-10"), "quarter", "2026-Q4")  # to date
    assert resolve(JUL, "quarter", data, "FY2026-Q1").previous.label == "FY2025-Q4"
    with pytest.raises(ValueError, match="holds no orders"):
        resolve(JAN, "month", None)


@pytest.mark.parametrize("period", ["1900-01", "2030", "2027-Q1"])
def test_a_clamped_period_outside_the_data_is_one_sentence(period: str) -> None:
    from kpi_definitions.periods import resolve

    # clamping a period wholly outside 2025-01..2026-10 left no months: it used to make a span ending before it
    # started (a 'range ends before it starts' or min() of nothing further on), not a sentence about the period
    data = (m("2025-01"), m("2026-10"))
    grain = "year" if len(period) == 4 else "quarter" if "-Q" in period else "month"
    with pytest.raises(ValueError) as exc:
        resolve(JAN, grain, data, period, clamp=True)
    assert str(exc.value) == f"{period} holds no data: the data runs from 2025-01 to 2026-10, so choose a period in it"
