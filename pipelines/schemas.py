"""What a valid export is: the contract's eight export types, their typed columns, keys and row rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandera.polars as pa
import polars as pl

from store.tables import TABLES, Col, ExportTable

POLARS_TYPES: dict[str, type[pl.DataType]] = {
    "str": pl.String,
    "date": pl.Date,
    "period": pl.Date,
    "dec": pl.Float64,
    "int": pl.Int64,
    "bool": pl.Boolean,
    "ccy": pl.String,
}
TYPE_RULES: dict[str, str] = {
    "str": "text",
    "date": "a date",
    "period": "a period YYYY-MM",
    "dec": "a decimal number",
    "int": "a whole number",
    "bool": "true/false, 1/0 or yes/no",
    "ccy": "a currency code",
}


@dataclass(frozen=True)
class RowRule:
    """A rule on one row, reported against `column` when it fails."""

    name: str
    column: str
    expr: pl.Expr  # true where the row passes; null-safe


@dataclass(frozen=True)
class ExportSpec(ExportTable):
    """An export type as stored (`store.tables`) with the rules a valid row keeps."""

    rules: tuple[RowRule, ...] = field(default=())


def _between(col: str, lo: float, hi: float) -> RowRule:
    return RowRule(f"{col} between {lo:g} and {hi:g}", col, pl.col(col).is_between(lo, hi).fill_null(True))


def _ge(col: str, lo: float) -> RowRule:
    return RowRule(f"{col} >= {lo:g}", col, (pl.col(col) >= lo).fill_null(True))


def _gt(col: str, lo: float) -> RowRule:
    return RowRule(f"{col} > {lo:g}", col, (pl.col(col) > lo).fill_null(True))


def _one_of(col: str, values: tuple[str, ...]) -> RowRule:
    return RowRule(f"{col} one of {', '.join(values)}", col, pl.col(col).is_in(values).fill_null(True))


def _not_before(col: str, other: str) -> RowRule:
    return RowRule(f"{col} >= {other}", col, (pl.col(col) >= pl.col(other)).fill_null(True))


# Stated ranges (README "Stated ranges"): a value outside is quarantined with its rule like any other
# failure, so that no single row can overflow a KPI, a formatter or a JSON document downstream. Money is
# in the row's own currency, so the bound leaves room for currencies with large numbers (IDR, VND, IRR)
# while a sum of millions of rows times the largest rate stays a finite double.
MAX_MONEY = 1e13  # amounts, values, budgets, unit prices and costs: ten trillion in the row's currency
MAX_QUANTITY = 1e12  # quantities and stock
MAX_RATE = 1e6  # rate_to_reporting: > 0 and at most a million
MIN_DATE, MAX_DATE = date(1990, 1, 1), date(2100, 12, 31)  # dates and periods of facts
# Contracts are not facts of a month: an open-ended contract ends 9999-12-31 (the usual ERP convention)
# and a framework agreement may have started long ago.
MIN_CONTRACT_DATE, MAX_CONTRACT_DATE = date(1900, 1, 1), date(9999, 12, 31)


def _power(x: float) -> str:
    """1e13 as `1e13`, 365 as `365`."""
    if x < 1e6:
        return f"{x:g}"
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _at_most(col: str, hi: float) -> RowRule:
    """A stated upper bound on a column that has a lower-bound rule of its own (`>= 0`, `> 0`)."""
    return RowRule(f"{col} at most {_power(hi)}", col, (pl.col(col) <= hi).fill_null(True))


def _within(col: str, bound: float) -> RowRule:
    """A stated range on a signed column (an amount may be negative: a credit note); NaN fails."""
    return RowRule(f"{col} within ±{_power(bound)}", col, (pl.col(col).abs() <= bound).fill_null(True))


def _dated(col: str, period: bool = False, lo: date = MIN_DATE, hi: date = MAX_DATE) -> RowRule:
    shown = (f"{lo:%Y-%m} and {hi:%Y-%m}" if period else f"{lo:%Y-%m-%d} and {hi:%Y-%m-%d}")
    return RowRule(f"{col} between {shown}", col, pl.col(col).is_between(lo, hi).fill_null(True))


SAVINGS_TYPES = ("price_reduction", "cost_avoidance")
PO_STATUSES = ("open", "closed", "cancelled")

RULES: dict[str, tuple[RowRule, ...]] = {
    "suppliers": (_between("payment_terms_days", 0, 365),),
    "contracts": (
        _not_before("end_date", "start_date"),
        _ge("baseline_unit_price", 0),
        _ge("contract_unit_price", 0),
        _one_of("savings_type", SAVINGS_TYPES),
        _between("payment_terms_days", 0, 365),
        _dated("start_date", lo=MIN_CONTRACT_DATE, hi=MAX_CONTRACT_DATE),
        _dated("end_date", lo=MIN_CONTRACT_DATE, hi=MAX_CONTRACT_DATE),
        _at_most("baseline_unit_price", MAX_MONEY),
        _at_most("contract_unit_price", MAX_MONEY),
    ),
    "purchase_orders": (
        _gt("quantity", 0), _ge("unit_price", 0), _one_of("status", PO_STATUSES),
        _dated("order_date"), _at_most("quantity", MAX_QUANTITY), _at_most("unit_price", MAX_MONEY),
    ),
    "invoices": (
        _not_before("due_date", "invoice_date"),
        RowRule("po_line given iff po_id given", "po_line", pl.col("po_id").is_null() == pl.col("po_line").is_null()),
        _dated("invoice_date"), _dated("due_date"), _dated("paid_date"),
        _within("quantity", MAX_QUANTITY), _within("amount", MAX_MONEY),
    ),
    "budgets": (_ge("budget_amount", 0), _dated("fiscal_period", period=True), _at_most("budget_amount", MAX_MONEY)),
    "inventory": (
        _ge("on_hand_qty", 0), _ge("safety_stock_qty", 0), _ge("unit_cost", 0), _dated("snapshot_date"),
        _at_most("on_hand_qty", MAX_QUANTITY), _at_most("safety_stock_qty", MAX_QUANTITY),
        _at_most("unit_cost", MAX_MONEY),
    ),
    "consumption": (
        _ge("quantity", 0), _ge("value", 0), _dated("period", period=True),
        _at_most("quantity", MAX_QUANTITY), _at_most("value", MAX_MONEY),
    ),
    "fx_rates": (_gt("rate_to_reporting", 0), _dated("period", period=True), _at_most("rate_to_reporting", MAX_RATE)),
    # An index level is a positive number (100 at its base); its consecutive months and known names are
    # checked across rows by pipelines/series.py.
    "price_indices": (_gt("value", 0), _dated("period", period=True), _at_most("value", MAX_RATE)),
    "category_index": (),
}
EXPORTS: dict[str, ExportSpec] = {
    name: ExportSpec(t.name, t.columns, t.key, RULES[name]) for name, t in TABLES.items()
}

RAW_SUFFIX = "__raw"
TEXT_TYPES = ("str", "ccy")


def raw_name(col: Col) -> str:
    """The column holding a cell's text where it matters: text columns are their own text; a typed
    column's `__raw` holds its text only where it did not parse (NULL where it parsed or was empty)."""
    return col.name if col.type in TEXT_TYPES else col.name + RAW_SUFFIX


PARSE_RULE_PREFIX = "type: "
NOT_NULL_RULE = "required"
CURRENCY_RULE = "currency: three upper-case letters (ISO 4217)"


def _parse_check(col: Col) -> pa.Check:
    """Fails where the cell had text that did not parse as the column's type."""
    raw = raw_name(col)

    def parsed(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).is_not_null() | pl.col(raw).is_null())

    return pa.Check(parsed, name=PARSE_RULE_PREFIX + TYPE_RULES[col.type])


def _required_check(col: Col) -> pa.Check:
    """An empty cell in a required column (distinct from one that failed to parse)."""
    raw = raw_name(col)

    def present(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).is_not_null() | pl.col(raw).is_not_null())

    return pa.Check(present, name=NOT_NULL_RULE)


def _currency_check() -> pa.Check:
    """Three upper-case letters. (pandera reports its built-in str_matches by its pattern, whatever the name.)"""

    def iso(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).is_null() | pl.col(data.key).str.contains(r"^[A-Z]{3}$"))

    return pa.Check(iso, name=CURRENCY_RULE)


def _rule_check(rule: RowRule) -> pa.Check:
    def holds(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(rule.expr)

    return pa.Check(holds, name=rule.name)


def pandera_schema(spec: ExportSpec) -> pa.DataFrameSchema:
    """The pandera schema of a typed export frame that carries the text of the cells that did not parse.

    Nullability is checked by an explicit rule on the raw text so that a cell that is empty and one
    whose text did not parse are reported differently; every check is a vectorised polars expression.
    """
    columns: dict[str, pa.Column] = {}
    for col in spec.columns:
        checks = [] if col.type in TEXT_TYPES else [_parse_check(col)]
        if not col.nullable:
            checks.append(_required_check(col))
        if col.type == "ccy":
            checks.append(_currency_check())
        checks += [_rule_check(r) for r in spec.rules if r.column == col.name]
        columns[col.name] = pa.Column(POLARS_TYPES[col.type], checks, nullable=True)
        if col.type not in TEXT_TYPES:
            columns[col.name + RAW_SUFFIX] = pa.Column(pl.String, nullable=True)
    return pa.DataFrameSchema(columns, strict=False)
