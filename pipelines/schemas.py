"""What a valid export is: the contract's eight export types, their typed columns, keys and row rules."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    ),
    "purchase_orders": (_gt("quantity", 0), _ge("unit_price", 0), _one_of("status", PO_STATUSES)),
    "invoices": (
        _not_before("due_date", "invoice_date"),
        RowRule("po_line given iff po_id given", "po_line", pl.col("po_id").is_null() == pl.col("po_line").is_null()),
    ),
    "budgets": (_ge("budget_amount", 0),),
    "inventory": (_ge("on_hand_qty", 0), _ge("safety_stock_qty", 0), _ge("unit_cost", 0)),
    "consumption": (_ge("quantity", 0), _ge("value", 0)),
    "fx_rates": (_gt("rate_to_reporting", 0),),
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
