"""The SQL function library for DuckDB (kpi_definitions/dialects/__init__.py lists what each function means).

Every function returns SQL text that DuckDB runs as it is: no TEMP macro, nothing created on the connection, so
`explain` prints exactly what runs and a read-only connection needs nothing before a query.
"""

from __future__ import annotations

NAME = "duckdb"
TYPES = {"INTEGER": "INTEGER", "VARCHAR": "VARCHAR", "DOUBLE": "DOUBLE"}


def param(name: str) -> str:
    """A named parameter, as DuckDB's client binds it."""
    return f"${name}"


def month_ix(d: str) -> str:
    return f"(year({d}) * 12 + month({d}) - 1)"


def month_start(m: str) -> str:
    return f"make_date(({m}) // 12, ({m}) % 12 + 1, 1)"


def days_in_month(m: str) -> str:
    return f"day(last_day({month_start(m)}))"


def month_label(m: str) -> str:
    return f"strftime({month_start(m)}, '%Y-%m')"


def days_between(a: str, b: str) -> str:
    # DuckDB: a date minus a date is the whole days between them (date_diff('day', ...) is the same for dates,
    # but counts boundaries crossed for timestamps, which Spark's datediff does not)
    return f"(({b}) - ({a}))"


def seconds_between(a: str, b: str) -> str:
    return f"(epoch({b}) - epoch({a}))"


def epoch_seconds(t: str) -> str:
    return f"epoch({t})"


def iso_dow(d: str) -> str:
    return f"isodow({d})"  # 1 = Monday .. 7 = Sunday (dayofweek() would be 0 = Sunday)


def rep_rate(currency: str, rate: str, ccy: str) -> str:
    # 1 in the reporting currency, else the month's rate (NULL without one: the converted amount is NULL and
    # drops out of sums)
    return f"(CASE WHEN {currency} = {ccy} THEN 1 ELSE {rate} END)"


def fx_monthly() -> str:
    return f"(SELECT currency, {month_ix('period')} AS m, rate_to_reporting AS rate FROM fx_rates)"


def picked(sel: str, v: str) -> str:
    return f"({sel}::VARCHAR[] IS NULL OR list_contains({sel}::VARCHAR[], {v}))"


def div(a: str, b: str) -> str:
    return f"(({a}) / nullif({b}, 0))"


def first_by(x: str, key: str) -> str:
    # arg_min skips rows whose x is NULL in DuckDB (Spark's min_by does not): said out loud for both
    return f"arg_min({x}, {key}) FILTER (WHERE ({x}) IS NOT NULL)"


def last_by(x: str, key: str) -> str:
    return f"arg_max({x}, {key}) FILTER (WHERE ({x}) IS NOT NULL)"


def join_sorted(x: str, sep: str) -> str:
    return f"string_agg({x}, {sep} ORDER BY {x})"


def hash(*values: str) -> str:  # noqa: A001 - the library's name for it
    return f"hash({', '.join(values)})"


def same(a: str, b: str) -> str:
    return f"{a} IS NOT DISTINCT FROM {b}"


def text(x: str) -> str:
    return f"CAST({x} AS VARCHAR)"


def rows(*columns: str) -> str:
    """`$months AS m INTEGER, $labels AS period VARCHAR` -> one row per position of the lists."""
    out = []
    for column in columns:
        value, _, rest = column.partition(" AS ")
        name, type_ = rest.split()
        out.append(f"unnest({value}::{TYPES[type_]}[]) AS {name}")
    return "SELECT " + ", ".join(out)


def materialized() -> str:
    return "MATERIALIZED"
