"""Where a load's rows go: the interface between ingestion and whatever keeps derived data current.

Ingestion stores rows through a sink and tells it what it loaded, inside the load's transaction; it
never knows what the sink derives. `PlainSink` stores each export in its own table and derives nothing.
"""

from __future__ import annotations

from typing import Protocol

import duckdb

from store.sqltext import ident


class Sink(Protocol):
    def table_of(self, export_type: str) -> str:
        """The table an export type's rows are stored in (and replaced in, by key)."""
        ...

    def insert(self, con: duckdb.DuckDBPyConnection, export_type: str, rows: str) -> int:
        """Store `rows` (a relation of the export's columns and `_load_id`); the number stored."""
        ...

    def loaded(self, con: duckdb.DuckDBPyConnection, export_type: str) -> None:
        """Rows of `export_type` were stored or replaced, inside the load's still-open transaction."""
        ...


class PlainSink:
    """Each export type in its own table; nothing derived."""

    def table_of(self, export_type: str) -> str:
        return ident(export_type)

    def insert(self, con: duckdb.DuckDBPyConnection, export_type: str, rows: str) -> int:
        # by name: a column a later release added to an existing table sits at its end (store/tables.py ensure)
        return int(con.execute(f"INSERT INTO {self.table_of(export_type)} BY NAME SELECT * FROM {rows}"
                               ).fetchall()[0][0])

    def loaded(self, con: duckdb.DuckDBPyConnection, export_type: str) -> None:
        return None


PLAIN = PlainSink()
