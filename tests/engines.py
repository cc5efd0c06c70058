"""The engines the KPI conformance suite runs on: the golden cases (tests/golden), the bridges and the agreed view
must give the same numbers on each. DuckDB on the database file, and Spark in local mode on the lake exported from
that file (store/lake.py): the same expected numbers, no copy of a query. Spark's cases carry the `spark` marker
(`-m "not spark"` skips them on a machine without Java; CI runs them)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kpi_definitions.engine import Engine
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.registry import Registry, registry
from store.db import connect

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]
NAMES = ("duckdb", "spark")

Make = Callable[..., Engine]  # make(reg=None, calendar=None, currency="EUR") -> an engine on the test's data


@contextmanager
def engine_on(name: str, db: Path, spark: SparkSession | None = None) -> Iterator[Make]:
    """A maker of engines of kind `name` on the database file `db`: DuckDB reads the file (one connection for the
    block); Spark reads a lake exported from it, on `spark` (the test session's, `tests/spark_fixtures.py`)."""
    if name not in NAMES:
        raise ValueError(f"no engine {name!r} to test (known: {', '.join(NAMES)})")
    con = connect(db, read_only=True)
    try:
        if name == "duckdb":
            def make(reg: Registry | None = None, calendar: FiscalCalendar | None = None,
                     currency: str = "EUR") -> Engine:
                return Engine(con, reg or registry(), currency=currency, calendar=calendar, dialect=name)

            yield make
            return
        from kpi_definitions.engine_spark import SparkEngine, SparkLake
        from store import lake
        from store.lake_spark import LOCAL, session

        with tempfile.TemporaryDirectory(prefix="tandem-lake-") as tmp:
            lake.export(con, Path(tmp) / "lake")
            opened = SparkLake(spark or session(LOCAL), Path(tmp) / "lake")

            def make_spark(reg: Registry | None = None, calendar: FiscalCalendar | None = None,
                           currency: str = "EUR") -> Engine:
                return SparkEngine(opened, reg or registry(), currency=currency, calendar=calendar)

            yield make_spark
    finally:
        con.close()


def spark_of(request: pytest.FixtureRequest) -> SparkSession | None:
    """The test session's Spark when a fixture is parametrised with the spark engine (started on first use)."""
    return request.getfixturevalue("spark") if request.param == "spark" else None
