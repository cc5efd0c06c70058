"""`tandem lake export DIR` and `tandem lake check DIR` (cli/lake.py): the lake written from the database, checked
against its manifest, its row rules checked on Spark, and the sentences for a lake or an endpoint that cannot
serve (never a traceback, within seconds)."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def _lake(golden_db: Path, tmp_path: Path) -> Path:
    result = runner.invoke(app, ["lake", "export", str(tmp_path / "lake"), "--db", str(golden_db)])
    assert result.exit_code == 0, result.output
    assert "wrote the lake at" in result.stdout
    return tmp_path / "lake"


def test_export_writes_a_lake_the_manifest_check_accepts(golden_db: Path, tmp_path: Path) -> None:
    lake = _lake(golden_db, tmp_path)
    doc = json.loads((lake / "manifest.json").read_text())
    # tests/golden/exports: 5 + 4 + 1 invoice lines in 2026, 2 + 2 in 2025 (tests/golden/cases.yaml)
    assert doc["tables"]["fact_invoices"]["rows"] == 14
    result = runner.invoke(app, ["lake", "check", str(lake), "--engine", "duckdb"])
    assert result.exit_code == 0, result.output
    assert "matches its manifest" in result.stdout and "--engine spark" in result.stdout


def test_export_without_a_database_and_a_check_of_a_damaged_lake_are_one_sentence(golden_db: Path,
                                                                                  tmp_path: Path) -> None:
    result = runner.invoke(app, ["lake", "export", str(tmp_path / "lake"), "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "No database at" in result.stderr
    lake = _lake(golden_db, tmp_path)
    shutil.rmtree(lake / "fact_invoices" / "month=2026-02")
    result = runner.invoke(app, ["lake", "check", str(lake)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is missing month 2026-02 of fact_invoices (the manifest counts 4 rows there)" in result.stderr
    manifest = json.loads((lake / "manifest.json").read_text()) | {"schema_version": 99}
    (lake / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["kpis", "--engine", "spark", "--lake", str(lake), "--db", str(golden_db)])
    assert result.exit_code == 1 and "has schema version 99" in result.stderr


def test_a_spark_endpoint_that_does_not_answer_is_one_sentence(golden_db: Path, tmp_path: Path) -> None:
    lake = _lake(golden_db, tmp_path)
    # port 9 (discard) on this machine: nothing listens, the TCP connect is refused at once
    env = {"TANDEM_SPARK_REMOTE": "sc://127.0.0.1:9"}
    for args in (["lake", "check", str(lake)], ["kpis", "--engine", "spark", "--lake", str(lake), "--db",
                                                str(golden_db)]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1 and "Traceback" not in result.output, args
        assert "The Spark endpoint sc://127.0.0.1:9 does not answer" in result.stderr, args


def _closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing_month(lake: Path) -> tuple[dict[str, str], str]:
    shutil.rmtree(lake / "fact_invoices" / "month=2026-02")
    return {}, f"The lake at {lake} is missing month 2026-02 of fact_invoices (the manifest counts 4 rows there)"


def _unknown_schema(lake: Path) -> tuple[dict[str, str], str]:
    manifest = json.loads((lake / "manifest.json").read_text()) | {"schema_version": 99}
    (lake / "manifest.json").write_text(json.dumps(manifest))
    return {}, f"The lake at {lake} has schema version 99"


def _silent_endpoint(lake: Path) -> tuple[dict[str, str], str]:
    port = _closed_port()
    return ({"TANDEM_SPARK_REMOTE": f"sc://127.0.0.1:{port}"},
            f"The Spark endpoint sc://127.0.0.1:{port} does not answer (127.0.0.1:{port}: Connection refused)")


@pytest.mark.parametrize("bad", [_missing_month, _unknown_schema, _silent_endpoint],
                         ids=["missing-month", "unknown-schema-version", "endpoint-that-does-not-answer"])
def test_every_command_on_spark_says_what_cannot_serve_in_one_sentence(bad, golden_db: Path,  # noqa: ANN001
                                                                      tmp_path: Path) -> None:
    """kpis, bridge, pack and lake check with the spark engine: the lake is checked against its manifest and the
    endpoint is reached by a plain TCP connect before Spark is asked, so each says one sentence (exit status 1)."""
    lake = _lake(golden_db, tmp_path)
    env, said = bad(lake)
    spark = ["--db", str(golden_db), "--engine", "spark", "--lake", str(lake)]
    pdf = tmp_path / "review.pdf"
    for args in (["kpis", *spark], ["bridge", "--kpi", "savings", *spark],
                 ["pack", "--period", "2026-03", "-o", str(pdf), *spark], ["lake", "check", str(lake)]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1 and "Traceback" not in result.output, (args, result.output)
        assert result.stderr.startswith(f"error: {said}") and result.stderr.count("\n") == 1, (args, result.stderr)
        assert result.stdout == "", args
    assert not pdf.exists()  # the pack wrote nothing


@pytest.mark.spark
def test_check_on_spark_reports_a_clean_lake(spark: SparkSession, golden_db: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANDEM_SPARK_REMOTE", raising=False)  # the test session's local Spark
    lake = _lake(golden_db, tmp_path)
    result = runner.invoke(app, ["lake", "check", str(lake), "--engine", "spark"])
    assert result.exit_code == 0, result.output
    assert "keeps every row rule of the export contract" in result.stdout
