"""Staging, the third stage: a file's rows read, mapped and typed into temp tables (`_typed`, and the source
cells `_raw`), with the rows left out on purpose in `_filtered` (`stage` -> `Staged`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.compile import (
    CODE_SUFFIX,
    READER_DATE_FORMAT,
    Mapped,
    canonical_text_sql,
    code_checks,
    filter_sql,
    reader_types,
    typed_sql,
)
from pipelines.mappings import Mapping
from pipelines.read import (
    CsvSource,
    RawTable,
    count_lines,
    csv_source,
    is_utf8,
    read_raw,
)
from pipelines.schemas import (
    NOT_NULL_RULE,
    RAW_SUFFIX,
    TEXT_TYPES,
    ExportSpec,
)
from store.db import scalar
from store.errors import TandemError
from store.sqltext import ident, literal

UNPARSED = "tandem: a cell did not parse"  # the clean path's stop signal (see typed_select)


# What a clean load's statement raises at its first row to quarantine: the strict reader (a row it cannot
# read or type) and error(UNPARSED). Anything else (disk full, out of memory) is a real failure.
STOPPED = (duckdb.DataError, duckdb.InvalidInputException)


def typed_select(spec: ExportSpec, mapping: Mapping, header: list[str], source: str, lead: str = "",
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
    codes = code_checks(mapping, spec, text)  # money cells whose currency code is not the row's currency
    reason = filter_sql(mapping, spec, header)
    if reason is not None:  # the reason a row is filtered out, carried along (only when the mapping filters)
        lead = f"{lead}, _reason" if lead else "_reason"
    pre = f"{lead}, " if lead else ""
    typed_cols = [c.name for c in spec.columns if c.type not in TEXT_TYPES]
    raws = [ident(c + RAW_SUFFIX) for c in typed_cols]
    code_cols = [ident(c + CODE_SUFFIX) for c in codes]
    texts = ", ".join([*(f"{sql} AS {ident(c + RAW_SUFFIX)}" for c, sql in text.items()),
                       *(f"{sql} AS {ident(c + CODE_SUFFIX)}" for c, sql in codes.items())])
    parsed = ", ".join([*(f"{typed[c]} AS {ident(c)}" for c in spec.column_names), *raws, *code_cols])
    if keep_unparsed:
        kept = [*map(ident, spec.column_names),
                *(f"CASE WHEN {ident(c)} IS NULL THEN {r} END AS {r}" for c, r in zip(typed_cols, raws, strict=True)),
                *code_cols]
    else:
        def stop(c: str) -> str:  # a cell that did not parse, or whose currency code is not the row's
            bad = [f"({ident(c)} IS NULL AND {ident(c + RAW_SUFFIX)} IS NOT NULL)"] if c in typed_cols else []
            bad += [f"{ident(c + CODE_SUFFIX)} IS NOT NULL"] if c in codes else []
            return (f"CASE WHEN {' OR '.join(bad)} THEN error({literal(UNPARSED)}) ELSE {ident(c)} END AS {ident(c)}"
                    if bad else ident(c))
        kept = [stop(c) for c in spec.column_names]
    inner = pre if reason is None else pre.replace("_reason, ", f"{reason} AS _reason, ")
    return f"SELECT {pre}{', '.join(kept)} FROM (SELECT {pre}{parsed} FROM (SELECT {inner}{texts} FROM {source}))"


def plain_csv(con: duckdb.DuckDBPyConnection, mapped: Mapped) -> CsvSource | None:
    """The file as DuckDB reads it, if it is a plain CSV in UTF-8 (LF or CR LF line ends) that the mapping
    maps without numbering rows in file order; None sends the file to the general path, which reports what
    is wrong with it in order."""
    src, spec = mapped.source, mapped.spec
    if (src.fmt != "csv" or not is_utf8(src.encoding) or src.line_ends not in ("lf", "crlf")
            or mapped.mapping.in_file_order(spec.name)):
        return None  # generated keys, line numbers, filters and distinct keys need `_line` first
    return csv_source(con, src, "_raw")


def stage_in_one_pass(con: duckdb.DuckDBPyConnection, mapped: Mapped) -> tuple[CsvSource, int] | None:
    """Read, map and type a CSV file in one statement into `_typed`, when every record is one line:
    the file and its number of rows.

    A row's line is then its position + the header's line + 1, which holds only if DuckDB rejected nothing
    and read one row per line after the header. Anything else (multi-line fields, blank lines, ragged rows,
    bad encoding) returns None and the general path reads the file again. The source cells are not kept:
    `source_cells` reads them again if a row has to be quarantined.
    """
    src = plain_csv(con, mapped)
    if src is None:
        return None
    spec, mapping = mapped.spec, mapped.mapping
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _staged AS {typed_select(spec, mapping, src.header, src.sql())}")
    except duckdb.InvalidInputException:  # DuckDB's reader gave up on the file: the general path says where
        return None
    n = int(scalar(con, "SELECT count(*) FROM _staged"))  # type: ignore[arg-type]
    if n == 0 or _rejected(con, src) or n + src.header_line != count_lines(src.path):
        con.execute("DROP TABLE _staged")
        return None
    con.execute(f"CREATE OR REPLACE TEMP VIEW _typed AS SELECT rowid + {src.header_line + 1} AS _line, * FROM _staged")
    return src, n


def _rejected(con: duckdb.DuckDBPyConnection, src: CsvSource) -> bool:
    """Whether DuckDB rejected a row of the file (ragged, an unterminated quote, ...)."""
    return bool(scalar(con, f"SELECT count(*) FROM {src.rejects}"))


def source_cells(con: duckdb.DuckDBPyConnection, src: CsvSource, rows: int) -> None:
    """`_raw` (source cells + `_line`) after a one-pass staging, read again for the quarantine records."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _raw_csv AS SELECT * FROM {src.sql()}")
    if int(scalar(con, "SELECT count(*) FROM _raw_csv")) != rows:  # type: ignore[arg-type]
        raise TandemError(f"{src.path.name}: the file changed while it was being loaded; load it again.")
    cols = ", ".join(ident(h) for h in src.header)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _raw AS SELECT {cols}, rowid + {src.header_line + 1} AS _line "
                "FROM _raw_csv")


@dataclass
class Staged:
    """Stage 3's result: the rows typed in temp table `_typed` (canonical columns + `_line`), their source
    cells in `_raw` (on the one-pass path, read again from `one_pass` when needed), the rows read and
    those left out on purpose (`_filtered`)."""

    mapped: Mapped
    raw: RawTable
    one_pass: CsvSource | None
    rows: int  # typed rows in `_typed`
    filtered: int  # rows left out on purpose, each in `_filtered` with its reason


def stage(con: duckdb.DuckDBPyConnection, mapped: Mapped, workdir: Path | None = None) -> Staged:
    """Stage 3: temp table or view `_typed` and the source cells `_raw` (a copy of a CSV that is not UTF-8
    with LF line ends goes to `workdir`)."""
    spec, mapping = mapped.spec, mapped.mapping
    staged = stage_in_one_pass(con, mapped)
    if staged is not None:
        src, rows = staged
        return Staged(mapped, RawTable("_raw", src.header, rows, "csv"), src, rows, 0)
    raw = read_raw(con, mapped.source, "_raw", workdir)
    select = typed_select(spec, mapping, raw.header, raw.table, lead="_line")
    if not mapped.filtering:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS {select}")
        return Staged(mapped, raw, None, _count(con, "_typed"), 0)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _typed_all AS {select}")
    if not mapping.filters(spec.name):
        con.execute("ALTER TABLE _typed_all ADD COLUMN _reason VARCHAR")
    con.execute("CREATE OR REPLACE TEMP TABLE _filtered AS "
                "SELECT _line AS line, _reason AS reason FROM _typed_all WHERE _reason IS NOT NULL")
    kept = "(SELECT * EXCLUDE (_reason) FROM _typed_all WHERE _reason IS NULL)"
    d = mapping.distinct(spec.name)
    if d is None:
        con.execute(f"CREATE OR REPLACE TEMP VIEW _typed AS SELECT * FROM {kept}")
    else:
        _distinct(con, spec, kept, d.rule)
    return Staged(mapped, raw, None, _count(con, "_typed"), _count(con, "_filtered"))


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(scalar(con, f"SELECT count(*) FROM {table}"))  # type: ignore[arg-type]


def _distinct(con: duckdb.DuckDBPyConnection, spec: ExportSpec, rows: str, rule: str) -> None:
    """`_typed` as one row per key of `rows` (master data from a transaction file), at the line of the key's
    first row; each other column by `rule` among the key's non-empty values. The other rows of a key go to
    `_filtered`, merged. Rows with an empty key part are kept as they are (their rules report them)."""
    key = [ident(k) for k in spec.key]
    group = ", ".join(key) + ", CASE WHEN " + " OR ".join(f"{k} IS NULL" for k in key) + " THEN _line END"
    others = [c for c in spec.column_names if c not in spec.key]
    raws = [c + RAW_SUFFIX for c in spec.column_names if spec.column(c).type not in TEXT_TYPES]
    counts = ", ".join(f"count(*) OVER (PARTITION BY {group}, {ident(c)}) AS {ident(c + '__n')}" for c in others)
    base = f"(SELECT *, {counts} FROM {rows})" if rule == "most_frequent" and others else rows

    def pick(c: str) -> str:
        col = ident(c)
        if c in spec.key:
            return f"any_value({col})"
        if rule == "first":
            return f"arg_min({col}, _line) FILTER (WHERE {col} IS NOT NULL)"
        if rule == "last":
            return f"arg_max({col}, _line) FILTER (WHERE {col} IS NOT NULL)"
        return f"arg_max({col}, {ident(c + '__n')} * 10000000000 - _line) FILTER (WHERE {col} IS NOT NULL)"

    def unparsed(c: str) -> str:  # the first text that did not parse, where no value of the key did
        raw = ident(c + RAW_SUFFIX)
        return f"CASE WHEN {pick(c)} IS NULL THEN arg_min({raw}, _line) FILTER (WHERE {raw} IS NOT NULL) END AS {raw}"

    cols = ", ".join([*(f"any_value({k}) AS {k}" for k in key),
                      *(f"{pick(c)} AS {ident(c)}" for c in others),
                      *(unparsed(c.removesuffix(RAW_SUFFIX)) for c in raws)])
    con.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS SELECT min(_line) AS _line, {cols} FROM {base} GROUP BY {group}")
    label = ", ".join(spec.key)
    con.execute(f"INSERT INTO _filtered SELECT r._line, 'merged into line ' || t._line || ' (same {label}; "
                f"other columns: {rule.replace('_', ' ')})' FROM {rows} r JOIN _typed t USING ({', '.join(key)}) "
                f"WHERE r._line <> t._line")


def fill_values(con: duckdb.DuckDBPyConnection, spec: ExportSpec, mapping: Mapping, raw: RawTable) -> None:
    """Give failures of a row rule on a typed column their cell's text, from the source cells: the
    validated frame carries the text of typed columns only where it did not parse."""
    text = canonical_text_sql(mapping, spec, raw.header)
    cols = [c.name for c in spec.columns if c.type not in TEXT_TYPES]
    if not cols:  # an export of text columns only (category_index): every failure carries its text already
        return
    cells = ", ".join(f"{text[c]} AS {ident(c)}" for c in cols)
    pick = " ".join(f"WHEN {literal(c)} THEN t.{ident(c)}" for c in cols)
    con.execute(
        f"UPDATE _fail f SET value = CASE f.\"column\" {pick} END "
        f"FROM (SELECT _line, {cells} FROM {raw.table} WHERE _line IN (SELECT line FROM _fail)) t "
        f"WHERE f.line = t._line AND f.value IS NULL AND f.rule <> {literal(NOT_NULL_RULE)}"
    )


def clean_select(spec: ExportSpec, mapping: Mapping, src: CsvSource) -> str:
    """The typed columns of a clean load: DuckDB's reader types the plain number and date cells (almost
    free), SQL the rest. The reader is strict: a row it cannot read or type stops the statement, which
    sends the file to the staged path without reading the rest."""
    cells = reader_types(mapping, spec, src.header)
    types = dict(cells.values())
    reader = src.sql(types, READER_DATE_FORMAT if "DATE" in types.values() else None, strict=True)
    return typed_select(spec, mapping, src.header, reader, keep_unparsed=False, typed_cells=cells)
