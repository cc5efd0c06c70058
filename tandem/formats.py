"""Number formats finance people read: thousands separators, negatives in parentheses, days, percentages."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

MINUS = "−"  # a real minus sign: a hyphen is easy to miss in a table


def _half_up(value: float, decimals: int) -> Decimal:
    """Rounded as an accountant rounds (half away from zero), not Python's half-to-even."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def money(value: float | None, currency: str = "EUR", decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    rounded = _half_up(value, decimals)
    text = f"{abs(rounded):,.{decimals}f}"
    return f"{currency} ({text})" if rounded < 0 else f"{currency} {text}"


def days(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{MINUS if value < 0 and round(value, 1) else ''}{abs(value):,.1f} days"


def ratio(value: float | None, decimals: int = 1) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{MINUS if round(value * 100, decimals) < 0 else ''}{abs(value) * 100:.{decimals}f}%"


def value(v: float | None, unit: str, currency: str = "EUR") -> str:
    """A KPI value in its unit (`days`, `ratio`, or a currency code / `currency`)."""
    if unit == "days":
        return days(v)
    if unit == "ratio":
        return ratio(v)
    return money(v, currency if unit == "currency" else unit)


def signed(v: float | None, unit: str, currency: str = "EUR") -> str:
    """A difference, always with its sign, so a gap reads the same way for both teams."""
    if v is None or math.isnan(v):
        return "n/a"
    sign = "+" if v > 0 else MINUS if v < 0 else "±"
    if unit == "days":
        return f"{sign}{abs(v):,.1f} days"
    if unit == "ratio":
        return f"{sign}{abs(v) * 100:.1f} pts"
    return f"{sign}{currency if unit == 'currency' else unit} {abs(_half_up(v, 0)):,.0f}"
