"""Payment terms and prices: `tandem scenario` (a payment-terms scenario) and `tandem outlook` (the price
outlook of kpi_definitions/prices.py), as a table or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from cli.common import DbOption, app, errors, out, wide
from reports import formats, safe_text
from store.config import settings
from store.errors import FAILURE, USAGE, TandemError

if TYPE_CHECKING:
    from kpi_definitions.terms import Result, Scenario

COLUMNS = {  # column: (header, unit)
    "category": ("category", None), "index_name": ("index", None), "our_change": ("ours 12 mo", "ratio"),
    "market_change": ("market 12 mo", "ratio"), "contracts_ending": ("contracts ending", None),
    "spend_ending": ("their spend", "currency"), "below_market": ("market move since start", "ratio"),
    "exposure": ("at stake", "currency"),
}


@app.command()
def scenario(
    terms: Annotated[int, typer.Option("--terms", help="the new payment terms, in days")],
    db: DbOption = None,
    supplier: Annotated[list[str] | None, typer.Option("--supplier", help="a supplier id; repeat")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="a category; repeat")] = None,
    min_spend: Annotated[float | None, typer.Option("--min-spend", help="annual spend band: from")] = None,
    max_spend: Annotated[float | None, typer.Option("--max-spend", help="annual spend band: below")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first payment month YYYY-MM (default: 12 months "
                                                             "up to the latest)")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last payment month YYYY-MM")] = None,
    cost_of_capital: Annotated[float | None, typer.Option("--cost-of-capital", help="a share a year, e.g. 0.08 "
                                                          "(default TANDEM_COST_OF_CAPITAL)")] = None,
    discount: Annotated[str | None, typer.Option("--discount", help="an early-payment discount RATE/DAYS/NET, "
                                                 "e.g. 2/10/30 for 2 %% within 10 days, net 30")] = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
) -> None:
    """A payment-terms scenario: chosen suppliers moved to new terms, for finance and for procurement."""
    from kpi_definitions.compute import data_months
    from kpi_definitions.periods import FiscalCalendar
    from kpi_definitions.registry import registry
    from kpi_definitions.terms import Discount, Scenario, run
    from store.config import settings
    from store.db import reading

    cfg = settings()
    with errors():
        cal = FiscalCalendar(cfg.fiscal_year_start_month)
        try:
            d = None
            if discount:
                rate, within, net = discount.split("/")
                d = Discount(float(rate) / 100, int(within), int(net))
        except ValueError:
            raise TandemError(f"--discount {discount!r}: give RATE/DAYS/NET, e.g. 2/10/30.", USAGE) from None
        with reading(db or cfg.db) as con:
            span = data_months(con, registry())
            if span is None:
                raise TandemError("The database holds no payments yet: load exports or run `tandem demo`.", FAILURE)
            try:
                last = cal.parse(to, "month")[1] if to else span[1]
                first = cal.parse(from_, "month")[0] if from_ else last - 11
            except ValueError as exc:
                raise TandemError(f"{exc}.", USAGE) from None
            s = Scenario(terms, first, last, cfg.cost_of_capital if cost_of_capital is None else cost_of_capital,
                         tuple(supplier or ()), tuple(category or ()), min_spend, max_spend, d)
            result = run(con, s, cfg.reporting_currency)
        _print_scenario(result, s, cfg.reporting_currency, fmt)


def _print_scenario(r: Result, s: Scenario, currency: str, fmt: str) -> None:
    from reports import formats

    doc = r.as_dict()
    if fmt == "json":
        doc["assumptions"] = {"new_terms": s.new_terms, "cost_of_capital": s.cost_of_capital,
                              "currency": currency}
        sys.stdout.write(json.dumps(doc, indent=1, default=str, allow_nan=False) + "\n")
        return
    money = lambda v: formats.value(v, "currency", currency)  # noqa: E731
    days = lambda v: formats.value(v, "days", currency)  # noqa: E731
    table = Table(title=f"Payment terms to {s.new_terms} days ({r.months} months of payments, annualised)",
                  title_justify="left")
    table.add_column("side")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [("finance", "DPO before", days(r.dpo_before)), ("finance", "DPO after", days(r.dpo_after)),
            ("finance", "cash released", money(r.cash_released)),
            ("finance", f"financing value a year at {s.cost_of_capital:.1%}", money(r.financing_value)),
            ("procurement", "suppliers affected", f"{r.suppliers_affected:,}"),
            ("procurement", "spend affected a year", money(r.spend_affected)),
            ("procurement", "suppliers pushed beyond agreed terms", f"{r.suppliers_beyond_terms:,}"),
            ("procurement", "price increase at which it stops paying off",
             formats.value(r.break_even_price_increase, "ratio", currency)),
            ("both", "cash given away today by paying before terms", money(r.cash_given_away))]
    if r.discount_annualised is not None:
        rows.append(("both", "early-payment discount, annualised", formats.value(r.discount_annualised, "ratio", currency)))
    for row in rows:
        table.add_row(*row)
    out.print(table, highlight=False)


@app.command()
def outlook(
    db: DbOption = None,
    period: Annotated[str | None, typer.Option("--period", help="as of this month YYYY-MM (default: the latest)")] = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Price outlook per category: our and the market's price change over a year, and the contracts ending
    in the next twelve months with their spend and how far the market moved since they started."""
    with errors():
        _outlook(db, period, fmt)


def _outlook(db: Path | None, period: str | None, fmt: str) -> None:
    """Print the outlook as of `period` (default: the latest month with data)."""
    from kpi_definitions import prices
    from kpi_definitions.compute import data_months
    from kpi_definitions.periods import FiscalCalendar
    from kpi_definitions.registry import registry
    from store.db import reading

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
    wide(table)
