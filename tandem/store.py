"""Read access for the app: short-lived read-only connections, so a load from the CLI is never blocked."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import polars as pl

from pipelines.errors import TandemError
from tandem.db import connect, frame

RETRIES = 20


def read(db: Path, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """Run one read query and close the file at once.

    DuckDB lets one process write; a reader that keeps the file open blocks a load, and opening
    read-only fails while a load holds the file. So each read opens, reads and closes, and retries
    briefly while a load is committing.
    """
    for attempt in range(RETRIES):
        try:
            con = connect(db, read_only=True)
        except TandemError:
            if attempt == RETRIES - 1 or not Path(db).exists():
                raise
            time.sleep(0.25)
            continue
        try:
            return frame(con, sql, params)
        except duckdb.CatalogException:
            return pl.DataFrame()
        finally:
            con.close()
    raise AssertionError("unreachable")


SQL_DIR = Path(__file__).parent / "sql"


def named(db: Path, name: str, params: list | dict | None = None) -> pl.DataFrame:
    """Run the named query `tandem/sql/<name>.sql`."""
    return read(db, (SQL_DIR / f"{name}.sql").read_text(), params)
