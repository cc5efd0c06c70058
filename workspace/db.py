"""Where the layers meet for the face and the CLI: a writer with every table ready, loads that keep the KPI
facts current, and the named queries of what was loaded (`workspace/sql/`)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from decisions import ledger
from decisions import schema as decisions_schema
from kpi_definitions import facts
from store import db as store_db
from store import schema, tables
from store.config import settings
from store.sql import Queries

if TYPE_CHECKING:  # ingestion (pandera, pandas) is imported only by the commands that load
    from pipelines.archive import Limits
    from pipelines.load import LoadResult, Progress
    from pipelines.mappings import Mapping

QUERIES = Queries(Path(__file__).parent / "sql")


def connect(path: Path | str, read_only: bool = False, memory_limit: str | None = None, wait_s: float = 0.0
            ) -> duckdb.DuckDBPyConnection:
    """Open the database; a writer also gets every table that is missing (never a rebuild of the facts)."""
    con = store_db.connect(path, read_only=read_only, memory_limit=memory_limit, wait_s=wait_s)
    if not read_only:
        try:
            prepare(con)
        except BaseException:
            con.close()
            raise
    return con


SCHEMAS = (tables.SCHEMA, decisions_schema.SCHEMA)  # every layer's numbered migrations, in dependency order


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Every layer's tables up to date (store/schema.py: an older database upgrades, a newer one is refused), the
    export tables of the declarations, and the KPI facts' tables where missing."""
    schema.migrate(con, SCHEMAS)
    tables.ensure(con)
    facts.prepare(con, settings().reporting_currency)


class WorkspaceSink(facts.FactsSink):
    """The KPI facts kept current (FactsSink), and the savings ledger told of initiatives a file stored: each new or
    changed one gets a version recorded by whoever loaded it (decisions/ledger.py), in the load's transaction."""

    def loaded(self, con: duckdb.DuckDBPyConnection, export_type: str) -> None:
        super().loaded(con, export_type)
        if export_type == ledger.EXPORT:
            load_id = con.execute("SELECT max(load_id) FROM load_log WHERE export_type = ?", [export_type]).fetchall()
            ledger.note_export(con, int(load_id[0][0]))


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, export_type: str | None = None,
                mapping: Mapping | None = None, allow_partial: bool = False, encoding: str | None = "utf-8",
                reporting_currency: str | None = None, progress: Progress | None = None, who: str | None = None
                ) -> LoadResult:
    """Load one file (pipelines.load.ingest_file) with the KPI facts kept current in its transaction."""
    from pipelines.load import ingest_file as load

    cfg = settings()
    ccy = reporting_currency or cfg.reporting_currency
    result = load(con, path, export_type, mapping, allow_partial, encoding, ccy, progress, sink=WorkspaceSink(ccy),
                  limits=limits(), who=who or f"{getpass.getuser()} (command line)")
    if cfg.lake is not None and result.ok:  # TANDEM_LAKE: the lake follows every load (the months it changed)
        from store import lake
        from store.errors import LakeError

        try:
            lake.refresh_lake(con, cfg.lake)
        except LakeError as exc:
            raise LakeError(f"{path.name} is loaded, but the lake was not brought up to date: {exc.message}") from None
    return result


def limits() -> Limits:
    """What one file may cost before it is read (pipelines/archive.py), from the settings (TANDEM_MAX_XLSX_*):
    every path that reads a file passes these (a load, a check, a draft, the Data page)."""
    from pipelines.archive import Limits

    cfg = settings()
    return Limits(xlsx_unpacked_mb=cfg.max_xlsx_unpacked_mb, xlsx_rows=cfg.max_xlsx_rows, xlsx_ratio=cfg.max_xlsx_ratio)


def named(db: Path, name: str, params: list | dict | None = None) -> pl.DataFrame:
    """Run the named query `workspace/sql/<name>.sql` on a short-lived reader; `freshness` is written from the
    export declarations (pipelines/freshness.py), so a newly declared export type is on the Data page too."""
    if name == "freshness":
        from pipelines.freshness import freshness_sql

        return store_db.read(db, freshness_sql(), params)
    return store_db.read(db, QUERIES[name], params)
