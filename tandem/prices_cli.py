"""`tandem outlook`: the price outlook of kpi_definitions/prices.py as a table or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from rich.table import Table

from kpi_definitions import prices
from kpi_definitions.compute import data_months
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.registry import registry
from store.db import reading
from store.errors import FAILURE, USAGE, TandemError
from tandem import formats, safe_text
from tandem.config import settings

COLUMNS = {  # column: (header, unit)
    "category": ("category", None), "index_name": ("index", None), "our_change": ("ours 12 mo", "ratio"),
    "market_change": ("market 12 mo", "ratio"), "contracts_ending": ("contracts ending", None),
    "spend_ending": ("their spend", "currency"), "below_market": ("market move since start", "ratio"),
    "exposure": ("at stake", "currency"),
}


def outlook(db: Path | None, period: str | None, fmt: str, show: Callable[[Table], None]) -> None:
    """Print the outlook as of `period` (default: the latest month with data); `show` prints a table."""
    cfg = settings()
    with reading(db or cfg.db) as con:
        span = data_months(con, registry())
        if span is None:
            raise TandemError("The database holds no data yet: load exports or run `tandem demo`.", FAILURE)
        try:
            last = FiscalCalendar(cfg.fiscal_year_start_month).parse(period, "month")[1] if period else span[1]
        except ValueError as exc:
            raise TandemError(f"--period: {exc}.", USAGE) from None
        rows = prices.outlook(con, registry(), last, currency=cfg.reporting_currency)
    label = FiscalCalendar().label(last, "month")
    if fmt == "json":
        doc = {"as_of": label, "currency": cfg.reporting_currency,
               "categories": [{k: formats.json_number(v) if isinstance(v, float) else v for k, v in r.items()}
                              for r in rows.to_dicts()]}
        sys.stdout.write(json.dumps(doc, indent=1, allow_nan=False) + "\n")
        return
    table = Table(title=f"Price outlook as of {label} ({cfg.reporting_currency})")
    for header, unit in COLUMNS.values():
        table.add_column(header, justify="left" if unit is None else "right")
    for r in rows.iter_rows(named=True):
        table.add_row(*(safe_text.visible(str(r[c])) if unit is None else formats.value(r[c], unit, cfg.reporting_currency)
                        for c, (_, unit) in COLUMNS.items()))
    show(table)
