"""Joint targets: a target value for a KPI view over a period, the run-rate forecast to the period's end, and a
status with its rule stated.

Run rate: a currency KPI adds up over months, so the forecast is the actual so far ÷ months with data ×
months of the period; a days or ratio KPI is a level, so the forecast is the actual so far.
Status (TOLERANCE = 5 % of |target|): **on track** when the forecast meets the target in the KPI's better
direction; **at risk** when it misses by no more than the tolerance; **off track** otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["on track", "at risk", "off track"]
TOLERANCE = 0.05
RULE = ("on track: the forecast meets the target; at risk: it misses by at most 5 % of the target; "
        "off track: it misses by more")


@dataclass(frozen=True)
class Outlook:
    target: float
    actual: float | None
    forecast: float | None
    status: Status | None
    months_elapsed: int
    months_total: int


def forecast(actual: float | None, unit: str, months_elapsed: int, months_total: int) -> float | None:
    """The run-rate forecast to the period's end (None without an actual or a month of data)."""
    if actual is None or months_elapsed <= 0:
        return None
    if unit == "currency":
        return actual / months_elapsed * months_total
    return actual


def status(forecast_value: float | None, target: float, better: str) -> Status | None:
    if forecast_value is None:
        return None
    short = (target - forecast_value) if better == "higher" else (forecast_value - target)
    if short <= 0:
        return "on track"
    return "at risk" if short <= TOLERANCE * abs(target) else "off track"


def outlook(target: float, actual: float | None, unit: str, better: str, first: int, last: int,
            latest_data: int) -> Outlook:
    """Target vs actual for the period of months first..last, with data up to month `latest_data`."""
    total = last - first + 1
    elapsed = max(0, min(last, latest_data) - first + 1)
    f = forecast(actual, unit, elapsed, total)
    return Outlook(target, actual, f, status(f, target, better), elapsed, total)
