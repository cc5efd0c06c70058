"""Loading, the last stage, and the compositions of the stages: read -> map -> stage -> validate -> load.

- `ingest_file`: one file into the database in one transaction (the clean path inserts a plain CSV straight
  into its table and checks it there; anything to quarantine sends it through the staged path);
- `load_many`: files one after another, with progress and a result per file (the CLI and the Data page);
- `check_file`: read, map, stage and validate in a private database, nothing loaded (`tandem mapping check`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

import duckdb
import polars as pl

from pipelines import findings
from pipelines.compile import Mapped, map_columns, source_columns
from pipelines.mappings import IDENTITY, Mapping
from pipelines.quarantine import failure_sentence, quarantine
from pipelines.read import DEFAULT_LIMITS, Limits, Source, fingerprint, read, text_codec
from pipelines.schemas import EXPORTS, ExportSpec
from pipelines.stage import STOPPED, Staged, clean_select, plain_csv, stage
from pipelines.validate import FAILURE_SCHEMA, Progress, Validated, clean_rows, validate
from store.db import frame, scalar, transaction
from store.errors import REJECTED, USAGE, TandemError
from store.sink import PLAIN, Sink
from store.sqltext import ident


@dataclass
class LoadResult:
    file: str
    export_type: str
    outcome: str  # loaded | partial | rejected | unchanged
    rows_read: int = 0
    rows_loaded: int = 0
    rows_replaced: int = 0
    rows_quarantined: int = 0
    load_id: int | None = None
    message: str = ""
    failures: pl.DataFrame | None = None  # the first failures, for the summary
    rows_filtered: int = 0  # left out on purpose by the mapping's filters, each with its reason

    @property
    def ok(self) -> bool:
        return self.outcome in ("loaded", "partial", "unchanged")


def export_type_of(path: Path, given: str | None, mapping: Mapping) -> str:
    """--type, else the mapping's type, else the file name's start (`purchase_orders-q1.csv`)."""
    if given:
        if given not in EXPORTS:
            raise TandemError(f"Unknown export type {given!r}; expected one of {', '.join(EXPORTS)}.", USAGE)
        return given
    if mapping.export_type:
        return mapping.export_type
    stem = path.name.lower()
    for name in sorted(EXPORTS, key=len, reverse=True):
        if stem.startswith(name):
            return name
    if mapping.exports:
        raise TandemError(
            f"{path.name}: cannot tell the export type from the file name; mapping {mapping.name!r} describes "
            f"{', '.join(mapping.exports)}: pass --type with one of them.", USAGE)
    raise TandemError(
        f"{path.name}: cannot tell the export type from the file name; name it after one of "
        f"{', '.join(EXPORTS)} or pass --type."
    )


def encoding_of(encoding: str | None, mapping: Mapping) -> str:
    """The text encoding to read with: the caller's, unless it is the default (utf-8, or none given) and the
    mapping names one (`tandem mapping draft` writes the encoding it found)."""
    if encoding is None or (mapping.encoding and text_codec(encoding).name == "utf-8"):
        return mapping.encoding or "utf-8"
    return encoding


def read_file(path: Path, spec: ExportSpec, mapping: Mapping, encoding: str, limits: Limits = DEFAULT_LIMITS,
              fingerprinted: tuple[str, int | None] | None = None) -> Source:
    """Stage 1 for `spec` under `mapping`: the reader looks for the header holding the columns the mapping
    reads, where the mapping's conventions (delimiter, header row, sheet) say."""
    return read(path, encoding, mapping.delimiter, limits, expected=source_columns(mapping, spec),
                header_line=mapping.header_line, sheet=mapping.sheet, fingerprinted=fingerprinted)


def _upsert(con: duckdb.DuckDBPyConnection, spec: ExportSpec, load_id: int, any_invalid: bool, sink: Sink
            ) -> tuple[int, int]:
    """Store the staged rows that passed, replacing stored rows with the same key: (loaded, replaced)."""
    cols = ", ".join(ident(c) for c in spec.column_names)
    valid = "(SELECT * FROM _typed WHERE _line NOT IN (SELECT line FROM _fail))" if any_invalid else "_typed"
    replaced = _delete_same_keys(con, spec, valid, sink)
    return sink.insert(con, spec.name, f"(SELECT {cols}, {load_id} AS _load_id FROM {valid})"), replaced


def _delete_same_keys(con: duckdb.DuckDBPyConnection, spec: ExportSpec, rows: str, sink: Sink,
                      unless: str = "false") -> int:
    """Delete the stored rows that have the key of one of `rows` (and do not match `unless`)."""
    on = " AND ".join(f"t.{ident(k)} = v.{ident(k)}" for k in spec.key)
    table = sink.table_of(spec.name)
    return int(con.execute(f"DELETE FROM {table} t USING {rows} v WHERE {on} AND NOT ({unless})").fetchall()[0][0])


def _unchanged_since(con: duckdb.DuckDBPyConnection, digest: str, export_type: str, mapping: str) -> int | None:
    """The earlier load of this very content, if no load of the same export type came after it."""
    last = frame(
        con,
        "SELECT load_id, content_hash, mapping FROM load_log WHERE export_type = $t "
        "AND outcome IN ('loaded', 'partial') ORDER BY load_id DESC LIMIT 1",
        {"t": export_type},
    )
    if last.height and last["content_hash"][0] == digest and last["mapping"][0] == mapping:
        return int(last["load_id"][0])
    return None


def _drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the connection's temp tables and views of a load (`_raw`, `_raw_csv`, `_typed`, ...)."""
    for name, kind in con.execute(
        "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary AND view_name LIKE '\\_%' ESCAPE '\\' "
        "UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name LIKE '\\_%' ESCAPE '\\'"
    ).fetchall():
        con.execute(f"DROP {kind} IF EXISTS {ident(name)}")


@dataclass
class _Job:
    """One file being loaded: what it holds, how it maps, and what its load log row records."""

    path: Path
    spec: ExportSpec
    mapping: Mapping
    digest: str
    currency: str
    progress: Progress | None
    started: datetime
    sink: Sink
    limits: Limits
    who: str | None  # who loaded it (the face says: a signed-in user, or the command line's user)
    workdir: Path
    mapped: Mapped | None = None  # after stage 2

    @property
    def notes(self) -> str:
        """What reading did that the user should know (a preamble skipped), for the load's message."""
        return "; ".join(self.mapped.source.notes) if self.mapped else ""


class _NotClean(Exception):
    """The clean path met a row to quarantine: roll back and load the file staged."""


def _record(con: duckdb.DuckDBPyConnection, job: _Job, r: LoadResult) -> None:
    """The load log row, the findings and the sink's derived data, inside the load's transaction (nothing
    derived ever sees half a load)."""
    _record_log(con, job, r)
    findings.refresh(con, job.currency)
    if r.rows_loaded:
        job.sink.loaded(con, r.export_type)


def _record_log(con: duckdb.DuckDBPyConnection, job: _Job, r: LoadResult) -> None:
    con.execute(
        "INSERT INTO load_log (load_id, file_name, file_path, content_hash, export_type, mapping, rows_read, "
        "rows_loaded, rows_replaced, rows_quarantined, started_at, finished_at, outcome, message, rows_filtered, "
        "loaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), $12, $13, $14, $15)",
        [r.load_id, job.path.name, str(job.path.resolve()), job.digest, r.export_type, job.mapping.name,
         r.rows_read, r.rows_loaded, r.rows_replaced, r.rows_quarantined, job.started, r.outcome, r.message,
         r.rows_filtered, job.who],
    )


def _load_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(scalar(con, "SELECT nextval('load_id_seq')"))  # type: ignore[arg-type]


def _load_clean(con: duckdb.DuckDBPyConnection, job: _Job) -> LoadResult | None:
    """Load a plain CSV file by inserting it straight into its table, then checking it there (stages 3 and
    4 in the table itself, and 5 in the same transaction).

    Most exports are clean: checking the rows where they are stored writes them once, where staging
    them in a temp table first writes them twice (at 10M lines, ~2 s and ~1 GB of memory more). Any
    row to quarantine (a row DuckDB cannot read, a cell that does not parse, a failed check, a duplicate
    key) rolls it all back and returns None: the staged path loads the file and quarantines the row.
    Line numbers do not matter here, so records over several lines and blank lines are fine.
    """
    assert job.mapped is not None
    src = plain_csv(con, job.mapped)
    if src is None or job.spec.cross_row:  # rules across rows: the staged path checks them
        return None
    spec, table = job.spec, job.sink.table_of(job.spec.name)
    try:
        with transaction(con):
            load_id = _load_id(con)
            select = clean_select(spec, job.mapping, src)
            n = job.sink.insert(con, spec.name, f"(SELECT *, {load_id} AS _load_id FROM ({select}))")
            new = f"(SELECT * FROM {table} WHERE _load_id = {load_id})"
            if n == 0 or not clean_rows(con, spec, new, n, job.progress):
                raise _NotClean
            replaced = _delete_same_keys(con, spec, new, job.sink, unless=f"t._load_id = {load_id}")
            result = LoadResult(job.path.name, spec.name, "loaded", n, n, replaced, 0, load_id, job.notes,
                                failures=pl.DataFrame(schema=FAILURE_SCHEMA))
            _record(con, job, result)
    except (_NotClean, *STOPPED):
        return None
    return result


def store(con: duckdb.DuckDBPyConnection, v: Validated, job: _Job, allow_partial: bool) -> LoadResult:
    """Stage 5: in one transaction, store the valid rows (replacing stored rows of the same key), quarantine
    the others with their record, list the rows left out on purpose, and log the load; strict mode stores
    nothing of a file with an invalid row and quarantines its valid rows as held back."""
    staged = v.staged
    spec, path, raw = job.spec, job.path, staged.raw
    rejected = v.invalid > 0 and not allow_partial
    with transaction(con):
        load_id = _load_id(con)
        loaded = replaced = 0
        if not rejected:
            loaded, replaced = _upsert(con, spec, load_id, v.invalid > 0, job.sink)
        if v.invalid:  # (on the one-pass path `_raw` exists only then)
            quarantine(con, raw, load_id, path.name, spec, held_back=rejected, filtered=staged.filtered > 0)
        if staged.filtered:
            con.execute(f"INSERT INTO filtered SELECT {load_id}, $1, $2, line, reason FROM _filtered ORDER BY line",
                        [path.name, spec.name])
        outcome = "rejected" if rejected else ("partial" if v.invalid else "loaded")
        message = (f"{v.invalid} invalid row(s); nothing loaded (strict mode; --allow-partial loads the "
                   "valid rows)" if rejected else "")
        message = "; ".join(filter(None, [job.notes, message, _filter_note(con) if staged.filtered else ""]))
        result = LoadResult(path.name, spec.name, outcome, raw.rows, loaded, replaced,
                            raw.rows - loaded - staged.filtered, load_id, message, v.failures, staged.filtered)
        _record(con, job, result)
    return result


def _load_staged(con: duckdb.DuckDBPyConnection, job: _Job, allow_partial: bool) -> LoadResult:
    """The staged path: stages 3, 4 and 5. Reading and validating touch only connection-local temp tables."""
    assert job.mapped is not None
    staged = stage(con, job.mapped, job.workdir)
    return store(con, validate(con, staged, job.progress), job, allow_partial)


def _filter_note(con: duckdb.DuckDBPyConnection) -> str:
    """The rows left out on purpose, by reason: `filtered out 3 row(s): 2 internal transfer, 1 totals row`."""
    by = con.execute("SELECT regexp_replace(reason, '^merged into line \\d+ ', 'merged ') AS r, count(*) AS n, "
                     "min(line) AS first FROM _filtered "
                     "GROUP BY r ORDER BY first").fetchall()
    total = sum(n for _, n, _ in by)
    return f"left out {total:,} row(s) on purpose: " + ", ".join(f"{n:,} {r}" for r, n, _ in by)


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    export_type: str | None = None,
    mapping: Mapping | None = None,
    allow_partial: bool = False,
    encoding: str | None = "utf-8",
    reporting_currency: str = "EUR",
    progress: Progress | None = None,
    sink: Sink = PLAIN,
    limits: Limits = DEFAULT_LIMITS,
    who: str | None = None,
) -> LoadResult:
    """Load one file in one transaction; on any error the database is left exactly as it was.

    Rows go through `sink` (each export in its own table, unless the caller keeps derived data current).
    The clean path and the staged path are the same stages: read -> map -> (insert and check in the table,
    or stage -> validate -> store).
    """
    mapping = mapping or IDENTITY
    etype = export_type_of(path, export_type, mapping)
    if not path.exists():
        raise TandemError(f"{path}: no such file.", USAGE)
    if path.is_dir():
        raise TandemError(f"{path}: is a folder, not a file.", USAGE)
    enc = encoding_of(encoding, mapping)
    text_codec(enc)
    digest, nul = fingerprint(path)
    previous = _unchanged_since(con, digest, etype, mapping.name)
    if previous is not None:
        return LoadResult(path.name, etype, "unchanged",
                          message=f"same content as load #{previous}; nothing changed")
    with tempfile.TemporaryDirectory(prefix="tandem-") as tmp:
        job = _Job(path, EXPORTS[etype], mapping, digest, reporting_currency, progress, datetime.now(), sink,
                   limits, who, Path(tmp))
        try:
            src = read_file(path, job.spec, mapping, enc, limits, fingerprinted=(digest, nul))
            job.mapped = map_columns(src, job.spec, mapping)
            return _load_clean(con, job) or _load_staged(con, job, allow_partial)
        except TandemError as exc:
            if exc.exit_code == REJECTED:  # the file as a whole was refused: the load log says so too
                _log_refused(con, job, exc.message)
            raise
        finally:
            _drop_scratch(con)


def _log_refused(con: duckdb.DuckDBPyConnection, job: _Job, message: str) -> None:
    """A load log row for a file refused before any row was read (encoding, structure, binary data)."""
    with transaction(con):
        _record_log(con, job, LoadResult(job.path.name, job.spec.name, "rejected", load_id=_load_id(con),
                                         message=message))


# --- many files: the CLI and the Data page ---------------------------------------------------------------


@dataclass
class FileLoad:
    """One file of `load_many`: its result, or the sentence saying why it could not be loaded at all."""

    path: Path
    result: LoadResult | None = None
    error: str | None = None
    exit_code: int = 0  # the contract's status for this file: 0, or REJECTED/USAGE/FAILURE
    failures: list[str] = field(default_factory=list)  # the first row failures, one sentence each

    @property
    def name(self) -> str:
        return self.path.name


FileProgress = Callable[[str, int, int], None]  # (file name, rows done, rows in all)


def load_many(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[Path],
    export_type: str | None = None,
    mapping: Mapping | None = None,
    allow_partial: bool = False,
    encoding: str | None = None,
    reporting_currency: str = "EUR",
    progress: FileProgress | None = None,
    sink: Sink = PLAIN,
    limits: Limits = DEFAULT_LIMITS,
    who: str | None = None,
    shown: int = 10,
    loader: Callable[..., LoadResult] | None = None,
) -> list[FileLoad]:
    """Load files one after another, each in its own transaction: a file that cannot be read is one sentence
    and the next file still loads. A usage error (an unknown --type, a mapping for other types) stops at
    once: it would be the same for every file. `loader` is `ingest_file` with `sink` and `limits`, unless the
    caller gives its own with ingest_file's first eight parameters and `who` (workspace.db.ingest_file)."""
    load = loader or partial(ingest_file, sink=sink, limits=limits)
    out: list[FileLoad] = []
    for path in paths:
        def tick(done: int, total: int, name: str = path.name) -> None:
            if progress:
                progress(name, done, total)

        try:
            r = load(con, path, export_type, mapping, allow_partial, encoding, reporting_currency, progress=tick,
                     who=who)
        except TandemError as exc:
            if exc.exit_code == USAGE:
                raise
            out.append(FileLoad(path, error=exc.message, exit_code=exc.exit_code))
            continue
        sentences = [failure_sentence(r.file, row) for row in (r.failures.head(shown).iter_rows(named=True)
                                                              if r.failures is not None else [])]
        out.append(FileLoad(path, r, exit_code=REJECTED if r.outcome == "rejected" else 0, failures=sentences))
    return out


# --- a check: every stage but the last, in a private database ---------------------------------------------


@dataclass
class CheckResult:
    """What a file would give under a mapping, without loading it: the first rows as mapped, every rule
    they break, and the counts the whole file would load, quarantine and filter."""

    file: str
    export_type: str
    rows_read: int
    rows_valid: int
    rows_invalid: int
    rows_filtered: int
    preview: pl.DataFrame
    failures: pl.DataFrame  # of the previewed rows
    filter_note: str = ""
    notes: tuple[str, ...] = ()  # what reading did (a preamble skipped, a sheet chosen)


def check_file(path: Path, mapping: Mapping, export_type: str | None = None, encoding: str | None = "utf-8",
               rows: int = 10, limits: Limits = DEFAULT_LIMITS) -> CheckResult:
    """Read, map, stage and validate a file in a private in-memory database: nothing is written anywhere."""
    etype = export_type_of(path, export_type, mapping)
    if not path.exists():
        raise TandemError(f"{path}: no such file.", USAGE)
    spec = EXPORTS[etype]
    con = duckdb.connect()
    try:
        # nothing is loaded here: a due date from the supplier master's terms sees an empty master
        con.execute("CREATE TABLE suppliers (supplier_id VARCHAR, payment_terms_days INTEGER)")
        with tempfile.TemporaryDirectory(prefix="tandem-check-") as tmp:
            src = read_file(path, spec, mapping, encoding_of(encoding, mapping), limits)
            staged: Staged = stage(con, map_columns(src, spec, mapping), Path(tmp))
            v = validate(con, staged)
        cols = ", ".join(["_line AS line", *map(ident, spec.column_names)])
        preview = frame(con, f"SELECT {cols} FROM _typed ORDER BY _line LIMIT {int(rows)}")
        lines = preview["line"].to_list()
        last = max(lines) if lines else 0
        failures = frame(con, f"SELECT * FROM _fail WHERE line <= {last} ORDER BY line, \"column\"")
        return CheckResult(path.name, etype, v.read, v.valid, v.invalid, staged.filtered, preview, failures,
                           _filter_note(con) if staged.filtered else "", src.notes)
    finally:
        con.close()
