"""The dashboard with TANDEM_ENGINE=spark: the pages read through reports/source.py, which picks the engine from the
settings, so the overview shows the same hand-computed values from a lake on Spark as from the database file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from store import lake
from store.db import reading
from tests.test_app import app, metrics
from tests.test_cli_lake import _missing_month, _silent_endpoint, _unknown_schema

pytestmark = [pytest.mark.spark, pytest.mark.apptest]


def test_the_overview_on_spark_shows_the_hand_computed_values(spark: SparkSession, golden_db: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with reading(golden_db) as con:
        lake.export(con, tmp_path / "lake")
    monkeypatch.delenv("TANDEM_SPARK_REMOTE", raising=False)  # the test session's local Spark
    monkeypatch.setenv("TANDEM_ENGINE", "spark")
    monkeypatch.setenv("TANDEM_LAKE", str(tmp_path / "lake"))
    at = app(golden_db, monkeypatch, period="2026-01")
    # as tests/test_app.py on the file: savings finance 300 − 500 = −200, procurement 20 + 40 = 60; inventory days
    assert metrics(at)[:4] == [("Finance", "−EUR 200"), ("Procurement", "EUR 60"),
                               ("Finance", "41.0 days"), ("Procurement", "20.0 days")]
    at.multiselect(key="category").set_value(["IT"]).run()
    assert not at.exception
    assert metrics(at)[:2] == [("Finance", "−EUR 10"), ("Procurement", "EUR 20")]


@pytest.mark.parametrize("bad", [_missing_month, _unknown_schema, _silent_endpoint],
                         ids=["missing-month", "unknown-schema-version", "endpoint-that-does-not-answer"])
def test_the_overview_on_a_lake_that_cannot_serve_says_why_in_one_sentence(bad, golden_db: Path,  # noqa: ANN001
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard with TANDEM_ENGINE=spark says what tests/test_cli_lake.py's commands say (before Spark is
    asked: no session is started for it), as the page's one error, with no traceback and no numbers."""
    with reading(golden_db) as con:
        lake.export(con, tmp_path / "lake")
    env, said = bad(tmp_path / "lake")
    monkeypatch.delenv("TANDEM_SPARK_REMOTE", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("TANDEM_ENGINE", "spark")
    monkeypatch.setenv("TANDEM_LAKE", str(tmp_path / "lake"))
    at = app(golden_db, monkeypatch)
    assert len(at.error) == 1 and at.error[0].value.startswith(said), [e.value for e in at.error]
    assert not at.exception and not at.metric
