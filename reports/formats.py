"""Number formats finance people read: thousands separators, a real minus sign before a negative, days, percentages.

One convention on every screen, image and text file: a negative reads "−EUR 1,235" (the sign before the currency,
U+2212 MINUS SIGN), as a gap or a change does ("+EUR 730,776"); a zero carries no sign. Only XLSX files show
negatives in parentheses, as a number format of a numeric cell (reports/exports.py, docs/user-guide.md).

Every function here takes any number a query can return (a float, an int, a Decimal, None, NaN, ±inf, 1e300)
and never raises: what is not a number is "n/a", a number too large to be real money is shown as such
(OUT_OF_RANGE), never as a `decimal.InvalidOperation` on a page.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

MINUS = "−"  # a real minus sign: a hyphen is easy to miss in a table
NA = "n/a"
OUT_OF_RANGE = "out of range"
# Larger magnitudes are not shown digit by digit: no stated range lets one row come near (docs/loading.md "Stated
# ranges"), so such a total means bad data that bypassed ingestion. Below these, Decimal rounding is exact.
MAX_MONEY = 1e15
MAX_DAYS = 1e9
MAX_RATIO = 1e9


def _number(value: object) -> float | None:
    """The value as a finite float, or None for None, NaN, ±inf and anything that is not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def _too_large(value: float, suffix: str = "") -> str:
    return f"{MINUS if value < 0 else ''}{abs(value):.1e}{suffix} ({OUT_OF_RANGE})"


def _half_up(value: float, decimals: int) -> Decimal:
    """Rounded as an accountant rounds (half away from zero), not Python's half-to-even."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def money(value: float | None, currency: str = "EUR", decimals: int = 0) -> str:
    v = _number(value)
    if v is None:
        return NA
    if abs(v) >= MAX_MONEY:
        return f"{currency} {_too_large(v)}"
    rounded = _half_up(v, decimals)
    text = f"{abs(rounded):,.{decimals}f}"
    return f"{MINUS}{currency} {text}" if rounded < 0 else f"{currency} {text}"


def days(value: float | None) -> str:
    v = _number(value)
    if v is None:
        return NA
    if abs(v) >= MAX_DAYS:
        return _too_large(v, " days")
    return f"{MINUS if v < 0 and round(v, 1) else ''}{abs(v):,.1f} days"


def ratio(value: float | None, decimals: int = 1) -> str:
    v = _number(value)
    if v is None:
        return NA
    if abs(v) >= MAX_RATIO:
        return _too_large(v * 100, "%")
    return f"{MINUS if round(v * 100, decimals) < 0 else ''}{abs(v) * 100:.{decimals}f}%"


def value(v: float | None, unit: str, currency: str = "EUR") -> str:
    """A KPI value in its unit (`days`, `ratio`, or a currency code / `currency`)."""
    if unit == "days":
        return days(v)
    if unit == "ratio":
        return ratio(v)
    return money(v, currency if unit == "currency" else unit)


def signed(v: float | None, unit: str, currency: str = "EUR") -> str:
    """A difference, always with its sign, so a gap reads the same way for both teams (a zero, as shown, has none)."""
    x = _number(v)
    if x is None:
        return NA
    shown = {"days": round(x, 1), "ratio": round(x * 100, 1)}.get(unit, float(_half_up(x, 0)) if abs(x) < MAX_MONEY
                                                                 else x)
    sign = "+" if shown > 0 else MINUS if shown < 0 else ""
    if unit == "days":
        return f"{sign}{abs(x):,.1f} days" if abs(x) < MAX_DAYS else f"{sign}{abs(x):.1e} days ({OUT_OF_RANGE})"
    if unit == "ratio":
        return f"{sign}{abs(x) * 100:.1f} pts" if abs(x) < MAX_RATIO else f"{sign}{abs(x) * 100:.1e} pts ({OUT_OF_RANGE})"
    code = currency if unit == "currency" else unit
    if abs(x) >= MAX_MONEY:
        return f"{sign}{code} {abs(x):.1e} ({OUT_OF_RANGE})"
    return f"{sign}{code} {abs(_half_up(x, 0)):,.0f}"


def json_number(v: object, decimals: int = 6) -> float | None:
    """A value for a JSON document: a finite number rounded to `decimals`, else None (JSON has no NaN or
    Infinity; the contract's null means "not computable")."""
    x = _number(v)
    if x is None:
        return None
    r = round(x, decimals)
    return r if math.isfinite(r) else None


def compact(v: float | None, unit: str, currency: str = "EUR", *, change: bool = False) -> str:
    """A short label for a bar or a point (same sign and currency convention as `value`): EUR 4.26M, −EUR 61k;
    a `change` (a bridge step) always with its sign, as `signed`: +EUR 985k."""
    x = _number(v)
    if x is None:
        return ""
    if unit in ("days", "ratio") or abs(x) < 10_000 or abs(x) >= MAX_MONEY:
        return (signed if change else value)(x, unit, currency)
    code = currency if unit == "currency" else unit
    text = f"{abs(x) / 1e6:,.2f}M" if abs(x) >= 1e6 else f"{abs(x) / 1e3:,.0f}k"
    return f"{MINUS if x < 0 else '+' if change else ''}{code} {text}"


def day(d: object) -> str:
    """A date on screen that a narrow column never breaks at its hyphens (2026-01-\n01): non-breaking hyphens."""
    return str(d).replace("-", "\u2011")


def number(v: object, decimals: int = 0) -> str:
    """A plain number in a table (quantities, prices in their own currency): 1,234.50, −20.00."""
    x = _number(v)
    if x is None:
        return NA
    text = f"{abs(_half_up(x, decimals)) if abs(x) < MAX_MONEY else abs(x):,.{decimals}f}"
    return f"{MINUS}{text}" if x < 0 and text.strip("0.,") else text


_WORDS = {"po": "PO", "id": "ID", "qty": "quantity", "fx": "FX", "vs": "vs", "gl": "GL", "kpi": "KPI"}


def header(name: str) -> str:
    """A column name as a person writes it: po_line → PO line, supplier_id → Supplier ID (a name that is
    already readable, with capitals or spaces, is kept)."""
    if not name or name != name.lower() or " " in name:
        return name
    text = " ".join(_WORDS.get(w, w) for w in name.split("_") if w)
    return text[:1].upper() + text[1:]
