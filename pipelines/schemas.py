"""What a valid row is, as pandera checks: the declared export types (store/exports.py) compiled into a
schema per type, with the parse, required, currency and row-rule checks reported by name."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from store.exports import (  # noqa: F401 - the stated ranges, re-exported for their tests
    EXPORT_TYPES,
    MAX_MONEY,
    MAX_QUANTITY,
    MAX_RATE,
    Col,
    ExportType,
    Rule,
)

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


def row_expr(rule: Rule) -> pl.Expr:
    """A declared row rule as a polars expression, true where the row passes; an empty cell passes."""
    c = pl.col(rule.column)
    a = rule.args
    match rule.kind:
        case "between":
            expr = c.is_between(a[0], a[1])
        case "at_least":
            expr = c >= a[0]
        case "above":
            expr = c > a[0]
        case "at_most":
            expr = c <= a[0]
        case "within":
            expr = c.abs() <= a[0]  # NaN fails: it compares above every number
        case "one_of":
            expr = c.is_in(list(a))
        case "not_before":
            expr = c >= pl.col(str(a[0]))
        case "given_iff":
            return c.is_null() == pl.col(str(a[0])).is_null()
        case _:  # pragma: no cover - store.exports declares only the kinds above
            raise AssertionError(rule.kind)
    return expr.fill_null(True)


# The contract's export types, as declared in store/exports.py: the same registry, so a type declared
# later (a plug-in, a test) is known to mappings, validation and loads at once.
ExportSpec = ExportType
EXPORTS: dict[str, ExportType] = EXPORT_TYPES

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


def _rule_check(rule: Rule) -> pa.Check:
    expr = row_expr(rule)

    def holds(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(expr)

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
