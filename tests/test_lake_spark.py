"""Spark over the lake (store/lake_spark.py): the local session, and one clear sentence for every endpoint that
cannot serve."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from store import lake
from store.lake_spark import read_table
from tandem.db import connect


@pytest.mark.spark
def test_the_local_session_is_small_quiet_and_local(spark: SparkSession) -> None:
    conf = spark.sparkContext.getConf()
    assert spark.sparkContext.master == "local[2]"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.jars.packages", None) is None  # nothing is downloaded when it starts
    jvm = spark.sparkContext._jvm
    assert jvm.org.apache.logging.log4j.LogManager.getRootLogger().getLevel().toString() == "ERROR"


@pytest.mark.spark
def test_spark_reads_the_parquet_duckdb_writes(spark: SparkSession, tmp_path: Path) -> None:
    # Three rows with a date, a double and a NULL, as DuckDB writes the lake's files.
    path = tmp_path / "t.parquet"
    duckdb.sql("SELECT * FROM (VALUES (DATE '2026-01-31', 10.25::DOUBLE, 'EUR'), (DATE '2026-02-01', -0.5, NULL), "
               "(DATE '2026-02-28', 100.0, 'USD')) t(d, amount, ccy)").write_parquet(str(path))
    df = spark.read.parquet(path.as_uri())
    assert [(f.name, f.dataType.simpleString()) for f in df.schema] == [
        ("d", "date"), ("amount", "double"), ("ccy", "string")]
    # February: -0.5 + 100.0 = 99.5 over two rows, one without a currency
    row = (df.filter(F.month("d") == 2)
           .agg(F.sum("amount").alias("s"), F.count("*").alias("n"), F.count("ccy").alias("c")).first())
    assert (row["s"], row["n"], row["c"]) == (99.5, 2, 1)
    assert df.agg(F.min("d")).first()[0] == date(2026, 1, 31)


@pytest.mark.spark
def test_spark_reads_every_lake_table_with_the_stores_columns_and_rows(spark: SparkSession, golden_db: Path,
                                                                        tmp_path: Path) -> None:
    con = connect(golden_db, read_only=True)
    try:
        manifest = lake.export(con, tmp_path / "lake").manifest
    finally:
        con.close()
    for name, rows in manifest.rows().items():
        df = read_table(spark, tmp_path / "lake", name)
        columns = manifest.views[name].columns if name in manifest.views else [c for c, _ in manifest.tables[name].columns]
        assert (df.columns, df.count()) == (list(columns), rows), name  # no `month` column from the folders
    # tests/golden/exports/invoices.csv: 14 lines; their amounts in their own currencies add up to 1,240
    invoices = read_table(spark, tmp_path / "lake", "invoices")
    assert invoices.agg(F.count("*"), F.sum("amount")).first()[:] == (14, 1240.0)
