"""Opening the DuckDB file with clear errors, short-lived readers, transactions and query helpers.

Opening never changes the file: tables are created by a writer's explicit `tables.ensure`, and nothing
here knows what the tables mean.
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NoReturn

import duckdb
import polars as pl

from store import gate
from store.errors import FAILURE, Busy, TandemError

READ_WAIT_S = 5.0  # a load commits in well under this; longer means a load is still running


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
            _raise_open_error(path, exc, read_only)
        except duckdb.Error as exc:
            _raise_open_error(path, exc, read_only)
    session(con)
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    return con


def session(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The settings every Tandem connection runs with (in-memory ones too)."""
    # DuckDB draws a progress bar on stdout for long queries, which would corrupt `tandem kpis --format json`.
    con.execute("SET enable_progress_bar = false")
    # Timestamps (the contract's `ts`) are instants; the date and month of one are its date and month in UTC,
    # whatever the machine's zone (DuckDB's default), so a month-end approval lands in the same month everywhere.
    con.execute("SET TimeZone = 'UTC'")
    return con


def _raise_open_error(path: Path, exc: duckdb.Error, read_only: bool = False) -> NoReturn:
    raise problem(exc, path, read_only) or TandemError(
        f"Database {path} could not be opened: {str(exc).splitlines()[0]}", FAILURE) from None


def problem(exc: BaseException, path: Path | str | None = None, read_only: bool = False) -> TandemError | None:
    """What a DuckDB error about the file itself means for the user, in one sentence (None: not about the file).

    The words matter: a read-only folder must not read as "not a database file", which invites replacing a
    healthy file.
    """
    text = str(exc)
    low = text.lower()
    # DuckDB's first line without its class prefix ("IO Error: ", "Serialization Error: "): the sentence is ours.
    first = re.sub(r"^[A-Za-z ]*(Error|Exception): ", "", text.splitlines()[0]) if text else type(exc).__name__
    name = f"Database {path}" if path is not None else "The database"
    if "lock" in low and ("conflicting" in low or "could not set lock" in low):
        pid = re.search(r"PID (\d+)", text)
        who = f" (process {pid.group(1)})" if pid else ""
        return Busy(f"{name} is in use by another process{who}; wait for its load to finish and try again.")
    if "different configuration" in low:  # this process writes while it reads (store/gate.py keeps them apart)
        return Busy(f"{name} is being written by this server; wait for its load to finish and try again.")
    if "permission denied" in low or "read-only file system" in low:
        what = "read" if read_only else "written"
        return TandemError(f"{name} cannot be {what} by this user (permission denied or a read-only folder); the "
                           "file itself is not damaged: fix the permissions of the file and its folder, or set "
                           "TANDEM_DB (or --db) to a writable place.", FAILURE)
    if "no space left" in low or "disk full" in low or "not enough space" in low:
        return TandemError(f"The disk holding {'the database' if path is None else path} is full; nothing was "
                           "changed: free some space and try again.", FAILURE)
    if "out of memory" in low or "failed to pin block" in low:
        return TandemError("The load needs more memory than DuckDB may use here (TANDEM_MEMORY_LIMIT); nothing was "
                           "changed: raise the limit (e.g. TANDEM_MEMORY_LIMIT=4GB) if the machine has the memory, "
                           "or load the export in smaller files.", FAILURE)
    if "not a valid duckdb" in low:
        return TandemError(f"{name} is not a DuckDB database file ({first}); check TANDEM_DB (or --db), or move "
                           "the file aside and load the exports again.", FAILURE)
    if any(w in low for w in ("corrupt", "checksum", "could not read enough bytes", "serialization error")):
        return TandemError(f"{name} is damaged or truncated ({first}); restore it from a backup (docs/serving.md, "
                           "Backups), or move it aside and load the exports again.", FAILURE)
    return None


@contextmanager
def reading(db: Path | str, wait_s: float = READ_WAIT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection that is closed as soon as the caller is done (inside `one_reader`, the thread's
    one connection to `db`, closed when that block ends).

    DuckDB lets one process write; a reader that keeps the file open blocks a load, and opening
    read-only fails while a load holds the file. So readers open, read and close, and wait briefly
    while a load is committing.
    """
    held: dict[Path, tuple[duckdb.DuckDBPyConnection, ExitStack]] | None = getattr(_held, "cons", None)
    if held is not None:
        key = Path(db).resolve()
        if key not in held:
            turn = ExitStack()
            turn.enter_context(gate.read_turn(min(wait_s, gate.READER_WAIT_S)))
            try:
                held[key] = (connect(db, read_only=True, wait_s=wait_s), turn)
            except BaseException:
                turn.close()
                raise
        try:
            yield held[key][0]
        except duckdb.Error as exc:
            raise problem(exc, db, read_only=True) or exc from None
        return
    with gate.read_turn(min(wait_s, gate.READER_WAIT_S)):  # never while this process writes (store/gate.py)
        con = connect(db, read_only=True, wait_s=wait_s)
        try:
            yield con
        except duckdb.Error as exc:  # a damaged block shows only when a query reads it
            raise problem(exc, db, read_only=True) or exc from None
        finally:
            con.close()


_held = threading.local()  # `cons`: this thread's open readers inside one_reader, by file


@contextmanager
def one_reader() -> Iterator[None]:
    """The reads of this thread inside the block share one read-only connection per file, opened at the first
    read and closed when the block ends, or as soon as this thread starts a write (gate.write_turn).

    A page's run reads a dozen times; opening the file costs 15-20 ms each time (a quarter of the Overview's
    first render at 10M lines). The connection is held for one run of a page (about a second), which a load of
    another process or thread waits out as it waits out a query.
    """
    if getattr(_held, "cons", None) is not None:  # already inside one: the outer block closes it
        yield
        return
    _held.cons = {}
    gate.before_writing(_release)
    try:
        yield
    finally:
        gate.before_writing(None)
        _release()
        _held.cons = None


def _release() -> None:
    """Close this thread's held readers and give back their read turns (a write of this thread comes next)."""
    cons = getattr(_held, "cons", None) or {}
    for con, turn in cons.values():
        try:
            con.close()
        finally:
            turn.close()
    cons.clear()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Every write inside in one transaction: a failure or a kill at any point leaves the database as it was."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """A query's result as a polars frame; values only ever travel as parameters.

    Through the connection, not a relation (`con.sql`): DuckDB's relation reads the text in Python and binds it
    twice, a third of a small query's time. Its warning that Arrow output this way copies the rows once more is
    silenced below: for the few hundred rows of a KPI answer the copy costs nothing next to the bind it saves."""
    table = con.execute(sql, params or None).to_arrow_table()
    names = table.column_names
    if len({n.lower() for n in names}) < len(names):  # a relation named them apart: line, line_1, Line_2
        seen: set[str] = set()
        unique = []
        for name in names:
            new, k = name, 0
            while new.lower() in seen:
                k += 1
                new = f"{name}_{k}"
            seen.add(new.lower())
            unique.append(new)
        table = table.rename_columns(unique)
    return pl.from_arrow(table)


warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> object:
    rows = con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()
    return rows[0][0] if rows else None


def read(db: Path | str, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """Run one read query on a short-lived read-only connection (an empty frame before any load)."""
    with reading(db) as con:
        try:
            return frame(con, sql, params)
        except duckdb.CatalogException:
            return pl.DataFrame()
