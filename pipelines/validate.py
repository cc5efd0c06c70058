"""Validation, the fourth stage: every rule a staged row breaks, as failure rows (line, column, rule,
value) in temp table `_fail` (`validate` -> `Validated`): pandera's checks of the typed rows in large
chunks, duplicate keys, the declared rules across rows, the currency codes in money cells, and the rows
the reader could not split into cells."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import pandera.polars as pa
import polars as pl

from pipelines import series
from pipelines.compile import CODE_RULE, CODE_SUFFIX, code_columns
from pipelines.schemas import (
    RAW_SUFFIX,
    TEXT_TYPES,
    ExportSpec,
    pandera_schema,
    raw_name,
)
from pipelines.stage import Staged, fill_values, source_cells
from store.sqltext import ident, literal

# Rows pandera checks at a time. Each call costs ~25 ms whatever its size, so a chunk is large; DuckDB's
# Arrow batches stop at one row group (122,880 rows), so they are gathered into chunks first. 1M-row
# chunks took a 10M-line load with a bad row to 3.0 GB of memory; 500k, 2.6 GB.
CHUNK_ROWS = 500_000


FAILURE_SCHEMA = {"line": pl.Int64, "column": pl.String, "rule": pl.String, "value": pl.String}


Progress = Callable[[int, int], None]


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


def chunks(con: duckdb.DuckDBPyConnection, sql: str, rows: int) -> Iterator[pl.DataFrame]:
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


def checks(con: duckdb.DuckDBPyConnection, spec: ExportSpec, n: int, progress: Progress | None) -> None:
    """Fill temp table `_fail` with every failure: pandera checks chunk by chunk, then duplicate keys."""
    con.execute("CREATE OR REPLACE TEMP TABLE _fail (line BIGINT, \"column\" VARCHAR, rule VARCHAR, value VARCHAR)")
    schema = pandera_schema(spec)
    # One streaming scan in Arrow batches: pandera sees a DataFrame (so its data checks run) of a
    # bounded size, and nothing is written on this connection until the scan is done.
    parts, done = [], 0
    for chunk in chunks(con, "SELECT * FROM _typed", CHUNK_ROWS):
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
    series.check(con, spec)  # the declared rules across rows (consecutive months, strict references)


@dataclass
class Validated:
    """Stage 4's result: every failure in `_fail`, the lines with one, and the first failures to show."""

    staged: Staged
    invalid: int  # rows (lines) with at least one failure
    failures: pl.DataFrame  # the first ones, by line

    @property
    def read(self) -> int:
        """Rows read from the file (the reader's rejects included)."""
        return self.staged.raw.rows

    @property
    def valid(self) -> int:
        """Rows that pass every rule: read, less those with a failure and those left out on purpose."""
        return self.read - self.invalid - self.staged.filtered


def validate(con: duckdb.DuckDBPyConnection, staged: Staged, progress: Progress | None = None,
             shown: int = 20) -> Validated:
    """Stage 4: every rule the staged rows break, in `_fail`; failures of a typed column's rule carry the
    cell's text from the source cells."""
    spec, mapping = staged.mapped.spec, staged.mapped.mapping
    checks(con, spec, staged.rows, progress)
    for col in code_columns(mapping, spec):
        con.execute(f"INSERT INTO _fail SELECT _line, {literal(col)}, {literal(CODE_RULE)}, NULL FROM _typed "
                    f"WHERE {ident(col + CODE_SUFFIX)} IS NOT NULL")
    rejects = staged.raw.rejects
    if rejects.height:
        con.register("_structural", rejects)
        con.execute("INSERT INTO _fail SELECT line, \"column\", rule, value FROM _structural")
        con.unregister("_structural")
    invalid = int(con.execute("SELECT count(DISTINCT line) FROM _fail").fetchall()[0][0])
    if invalid:  # quarantine records and messages need the source cells
        if staged.one_pass is not None:
            source_cells(con, staged.one_pass, staged.raw.rows)
        fill_values(con, spec, mapping, staged.raw)
    failures = con.sql(f"SELECT * FROM _fail ORDER BY line, \"column\" LIMIT {int(shown)}").pl()
    return Validated(staged, invalid, failures)


def clean_rows(con: duckdb.DuckDBPyConnection, spec: ExportSpec, rows: str, n: int, progress: Progress | None
                ) -> bool:
    """Whether stored rows pass the pandera schema and have no duplicate key, in one scan.

    Every cell of them parsed, so each `__raw` column is NULL (added here, not exported: 7 NULL text
    columns cost 0.7 s of Arrow export at 10M rows). Distinct key hashes prove distinct keys (~0.3 s at
    10M rows where DuckDB's GROUP BY takes ~1 s); equal ones send the keys themselves to DuckDB.
    """
    if spec.cross_row:  # rules across rows: the staged path checks them
        return False
    schema = pandera_schema(spec)
    unparsed = [pl.lit(None, pl.String).alias(c.name + RAW_SUFFIX) for c in spec.columns if c.type not in TEXT_TYPES]
    hashes, done = [], 0
    for chunk in chunks(con, f"SELECT {', '.join(map(ident, spec.column_names))} FROM {rows}", CHUNK_ROWS):
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
