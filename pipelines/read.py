"""Reading an export file into a DuckDB table of text cells, each row tagged with its line in the file.

Nothing here guesses types: every cell stays text so that the typed parse (mappings) and the pandera
checks (validate) report each bad cell instead of an auto-detecting reader turning it into NULL.
Structural problems (ragged rows, unterminated quotes) come back as rejects with their line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import xxhash

from pipelines.mappings import normalise
from store.errors import REJECTED, USAGE, TandemError
from store.sqltext import ident, literal

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
BLOCK = 16 << 20
REJECT_COLUMNS = {"line": pl.Int64, "column": pl.String, "rule": pl.String, "value": pl.String}


@dataclass
class RawTable:
    """A temp table `table` of VARCHAR columns named by the normalised header, plus `_line`."""

    table: str
    header: list[str]
    rows: int
    fmt: str
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_COLUMNS))


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise TandemError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; use CSV, XLSX or Parquet.", USAGE
        )
    return fmt


def _sniff(path: Path) -> bytes:
    if not path.exists():
        raise TandemError(f"{path}: no such file.", USAGE)
    if path.is_dir():
        raise TandemError(f"{path}: is a folder, not a file.", USAGE)
    with path.open("rb") as fh:
        return fh.read(65536)


def _looks_like(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    if b"\x00" in head:
        return "binary"
    return "csv"


def check_format(path: Path, fmt: str) -> None:
    head = _sniff(path)
    if not head.strip():
        raise TandemError(f"{path.name}: the file is empty.")
    seen = _looks_like(head)
    if seen == "binary" and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TandemError(f"{path.name}: the file holds binary data, not {fmt.upper()} text.")
    if seen != fmt and not (seen == "binary" and fmt == "csv"):
        names = {"csv": "CSV text", "xlsx": "an XLSX workbook", "parquet": "a Parquet file"}
        raise TandemError(f"{path.name}: named as {fmt.upper()} but the content is {names[seen]}.")


def text_codec(encoding: str) -> codecs.CodecInfo:
    """The codec of a TEXT encoding; a clear sentence for an unknown one or a bytes codec (base64, zlib)."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise TandemError(f"Unknown encoding {encoding!r}; try utf-8, cp1252, latin-1 or utf-16.", USAGE) from None
    if not getattr(info, "_is_text_encoding", True):
        raise TandemError(f"--encoding {encoding} is not a text encoding (it turns bytes into bytes); "
                          "try utf-8, cp1252, latin-1 or utf-16.", USAGE)
    return info


def is_utf8(encoding: str) -> bool:
    """Whether DuckDB can read a file in `encoding` as it is (UTF-8, with or without a BOM)."""
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False  # _utf8_copy says which encodings to try


def is_utf16(path: Path) -> bool:
    """The file starts with a UTF-16 byte-order mark."""
    return _sniff(path).startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def cr_only(path: Path) -> bool:
    """Old-Mac line ends: the file's first block has carriage returns and no line feed."""
    head = _sniff(path)
    return b"\r" in head and b"\n" not in head


def _utf8_copy(path: Path, encoding: str, workdir: Path) -> Path:
    """The file as UTF-8 with LF line ends: checked in blocks when it is that already, otherwise a
    transcoded copy (another encoding, or old-Mac CR-only line ends turned into LF)."""
    decoder = text_codec(encoding).incrementaldecoder(errors="strict")  # type: ignore[misc]
    mac = cr_only(path)
    same = is_utf8(encoding) and not mac
    out_path = path if same else workdir / path.name  # same name: messages name the file the user gave
    out = None if same else out_path.open("w", encoding="utf-8", newline="")
    nl = "\r" if mac else "\n"
    offset, lines_before = 0, 0  # for messages: the line a block starts on
    try:
        with path.open("rb") as fh:
            while block := fh.read(BLOCK):
                try:
                    text = decoder.decode(block)
                except UnicodeDecodeError as exc:
                    line = lines_before + block[: exc.start].count(nl.encode()) + 1
                    bad = block[exc.start : exc.start + 1].hex().upper()
                    hint = "cp1252 or latin-1" if is_utf8(encoding) else "utf-8"
                    if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and offset == 0:
                        hint = "utf-16 (the file starts with a UTF-16 byte-order mark)"
                    raise TandemError(
                        f"{path.name}: line {line} is not valid {encoding} (byte 0x{bad}); try --encoding {hint}."
                    ) from None
                if "\x00" in text:
                    line = lines_before + text[: text.index("\x00")].count(nl) + 1
                    raise TandemError(f"{path.name}, line {line}: a NUL byte (binary data) in the text; "
                                      "re-export the file as plain CSV text and load it again.")
                if out is not None:
                    out.write(text.replace("\r", "\n") if mac else text)
                lines_before += text.count(nl)
                offset += len(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise TandemError(f"{path.name}: the file ends in the middle of a {encoding} character.") from None
    finally:
        if out is not None:
            out.close()
    return out_path


def _header(path: Path, delimiter: str | None) -> tuple[list[str], str]:
    with path.open("rb") as fh:  # only the first line is decoded: the file is checked elsewhere
        first = fh.readline().decode("utf-8-sig")
    if not first.strip():
        raise TandemError(f"{path.name}: the first line is empty; expected a header row.")
    if delimiter is None:
        delimiter = max([",", ";", "\t", "|"], key=first.count)
    try:
        names = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    except csv.Error:  # a carriage return inside an unquoted header cell
        raise TandemError(f"{path.name}, line 1: the header holds a carriage return (CR) outside quotes; "
                          "remove it or quote that column name, then load the file again.") from None
    header = [normalise(n) for n in names]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise TandemError(f"{path.name}: the header names column(s) {', '.join(dupes)} more than once.")
    if any(not h for h in header):
        raise TandemError(f"{path.name}: the header has an empty column name (column {header.index('') + 1}).")
    return header, delimiter


def _line_map(path: Path) -> pl.DataFrame:
    """Per physical line: is it a record start, blank, and DuckDB's record-counting line number.

    DuckDB numbers records (a quoted field spanning lines counts once, blank lines count): this
    maps its numbers back to the file's physical lines. Vectorised over the lines with polars.
    """
    lines = (
        pl.scan_csv(path, has_header=False, separator="\x1f", quote_char=None, schema={"l": pl.String},
                    encoding="utf8-lossy")
        .select(
            q=pl.col("l").str.count_matches('"', literal=True).fill_null(0),
            blank=pl.col("l").is_null() | (pl.col("l").str.strip_chars() == ""),
        )
        .collect()
    )
    return lines.with_row_index("phys", offset=1).with_columns(
        start=((pl.col("q").cum_sum() - pl.col("q")) % 2 == 0),
    ).with_columns(duck=pl.col("start").cast(pl.Int64).cum_sum())


@dataclass(frozen=True)
class CsvSource:
    """A CSV file as DuckDB reads it: the header's columns all as text, structural problems to `rejects`."""

    path: Path
    header: list[str]
    delimiter: str
    rejects: str

    def sql(self, types: dict[str, str] | None = None, dateformat: str | None = None, strict: bool = False) -> str:
        """The `read_csv(...)` table function: declared header and types (text unless `types` names the
        column), no guessing, strict rows. A row that does not fit goes to `rejects`, or with `strict`
        stops the statement (a ConversionException or InvalidInputException)."""
        types = types or {}
        cols = "{" + ", ".join(f"{literal(h)}: {literal(types.get(h, 'VARCHAR'))}" for h in self.header) + "}"
        fmt = f"dateformat={literal(dateformat)}, " if dateformat else ""
        rejects = ("store_rejects=false" if strict else f"store_rejects=true, rejects_table={literal(self.rejects)}, "
                   f"rejects_scan={literal(self.rejects + '_scan')}")
        return (
            f"read_csv({literal(str(self.path))}, header=true, columns={cols}, auto_detect=false, {fmt}"
            f"delim={literal(self.delimiter)}, quote='\"', escape='\"', strict_mode=true, {rejects}, "
            "max_line_size=10000000)"
        )


def csv_source(con: duckdb.DuckDBPyConnection, path: Path, table: str, delimiter: str | None) -> CsvSource:
    """The file's header (names normalised, delimiter detected) and a fresh rejects table named after `table`."""
    header, delim = _header(path, delimiter)
    rej = f"{table}_rejects"
    # DuckDB appends to a rejects table across scans: start each file with none.
    con.execute(f"DROP TABLE IF EXISTS {rej}; DROP TABLE IF EXISTS {rej}_scan")
    return CsvSource(path, header, delim, rej)


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str, delimiter: str | None) -> RawTable:
    src = csv_source(con, path, table, delimiter)
    header, rej = src.header, src.rejects
    lm = _line_map(path)
    data = lm.filter(pl.col("start") & ~pl.col("blank") & (pl.col("phys") > 1))
    if data.height == 0:
        raise TandemError(f"{path.name}: the file has a header but no data rows.")
    unterminated = bool(lm["q"].sum() % 2)
    con.execute(f"DROP VIEW IF EXISTS {table}")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_csv AS SELECT * FROM {src.sql()}")
    except duckdb.InvalidInputException as exc:
        line = bare_cr_line(path)
        if line is not None:
            raise TandemError(f"{path.name}, line {line}: a carriage return (CR) inside an unquoted field; quote that "
                              "field or remove the CR, then load the file again.") from None
        raise TandemError(f"{path.name}: not readable as CSV ({str(exc).splitlines()[0]}); check its quoting and "
                          "line ends.") from None
    rejects = con.sql(
        f"SELECT CAST(line AS BIGINT) AS duck, arg_min(column_name, column_idx) AS column, "
        f"lower(CAST(arg_min(error_type, column_idx) AS VARCHAR)) AS rule, "
        f"trim(any_value(csv_line), chr(10) || chr(13)) AS value "
        f"FROM {rej} GROUP BY line ORDER BY line"
    ).pl()
    # Every record start that DuckDB did not reject is, in order, the next row of its table.
    tail = pl.DataFrame(schema={"phys": pl.Int64})
    if unterminated:
        # A quote opened and never closed swallows the rest of the file: every line from there on is
        # quarantined as a row of its own, and DuckDB's rows all come from before it.
        opened = int(lm.filter(pl.col("start"))["phys"].max())  # type: ignore[arg-type]
        tail = lm.filter((pl.col("phys") >= opened) & ~pl.col("blank")).select(pl.col("phys").cast(pl.Int64))
        rejects = rejects.filter(pl.col("duck") < lm.filter(pl.col("phys") == opened)["duck"][0])
        data = data.filter(pl.col("phys") < opened)
    rejects = rejects.join(lm.filter(pl.col("start")).select("duck", "phys"), on="duck", how="left")
    valid = data.join(rejects, on="duck", how="anti").select(pl.col("phys").cast(pl.Int64).alias("_line"))
    n = con.execute(f"SELECT count(*) FROM {table}_csv").fetchall()[0][0]
    if n != valid.height:
        raise TandemError(
            f"{path.name}: could not line up the rows read ({n}) with the file's lines ({valid.height}); "
            "check its quoting.",
            REJECTED,
        )
    sel = ", ".join(f"c.{ident(h)}" for h in header)
    con.execute(f"DROP TABLE IF EXISTS {table}")
    lines = valid["_line"]
    if lines.len() == 0 or (lines[0] == 2 and lines[-1] == lines.len() + 1):
        # The common case, one row per line from line 2: the line is the row number, no join needed.
        con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT {sel}, c.rowid + 2 AS _line FROM {table}_csv c")
    else:
        con.register(f"{table}_lines", valid.with_row_index("_rn"))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {sel}, l._line FROM "
            f"(SELECT *, rowid AS _rn FROM {table}_csv) c JOIN {table}_lines l USING (_rn) ORDER BY l._line"
        )
        con.unregister(f"{table}_lines")
        con.execute(f"DROP TABLE {table}_csv")
    structural = rejects.select(
        pl.col("phys").cast(pl.Int64).alias("line"), "column", "rule", "value"
    )
    if tail.height:
        first = int(tail["phys"][0])
        structural = pl.concat([
            structural,
            tail.select(
                pl.col("phys").alias("line"),
                pl.lit(None, pl.String).alias("column"),
                pl.lit("unterminated quote").alias("rule"),
                pl.lit(f"a quote opened on line {first} is never closed").alias("value"),
            ),
        ])
    return RawTable(table, header, valid.height + structural["line"].n_unique(), "csv", structural)


def _as_text(df: pl.DataFrame) -> pl.DataFrame:
    """Typed cells from a workbook or Parquet file as the text the canonical parser expects."""
    exprs = []
    for name, dtype in df.schema.items():
        c = pl.col(name)
        if dtype == pl.Date:
            exprs.append(c.dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(
                pl.when(c.dt.time() == pl.time(0)).then(c.dt.strftime("%Y-%m-%d"))
                .otherwise(c.dt.strftime("%Y-%m-%d %H:%M:%S"))
            )
        else:
            exprs.append(c.cast(pl.String))
    return df.select(exprs)


def _load_frame(con: duckdb.DuckDBPyConnection, df: pl.DataFrame, table: str, fmt: str, first_line: int,
                name: str) -> RawTable:
    header = [normalise(c) for c in df.columns]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise TandemError(f"{name}: the header names column(s) {', '.join(dupes)} more than once.")
    if df.height == 0:
        raise TandemError(f"{name}: the file has a header but no data rows.")
    nested = next((n for n, t in df.schema.items() if t.is_nested()), None)
    if nested is not None:
        raise TandemError(f"{name}: column {nested} holds nested values ({df.schema[nested]}); Tandem reads flat "
                          "columns only: flatten it in the export (one value per cell) and load the file again.")
    df = _as_text(df).rename(dict(zip(df.columns, header, strict=True))).with_row_index("_line", offset=first_line)
    df = df.with_columns(pl.col("_line").cast(pl.Int64))
    con.register(f"{table}_frame", df)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_frame")
    con.unregister(f"{table}_frame")
    return RawTable(table, header, df.height, fmt)


@dataclass(frozen=True)
class Limits:
    """What one file may cost before it is read: a workbook is unpacked into memory whole, so its size
    after decompression and its rows are checked from the zip's directory first (a zip bomb of 14 MB can
    unpack to gigabytes of sheet XML)."""

    xlsx_unpacked_mb: int = 512
    xlsx_rows: int = 1_048_576  # Excel's own limit per sheet


DEFAULT_LIMITS = Limits()
DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


def check_xlsx(path: Path, limits: Limits) -> None:
    """Refuse a workbook whose sheets unpack to more than the limit or declare more rows, before reading it."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = [i for i in z.infolist() if i.filename.startswith("xl/")]
            unpacked = sum(i.file_size for i in parts)
            if unpacked > limits.xlsx_unpacked_mb << 20:
                raise TandemError(
                    f"{path.name}: the workbook unpacks to {unpacked / (1 << 20):,.0f} MB, over the limit of "
                    f"{limits.xlsx_unpacked_mb:,} MB (TANDEM_MAX_XLSX_UNPACKED_MB); export it as CSV instead, "
                    "or raise the limit if the machine has the memory.")
            for info in parts:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with z.open(info) as fh:
                        found = DIMENSION.search(fh.read(4096))
                    rows = int(found.group(1)) - 1 if found else 0
                    if rows > limits.xlsx_rows:
                        raise TandemError(
                            f"{path.name}: the sheet {info.filename.rsplit('/', 1)[-1]} declares {rows:,} rows, over "
                            f"the limit of {limits.xlsx_rows:,} (TANDEM_MAX_XLSX_ROWS); export it as CSV instead.")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise TandemError(f"{path.name}: not a readable XLSX workbook ({exc}).") from None


def _read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, table: str, limits: Limits = DEFAULT_LIMITS
               ) -> RawTable:
    check_xlsx(path, limits)
    try:
        df = pl.read_excel(path, infer_schema_length=None)
    except Exception as exc:  # calamine's errors carry no stable type
        raise TandemError(f"{path.name}: not a readable XLSX workbook ({str(exc).splitlines()[0]}).") from None
    # Workbook row 1 is the header, so the first data row is line 2.
    return _load_frame(con, df, table, "xlsx", 2, path.name)


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> RawTable:
    try:
        df = pl.read_parquet(path)
    except Exception as exc:
        raise TandemError(f"{path.name}: not a readable Parquet file ({str(exc).splitlines()[0]}).") from None
    return _load_frame(con, df, table, "parquet", 1, path.name)


def read_raw(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str = "_raw",
    encoding: str = "utf-8",
    delimiter: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> RawTable:
    """Read `path` into temp table `table` (text cells + `_line`); structural problems become rejects."""
    fmt = file_format(path)
    check_format(path, fmt)
    if fmt == "xlsx":
        return _read_xlsx(con, path, table, limits)
    if fmt == "parquet":
        return _read_parquet(con, path, table)
    with tempfile.TemporaryDirectory(prefix="tandem-") as tmp:
        utf8 = _utf8_copy(path, encoding, Path(tmp))
        return _read_csv(con, utf8, table, delimiter)


def content_hash(path: Path) -> str:
    """The file's content hash, named by its algorithm: `xxh3-128:<32 hex digits>`."""
    return fingerprint(path)[0]


def fingerprint(path: Path) -> tuple[str, int | None]:
    """The content hash and the offset of the file's first NUL byte (None: there is none), in one read.

    The hash only tells whether a file was loaded before (a re-load of the same content is a no-op); xxh3
    does that at ~25 GB/s where SHA-256 took 0.6 s per GB, so hashing a 1 GB export is mostly reading it.
    A NUL byte in an 8-bit text file is binary data that DuckDB's reader would otherwise load into a cell.
    (A load logged with an older SHA-256 digest is not recognised: that file loads once more, same rows.)
    """
    h = xxhash.xxh3_128()
    nul, offset = None, 0
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            h.update(block)
            if nul is None and (at := block.find(b"\x00")) >= 0:
                nul = offset + at
            offset += len(block)
    return f"xxh3-128:{h.hexdigest()}", nul


def bare_cr_line(path: Path) -> int | None:
    """The first line holding a carriage return that does not end the line (None: there is none)."""
    line, carry = 1, b""
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            block = carry + block
            carry = block[-1:] if block.endswith(b"\r") else b""  # CR LF may straddle two blocks
            body = block[: len(block) - len(carry)]
            found = re.search(rb"\r(?!\n)", body)
            if found:
                return line + body[: found.start()].count(b"\n")
            line += body.count(b"\n")
    return line if carry else None


def line_at(path: Path, offset: int) -> int:
    """The line (1-based, LF or old-Mac CR line ends) holding byte `offset`: for messages only."""
    nl = b"\r" if cr_only(path) else b"\n"
    line, done = 1, 0
    with path.open("rb") as fh:
        while done < offset and (block := fh.read(min(BLOCK, offset - done))):
            line += block.count(nl)
            done += len(block)
    return line


def count_lines(path: Path) -> int:
    """The file's physical lines; a last line without a newline counts."""
    newlines, last = 0, b""
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            newlines += block.count(b"\n")
            last = block[-1:]
    return newlines + (1 if last not in (b"", b"\n") else 0)
