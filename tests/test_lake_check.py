"""The export contract's checks on a lake, on a real local Spark through pandera's PySpark backend
(pipelines/lake_check.py): every row rule agrees with the load's on boundary values, a lake with bad rows is
reported by table, column, rule (named as a load names it), rows and keys."""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.lake_check import KEY_RULE, LakeCheck, LakeIssue, check, spark_rule
from pipelines.schemas import EXPORTS, POLARS_TYPES, ExportSpec, Rule, row_expr
from store import lake
from store.errors import LakeError
from tests.conftest import GOLDEN, write
from workspace.db import connect, ingest_file

# Values around every stated bound (0, 365, 1e6, 1e12, 1e13; 1900, 1990, 2100, 9999), NaN and infinities.
SAMPLES: dict[str, list[object]] = {
    "dec": [None, float("nan"), float("-inf"), -2e13, -1e13, -1e12, -365.0, -1.0, -0.5, 0.0, 0.5, 1.0, 365.0, 366.0,
            1e6, 1e6 + 1, 1e12, 1.5e12, 1e13, 2e13, float("inf")],
    "int": [None, -1, 0, 1, 365, 366, 10**7],
    "date": [None, date(1899, 12, 31), date(1900, 1, 1), date(1989, 12, 31), date(1990, 1, 1), date(2026, 1, 1),
             date(2026, 1, 15), date(2100, 12, 1), date(2100, 12, 31), date(2101, 1, 1), date(9999, 12, 31)],
    "str": [None, "", "x", "price_reduction", "cost_avoidance", "Price_Reduction", "open", "closed", "cancelled",
            "Open", "P1"],
    "bool": [None, True, False],
}
SAMPLES["period"], SAMPLES["ccy"] = SAMPLES["date"], [None, "", "EUR", "eur", "EURO", "E1R"]
# instants (requisitions, approval events): either side of one another, the same instant, and far ones
SAMPLES["ts"] = [None, datetime(1899, 12, 31, 23, 0, tzinfo=UTC), datetime(2026, 1, 5, 8, 30, tzinfo=UTC),
                 datetime(2026, 1, 5, 8, 30, 1, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC),
                 datetime(9999, 12, 31, tzinfo=UTC)]

pytestmark = pytest.mark.spark


def _spark_type(kind: str) -> T.DataType:
    return {"str": T.StringType(), "ccy": T.StringType(), "date": T.DateType(), "period": T.DateType(),
            "dec": T.DoubleType(), "int": T.LongType(), "bool": T.BooleanType(), "ts": T.TimestampType()}[kind]


def _samples(spec: ExportSpec, rule: Rule) -> pl.DataFrame:
    """Every combination of sample values of the columns the rule names (the others empty)."""
    named = [c for c in spec.columns if c.name in rule.columns]
    rows = list(itertools.product(*(SAMPLES[c.type] for c in named)))
    data = {c.name: [r[i] for r in rows] for i, c in enumerate(named)}
    schema = {c.name: POLARS_TYPES[c.type] for c in spec.columns}
    return pl.DataFrame({c.name: data.get(c.name, [None] * len(rows)) for c in spec.columns}, schema=schema)


def test_every_row_rule_of_the_contract_agrees_with_the_loads_on_boundary_values(spark: SparkSession) -> None:
    checked = 0
    for spec in EXPORTS.values():
        if not spec.rules:
            continue
        frames = [_samples(spec, r).with_columns(_rule=pl.lit(k)) for k, r in enumerate(spec.rules)]
        frame = pl.concat(frames).with_row_index("_row")
        # the load's verdicts: the polars rules of pipelines/schemas.py (a NULL verdict passes)
        expected = {k: frame.filter(pl.col("_rule") == k).select(row_expr(r).fill_null(True)).to_series().to_list()
                    for k, r in enumerate(spec.rules)}
        schema = T.StructType([T.StructField("_row", T.LongType()), *(
            T.StructField(c.name, _spark_type(c.type)) for c in spec.columns), T.StructField("_rule", T.LongType())])
        df = spark.createDataFrame(frame.select("_row", *spec.column_names, "_rule").rows(), schema)
        verdict = F.lit(None).cast("boolean")
        for k, r in enumerate(spec.rules):  # one Spark job per export: each row judged by its own rule
            verdict = F.when(F.col("_rule") == k, F.coalesce(spark_rule(r), F.lit(True))).otherwise(verdict)
        got: dict[int, list[bool]] = {}
        for row in df.select("_rule", verdict.alias("ok")).orderBy("_row").collect():
            got.setdefault(row["_rule"], []).append(row["ok"])
        for k, r in enumerate(spec.rules):
            assert got[k] == expected[k], f"{spec.name}: “{r.name}” judges differently on Spark"
            assert False in expected[k] and True in expected[k]  # the samples reach both sides of the rule
            checked += 1
    assert checked == sum(len(s.rules) for s in EXPORTS.values()) > 40


def test_a_rule_without_a_spark_version_is_named(spark: SparkSession) -> None:
    with pytest.raises(LakeError, match=r"The row rule “amount is a prime number” of amount has no Spark version yet"):
        spark_rule(Rule("prime", "amount", (), "amount is a prime number"))  # type: ignore[arg-type]


# --- a lake with bad rows -----------------------------------------------------------------------------------------

def _bad_lake(golden_db: Path, tmp_path: Path) -> Path:
    """The golden data with one bad row per kind of rule, exported as a lake (what a job writing the lake by hand,
    or a database edited outside Tandem, could leave)."""
    db = tmp_path / "bad.duckdb"
    shutil.copy(golden_db, db)
    con = duckdb.connect(str(db))
    try:
        con.execute("UPDATE fact_invoices SET amount = 2e13 WHERE invoice_id = 'I12'")  # over the stated range
        con.execute("UPDATE fact_invoices SET category = NULL WHERE invoice_id = 'I13'")  # a required column
        con.execute("UPDATE suppliers SET payment_terms_days = 400 WHERE supplier_id = 'S1'")
        con.execute("UPDATE contracts SET currency = 'eur' WHERE contract_id = 'C1'")
        con.execute("INSERT INTO purchase_orders SELECT * FROM purchase_orders WHERE po_id = 'P1'")  # a key twice
        con.execute("ALTER TABLE budgets ALTER budget_amount TYPE VARCHAR")  # amounts as text
        lake.export(con, tmp_path / "lake")
    finally:
        con.close()
    return tmp_path / "lake"


@pytest.fixture(scope="module")
def bad(spark: SparkSession, golden_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LakeCheck]:
    """The bad lake and what `check` says of it (checked once: each check runs a few Spark jobs per table)."""
    out = _bad_lake(golden_db, tmp_path_factory.mktemp("bad"))
    return out, check(out, spark=spark)


def test_a_lake_with_bad_rows_is_reported_by_table_column_rule_rows_and_key(bad: tuple[Path, LakeCheck]) -> None:
    out, result = bad
    assert not result.ok
    assert set(result.issues) == {
        LakeIssue("suppliers", "payment_terms_days", "payment_terms_days between 0 and 365", 1, (("S1", "400"),)),
        LakeIssue("contracts", "currency", "currency: three upper-case letters (ISO 4217)", 1, (("C1", "eur"),)),
        # P1's one line, now twice: two rows share the key P1/1
        LakeIssue("purchase_orders", "po_id, po_line", KEY_RULE, 2, (("P1/1", "P1/1"),)),
        LakeIssue("invoices", "category", "required", 1, (("I13/1", "empty"),)),
        LakeIssue("invoices", "amount", "amount within ±1e13", 1, (("I12/1", "2.0E13"),)),
        LakeIssue("budgets", "budget_amount", "type: a decimal number", 0),
    }
    said = result.sentences()
    assert "invoices.amount: 1 row breaks “amount within ±1e13”, e.g. I12/1 (amount = 2.0E13)." in said
    assert "purchase_orders (po_id, po_line): 2 rows break “key unique within the table”, e.g. P1/1." in said
    assert said[-1].startswith(f"The lake at {out} holds rows a load would not accept: export it again")
    # every table the lake holds an export of was checked, with the rows its manifest counts
    assert result.rows == {"suppliers": 2, "contracts": 3, "purchase_orders": 9, "invoices": 14, "budgets": 5,
                           "inventory": 5, "consumption": 4, "fx_rates": 4, "price_indices": 0, "category_index": 0,
                           "requisitions": 0, "approval_events": 0, "receipts": 0, "savings_initiatives": 0}


def test_the_rules_are_named_as_a_load_names_them(bad: tuple[Path, LakeCheck], tmp_path: Path) -> None:
    # The same three bad values through a load: the quarantine's (column, rule) are the lake check's.
    con = connect(tmp_path / "load.duckdb")
    try:
        header = (GOLDEN / "exports" / "invoices.csv").read_text().splitlines()[0]
        ingest_file(con, write(tmp_path / "invoices.csv", header + "\nI12,1,S2,,,,LOG,CC2,6100,2026-01-20,2026-02-09,"
                               ",5,2e13,USD\nI13,1,S1,,,,,CC1,6000,2026-01-05,2026-02-04,,1,50,EUR\n"), "invoices",
                    allow_partial=True)
        suppliers = (GOLDEN / "exports" / "suppliers.csv").read_text().splitlines()
        ingest_file(con, write(tmp_path / "suppliers.csv", suppliers[0] + "\n" + suppliers[1].rsplit(",", 1)[0]
                               + ",400\n"), "suppliers", allow_partial=True)
        quarantined = set(con.execute("SELECT export_type, column_name, rule FROM quarantine").fetchall())
    finally:
        con.close()
    reported = {(i.table, i.column, i.rule) for i in bad[1].issues if i.table in ("invoices", "suppliers")}
    assert quarantined == reported == {("invoices", "amount", "amount within ±1e13"),
                                       ("invoices", "category", "required"),
                                       ("suppliers", "payment_terms_days", "payment_terms_days between 0 and 365")}


def test_a_clean_lake_keeps_every_rule(spark: SparkSession, golden_db: Path, tmp_path: Path) -> None:
    con = connect(golden_db, read_only=True)
    try:
        manifest = lake.export(con, tmp_path / "lake").manifest
    finally:
        con.close()
    result = check(tmp_path / "lake", spark=spark)
    assert result.ok and result.issues == ()
    assert result.rows == {n: manifest.rows()[n] for n in EXPORTS if n in manifest.rows()}
    assert result.sentences() == [f"The lake at {tmp_path / 'lake'} keeps every row rule of the export contract "
                                  "(45 rows in 14 tables)."]
    assert check(tmp_path / "lake", spark=spark, tables=["suppliers"]).rows == {"suppliers": 2}  # one table


def test_a_lake_that_cannot_be_read_is_said_before_spark_is_asked(tmp_path: Path) -> None:
    # The remote names a closed port, and it is never asked: the lake's own problem comes first.
    with pytest.raises(LakeError, match=r"There is no lake at .*nowhere"):
        check(tmp_path / "nowhere", remote="sc://127.0.0.1:1")
