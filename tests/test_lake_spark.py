"""Spark over the lake (store/lake_spark.py): the local session, and one clear sentence for every endpoint that
cannot serve."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path

import duckdb
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from store import lake
from store.errors import LakeError
from store.lake_spark import REMOTE_ENV, read_table, session
from workspace.db import connect


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


# --- an endpoint that cannot serve: one sentence, never a wait ---------------------------------------------------

def _closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _server(answer: bytes | None) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and then says `answer` and hangs up, or (None) says
    nothing and holds them open."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        with suppress(OSError):
            while True:
                conn, _ = listener.accept()
                if answer is None:
                    held.append(conn)
                else:
                    conn.sendall(answer)
                    conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for conn in held:
            conn.close()


def _one_sentence(err: pytest.ExceptionInfo[LakeError]) -> None:
    assert "\n" not in err.value.message and err.value.exit_code == 1 and err.value.__cause__ is None
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ  # the process is not left a Spark Connect client


def test_a_spark_connect_endpoint_nobody_listens_on_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _closed_port()
    monkeypatch.setenv(REMOTE_ENV, f"sc://127.0.0.1:{port}")
    with pytest.raises(LakeError, match=rf"^The Spark endpoint sc://127.0.0.1:{port} does not answer \(127.0.0.1:{port}: "
                                        r"Connection refused\); check TANDEM_SPARK_REMOTE and that the cluster is up\.$"
                       ) as err:
        session()  # from the setting
    _one_sentence(err)


def test_a_spark_connect_endpoint_that_accepts_and_says_nothing_is_one_sentence() -> None:
    with _server(None) as port, pytest.raises(
            LakeError, match=rf"^The Spark Connect endpoint sc://127.0.0.1:{port} accepted the connection but did not "
                             r"answer within 2 s; check that it is a Spark Connect server") as err:
        session(f"sc://127.0.0.1:{port}", timeout_s=2)
    _one_sentence(err)


def test_an_endpoint_that_is_not_spark_connect_is_one_sentence() -> None:
    with _server(b"HTTP/1.1 400 Bad Request\r\n\r\n") as port, pytest.raises(
            LakeError, match=rf"^The Spark Connect endpoint sc://127.0.0.1:{port} did not answer as a Spark Connect "
                             r"server \(.+\); check TANDEM_SPARK_REMOTE\.$") as err:
        session(f"sc://127.0.0.1:{port}", timeout_s=5)
    _one_sentence(err)


def test_a_standalone_master_that_is_down_and_a_missing_java_are_one_sentence(monkeypatch: pytest.MonkeyPatch,
                                                                             tmp_path: Path) -> None:
    port = _closed_port()
    with pytest.raises(LakeError, match=rf"^The Spark endpoint spark://127.0.0.1:{port} does not answer") as err:
        session(f"spark://127.0.0.1:{port}")
    _one_sentence(err)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # a Java home without a java
    with pytest.raises(LakeError, match=r"^Spark needs Java and none is installed; install Java 17 or 21 \(Debian: "
                                        r"apt-get install default-jre-headless\) or set TANDEM_SPARK_REMOTE\.$") as err:
        session("local[2]")
    _one_sentence(err)
    (tmp_path / "bin").mkdir()
    java = tmp_path / "bin" / "java"
    java.write_text('#!/bin/sh\necho \'openjdk version "11.0.2" 2019-01-15\' >&2\n')
    java.chmod(0o755)
    with pytest.raises(LakeError, match=r"Spark needs Java 17 or later and .*/bin/java is Java 11; install") as err:
        session("local[2]")
    _one_sentence(err)
