"""Opening the DuckDB file with clear errors, and the tables Tandem keeps in it."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import NoReturn

import duckdb
import polars as pl

from kpi_definitions import facts
from pipelines.errors import FAILURE, TandemError
from pipelines.schemas import DUCKDB_TYPES, EXPORTS
from pipelines.sqltext import ident
from tandem.config import settings

META_DDL = """
CREATE SEQUENCE IF NOT EXISTS load_id_seq START 1;
CREATE TABLE IF NOT EXISTS load_log (
    load_id BIGINT PRIMARY KEY, file_name VARCHAR, file_path VARCHAR, content_hash VARCHAR,
    export_type VARCHAR, mapping VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_replaced BIGINT,
    rows_quarantined BIGINT, started_at TIMESTAMP, finished_at TIMESTAMP, outcome VARCHAR, message VARCHAR);
CREATE TABLE IF NOT EXISTS quarantine (
    load_id BIGINT, file_name VARCHAR, export_type VARCHAR, line BIGINT, column_name VARCHAR,
    rule VARCHAR, value VARCHAR, record VARCHAR);
CREATE TABLE IF NOT EXISTS dq_findings (
    export_type VARCHAR, rule VARCHAR, subject VARCHAR, rows BIGINT, detail VARCHAR, found_at TIMESTAMP);
CREATE SEQUENCE IF NOT EXISTS review_seq START 1;
CREATE TABLE IF NOT EXISTS reviews (review_id BIGINT PRIMARY KEY, held_on DATE, started_at TIMESTAMP, period VARCHAR);
CREATE TABLE IF NOT EXISTS review_kpis (review_id BIGINT, kpi VARCHAR, view VARCHAR, period VARCHAR, value DOUBLE);
CREATE TABLE IF NOT EXISTS review_findings (review_id BIGINT, export_type VARCHAR, rule VARCHAR, subject VARCHAR);
CREATE SEQUENCE IF NOT EXISTS review_item_seq START 1;
CREATE TABLE IF NOT EXISTS review_items (
    item_id BIGINT PRIMARY KEY, review_id BIGINT, kpi VARCHAR, kind VARCHAR, text VARCHAR, owner VARCHAR,
    due_date DATE, status VARCHAR, created_at TIMESTAMP, closed_at TIMESTAMP);
"""


def export_ddl() -> str:
    """A table per export type, but invoices: their lines are stored with their KPI facts (facts.create_store)."""
    stmts = []
    for spec in EXPORTS.values():
        if spec.name == "invoices":
            continue
        cols = ", ".join(f"{ident(c.name)} {DUCKDB_TYPES[c.type]}" for c in spec.columns)
        stmts.append(f"CREATE TABLE IF NOT EXISTS {spec.name} ({cols}, _load_id BIGINT);")
    return "\n".join(stmts)


def connect(path: Path | str, read_only: bool = False, memory_limit: str | None = None, wait_s: float = 0.0
            ) -> duckdb.DuckDBPyConnection:
    """Open the database, turning DuckDB's lock and format errors into one clear sentence.

    DuckDB locks the file for one writing process, and a reader's open blocks a writer for as long as it
    lasts. The app's readers only hold it for a query, so both sides wait up to `wait_s` for the lock
    before saying who holds it.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise TandemError(f"Database {path} does not exist yet; run `tandem demo` or `tandem ingest` first.",
                          FAILURE)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower() and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            _raise_open_error(path, exc)
        except duckdb.Error as exc:
            raise TandemError(f"Database {path} could not be opened: {str(exc).splitlines()[0]}", FAILURE) from None
    # DuckDB draws a progress bar on stdout for long queries, which would corrupt `tandem kpis --format json`.
    con.execute("SET enable_progress_bar = false")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if not read_only:
        ccy = settings().reporting_currency
        create_tables(con, ccy)
        # a new database, one made before the facts existed, or a changed reporting currency
        if facts.missing(con) or facts.currency_of(con) != ccy:
            facts.refresh(con, ccy)
    return con


def create_tables(con: duckdb.DuckDBPyConnection, currency: str) -> None:
    """Every table Tandem keeps, where missing (and the invoice lines moved into their facts table)."""
    con.execute(META_DDL + export_ddl())
    facts.create_store(con, currency)


def _raise_open_error(path: Path, exc: duckdb.IOException) -> NoReturn:
    text = str(exc)
    if "lock" in text.lower():
        pid = re.search(r"PID (\d+)", text)
        who = f" (process {pid.group(1)})" if pid else ""
        raise TandemError(
            f"Database {path} is in use by another process{who}; wait for its load to finish and try again.",
            FAILURE,
        ) from None
    raise TandemError(f"Database {path} is not a DuckDB database file ({text.splitlines()[0]}).", FAILURE) from None


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """A query's result as a polars frame; values only ever travel as parameters."""
    return con.sql(sql, params=params).pl() if params else con.sql(sql).pl()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> object:
    rows = con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()
    return rows[0][0] if rows else None
