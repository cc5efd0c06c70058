"""The export contract's row checks on a lake's tables, run by Spark through pandera's PySpark backend: every rule a
load applies, under the name a load reports it by, with its table and column, how many rows break it and a few of
them by key.

`spark_rule` is the one place that says how a declared row rule (store/exports.py) reads on Spark. The rules across rows of
the market-price exports (pipelines/series.py) are not checked here yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.schemas import (
    CURRENCY_RULE,
    EXPORTS,
    NOT_NULL_RULE,
    PARSE_RULE_PREFIX,
    TYPE_RULES,
    ExportSpec,
    Rule,
)
from store import lake
from store.errors import LakeError

if TYPE_CHECKING:
    import pandera.pyspark as pa
    from pyspark.sql import Column, DataFrame, SparkSession

KEY_RULE = "key unique within the table"  # a load's is "within the file": a lake holds one row per key
EXAMPLES = 3  # rows shown by key for each broken rule
CURRENCY_PATTERN = r"^[A-Z]{3}$"


@dataclass(frozen=True)
class LakeIssue:
    """One rule broken in a lake table: by how many rows, and a few of them (key, value)."""

    table: str
    column: str
    rule: str
    rows: int
    examples: tuple[tuple[str, str], ...] = ()

    def sentence(self) -> str:
        where = f"{self.table}.{self.column}" if "," not in self.column else f"{self.table} ({self.column})"
        if not self.rows:  # about the column itself (its type, or its absence)
            return f"{where}: “{self.rule}” does not hold for the column."
        shown = "; ".join(key if value == key else f"{key} ({self.column} = {value})" for key, value in self.examples)
        rows = f"{self.rows:,} row breaks" if self.rows == 1 else f"{self.rows:,} rows break"
        return f"{where}: {rows} “{self.rule}”" + (f", e.g. {shown}" if shown else "") + "."


@dataclass(frozen=True)
class LakeCheck:
    """What `check` found: rows checked per table, every broken rule, and how long it took."""

    dir: Path
    rows: dict[str, int]
    issues: tuple[LakeIssue, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.issues

    def sentences(self) -> list[str]:
        if self.ok:
            return [f"The lake at {self.dir} keeps every row rule of the export contract ({sum(self.rows.values()):,} "
                    f"rows in {len(self.rows)} tables)."]
        return [i.sentence() for i in self.issues] + [
            f"The lake at {self.dir} holds rows a load would not accept: export it again from the database (`tandem "
            f"lake export {self.dir}`), or fix the job that wrote it."]


# --- the rules on Spark -----------------------------------------------------------------------------------------

def spark_rule(rule: Rule) -> Column:
    """The Spark expression that holds where a row keeps `rule`, NULL where pipelines/schemas.row_expr lets a NULL
    pass (the caller counts NULL as passing, as the polars rules' fill_null(True) does); read from the rule's
    declaration (store/exports.py), kind by kind as row_expr reads it."""
    from pyspark.sql import functions as F

    c = F.col(rule.column)
    # a number compares as a double, as the load's rules do (an integer literal would make Spark cast a text
    # column's "150.0" to BIGINT and fail); dates and names as they are
    a = tuple(float(x) if isinstance(x, int | float) and not isinstance(x, bool) else x for x in rule.args)
    match rule.kind:
        case "between":
            return c.between(F.lit(a[0]), F.lit(a[1]))
        case "at_least":
            return c >= F.lit(a[0])
        case "above":
            return c > F.lit(a[0])
        case "at_most":
            return c <= F.lit(a[0])
        case "within":
            return F.abs(c) <= F.lit(a[0])  # NaN fails: Spark orders NaN above every number, as polars does
        case "one_of":
            return c.isin(list(a))
        case "not_before":
            return c >= F.col(str(a[0]))
        case "given_iff":
            return c.isNull() == F.col(str(a[0])).isNull()
    raise LakeError(f"The row rule “{rule.name}” of {rule.column} has no Spark version yet "
                    "(pipelines/lake_check.spark_rule).")


def _spark_type(kind: str) -> object:
    from pyspark.sql import types as T

    return {"str": T.StringType(), "ccy": T.StringType(), "date": T.DateType(), "period": T.DateType(),
            "dec": T.DoubleType(), "int": T.LongType(), "bool": T.BooleanType(),
            "ts": T.TimestampType()}[kind]  # an instant (DuckDB TIMESTAMPTZ in Parquet: Spark reads a TIMESTAMP)


def row_checks(spec: ExportSpec) -> list[tuple[str, str, Column]]:
    """(column, rule name, holds) of every row check of an export, as pipelines/schemas.pandera_schema names them:
    required columns, currency codes, then the export's own rules."""
    from pyspark.sql import functions as F

    checks: list[tuple[str, str, Column]] = []
    for col in spec.columns:
        if not col.nullable:
            checks.append((col.name, NOT_NULL_RULE, F.col(col.name).isNotNull()))
        if col.type == "ccy":
            checks.append((col.name, CURRENCY_RULE, F.col(col.name).rlike(CURRENCY_PATTERN)))
        checks += [(col.name, r.name, spark_rule(r)) for r in spec.rules if r.column == col.name]
    return checks


# --- running them through pandera -------------------------------------------------------------------------------

class _Scan:
    """Every row check of one table counted in one Spark job, on the first check pandera runs: pandera asks each
    check in turn, and a job per check would read the table once per rule."""

    def __init__(self, df: DataFrame, checks: list[tuple[str, str, Column]]) -> None:
        self.df, self.checks = df, checks
        self._failing: list[int] | None = None

    def failing(self, i: int) -> int:
        if self._failing is None:
            from pyspark.sql import functions as F

            row = self.df.agg(*(F.count(F.when(~F.coalesce(holds, F.lit(True)), 1)).alias(f"c{j}")
                                for j, (_, _, holds) in enumerate(self.checks))).first()
            self._failing = [int(row[j]) for j in range(len(self.checks))] if row else [0] * len(self.checks)
        return self._failing[i]


def spark_schema(spec: ExportSpec, scan: _Scan) -> pa.DataFrameSchema:
    """The pandera PySpark schema of an export's lake table: each column's type, its row checks (counted by `scan`)
    and the key."""
    import pandera.pyspark as pa

    columns: dict[str, pa.Column] = {}
    for col in spec.columns:
        checks = [pa.Check(lambda _df, i=i: scan.failing(i) == 0, name=rule)
                  for i, (column, rule, _) in enumerate(scan.checks) if column == col.name]
        columns[col.name] = pa.Column(_spark_type(col.type), checks=checks, nullable=True)
    unique = pa.Check(lambda df: _duplicate_keys(df, spec).limit(1).count() == 0, name=KEY_RULE)
    return pa.DataFrameSchema(columns, checks=[unique], strict=False, name=spec.name)


def _duplicate_keys(df: DataFrame, spec: ExportSpec) -> DataFrame:
    """The keys more than one row has, with their rows' count. Rows are grouped by a 64-bit hash of their key first,
    and only rows whose hash another row shares are grouped by the key itself (usually none): shuffling one long
    instead of the key's text took 10 s instead of 17.6 s at 1M invoice lines here."""
    from pyspark.sql import functions as F

    hashed = df.withColumn("_key_hash", F.xxhash64(*spec.key))
    shared = hashed.groupBy("_key_hash").count().filter("count > 1").select("_key_hash")
    return (hashed.join(F.broadcast(shared), "_key_hash").groupBy(*spec.key).count()
            .filter("count > 1"))


def check(dir: Path | str, *, spark: SparkSession | None = None, remote: str | None = None,
          tables: list[str] | None = None) -> LakeCheck:
    """Check every export table of the lake in `dir` (or `tables`) on Spark: `spark`, else a session on `remote`
    (store.lake_spark.session: $TANDEM_SPARK_REMOTE, else local mode). A lake that cannot be read, or an engine
    that cannot be reached, is a LakeError; broken rules are the result's issues."""
    from store.lake_spark import session

    started = time.perf_counter()
    root = Path(dir).absolute()
    manifest = lake.verify(root)
    spark = spark or session(remote)
    held = manifest.rows()
    names = [n for n in EXPORTS if n in held and (tables is None or n in tables)]
    issues: list[LakeIssue] = []
    for name in names:
        issues += _check_table(spark, root, manifest, EXPORTS[name])
    return LakeCheck(root, {n: held[n] for n in names}, tuple(issues), time.perf_counter() - started)


def _check_table(spark: SparkSession, root: Path, manifest: lake.Manifest, spec: ExportSpec) -> list[LakeIssue]:
    from store.lake_spark import read_table

    df = read_table(spark, root, spec.name, manifest)
    scan = _Scan(df, row_checks(spec))
    errors = spark_schema(spec, scan).validate(df).pandera.errors
    issues: list[LakeIssue] = []
    for reason, found in errors.get("SCHEMA", {}).items():
        for e in found:
            column = str(e.get("column"))
            if reason == "WRONG_DATATYPE" and column in spec.column_names:
                rule = PARSE_RULE_PREFIX + TYPE_RULES[spec.column(column).type]
            else:  # a column the table lacks, or anything else about its shape: pandera's own words
                rule = str(e.get("error", reason))
            issues.append(LakeIssue(spec.name, column, rule, 0))
    by_name = {(column, rule): (i, holds) for i, (column, rule, holds) in enumerate(scan.checks)}
    for e in errors.get("DATA", {}).get("DATAFRAME_CHECK", []):
        column, rule = str(e.get("column")), str(e.get("check"))
        if rule == KEY_RULE:
            issues.append(_duplicates(df, spec))
        elif (column, rule) in by_name:
            i, holds = by_name[(column, rule)]
            issues.append(LakeIssue(spec.name, column, rule, scan.failing(i), _examples(df, spec, column, holds)))
    for e in errors.get("DATA", {}).get("CHECK_ERROR", []):  # a check Spark could not run
        issues.append(LakeIssue(spec.name, str(e.get("column")), f"{e.get('check')} (could not be checked: "
                                f"{str(e.get('error')).splitlines()[0][:200]})", 0))
    return issues


def _key_text(spec: ExportSpec) -> Column:
    from pyspark.sql import functions as F

    return F.concat_ws("/", *(F.col(k).cast("string") for k in spec.key))


def _examples(df: DataFrame, spec: ExportSpec, column: str, holds: Column) -> tuple[tuple[str, str], ...]:
    """A few rows that break a rule: their key, and the value of the rule's column."""
    from pyspark.sql import functions as F

    rows = (df.filter(~F.coalesce(holds, F.lit(True)))
            .select(_key_text(spec).alias("k"), F.coalesce(F.col(column).cast("string"), F.lit("empty")).alias("v"))
            .orderBy("k").limit(EXAMPLES).collect())
    return tuple((r["k"], r["v"]) for r in rows)


def _duplicates(df: DataFrame, spec: ExportSpec) -> LakeIssue:
    """How many rows share their key with another, and a few of those keys."""
    from pyspark.sql import functions as F

    dup = _duplicate_keys(df, spec)
    n = int(dup.agg(F.sum("count")).first()[0] or 0)
    keys = dup.select(_key_text(spec).alias("k")).orderBy("k").limit(EXAMPLES).collect()
    return LakeIssue(spec.name, ", ".join(spec.key), KEY_RULE, n, tuple((r["k"], r["k"]) for r in keys))
