"""Payment-terms scenarios: what moving chosen suppliers to new terms would bring finance (cash, financing)
and cost procurement (suppliers pushed beyond what was agreed, the price rise that eats the gain), beside
the early-payment-discount alternative and the cash given away today by paying before terms.

Formulas (every amount in the reporting currency, every figure over the window annualised by 12 ÷ its months):
- days now (per supplier) = Σ amount × days taken ÷ Σ amount, over lines paid in the window;
- DPO = the same over all suppliers' lines; after the change the chosen suppliers' lines count `new_terms`;
- cash released = Σ over chosen suppliers of annual spend × (new terms − days now) ÷ 365;
- financing value = cash released × cost of capital;
- break-even price increase = financing value ÷ annual spend of the chosen suppliers: a price rise above it
  costs more than the cash brings;
- an early-payment discount d % within D1 days, net D2: annualised rate = d ÷ (1 − d) × 365 ÷ (D2 − D1);
  taking it pays when that rate exceeds the cost of capital;
- cash given away by paying before terms = Σ amount × max(agreed terms − days taken, 0) ÷ 365 (the average
  cash paid out early over a year), and its cost = that × cost of capital.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from kpi_definitions import facts
from kpi_definitions.dialects import Named
from store.errors import USAGE, TandemError

SQL = Named(Path(__file__).parent / "sql")
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Discount:
    """An early-payment discount: `rate` (0.02 for 2 %) when paid within `within_days`, else net `net_days`."""

    rate: float
    within_days: int
    net_days: int

    @property
    def annualised(self) -> float:
        return self.rate / (1 - self.rate) * DAYS_PER_YEAR / (self.net_days - self.within_days)


@dataclass(frozen=True)
class Scenario:
    """Which suppliers move to which terms, over which months of payments, at which cost of capital."""

    new_terms: int
    first: int  # month index of the first payment month of the window
    last: int
    cost_of_capital: float = 0.08
    suppliers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    min_spend: float | None = None  # annual spend band of a supplier, reporting currency
    max_spend: float | None = None
    discount: Discount | None = None

    def check(self) -> None:
        """Refuse what cannot be a scenario, in one sentence each."""
        if not 0 <= self.new_terms <= 365:
            raise TandemError(f"New terms of {self.new_terms} days: give between 0 and 365 days.", USAGE)
        if not 0 <= self.cost_of_capital <= 1:
            raise TandemError(f"A cost of capital of {self.cost_of_capital:g}: give it as a share, e.g. 0.08 for 8 %.",
                              USAGE)
        if self.last < self.first:
            raise TandemError("The window of payments ends before it starts.", USAGE)
        if self.min_spend is not None and self.max_spend is not None and self.max_spend < self.min_spend:
            raise TandemError("The spend band ends below where it starts.", USAGE)
        d = self.discount
        if d is not None and not (0 < d.rate < 1 and 0 <= d.within_days < d.net_days):
            raise TandemError("An early-payment discount needs a rate between 0 and 1 and fewer discount days than "
                              "net days (e.g. 2/10 net 30).", USAGE)


@dataclass
class Result:
    """Both sides of a scenario, and the per-supplier table behind it."""

    months: int
    suppliers_affected: int
    spend_affected: float
    dpo_before: float | None
    dpo_after: float | None
    cash_released: float
    financing_value: float
    break_even_price_increase: float | None
    suppliers_beyond_terms: int
    spend_beyond_terms: float
    discount_annualised: float | None
    discount_pays: bool | None
    cash_given_away: float
    cost_of_cash_given_away: float
    excluded_lines: int
    by_supplier: pl.DataFrame = field(repr=False)

    def as_dict(self) -> dict[str, object]:
        out = {k: v for k, v in asdict(self).items() if k != "by_supplier"}
        out["by_supplier"] = self.by_supplier.to_dicts()
        return out


def run(con: duckdb.DuckDBPyConnection, scenario: Scenario, currency: str) -> Result:
    """The scenario on the loaded data; a clear sentence when it selects no supplier."""
    scenario.check()
    facts.check(con, currency)
    rows = con.sql(SQL["terms_suppliers"], params={"m_lo": scenario.first, "m_hi": scenario.last,
                                                  "new_terms": scenario.new_terms}).pl()
    months = scenario.last - scenario.first + 1
    scale = 12 / months
    rows = rows.with_columns(annual_spend=pl.col("spend") * scale)
    chosen = pl.lit(True)
    if scenario.suppliers:
        unknown = sorted(set(scenario.suppliers) - set(rows["supplier_id"].to_list()))
        if unknown:
            raise TandemError(f"No payments to supplier(s) {', '.join(unknown)} in the window; check the ids.", USAGE)
        chosen &= pl.col("supplier_id").is_in(list(scenario.suppliers))
    if scenario.categories:
        chosen &= pl.col("category").is_in(list(scenario.categories))
    if scenario.min_spend is not None:
        chosen &= pl.col("annual_spend") >= scenario.min_spend
    if scenario.max_spend is not None:
        chosen &= pl.col("annual_spend") < scenario.max_spend
    rows = rows.with_columns(chosen=chosen.fill_null(False), days_now=pl.col("amount_days") / pl.col("spend"))
    picked = rows.filter(pl.col("chosen") & (pl.col("spend") > 0))
    if picked.height == 0:
        raise TandemError("The selection holds no supplier with payments in the window; widen it.", USAGE)
    t = scenario.new_terms
    r = scenario.cost_of_capital
    picked = picked.with_columns(
        cash_released=(pl.col("spend") * t - pl.col("amount_days")) * scale / DAYS_PER_YEAR)
    total_spend = _sum(rows, "spend")
    before = _sum(rows, "amount_days") / total_spend if total_spend else None
    after_days = _sum(rows.filter(~pl.col("chosen")), "amount_days") + _sum(picked, "spend") * t
    after = after_days / total_spend if total_spend else None
    cash = _sum(picked, "cash_released")
    spend_affected = _sum(picked, "annual_spend")
    financing = cash * r
    given = _sum(rows, "amount_days_early") * scale / DAYS_PER_YEAR
    d = scenario.discount
    by = rows.select("supplier_id", "supplier_name", "chosen", "annual_spend", "days_now",
                     (pl.col("amount_agreed_days") / pl.col("spend_with_terms")).alias("agreed_days"),
                     (pl.col("amount_days_early") * scale / DAYS_PER_YEAR).alias("cash_given_away"))
    return Result(
        months=months, suppliers_affected=picked.height, spend_affected=spend_affected,
        dpo_before=before, dpo_after=after, cash_released=cash, financing_value=financing,
        break_even_price_increase=financing / spend_affected if spend_affected else None,
        suppliers_beyond_terms=picked.filter(pl.col("spend_beyond_terms").fill_null(0) > 0).height,
        spend_beyond_terms=_sum(picked, "spend_beyond_terms") * scale,
        discount_annualised=d.annualised if d else None, discount_pays=(d.annualised > r) if d else None,
        cash_given_away=given, cost_of_cash_given_away=given * r,
        excluded_lines=int(_sum(rows, "excluded")), by_supplier=by)


def _sum(frame: pl.DataFrame, column: str) -> float:
    return float(frame[column].fill_null(0).sum()) if frame.height else 0.0

