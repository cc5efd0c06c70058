"""One owner of the schema: each layer declares its persistent tables as numbered migrations (`Schema`), and a
writer runs the ones a database has not seen yet, in order, in one transaction, when it opens the file
(`migrate`). The table `schema_version` records, per layer, the last migration applied.

An older database upgrades by running what it lacks; a database written by a newer Tandem (a layer at a version
this one does not know) is refused with a sentence, before anything is changed. Derived tables (the KPI facts)
are not migrated: they are rebuilt from the data (kpi_definitions/facts.py).

The first migration of each layer creates its tables with `IF NOT EXISTS` and adds the columns later releases
added with `ADD COLUMN IF NOT EXISTS`, so a database from before `schema_version` existed upgrades too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from store.db import transaction
from store.errors import FAILURE, TandemError

VERSIONS_DDL = ("CREATE TABLE IF NOT EXISTS schema_version ("
                "layer VARCHAR PRIMARY KEY, version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)")


class SchemaTooNew(TandemError):
    """A database written by a newer Tandem than this one."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FAILURE)


@dataclass(frozen=True)
class Migration:
    """One numbered change to a layer's tables: SQL text, or a function of the connection (for DDL generated
    from declarations)."""

    version: int
    does: str  # what it changes, in words
    run: str | Callable[[duckdb.DuckDBPyConnection], None]


@dataclass(frozen=True)
class Schema:
    """A layer's persistent tables as the migrations that make them, numbered 1, 2, ... without gaps."""

    layer: str
    migrations: tuple[Migration, ...]

    def __post_init__(self) -> None:
        numbers = [m.version for m in self.migrations]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"{self.layer}: migrations must be numbered 1..n in order, not {numbers}")

    @property
    def version(self) -> int:
        return len(self.migrations)

    @classmethod
    def from_folder(cls, layer: str, folder: Path,
                    extra: Sequence[Migration] = ()) -> Schema:
        """The layer's migrations from `folder/NNN_what_it_does.sql` (numbered from 001), plus `extra` ones
        given as functions (merged by number)."""
        found = [Migration(int(p.name[:3]), p.stem[4:].replace("_", " "), p.read_text(encoding="utf-8"))
                 for p in sorted(folder.glob("[0-9][0-9][0-9]_*.sql"))]
        return cls(layer, tuple(sorted([*found, *extra], key=lambda m: m.version)))


def versions(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The version of each layer recorded in the database ({} before any migration ran)."""
    if not con.execute("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'schema_version'"
                       ).fetchall():
        return {}
    return dict(con.execute("SELECT layer, version FROM schema_version").fetchall())


def migrate(con: duckdb.DuckDBPyConnection, schemas: Sequence[Schema]) -> list[str]:
    """Bring every layer's tables up to date (a writer's first step); returns what was applied, in words.

    Nothing is changed when the database is newer than this Tandem, or when a migration fails part-way."""
    seen = versions(con)
    for s in schemas:
        if seen.get(s.layer, 0) > s.version:
            raise SchemaTooNew(
                f"This database was written by a newer Tandem: its {s.layer} tables are at version "
                f"{seen[s.layer]}, and this Tandem knows up to {s.version}. Upgrade Tandem to open it for writing "
                "(reading it with this version may show incomplete data).")
    pending = [(s, m) for s in schemas for m in s.migrations if m.version > seen.get(s.layer, 0)]
    if not pending:
        return []
    with transaction(con):
        con.execute(VERSIONS_DDL)
        for s, m in pending:
            if callable(m.run):
                m.run(con)
            else:
                con.execute(m.run)
            con.execute("INSERT OR REPLACE INTO schema_version VALUES (?, ?, now())", [s.layer, m.version])
    return [f"{s.layer} {m.version}: {m.does}" for s, m in pending]
