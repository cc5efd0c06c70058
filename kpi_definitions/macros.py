"""The SQL every KPI query shares (sql/macros.sql): the month index, the reporting-currency conversion, FX
rates by month and the dimension filter, as temporary macros.

A TEMP macro lives in the connection, not in the file: creating one is allowed on a read-only connection
and changes nothing on disk, and DuckDB expands it where it is called when the query is bound (a call
costs what the written-out expression costs). Every entry of the KPI layer that runs SQL calls `ensure`
on its connection first.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from store.sql import Queries

SQL = Queries(Path(__file__).parent / "sql")
NAME = "macros"


def text() -> str:
    """The statements that create the macros (put in front of a query printed by `explain`)."""
    return SQL[NAME]


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or re-create: they are `OR REPLACE`) the macros on this connection; about 2 ms."""
    con.execute(text())
