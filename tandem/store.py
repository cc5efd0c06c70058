"""Read access for the app: short-lived read-only connections, so a load from the CLI is never blocked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from tandem.db import connect, frame

WAIT_S = 5.0  # a load commits in well under this; longer means a load is still running


@contextmanager
def reading(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection that is closed as soon as the caller is done.

    DuckDB lets one process write; a reader that keeps the file open blocks a load, and opening
    read-only fails while a load holds the file. So readers open, read and close, and wait briefly
    while a load is committing.
    """
    con = connect(db, read_only=True, wait_s=WAIT_S)
    try:
        yield con
    finally:
        con.close()


def read(db: Path, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """Run one read query on a short-lived read-only connection (an empty frame before any load)."""
    with reading(db) as con:
        try:
            return frame(con, sql, params)
        except duckdb.CatalogException:
            return pl.DataFrame()


SQL_DIR = Path(__file__).parent / "sql"


def named(db: Path, name: str, params: list | dict | None = None) -> pl.DataFrame:
    """Run the named query `tandem/sql/<name>.sql`."""
    return read(db, (SQL_DIR / f"{name}.sql").read_text(), params)
