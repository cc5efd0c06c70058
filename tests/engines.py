"""The engines the KPI conformance suite runs on: the golden cases (tests/golden), the bridges and the agreed view
must give the same numbers on each. DuckDB today; a second engine (Spark, issue 29) adds its name to ENGINES and
a branch to `engine_on` that opens it on the same data, and every conformance test runs on it too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kpi_definitions.engine import Engine
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.registry import Registry, registry
from store.db import connect

ENGINES = ["duckdb"]

Make = Callable[..., Engine]  # make(reg=None, calendar=None, currency="EUR") -> an engine on the test's data


@contextmanager
def engine_on(name: str, db: Path) -> Iterator[Make]:
    """A maker of engines of kind `name` on the database file `db` (one connection for the block)."""
    if name != "duckdb":
        raise ValueError(f"no engine {name!r} to test (known: {', '.join(ENGINES)})")
    con = connect(db, read_only=True)

    def make(reg: Registry | None = None, calendar: FiscalCalendar | None = None, currency: str = "EUR") -> Engine:
        return Engine(con, reg or registry(), currency=currency, calendar=calendar, dialect=name)

    try:
        yield make
    finally:
        con.close()
