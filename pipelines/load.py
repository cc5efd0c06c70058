"""Loading one export file: read, map, validate (pandera), then upsert or quarantine in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl

from kpi_definitions import facts
from pipelines.errors import USAGE, TandemError
from pipelines.mappings import IDENTITY, Mapping, canonical_text_sql, typed_sql
from pipelines.read import CsvSource, RawTable, check_format, csv_source, file_format, fingerprint, is_utf8, read_raw
from pipelines.schemas import (
    EXPORTS,
    NOT_NULL_RULE,
    RAW_SUFFIX,
    TEXT_TYPES,
    ExportSpec,
    pandera_schema,
    raw_name,
)
from pipelines.sqltext import ident, literal
from tandem.db import frame, scalar

# Rows pandera checks at a time. Each call costs ~25 ms whatever its size, so a chunk is large; DuckDB's
# Arrow batches stop at one row group (122,880 rows), so they are gathered into chunks first.
CHUNK_ROWS = 1_000_000
FINDINGS_SQL = (Path(__file__).parent / "sql" / "findings.sql").read_text()
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


def _typed_select(spec: ExportSpec, mapping: Mapping, header: list[str], source: str, lead: str = "") -> str:
    """The SELECT of `_typed`'s columns from a relation of source cells (plus `lead`, e.g. `_line`).

    Each canonical column is typed; each non-text one also gets `col__raw`, its text where it did not
    parse and NULL otherwise. Carrying text only for the cells that failed keeps the staged table small
    (at 10M lines, half the staging time); quarantine takes other values from the source cells.
    """
    text = canonical_text_sql(mapping, spec, header)
    typed = typed_sql(mapping, spec, text)
    pre = f"{lead}, " if lead else ""
    typed_cols = [c.name for c in spec.columns if c.type not in TEXT_TYPES]
    raws = [ident(c + RAW_SUFFIX) for c in typed_cols]
    texts = ", ".join(f"{sql} AS {ident(c + RAW_SUFFIX)}" for c, sql in text.items())
    parsed = ", ".join([*(f"{typed[c]} AS {ident(c)}" for c in spec.column_names), *raws])
    kept = ", ".join([*map(ident, spec.column_names),
                      *(f"CASE WHEN {ident(c)} IS NULL THEN {r} END AS {r}" for c, r in zip(typed_cols, raws, strict=True))])
    return f"SELECT {pre}{kept} FROM (SELECT {pre}{parsed} FROM (SELECT {pre}{texts} FROM {source}))"


def _stage_in_one_pass(con: duckdb.DuckDBPyConnection, path: Path, spec: ExportSpec, mapping: Mapping,
                       lines: int) -> CsvSource | None:
    """Read, map and type a CSV file in one statement into `_typed`, when every record is one line.

    The common case of a big export. A row's line is its position + 2, which holds only if DuckDB
    rejected nothing and read one row per line after the header; anything else (multi-line fields,
    blank lines, ragged rows, bad encoding) returns None and the general path reads the file again.
    The source cells are not kept: `_source_cells` reads them again if a row has to be quarantined.
    """
    if file_format(path) != "csv" or any(c.generate_key for c in mapping.columns(spec.name).values()):
        return None  # generated keys number identical rows in line order: they need `_line` first
    check_format(path, "csv")
    try:
        src = csv_source(con, path, "_raw", mapping.delimiter)
        select = _typed_select(spec, mapping, src.header, src.sql())
    except (UnicodeDecodeError, TandemError):
        return None  # the general path reports the file's problems in their order (encoding first)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _staged AS {select}")
    n = int(scalar(con, "SELECT count(*) FROM _staged"))  # type: ignore[arg-type]
    rejected = int(scalar(con, f"SELECT count(*) FROM {src.rejects}"))  # type: ignore[arg-type]
    if n == 0 or rejected or n + 1 != lines:
        con.execute("DROP TABLE _staged")
        return None
    con.execute("CREATE OR REPLACE TEMP VIEW _typed AS SELECT rowid + 2 AS _line, * FROM _staged")
    return src


def _source_cells(con: duckdb.DuckDBPyConnection, src: CsvSource, rows: int) -> None:
    """`_raw` (source cells + `_line`) after a one-pass staging, read again for the quarantine records."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _raw_csv AS SELECT * FROM {src.sql()}")
    if int(scalar(con, "SELECT count(*) FROM _raw_csv")) != rows:  # type: ignore[arg-type]
        raise TandemError(f"{src.path.name}: the file changed while it was being loaded; load it again.")
    cols = ", ".join(ident(h) for h in src.header)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _raw AS SELECT {cols}, rowid + 2 AS _line FROM _raw_csv")


def _stage(con: duckdb.DuckDBPyConnection, path: Path, spec: ExportSpec, mapping: Mapping, encoding: str,
           lines: int) -> tuple[RawTable, CsvSource | None]:
    """Temp table or view `_typed` (canonical columns, typed, + `_line`) and the source cells `_raw`.

    On the one-pass path `_raw` does not exist yet: the CsvSource returned reads it when needed.
    """
    if is_utf8(encoding):
        src = _stage_in_one_pass(con, path, spec, mapping, lines)
        if src is not None:
            return RawTable("_raw", src.header, lines - 1, "csv"), src
    raw = read_raw(con, path, "_raw", encoding=encoding, delimiter=mapping.delimiter)
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


def _upsert(con: duckdb.DuckDBPyConnection, spec: ExportSpec, load_id: int, any_invalid: bool, currency: str
            ) -> tuple[int, int]:
    cols = ", ".join(ident(c) for c in spec.column_names)
    on = " AND ".join(f"t.{ident(k)} = v.{ident(k)}" for k in spec.key)
    valid = "(SELECT * FROM _typed WHERE _line NOT IN (SELECT line FROM _fail))" if any_invalid else "_typed"
    table = facts.table_of(spec.name)
    replaced = con.execute(f"DELETE FROM {table} t USING {valid} v WHERE {on}").fetchall()[0][0]
    rows = f"(SELECT {cols}, {load_id} AS _load_id FROM {valid})"
    if table == "fact_invoices":
        loaded = facts.add_invoices(con, rows, currency)
    else:
        loaded = con.execute(f"INSERT INTO {table} SELECT * FROM {rows}").fetchall()[0][0]
    return int(loaded), int(replaced)


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


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    export_type: str | None = None,
    mapping: Mapping | None = None,
    allow_partial: bool = False,
    encoding: str = "utf-8",
    reporting_currency: str = "EUR",
    progress: Progress | None = None,
) -> LoadResult:
    """Load one file in one transaction; on any error the database is left exactly as it was."""
    mapping = mapping or IDENTITY
    etype = export_type_of(path, export_type, mapping)
    spec = EXPORTS[etype]
    if not path.exists():
        raise TandemError(f"{path}: no such file.", USAGE)
    seen = fingerprint(path)
    digest = seen.digest
    previous = _unchanged_since(con, digest, etype, mapping.name)
    if previous is not None:
        return LoadResult(path.name, etype, "unchanged",
                          message=f"same content as load #{previous}; nothing changed")
    started = datetime.now()
    try:
        # Reading, typing and validating only touch connection-local temp tables; the transaction
        # covers every write, so a failure or a kill at any point leaves the database as it was.
        raw, one_pass = _stage(con, path, spec, mapping, encoding, seen.lines)
        n = int(scalar(con, "SELECT count(*) FROM _typed"))  # type: ignore[arg-type]
        _validate(con, spec, n, progress)
        if raw.rejects.height:
            con.register("_structural", raw.rejects)
            con.execute("INSERT INTO _fail SELECT line, \"column\", rule, value FROM _structural")
            con.unregister("_structural")
        invalid = int(scalar(con, "SELECT count(DISTINCT line) FROM _fail"))  # type: ignore[arg-type]
        if invalid:  # quarantine records need the source cells
            if one_pass is not None:
                _source_cells(con, one_pass, raw.rows)
            _fill_values(con, spec, mapping, raw)
        failures = frame(con, "SELECT * FROM _fail ORDER BY line, \"column\" LIMIT 20")
        rejected = invalid > 0 and not allow_partial
        con.execute("BEGIN TRANSACTION")
        try:
            load_id = int(scalar(con, "SELECT nextval('load_id_seq')"))  # type: ignore[arg-type]
            loaded = replaced = 0
            if not rejected:
                loaded, replaced = _upsert(con, spec, load_id, invalid > 0, reporting_currency)
            if invalid:  # (on the one-pass path `_raw` exists only then)
                _quarantine(con, raw, load_id, path.name, spec, held_back=rejected)
            quarantined = raw.rows - loaded
            outcome = "rejected" if rejected else ("partial" if invalid else "loaded")
            message = (f"{invalid} invalid row(s); nothing loaded (strict mode; --allow-partial loads the "
                       "valid rows)" if rejected else "")
            con.execute(
                "INSERT INTO load_log VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), $12, $13)",
                [load_id, path.name, str(path.resolve()), digest, etype, mapping.name, raw.rows, loaded,
                 replaced, quarantined, started, outcome, message],
            )
            con.execute(FINDINGS_SQL, [reporting_currency])
            if loaded and etype in facts.SOURCES:  # same transaction: the KPIs never see half a load
                facts.refresh(con, reporting_currency, etype)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        _drop_scratch(con)
    return LoadResult(path.name, etype, outcome, raw.rows, loaded, replaced, quarantined, load_id, message,
                      failures)


def failure_sentence(path: str, row: dict) -> str:
    """One clear sentence per failure: file, line, column, rule and the bad value."""
    col = f", column {row['column']}" if row.get("column") else ""
    value = row.get("value")
    shown = "empty" if value is None else json.dumps(value, ensure_ascii=False)
    return f"{path}, line {row['line']}{col}: {row['rule']} (value {shown})"
