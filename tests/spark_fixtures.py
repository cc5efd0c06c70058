"""One local Spark session for the whole test session (a JVM start costs 10-40 s here), shared by every test
marked `spark`: local[2], two shuffle partitions, no UI, errors-only logs, a temporary warehouse, bound to
127.0.0.1. Tests never change its configuration, so one test cannot make another flaky."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """The session's local Spark (started by the first test that asks for it, stopped at the end)."""
    from store.lake_spark import LOCAL, session

    # LOCAL, not $TANDEM_SPARK_REMOTE: the tests run on this machine whatever the developer's settings.
    s = session(LOCAL, warehouse=tmp_path_factory.mktemp("spark-warehouse"))
    yield s
    s.stop()
