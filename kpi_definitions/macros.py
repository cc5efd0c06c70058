"""What became of the SQL macros: nothing to create on a connection any more.

The KPI SQL calls a small function library per engine (kpi_definitions/dialects/), rendered into each query's text
when the query is built, so a query printed by `explain` is exactly what runs and needs nothing created first.
`text()` and `ensure()` stay for the callers that still print or create the macros; they say so and do nothing.
"""

from __future__ import annotations

import duckdb

NOTE = ("-- No macros: every function of the SQL library is written out in each query for its engine "
        "(kpi_definitions/dialects/).")


def text() -> str:
    """What to print in front of the queries of `explain`: a note, since there is nothing to create."""
    return NOTE


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Nothing to create: kept so that callers from before the function library still run."""
