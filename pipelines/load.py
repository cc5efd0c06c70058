"""Loading one export file: read, map, validate (pandera), then upsert or quarantine in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl

from pipelines.mappings import (
    IDENTITY,
    READER_DATE_FORMAT,
    Mapping,
    canonical_text_sql,
    reader_types,
    typed_sql,
)
from pipelines.read import (
    DEFAULT_LIMITS,
    CsvSource,
    Limits,
    RawTable,
    check_format,
    count_lines,
    cr_only,
    csv_source,
    file_format,
    fingerprint,
    is_utf8,
    is_utf16,
    line_at,
    read_raw,
    text_codec,
)
from pipelines.schemas import (
    EXPORTS,
    NOT_NULL_RULE,
    RAW_SUFFIX,
    TEXT_TYPES,
    ExportSpec,
    pandera_schema,
    raw_name,
)
from store.db import frame, scalar, transaction
from store.errors import REJECTED, USAGE, TandemError
from store.sink import PLAIN, Sink
from store.sql import Queries
from store.sqltext import ident, literal

# Rows pandera checks at a time. Each call costs ~25 ms whatever its size, so a chunk is large; DuckDB's
# Arrow batches stop at one row group (122,880 rows), so they are gathered into chunks first. 1M-row
# chunks took a 10M-line load with a bad row to 3.0 GB of memory; 500k, 2.6 GB.
CHUNK_ROWS = 500_000
SQL = Queries(Path(__file__).parent / "sql")
UNPARSED = "tandem: a cell did not parse"  # the clean path's stop signal (see _typed_select)
# What a clean load's statement raises at its first row to quarantine: the strict reader (a row it cannot
# read or type) and error(UNPARSED). Anything else (disk full, out of memory) is a real failure.
STOPPED = (duckdb.DataError, duckdb.InvalidInputException)
FAILURE_SCHEMA = {"line": pl.Int64, "column": pl.String, "rule": pl.String, "value": pl.String}
Progress = Callable[[int, int], None]


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
    raise TandemError(
        f"{path.name}: cannot tell the export type from the file name; name it after one of "
        f"{', '.join(EXPORTS)} or pass --type."
    )


def _typed_select(spec: ExportSpec, mapping: Mapping, header: list[str], source: str, lead: str = "",
                  keep_unparsed: bool = True, typed_cells: Collection[str] = ()) -> str:
    """The SELECT of `_typed`'s columns from a relation of source cells (plus `lead`, e.g. `_line`).

    Each canonical column is typed; each non-text one also gets `col__raw`, its text where it did not
    parse and NULL otherwise. Carrying text only for the cells that failed keeps the staged table small
    (at 10M lines, half the staging time); quarantine takes other values from the source cells.
    Without `keep_unparsed` there are no `__raw` columns: a cell that does not parse stops the statement
    with the error UNPARSED (the clean path, which has nothing to quarantine). `typed_cells` are columns
    whose source cell DuckDB's reader typed already (the clean path, see `reader_types`).
    """
    text = canonical_text_sql(mapping, spec, header, typed_cells=typed_cells)
    typed = typed_sql(mapping, spec, text, typed_cells)
    pre = f"{lead}, " if lead else ""
    typed_cols = [c.name for c in spec.columns if c.type not in TEXT_TYPES]
    raws = [ident(c + RAW_SUFFIX) for c in typed_cols]
    texts = ", ".join(f"{sql} AS {ident(c + RAW_SUFFIX)}" for c, sql in text.items())
    parsed = ", ".join([*(f"{typed[c]} AS {ident(c)}" for c in spec.column_names), *raws])
    if keep_unparsed:
        kept = [*map(ident, spec.column_names),
                *(f"CASE WHEN {ident(c)} IS NULL THEN {r} END AS {r}" for c, r in zip(typed_cols, raws, strict=True))]
    else:
        kept = [ident(c) if c not in typed_cols else
                f"CASE WHEN {ident(c)} IS NULL AND {ident(c + RAW_SUFFIX)} IS NOT NULL "
                f"THEN error({literal(UNPARSED)}) ELSE {ident(c)} END AS {ident(c)}" for c in spec.column_names]
    return f"SELECT {pre}{', '.join(kept)} FROM (SELECT {pre}{parsed} FROM (SELECT {pre}{texts} FROM {source}))"


def _plain_csv(con: duckdb.DuckDBPyConnection, path: Path, spec: ExportSpec, mapping: Mapping, encoding: str
                  ) -> CsvSource | None:
    """The file as DuckDB reads it, if it is a plain CSV in UTF-8 whose header fits the mapping; None
    sends the file to the general path, which reports what is wrong with it in order."""
    if not is_utf8(encoding) or file_format(path) != "csv" or cr_only(path) or any(
            c.generate_key for c in mapping.columns(spec.name).values()):
        return None  # generated keys number identical rows in line order: they need `_line` first
    check_format(path, "csv")
    try:
        src = csv_source(con, path, "_raw", mapping.delimiter)
        canonical_text_sql(mapping, spec, src.header)  # the mapping fits the header
    except (UnicodeDecodeError, TandemError):
        return None  # the general path reports the file's problems in their order (encoding first)
    return src


def _stage_in_one_pass(con: duckdb.DuckDBPyConnection, path: Path, spec: ExportSpec, mapping: Mapping,
                       encoding: str) -> tuple[CsvSource, int] | None:
    """Read, map and type a CSV file in one statement into `_typed`, when every record is one line:
    the file and its number of rows.

    A row's line is then its position + 2, which holds only if DuckDB rejected nothing and read one row
    per line after the header. Anything else (multi-line fields, blank lines, ragged rows, bad encoding)
    returns None and the general path reads the file again. The source cells are not kept:
    `_source_cells` reads them again if a row has to be quarantined.
    """
    src = _plain_csv(con, path, spec, mapping, encoding)
    if src is None:
        return None
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _staged AS {_typed_select(spec, mapping, src.header, src.sql())}")
    except duckdb.InvalidInputException:  # DuckDB's reader gave up on the file: the general path says where
        return None
    n = int(scalar(con, "SELECT count(*) FROM _staged"))  # type: ignore[arg-type]
    if n == 0 or _rejected(con, src) or n + 1 != count_lines(path):
        con.execute("DROP TABLE _staged")
        return None
    con.execute("CREATE OR REPLACE TEMP VIEW _typed AS SELECT rowid + 2 AS _line, * FROM _staged")
    return src, n


def _rejected(con: duckdb.DuckDBPyConnection, src: CsvSource) -> bool:
    """Whether DuckDB rejected a row of the file (ragged, an unterminated quote, ...)."""
    return bool(scalar(con, f"SELECT count(*) FROM {src.rejects}"))


def _source_cells(con: duckdb.DuckDBPyConnection, src: CsvSource, rows: int) -> None:
    """`_raw` (source cells + `_line`) after a one-pass staging, read again for the quarantine records."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _raw_csv AS SELECT * FROM {src.sql()}")
    if int(scalar(con, "SELECT count(*) FROM _raw_csv")) != rows:  # type: ignore[arg-type]
        raise TandemError(f"{src.path.name}: the file changed while it was being loaded; load it again.")
    cols = ", ".join(ident(h) for h in src.header)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _raw AS SELECT {cols}, rowid + 2 AS _line FROM _raw_csv")


def _stage(con: duckdb.DuckDBPyConnection, path: Path, spec: ExportSpec, mapping: Mapping, encoding: str,
           limits: Limits) -> tuple[RawTable, CsvSource | None]:
    """Temp table or view `_typed` (canonical columns, typed, + `_line`) and the source cells `_raw`.

    On the one-pass path `_raw` does not exist yet: the CsvSource returned reads it when needed.
    """
    staged = _stage_in_one_pass(con, path, spec, mapping, encoding)
    if staged is not None:
        src, rows = staged
        return RawTable("_raw", src.header, rows, "csv"), src
    raw = read_raw(con, path, "_raw", encoding=encoding, delimiter=mapping.delimiter, limits=limits)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS "
                f"{_typed_select(spec, mapping, raw.header, raw.table, lead='_line')}")
    return raw, None


def _fill_values(con: duckdb.DuckDBPyConnection, spec: ExportSpec, mapping: Mapping, raw: RawTable) -> None:
    """Give failures of a row rule on a typed column their cell's text, from the source cells: the
    validated frame carries the text of typed columns only where it did not parse."""
    text = canonical_text_sql(mapping, spec, raw.header)
    cols = [c.name for c in spec.columns if c.type not in TEXT_TYPES]
    cells = ", ".join(f"{text[c]} AS {ident(c)}" for c in cols)
    pick = " ".join(f"WHEN {literal(c)} THEN t.{ident(c)}" for c in cols)
    con.execute(
        f"UPDATE _fail f SET value = CASE f.\"column\" {pick} END "
        f"FROM (SELECT _line, {cells} FROM {raw.table} WHERE _line IN (SELECT line FROM _fail)) t "
        f"WHERE f.line = t._line AND f.value IS NULL AND f.rule <> {literal(NOT_NULL_RULE)}"
    )


def _chunk_failures(df: pl.DataFrame, spec: ExportSpec, schema: pa.DataFrameSchema) -> pl.DataFrame:
    """Every failed check in a chunk as (line, column, rule, raw value), collected lazily by pandera."""
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases.filter(pl.col("index").is_not_null())
        parts = []
        for (col,), grp in fc.group_by("column"):  # one step per column, never per row
            idx = grp["index"].cast(pl.Int64)
            parts.append(pl.DataFrame({
                "line": df["_line"].gather(idx),
                "column": grp["column"],
                "rule": grp["check"],
                "value": df[raw_name(spec.column(str(col)))].gather(idx),
            }))
        return pl.concat(parts) if parts else pl.DataFrame(schema=FAILURE_SCHEMA)
    return pl.DataFrame(schema=FAILURE_SCHEMA)


def _chunks(con: duckdb.DuckDBPyConnection, sql: str, rows: int) -> Iterator[pl.DataFrame]:
    """A query's result as frames of at least `rows` rows (the last one smaller), streamed."""
    batches, size = [], 0
    for batch in con.sql(sql).to_arrow_reader(rows):
        batches.append(batch)
        size += batch.num_rows
        if size >= rows:
            yield _frame(batches)
            batches, size = [], 0
    if batches:
        yield _frame(batches)


def _frame(batches: list) -> pl.DataFrame:
    df = pl.from_arrow(batches, rechunk=False)  # the batches as they are: no copy
    assert isinstance(df, pl.DataFrame)
    return df


def _validate(con: duckdb.DuckDBPyConnection, spec: ExportSpec, n: int, progress: Progress | None
              ) -> None:
    """Fill temp table `_fail` with every failure: pandera checks chunk by chunk, then duplicate keys."""
    con.execute("CREATE OR REPLACE TEMP TABLE _fail (line BIGINT, \"column\" VARCHAR, rule VARCHAR, value VARCHAR)")
    schema = pandera_schema(spec)
    # One streaming scan in Arrow batches: pandera sees a DataFrame (so its data checks run) of a
    # bounded size, and nothing is written on this connection until the scan is done.
    parts, done = [], 0
    for chunk in _chunks(con, "SELECT * FROM _typed", CHUNK_ROWS):
        parts.append(_chunk_failures(chunk, spec, schema))
        done += chunk.height
        if progress:
            progress(done, n)
    failures = pl.concat(parts) if parts else pl.DataFrame(schema=FAILURE_SCHEMA)
    if failures.height:
        con.register("_chunk_fail", failures)
        con.execute("INSERT INTO _fail SELECT * FROM _chunk_fail")
        con.unregister("_chunk_fail")
    key = ", ".join(ident(k) for k in spec.key)
    key_text = " || '/' || ".join(f"CAST({ident(k)} AS VARCHAR)" for k in spec.key)
    con.execute(
        f"INSERT INTO _fail SELECT _line, {literal(', '.join(spec.key))}, 'key unique within the file', {key_text} "
        f"FROM _typed WHERE _line NOT IN (SELECT line FROM _fail) "
        f"QUALIFY count(*) OVER (PARTITION BY {key}) > 1"
    )


def _quarantine(con: duckdb.DuckDBPyConnection, raw: RawTable, load_id: int, file_name: str,
                spec: ExportSpec, held_back: bool) -> None:
    record = "to_json(struct_pack(" + ", ".join(f"{ident(h)} := r.{ident(h)}" for h in raw.header) + "))"
    head = f"{load_id}, {literal(file_name)}, {literal(spec.name)}"
    con.execute(
        f"INSERT INTO quarantine SELECT {head}, f.line, f.\"column\", f.rule, f.value, CAST({record} AS VARCHAR) "
        f"FROM _fail f LEFT JOIN {raw.table} r ON r._line = f.line"
    )
    if held_back:
        # Strict mode: the valid rows of a rejected file are kept too, so nothing read is lost.
        con.execute(
            f"INSERT INTO quarantine SELECT {head}, r._line, NULL, 'held back: file rejected', NULL, "
            f"CAST({record} AS VARCHAR) FROM {raw.table} r WHERE r._line NOT IN (SELECT line FROM _fail)"
        )


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


@dataclass(frozen=True)
class _Job:
    """One file being loaded: what it holds, how to read it, and what its load log row records."""

    path: Path
    spec: ExportSpec
    mapping: Mapping
    encoding: str
    digest: str
    currency: str
    progress: Progress | None
    started: datetime
    sink: Sink
    limits: Limits


class _NotClean(Exception):
    """The clean path met a row to quarantine: roll back and load the file staged."""


def _record(con: duckdb.DuckDBPyConnection, job: _Job, r: LoadResult) -> None:
    """The load log row, the findings and the sink's derived data, inside the load's transaction (nothing
    derived ever sees half a load)."""
    _record_log(con, job, r)
    con.execute(SQL["findings"], [job.currency])
    if r.rows_loaded:
        job.sink.loaded(con, r.export_type)


def _record_log(con: duckdb.DuckDBPyConnection, job: _Job, r: LoadResult) -> None:
    con.execute(
        "INSERT INTO load_log VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), $12, $13)",
        [r.load_id, job.path.name, str(job.path.resolve()), job.digest, r.export_type, job.mapping.name,
         r.rows_read, r.rows_loaded, r.rows_replaced, r.rows_quarantined, job.started, r.outcome, r.message],
    )


def _load_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(scalar(con, "SELECT nextval('load_id_seq')"))  # type: ignore[arg-type]


def _clean_rows(con: duckdb.DuckDBPyConnection, spec: ExportSpec, rows: str, n: int, progress: Progress | None
                ) -> bool:
    """Whether stored rows pass the pandera schema and have no duplicate key, in one scan.

    Every cell of them parsed, so each `__raw` column is NULL (added here, not exported: 7 NULL text
    columns cost 0.7 s of Arrow export at 10M rows). Distinct key hashes prove distinct keys (~0.3 s at
    10M rows where DuckDB's GROUP BY takes ~1 s); equal ones send the keys themselves to DuckDB.
    """
    schema = pandera_schema(spec)
    unparsed = [pl.lit(None, pl.String).alias(c.name + RAW_SUFFIX) for c in spec.columns if c.type not in TEXT_TYPES]
    hashes, done = [], 0
    for chunk in _chunks(con, f"SELECT {', '.join(map(ident, spec.column_names))} FROM {rows}", CHUNK_ROWS):
        try:
            schema.validate(chunk.with_columns(unparsed), lazy=True)
        except pa.errors.SchemaErrors:
            return False
        hashes.append(chunk.select(pl.struct(spec.key).hash()).to_series())
        done += chunk.height
        if progress:
            progress(done, n)
    if pl.concat(hashes).n_unique() == n:
        return True
    key = ", ".join(ident(k) for k in spec.key)
    return not con.execute(f"SELECT 1 FROM {rows} GROUP BY {key} HAVING count(*) > 1 LIMIT 1").fetchall()


def _clean_select(spec: ExportSpec, mapping: Mapping, src: CsvSource) -> str:
    """The typed columns of a clean load: DuckDB's reader types the plain number and date cells (almost
    free), SQL the rest. The reader is strict: a row it cannot read or type stops the statement, which
    sends the file to the staged path without reading the rest."""
    cells = reader_types(mapping, spec, src.header)
    types = dict(cells.values())
    reader = src.sql(types, READER_DATE_FORMAT if "DATE" in types.values() else None, strict=True)
    return _typed_select(spec, mapping, src.header, reader, keep_unparsed=False, typed_cells=cells)


def _load_clean(con: duckdb.DuckDBPyConnection, job: _Job) -> LoadResult | None:
    """Load a plain CSV file by inserting it straight into its table, then checking it there.

    Most exports are clean: checking the rows where they are stored writes them once, where staging
    them in a temp table first writes them twice (at 10M lines, ~2 s and ~1 GB of memory more). Any
    row to quarantine (a row DuckDB cannot read, a cell that does not parse, a failed check, a duplicate
    key) rolls it all back and returns None: the staged path loads the file and quarantines the row.
    Line numbers do not matter here, so records over several lines and blank lines are fine.
    """
    src = _plain_csv(con, job.path, job.spec, job.mapping, job.encoding)
    if src is None:
        return None
    spec, table = job.spec, job.sink.table_of(job.spec.name)
    try:
        with transaction(con):
            load_id = _load_id(con)
            select = _clean_select(spec, job.mapping, src)
            n = job.sink.insert(con, spec.name, f"(SELECT *, {load_id} AS _load_id FROM ({select}))")
            new = f"(SELECT * FROM {table} WHERE _load_id = {load_id})"
            if n == 0 or not _clean_rows(con, spec, new, n, job.progress):
                raise _NotClean
            replaced = _delete_same_keys(con, spec, new, job.sink, unless=f"t._load_id = {load_id}")
            result = LoadResult(job.path.name, spec.name, "loaded", n, n, replaced, 0, load_id,
                                failures=pl.DataFrame(schema=FAILURE_SCHEMA))
            _record(con, job, result)
    except (_NotClean, *STOPPED):
        return None
    return result


def _load_staged(con: duckdb.DuckDBPyConnection, job: _Job, allow_partial: bool) -> LoadResult:
    """Load a file through temp tables: read and type it, validate every row, then store the valid rows
    and quarantine the others. Reading and validating touch only connection-local temp tables."""
    spec, path = job.spec, job.path
    raw, one_pass = _stage(con, path, spec, job.mapping, job.encoding, job.limits)
    n = int(scalar(con, "SELECT count(*) FROM _typed"))  # type: ignore[arg-type]
    _validate(con, spec, n, job.progress)
    if raw.rejects.height:
        con.register("_structural", raw.rejects)
        con.execute("INSERT INTO _fail SELECT line, \"column\", rule, value FROM _structural")
        con.unregister("_structural")
    invalid = int(scalar(con, "SELECT count(DISTINCT line) FROM _fail"))  # type: ignore[arg-type]
    if invalid:  # quarantine records need the source cells
        if one_pass is not None:
            _source_cells(con, one_pass, raw.rows)
        _fill_values(con, spec, job.mapping, raw)
    failures = frame(con, "SELECT * FROM _fail ORDER BY line, \"column\" LIMIT 20")
    rejected = invalid > 0 and not allow_partial
    with transaction(con):
        load_id = _load_id(con)
        loaded = replaced = 0
        if not rejected:
            loaded, replaced = _upsert(con, spec, load_id, invalid > 0, job.sink)
        if invalid:  # (on the one-pass path `_raw` exists only then)
            _quarantine(con, raw, load_id, path.name, spec, held_back=rejected)
        outcome = "rejected" if rejected else ("partial" if invalid else "loaded")
        message = (f"{invalid} invalid row(s); nothing loaded (strict mode; --allow-partial loads the "
                   "valid rows)" if rejected else "")
        result = LoadResult(path.name, spec.name, outcome, raw.rows, loaded, replaced, raw.rows - loaded,
                            load_id, message, failures)
        _record(con, job, result)
    return result


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    export_type: str | None = None,
    mapping: Mapping | None = None,
    allow_partial: bool = False,
    encoding: str = "utf-8",
    reporting_currency: str = "EUR",
    progress: Progress | None = None,
    sink: Sink = PLAIN,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadResult:
    """Load one file in one transaction; on any error the database is left exactly as it was.

    Rows go through `sink` (each export in its own table, unless the caller keeps derived data current).
    """
    mapping = mapping or IDENTITY
    etype = export_type_of(path, export_type, mapping)
    if not path.exists():
        raise TandemError(f"{path}: no such file.", USAGE)
    codec = text_codec(encoding)
    digest, nul = fingerprint(path)
    previous = _unchanged_since(con, digest, etype, mapping.name)
    if previous is not None:
        return LoadResult(path.name, etype, "unchanged",
                          message=f"same content as load #{previous}; nothing changed")
    job = _Job(path, EXPORTS[etype], mapping, encoding, digest, reporting_currency, progress, datetime.now(), sink, limits)
    try:
        wide = "16" in codec.name or "32" in codec.name
        if not wide and file_format(path) == "csv" and is_utf16(path):
            raise TandemError(f"{path.name}: the file is UTF-16 text (it starts with a UTF-16 byte-order mark); "
                              "load it with --encoding utf-16.")
        if nul is not None and not wide and file_format(path) == "csv":
            raise TandemError(f"{path.name}, line {line_at(path, nul)}: a NUL byte (binary data) in the text; "
                              "re-export the file as plain CSV text and load it again.")
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


def failure_sentence(path: str, row: dict) -> str:
    """One clear sentence per failure: file, line, column, rule and the bad value."""
    col = f", column {row['column']}" if row.get("column") else ""
    value = row.get("value")
    shown = "empty" if value is None else json.dumps(value, ensure_ascii=False)
    return f"{path}, line {row['line']}{col}: {row['rule']} (value {shown})"
