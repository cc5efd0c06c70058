"""Shared fixtures: a fresh DuckDB file per test and writers for small export files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.spark_fixtures import spark  # noqa: F401  (the session's one local Spark, for tests marked spark)
from workspace.db import connect


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tandem.duckdb"


@pytest.fixture
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(db_path)
    yield c
    c.close()


def write(path: Path, text: str) -> Path:
    """Write a CSV exactly as given (no trailing-newline or quoting fix-ups)."""
    path.write_text(text, encoding="utf-8", newline="")
    return path


def table(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    return con.sql(f"SELECT * EXCLUDE (_load_id) FROM {name}").pl()


GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def golden_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built exports of tests/golden, loaded through the real ingestion into a DuckDB file."""
    from workspace.db import ingest_file

    path = tmp_path_factory.mktemp("golden") / "golden.duckdb"
    c = connect(path)
    try:
        for f in sorted((GOLDEN / "exports").iterdir()):
            result = ingest_file(c, f)
            assert result.ok and result.rows_quarantined == 0, f"{f.name}: {result.outcome}"
    finally:
        c.close()
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo exports (`tandem demo`), loaded into a DuckDB file; copy it before writing to it."""
    from workspace.db import ingest_file
    from workspace.demo import write_demo

    folder = tmp_path_factory.mktemp("demo")
    db = folder / "tandem.duckdb"
    c = connect(db)
    try:
        for f in write_demo(folder / "exports"):
            ingest_file(c, f)
    finally:
        c.close()
    return db
