"""Number formats finance people read."""

from __future__ import annotations

import pytest

from tandem import formats


@pytest.mark.parametrize(("v", "unit", "text"), [
    (1234567.4, "currency", "EUR 1,234,567"), (-1234.5, "currency", "EUR (1,235)"), (-0.4, "currency", "EUR 0"),
    (None, "currency", "n/a"), (41.04, "days", "41.0 days"), (-3.25, "days", "−3.2 days"),
    (0.1894, "ratio", "18.9%"), (-0.05, "ratio", "−5.0%"), (12.0, "GBP", "GBP 12"),
])
def test_values(v: float | None, unit: str, text: str) -> None:
    assert formats.value(v, unit) == text


@pytest.mark.parametrize(("v", "unit", "text"), [
    (730776.4, "currency", "+EUR 730,776"), (-16264.2, "currency", "−EUR 16,264"), (0.0, "currency", "±EUR 0"),
    (26.4, "days", "+26.4 days"), (-0.0123, "ratio", "−1.2 pts"), (None, "days", "n/a"),
])
def test_gaps_always_carry_their_sign(v: float | None, unit: str, text: str) -> None:
    assert formats.signed(v, unit) == text

