"""What a valid export is: the contract's eight export types, their typed columns, keys and row rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandera.polars as pa
import polars as pl

ColumnType = Literal["str", "date", "period", "dec", "int", "bool", "ccy"]

# How each contract type is stored in DuckDB. Periods are stored as the first day of the month so that
# KPI SQL can compare them with dates directly; the contract's `YYYY-MM` is the text form.
DUCKDB_TYPES: dict[str, str] = {
    "str": "VARCHAR",
    "date": "DATE",
    "period": "DATE",
    "dec": "DOUBLE",
    "int": "BIGINT",
    "bool": "BOOLEAN",
    "ccy": "VARCHAR",
}
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
class Col:
    name: str
    type: ColumnType
    nullable: bool = False


@dataclass(frozen=True)
class RowRule:
    """A rule on one row, reported against `column` when it fails."""

    name: str
    column: str
    expr: pl.Expr  # true where the row passes; null-safe


@dataclass(frozen=True)
class ExportSpec:
    name: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]
    rules: tuple[RowRule, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


def _c(spec: str) -> Col:
    """`name type` or `name type?` as in the contract's table."""
    name, typ = spec.split()
    return Col(name, typ.rstrip("?"), typ.endswith("?"))  # type: ignore[arg-type]


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

EXPORTS: dict[str, ExportSpec] = {
    s.name: s
    for s in [
        ExportSpec(
            "suppliers",
            tuple(map(_c, ["supplier_id str", "supplier_name str", "country str?", "preferred bool",
                           "payment_terms_days int"])),
            ("supplier_id",),
            (_between("payment_terms_days", 0, 365),),
        ),
        ExportSpec(
            "contracts",
            tuple(map(_c, ["contract_id str", "supplier_id str", "category str", "item_id str?",
                           "start_date date", "end_date date", "baseline_unit_price dec",
                           "contract_unit_price dec", "currency ccy", "savings_type str",
                           "payment_terms_days int"])),
            ("contract_id",),
            (
                _not_before("end_date", "start_date"),
                _ge("baseline_unit_price", 0),
                _ge("contract_unit_price", 0),
                _one_of("savings_type", SAVINGS_TYPES),
                _between("payment_terms_days", 0, 365),
            ),
        ),
        ExportSpec(
            "purchase_orders",
            tuple(map(_c, ["po_id str", "po_line int", "supplier_id str", "contract_id str?", "item_id str?",
                           "category str", "cost_center str", "order_date date", "quantity dec",
                           "unit_price dec", "currency ccy", "status str"])),
            ("po_id", "po_line"),
            (_gt("quantity", 0), _ge("unit_price", 0), _one_of("status", PO_STATUSES)),
        ),
        ExportSpec(
            "invoices",
            tuple(map(_c, ["invoice_id str", "invoice_line int", "supplier_id str", "po_id str?",
                           "po_line int?", "item_id str?", "category str", "cost_center str",
                           "gl_account str", "invoice_date date", "due_date date", "paid_date date?",
                           "quantity dec?", "amount dec", "currency ccy"])),
            ("invoice_id", "invoice_line"),
            (
                _not_before("due_date", "invoice_date"),
                RowRule("po_line given iff po_id given", "po_line",
                        pl.col("po_id").is_null() == pl.col("po_line").is_null()),
            ),
        ),
        ExportSpec(
            "budgets",
            tuple(map(_c, ["fiscal_period period", "cost_center str", "category str", "budget_amount dec",
                           "currency ccy"])),
            ("fiscal_period", "cost_center", "category"),
            (_ge("budget_amount", 0),),
        ),
        ExportSpec(
            "inventory",
            tuple(map(_c, ["snapshot_date date", "item_id str", "location str", "on_hand_qty dec",
                           "safety_stock_qty dec", "unit_cost dec", "currency ccy"])),
            ("snapshot_date", "item_id", "location"),
            (_ge("on_hand_qty", 0), _ge("safety_stock_qty", 0), _ge("unit_cost", 0)),
        ),
        ExportSpec(
            "consumption",
            tuple(map(_c, ["period period", "item_id str", "location str", "quantity dec", "value dec",
                           "currency ccy"])),
            ("period", "item_id", "location"),
            (_ge("quantity", 0), _ge("value", 0)),
        ),
        ExportSpec(
            "fx_rates",
            tuple(map(_c, ["period period", "currency ccy", "rate_to_reporting dec"])),
            ("period", "currency"),
            (_gt("rate_to_reporting", 0),),
        ),
    ]
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
