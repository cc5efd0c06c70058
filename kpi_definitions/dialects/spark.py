"""The SQL function library for Spark SQL 4 in ANSI mode (kpi_definitions/dialects/__init__.py lists what each
function means; tests/test_dialects.py checks that each means the same here as on DuckDB).

Where Spark's own words would give another number than DuckDB's, the function says the meaning out loud: whole
days by `datediff`, seconds from `unix_micros` (never `date_diff`, which counts boundaries on DuckDB and whole
units on Spark), day of week from `weekday` (Monday 0), `min_by`/`max_by` only over the rows whose value is not
NULL (Spark's do not skip them), a sorted array joined (a `collect_list` keeps no order), and a division by a
`nullif` (ANSI mode raises on a zero). Parameters are Spark's named markers, `:name`, bound by the runner
(kpi_definitions/engine_spark.py); a list parameter is cast to its array type where it is read, so a NULL list
(no filter) and an empty one are typed alike.
"""

from __future__ import annotations

NAME = "spark"
TYPES = {"INTEGER": "INT", "VARCHAR": "STRING", "DOUBLE": "DOUBLE"}


def param(name: str) -> str:
    """A named parameter marker, as spark.sql(..., args=...) binds it."""
    return f":{name}"


def month_ix(d: str) -> str:
    return f"(year({d}) * 12 + month({d}) - 1)"


def month_start(m: str) -> str:
    # make_date takes INT: ANSI mode casts no BIGINT down by itself
    return f"make_date(CAST(({m}) DIV 12 AS INT), CAST(({m}) % 12 + 1 AS INT), 1)"


def days_in_month(m: str) -> str:
    return f"day(last_day({month_start(m)}))"


def month_label(m: str) -> str:
    return f"date_format({month_start(m)}, 'yyyy-MM')"


def days_between(a: str, b: str) -> str:
    return f"datediff({b}, {a})"  # whole days from a to b, as DuckDB's date minus date


def _epoch(t: str) -> str:
    # a TIMESTAMP_NTZ (DuckDB's TIMESTAMP in Parquet) is read in the session's time zone, which is UTC
    return f"(CAST(unix_micros(CAST({t} AS TIMESTAMP)) AS DOUBLE) / 1000000)"


def seconds_between(a: str, b: str) -> str:
    return f"({_epoch(b)} - {_epoch(a)})"


def epoch_seconds(t: str) -> str:
    return _epoch(t)


def utc(t: str) -> str:
    # an instant's UTC wall time: the engine's sessions run in UTC (engine_spark), so the instant read without a
    # time zone is its UTC time, as DuckDB's make_timestamp(epoch_us(t))
    return f"CAST(CAST({t} AS TIMESTAMP) AS TIMESTAMP_NTZ)"


def quantile(x: str, q: str) -> str:
    return f"percentile({x}, {q})"  # exact, interpolated between the two nearest values: DuckDB's quantile_cont


def iso_dow(d: str) -> str:
    return f"(weekday({d}) + 1)"  # weekday(): 0 = Monday .. 6 = Sunday (dayofweek() would be 1 = Sunday)


def rep_rate(currency: str, rate: str, ccy: str) -> str:
    return f"(CASE WHEN {currency} = {ccy} THEN 1 ELSE {rate} END)"


def fx_monthly() -> str:
    return f"(SELECT currency, {month_ix('period')} AS m, rate_to_reporting AS rate FROM fx_rates)"


def picked(sel: str, v: str) -> str:
    return f"(CAST({sel} AS ARRAY<STRING>) IS NULL OR array_contains(CAST({sel} AS ARRAY<STRING>), {v}))"


def div(a: str, b: str) -> str:
    return f"(({a}) / nullif({b}, 0))"


def first_by(x: str, key: str) -> str:
    # min_by does not skip a NULL x in Spark (DuckDB's arg_min does): the filter says it for both
    return f"min_by({x}, {key}) FILTER (WHERE ({x}) IS NOT NULL)"


def last_by(x: str, key: str) -> str:
    return f"max_by({x}, {key}) FILTER (WHERE ({x}) IS NOT NULL)"


def join_sorted(x: str, sep: str) -> str:
    # collect_list keeps no order: the array is sorted before it is joined; no value at all is NULL, as in DuckDB
    return f"(CASE WHEN count({x}) > 0 THEN array_join(array_sort(collect_list({x})), {sep}) END)"


def hash(*values: str) -> str:  # noqa: A001 - the library's name for it
    return f"xxhash64({', '.join(values)})"


def same(a: str, b: str) -> str:
    return f"{a} IS NOT DISTINCT FROM {b}"


def text(x: str) -> str:
    return f"CAST({x} AS STRING)"


def rows(*columns: str) -> str:
    """`$months AS m INTEGER, $labels AS period VARCHAR` -> one row per position of the lists."""
    values, names = [], []
    for column in columns:
        value, _, rest = column.partition(" AS ")
        name, type_ = rest.split()
        values.append(f"CAST({value} AS ARRAY<{TYPES[type_]}>)")
        names.append(name)
    return f"SELECT inline(arrays_zip({', '.join(values)})) AS ({', '.join(names)})"


def materialized() -> str:
    return ""  # Spark has no such hint; it plans a CTE used twice on its own
