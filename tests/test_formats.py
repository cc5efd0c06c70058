"""Number formats finance people read."""

from __future__ import annotations

import pytest

from reports import formats


@pytest.mark.parametrize(("v", "unit", "text"), [
    (1234567.4, "currency", "EUR 1,234,567"), (-1234.5, "currency", "−EUR 1,235"), (-0.4, "currency", "EUR 0"),
    (None, "currency", "n/a"), (41.04, "days", "41.0 days"), (-3.25, "days", "−3.2 days"),
    (0.1894, "ratio", "18.9%"), (-0.05, "ratio", "−5.0%"), (12.0, "GBP", "GBP 12"),
])
def test_values(v: float | None, unit: str, text: str) -> None:
    assert formats.value(v, unit) == text


@pytest.mark.parametrize(("v", "unit", "text"), [
    (730776.4, "currency", "+EUR 730,776"), (-16264.2, "currency", "−EUR 16,264"), (0.0, "currency", "EUR 0"),
    (-0.4, "currency", "EUR 0"), (0.04, "days", "0.0 days"), (-0.0004, "ratio", "0.0 pts"),
    (26.4, "days", "+26.4 days"), (-0.0123, "ratio", "−1.2 pts"), (None, "days", "n/a"),
])
def test_gaps_always_carry_their_sign(v: float | None, unit: str, text: str) -> None:
    assert formats.signed(v, unit) == text



@pytest.mark.parametrize(("v", "unit", "text"), [
    (-60970.4, "currency", "−EUR 61k"), (4263000.0, "currency", "EUR 4.26M"), (-960.0, "currency", "−EUR 960"),
    (-3.25, "days", "−3.2 days"), (0.189, "ratio", "18.9%"), (None, "currency", ""),
])
def test_chart_labels_have_the_same_sign_and_currency(v: float | None, unit: str, text: str) -> None:
    assert formats.compact(v, unit) == text


@pytest.mark.parametrize(("v", "unit", "text"), [
    (985124.0, "currency", "+EUR 985k"), (-60970.4, "currency", "−EUR 61k"), (1500.0, "currency", "+EUR 1,500"),
    (0.2, "currency", "EUR 0"), (0.0123, "ratio", "+1.2 pts"), (-3.25, "days", "−3.2 days"),
])
def test_a_bridge_step_label_carries_its_sign(v: float, unit: str, text: str) -> None:
    assert formats.compact(v, unit, change=True) == text


@pytest.mark.parametrize(("v", "decimals", "text"), [
    (1234.5, 2, "1,234.50"), (-20.0, 2, "−20.00"), (-0.001, 2, "0.00"), (1234567, 0, "1,234,567"), (None, 0, "n/a"),
])
def test_plain_numbers_in_tables(v: float | None, decimals: int, text: str) -> None:
    assert formats.number(v, decimals) == text


def test_one_convention_for_a_negative_value_and_a_negative_gap() -> None:
    """The issue saw "−EUR 60,970", "(331,331)" and "-61k" on one page: a value and a gap now read alike."""
    assert formats.value(-60970.2, "currency") == formats.signed(-60970.2, "currency") == "−EUR 60,970"


def test_a_date_on_screen_does_not_break_at_its_hyphens() -> None:
    from datetime import date

    assert formats.day(date(2026, 1, 1)) == "2026\u201101\u201101"  # non-breaking hyphens: the same to the eye
