"""Reading, the first stage: what a file is (format, encoding, line ends, where its header is, which sheet),
checked before any row is typed (`read` -> `Source`), and its rows as a DuckDB table of text cells, each
tagged with its line in the file (`read_raw`).

Nothing here guesses types: every cell stays text so that the typed parse (pipelines/compile.py) and the
pandera checks (validate) report each bad cell instead of an auto-detecting reader turning it into NULL.
Structural problems (ragged rows, unterminated quotes) come back as rejects with their line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import polars as pl
import xxhash

from pipelines.archive import DEFAULT_LIMITS, Limits, check_workbook
from pipelines.mappings import MAX_PREAMBLE, check_delimiter, normalise
from store.errors import REJECTED, USAGE, TandemError
from store.sqltext import ident, literal

__all__ = ["DEFAULT_LIMITS", "FORMATS", "Limits", "RawTable", "Source", "read", "read_raw"]

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
BLOCK = 16 << 20
HEAD = 1 << 16  # bytes looked at to tell a file's format, encoding, line ends and header
REJECT_COLUMNS = {"line": pl.Int64, "column": pl.String, "rule": pl.String, "value": pl.String}
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class RawTable:
    """A temp table `table` of VARCHAR columns named by the normalised header, plus `_line`."""

    table: str
    header: list[str]
    rows: int
    fmt: str
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_COLUMNS))


@dataclass(frozen=True)
class Source:
    """What reading found out about a file before any row is typed: the read stage's result.

    `header_line` is the line (a workbook's row) the header is on: 1 unless a preamble comes first.
    `line_ends` is how a CSV's lines end (`lf`, `crlf`, `cr` for old-Mac files, `mixed`: a copy with LF
    ends is read). `notes` are what reading did that the user should know (a preamble skipped).
    A workbook's or Parquet file's rows are read here already (`frame`, text cells).
    """

    path: Path
    fmt: str
    encoding: str
    digest: str
    header: tuple[str, ...]
    header_line: int = 1
    delimiter: str | None = None
    line_ends: str = "lf"
    sheet: str | None = None
    notes: tuple[str, ...] = ()
    frame: pl.DataFrame | None = None


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
        return fh.read(HEAD)


def _looks_like(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    if b"\x00" in head:
        return "binary"
    return "csv"


def utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes are UTF-16 text without a byte-order mark: text in Latin
    letters has a NUL in every other byte, the odd ones (little-endian) or the even ones (big-endian)."""
    body = head[: len(head) // 2 * 2]
    if len(body) < 8 or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    even, odd = body[0::2], body[1::2]
    for zeros, other, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.9 * len(zeros) and other.count(0) <= 0.01 * len(other):
            try:
                body.decode(name)
            except UnicodeDecodeError:
                continue
            return name
    return None


def check_format(path: Path, fmt: str, wide: bool = False) -> None:
    """The content is what the name says; text that is UTF-16 or UTF-32 (`wide`) holds NUL bytes as text."""
    head = _sniff(path)
    if not head.strip():
        raise TandemError(f"{path.name}: the file is empty.")
    seen = _looks_like(head)
    if seen == "binary" and fmt == "csv" and wide:
        return
    if seen == "binary" and fmt == "csv" and (wide := utf16_without_bom(head)):
        raise TandemError(f"{path.name}: the file is {wide.upper()} text without a byte-order mark; load it with "
                          f"--encoding {wide}.")
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


def is_wide(encoding: str) -> bool:
    """UTF-16 or UTF-32: NUL bytes are part of the text."""
    name = text_codec(encoding).name
    return "16" in name or "32" in name


def is_utf8(encoding: str) -> bool:
    """Whether DuckDB can read a file in `encoding` as it is (UTF-8, with or without a BOM)."""
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False  # _utf8_copy says which encodings to try


def is_utf16(path: Path) -> bool:
    """The file starts with a UTF-16 byte-order mark."""
    return _sniff(path).startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def line_ends_of(head: bytes) -> str:
    """How the lines of a file's first block end: lf, crlf, cr (old Mac) or mixed (more than one way)."""
    crlf = head.count(b"\r\n")
    lf, cr = head.count(b"\n") - crlf, head.count(b"\r") - crlf
    if head.endswith(b"\r"):
        cr -= 1  # a CR LF cut by the end of the block
    kinds = [k for k, n in (("crlf", crlf), ("lf", lf), ("cr", cr)) if n > 0]
    # More than one kind: CR LF over LF, or a lone CR among LF lines (an old-Mac line, or a CR inside a field:
    # the normalising copy tells them apart, see _lf_line_ends)
    return kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "lf")


def cr_only(path: Path) -> bool:
    """Old-Mac line ends: the file's first block has carriage returns and no line feed."""
    head = _sniff(path)
    return b"\r" in head and b"\n" not in head


def _head_text(head: bytes, encoding: str, ends: str) -> str:
    """A file's first block as text (lossily: only for finding the header), line ends as the load reads them."""
    text = codecs.decode(head, text_codec(encoding).name, errors="replace").removeprefix("\ufeff")
    if len(head) == HEAD and "\n" in text:
        text = text[: text.rfind("\n") + 1]  # the last line may be cut by the end of the block
    if ends in ("cr", "mixed"):  # what the normalising copy makes of them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _lines(text: str, n: int) -> list[str]:
    """The first `n` physical lines of a text, without their line ends."""
    return [ln.removesuffix("\r") for ln in text.split("\n", n)[:n]]


def _from_line(text: str, line: int) -> str:
    """The text from the start of physical line `line` (1-based) on."""
    return text.split("\n", line - 1)[-1] if line > 1 else text


def _cells(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
    except csv.Error:
        return line.split(delimiter)


def _delimiter_of(line: str) -> str:
    return max(DELIMITERS, key=line.count)


@dataclass(frozen=True)
class HeaderFound:
    line: int
    delimiter: str
    note: str = ""


def find_header(path: Path, lines: list[str], delimiter: str | None, expected: Collection[str],
                given: int | None, unit: str = "line") -> HeaderFound:
    """The line the header is on: the one the mapping gives, else line 1 when it has every column the
    mapping reads, else the first of the next lines that does (a preamble above: said in the note)."""
    def delim(line: str) -> str:
        return delimiter or _delimiter_of(line)

    if given is not None:
        if given > len(lines):
            raise TandemError(f"{path.name}: the mapping puts the header on {unit} {given}, but the file has "
                              f"{len(lines)} {unit}(s); check header_row (or skip_rows).", USAGE)
        return HeaderFound(given, delim(lines[given - 1]))
    want = {normalise(e) for e in expected}
    first = lines[0] if lines else ""
    if not want or want <= {normalise(c) for c in _cells(first, delim(first))}:
        return HeaderFound(1, delim(first))
    for n, line in enumerate(lines[1: MAX_PREAMBLE + 1], start=2):
        if want <= {normalise(c) for c in _cells(line, delim(line))}:
            above = f"{unit} 1" if n == 2 else f"{unit}s 1–{n - 1}"
            return HeaderFound(n, delim(line), f"the header is on {unit} {n}: {above} above it skipped (a preamble); "
                               f"`header_row: {n}` in the mapping says so")
    return HeaderFound(1, delim(first))


def header_of(path: Path, line: str, delimiter: str, at: int) -> list[str]:
    """The normalised column names of a header line; a sentence for a CR in it, a name twice, a blank name."""
    if not line.split("\n", 1)[0].strip("\r \t"):
        raise TandemError(f"{path.name}: line {at} is empty; expected a header row.")
    check_delimiter(delimiter, f"{path.name}: the delimiter")
    try:
        names = next(csv.reader(io.StringIO(line, newline=""), delimiter=delimiter))
    except csv.Error:  # a carriage return inside an unquoted header cell
        raise TandemError(f"{path.name}, line {at}: the header holds a carriage return (CR) outside quotes; "
                          "remove it or quote that column name, then load the file again.") from None
    header = [normalise(n) for n in names]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise TandemError(f"{path.name}: the header names column(s) {', '.join(dupes)} more than once.")
    if any(not h for h in header):
        raise TandemError(f"{path.name}: the header has an empty column name (column {header.index('') + 1}).")
    return header


def read(path: Path, encoding: str = "utf-8", delimiter: str | None = None, limits: Limits = DEFAULT_LIMITS,
         expected: Collection[str] = (), header_line: int | None = None, sheet: str | None = None,
         fingerprinted: tuple[str, int | None] | None = None) -> Source:
    """Stage 1: what the file is. Refuses (one sentence) what cannot be read as it stands: a missing or empty
    file, binary data, the wrong encoding's byte-order mark, a zip bomb; finds the header, below a preamble
    when line 1 lacks the `expected` source columns (or on `header_line` when the mapping says)."""
    fmt = file_format(path)
    check_format(path, fmt, fmt == "csv" and is_wide(encoding))
    digest, nul = fingerprinted or fingerprint(path)  # (the caller may have read it already)
    if fmt == "xlsx":
        return _read_workbook(path, digest, limits, expected, header_line, sheet)
    if fmt == "parquet":
        df = _parquet(path)
        return Source(path, fmt, encoding, digest, tuple(normalise(c) for c in df.columns), frame=df)
    wide = is_wide(encoding)
    head = _sniff(path)
    if not wide and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TandemError(f"{path.name}: the file is UTF-16 text (it starts with a UTF-16 byte-order mark); "
                          "load it with --encoding utf-16.")
    if nul is not None and not wide:
        raise TandemError(f"{path.name}, line {line_at(path, nul)}: a NUL byte (binary data) in the text; "
                          "re-export the file as plain CSV text and load it again.")
    try:  # the first block in the encoding: the usual mistake is said before any column is looked for
        text_codec(encoding).incrementaldecoder(errors="strict").decode(head)  # type: ignore[misc]
    except UnicodeDecodeError as exc:
        raise _not_encoded(path, encoding, head, exc, 0, "\r" if cr_only(path) else "\n", True) from None
    ends = "lf" if wide else line_ends_of(head)
    text = _head_text(head, encoding, ends)
    lines = _lines(text, MAX_PREAMBLE + 1)
    found = find_header(path, lines, delimiter, expected, header_line)
    # the header is a record: a quoted name may span lines, line ends and all (parsed from its line on)
    header = header_of(path, _from_line(text, found.line), found.delimiter, found.line)
    return Source(path, fmt, encoding, digest, tuple(header), found.line, found.delimiter, ends,
                  notes=(found.note,) if found.note else ())


# --- CSV rows into DuckDB --------------------------------------------------------------------------------


def _utf8_copy(src: Source, workdir: Path) -> Path:
    """The file as UTF-8 with LF line ends: checked in blocks when it is that already, otherwise a
    transcoded copy (another encoding; old-Mac CR-only line ends or mixed line ends turned into LF)."""
    path, encoding = src.path, src.encoding
    decoder = text_codec(encoding).incrementaldecoder(errors="strict")  # type: ignore[misc]
    mac, mixed = src.line_ends == "cr", src.line_ends == "mixed"
    same = is_utf8(encoding) and not mac and not mixed
    out_path = path if same else workdir / path.name  # same name: messages name the file the user gave
    out = None if same else out_path.open("w", encoding="utf-8", newline="")
    nl = "\r" if mac else "\n"
    offset, lines_before, carry = 0, 0, ""  # for messages: the line a block starts on
    width = len(src.header)
    try:
        with path.open("rb") as fh:
            while block := fh.read(BLOCK):
                try:
                    text = decoder.decode(block)
                except UnicodeDecodeError as exc:
                    raise _not_encoded(path, encoding, block, exc, lines_before, nl, offset == 0) from None
                if "\x00" in text:
                    line = lines_before + text[: text.index("\x00")].count(nl) + 1
                    raise TandemError(f"{path.name}, line {line}: a NUL byte (binary data) in the text; "
                                      "re-export the file as plain CSV text and load it again.")
                if mixed:
                    text, carry = _lf_line_ends(carry + text, src.delimiter or ",", width, path, lines_before)
                if out is not None:
                    out.write(text.replace("\r", "\n") if mac else text)
                lines_before += text.count(nl)
                offset += len(block)
        decoder.decode(b"", final=True)
        if out is not None and carry:  # the file's last character: a CR ending its last line
            out.write("\n")
    except UnicodeDecodeError:
        raise TandemError(f"{path.name}: the file ends in the middle of a {encoding} character.") from None
    finally:
        if out is not None:
            out.close()
    return out_path


def _not_encoded(path: Path, encoding: str, block: bytes, exc: UnicodeDecodeError, lines_before: int, nl: str,
                 first: bool) -> TandemError:
    """The sentence for bytes that are not text in `encoding`: where, which byte, which encoding to try."""
    line = lines_before + block[: exc.start].count(nl.encode()) + 1
    bad = block[exc.start : exc.start + 1].hex().upper()
    hint = "cp1252 or latin-1" if is_utf8(encoding) else "utf-8"
    if first and block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        hint = "utf-16 (the file starts with a UTF-16 byte-order mark)"
    return TandemError(f"{path.name}: line {line} is not valid {encoding} (byte 0x{bad}); try --encoding {hint}.")


def _lf_line_ends(text: str, delimiter: str, width: int, path: Path, lines_before: int) -> tuple[str, str]:
    """A block of a file with mixed line ends as LF-ended lines, and what to carry to the next block (a CR
    that may be the first half of CR LF). CR LF is a line end; so is a lone CR after a complete record
    (as many delimiters as the header has, outside quotes): an old-Mac line among LF lines. Any other lone
    CR is inside a field: the same sentence as for any file."""
    carry = ""
    if text.endswith("\r"):
        text, carry = text[:-1], "\r"
    text = text.replace("\r\n", "\n")
    if "\r" not in text:
        return text, carry

    def ends_a_record(m: re.Match[str]) -> str:
        start = text.rfind("\n", 0, m.start()) + 1
        record = text[start : m.start()]
        if record.count('"') % 2:  # inside quotes: a CR in a quoted cell is the cell's own
            return "\r"
        if len(_cells(record, delimiter)) == width:
            return "\n"
        line = lines_before + text[: m.start()].count("\n") + 1
        raise TandemError(f"{path.name}, line {line}: a carriage return (CR) inside an unquoted field; quote that "
                          "field or remove the CR, then load the file again.")

    return re.sub("\r", ends_a_record, text), carry


def _line_map(path: Path) -> pl.DataFrame:
    """Per physical line: is it a record start, blank, and DuckDB's record-counting line number.

    DuckDB numbers records (a quoted field spanning lines counts once, blank lines count): this
    maps its numbers back to the file's physical lines. Vectorised over the lines with polars.
    """
    lines = (
        pl.scan_csv(path, has_header=False, separator="\x1f", quote_char=None, schema={"l": pl.String}, glob=False,
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
    header_line: int = 1

    def sql(self, types: dict[str, str] | None = None, dateformat: str | None = None, strict: bool = False) -> str:
        """The `read_csv(...)` table function: declared header and types (text unless `types` names the
        column), no guessing, strict rows. A row that does not fit goes to `rejects`, or with `strict`
        stops the statement (a ConversionException or InvalidInputException)."""
        types = types or {}
        cols = "{" + ", ".join(f"{literal(h)}: {literal(types.get(h, 'VARCHAR'))}" for h in self.header) + "}"
        fmt = f"dateformat={literal(dateformat)}, " if dateformat else ""
        skip = f"skip={self.header_line - 1}, " if self.header_line > 1 else ""
        rejects = ("store_rejects=false" if strict else f"store_rejects=true, rejects_table={literal(self.rejects)}, "
                   f"rejects_scan={literal(self.rejects + '_scan')}")
        return (
            f"read_csv({literal(str(self.path))}, header=true, {skip}columns={cols}, auto_detect=false, {fmt}"
            f"delim={literal(self.delimiter)}, quote='\"', escape='\"', strict_mode=true, {rejects}, "
            "max_line_size=10000000)"
        )


def csv_source(con: duckdb.DuckDBPyConnection, src: Source | Path, table: str, delimiter: str | None = None,
               path: Path | None = None) -> CsvSource:
    """How DuckDB reads the CSV `src` describes (from `path`, a copy, when given), with a fresh rejects table
    named after `table`."""
    if isinstance(src, Path):  # a plain file read from its first line (tests, tools)
        src = read(src, delimiter=delimiter)
    rej = f"{table}_rejects"
    # DuckDB appends to a rejects table across scans: start each file with none.
    con.execute(f"DROP TABLE IF EXISTS {rej}; DROP TABLE IF EXISTS {rej}_scan")
    return CsvSource(path or src.path, list(src.header), src.delimiter or ",", rej, src.header_line)


class NotCsv(TandemError):
    """DuckDB's reader gave up on the file (after the line ends and the encoding were checked)."""


def mixed_line_ends(path: Path) -> bool:
    """Whether the file's lines end in more than one way anywhere (CR LF and LF, or a lone CR among them)."""
    crlf = lf = cr = 0
    carry = b""
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            block = carry + block
            carry = block[-1:] if block.endswith(b"\r") else b""  # CR LF may straddle two blocks
            body = block[: len(block) - len(carry)]
            pairs = body.count(b"\r\n")
            crlf, lf, cr = crlf + pairs, lf + body.count(b"\n") - pairs, cr + body.count(b"\r") - pairs
    cr += len(carry)
    return sum(1 for n in (crlf, lf, cr) if n) > 1


def _read_csv(con: duckdb.DuckDBPyConnection, src: Source, path: Path, table: str) -> RawTable:
    csv_src = csv_source(con, src, table, path=path)
    header, rej = csv_src.header, csv_src.rejects
    lm = _line_map(path)
    data = lm.filter(pl.col("start") & ~pl.col("blank") & (pl.col("phys") > src.header_line))
    if data.height == 0:
        raise TandemError(f"{src.path.name}: the file has a header but no data rows.")
    unterminated = bool(lm["q"].sum() % 2)
    con.execute(f"DROP VIEW IF EXISTS {table}")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_csv AS SELECT * FROM {csv_src.sql()}")
    except duckdb.InvalidInputException as exc:
        line = bare_cr_line(path)
        if line is not None:
            raise TandemError(f"{src.path.name}, line {line}: a carriage return (CR) inside an unquoted field; quote "
                              "that field or remove the CR, then load the file again.") from None
        raise NotCsv(f"{src.path.name}: not readable as CSV ({str(exc).splitlines()[0]}); check its quoting and "
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
            f"{src.path.name}: could not line up the rows read ({n}) with the file's lines ({valid.height}); "
            "check its quoting.",
            REJECTED,
        )
    sel = ", ".join(f"c.{ident(h)}" for h in header)
    con.execute(f"DROP TABLE IF EXISTS {table}")
    lines = valid["_line"]
    first = src.header_line + 1
    if lines.len() == 0 or (lines[0] == first and lines[-1] == lines.len() + first - 1):
        # The common case, one row per line after the header: the line is the row number, no join needed.
        con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT {sel}, c.rowid + {first} AS _line "
                    f"FROM {table}_csv c")
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
        first_open = int(tail["phys"][0])
        structural = pl.concat([
            structural,
            tail.select(
                pl.col("phys").alias("line"),
                pl.lit(None, pl.String).alias("column"),
                pl.lit("unterminated quote").alias("rule"),
                pl.lit(f"a quote opened on line {first_open} is never closed").alias("value"),
            ),
        ])
    return RawTable(table, header, valid.height + structural["line"].n_unique(), "csv", structural)


# --- workbooks and Parquet files -------------------------------------------------------------------------


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


def _checked_frame(df: pl.DataFrame, name: str) -> pl.DataFrame:
    """The frame's columns under their normalised names, as text; a sentence for a name twice or nested data."""
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
    return _as_text(df).rename(dict(zip(df.columns, header, strict=True)))


def _load_frame(con: duckdb.DuckDBPyConnection, df: pl.DataFrame, table: str, fmt: str, first_line: int) -> RawTable:
    df = df.with_row_index("_line", offset=first_line).with_columns(pl.col("_line").cast(pl.Int64))
    con.register(f"{table}_frame", df)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_frame")
    con.unregister(f"{table}_frame")
    return RawTable(table, [c for c in df.columns if c != "_line"], df.height, fmt)


def _unreadable_workbook(path: Path, exc: Exception) -> TandemError:
    return TandemError(f"{path.name}: not a readable XLSX workbook ({str(exc).splitlines()[0]}).")


def sheet_rows(path: Path, sheet: str | int, n: int) -> list[list[str]]:
    """The first `n` rows of a sheet as text (empty cells ''), header or not: for finding the header."""
    import fastexcel

    try:
        df = fastexcel.read_excel(path).load_sheet(sheet, header_row=None, n_rows=n, dtypes="string").to_polars()
    except Exception as exc:  # calamine's errors carry no stable type
        raise _unreadable_workbook(path, exc) from None
    return [["" if v is None else str(v) for v in row] for row in df.iter_rows()]


def _read_workbook(path: Path, digest: str, limits: Limits, expected: Collection[str], header_line: int | None,
                   sheet: str | None) -> Source:
    """A workbook's sheet (the one named, else the first with the expected header, else the first) with its
    header on the row the mapping gives, the first row, or below a preamble."""
    import fastexcel

    check_workbook(path, limits)  # before calamine reads anything
    try:
        names = fastexcel.read_excel(path).sheet_names
    except Exception as exc:
        raise _unreadable_workbook(path, exc) from None
    if sheet is not None and sheet not in names:
        raise TandemError(f"{path.name}: the workbook has no sheet {sheet!r}; its sheets are {', '.join(names)}.",
                          USAGE)
    want = {normalise(e) for e in expected}

    def sheet_frame(name: str, row: int) -> pl.DataFrame:
        try:
            return pl.read_excel(path, sheet_name=name, infer_schema_length=None, read_options={"header_row": row - 1},
                                 raise_if_empty=False)
        except Exception as exc:  # calamine's errors carry no stable type
            raise _unreadable_workbook(path, exc) from None

    # The usual case reads the sheet once: its header on row 1 (or the mapping's row) holds the columns.
    # Otherwise the sheet's first rows are looked at for a header below a preamble, then the next sheet.
    chosen: tuple[str, int, str, pl.DataFrame] | None = None
    for name in [sheet] if sheet is not None else names:
        df = sheet_frame(name, header_line or 1)
        if df.width == 0 and sheet is None:
            continue  # an empty sheet (a cover left blank)
        if header_line is not None or not want or want <= {normalise(str(c)) for c in df.columns}:
            chosen = (name, header_line or 1, "", df)
            break
        rows = sheet_rows(path, name, MAX_PREAMBLE + 1)
        lines = [",".join(f'"{c}"' if "," in c or '"' in c else c for c in r) for r in rows]
        at = find_header(path, lines, ",", want, None, unit="row") if lines else None
        if at is not None and at.line > 1:
            chosen = (name, at.line, at.note, sheet_frame(name, at.line))
            break
    if chosen is None:  # no sheet holds the columns: the first one, and the map stage says what is missing
        first = sheet or names[0]
        chosen = (first, 1, "", sheet_frame(first, 1))
    name, row, note, df = chosen
    notes = [f"read the sheet {name!r} (the first with the columns the mapping reads)"] \
        if sheet is None and name != names[0] else []
    notes += [note] if note else []
    df = _checked_frame(df, path.name)
    return Source(path, "xlsx", "utf-8", digest, tuple(df.columns), row, sheet=name, notes=tuple(notes), frame=df)


def _parquet(path: Path) -> pl.DataFrame:
    try:
        df = pl.read_parquet(path)
    except Exception as exc:
        raise TandemError(f"{path.name}: not a readable Parquet file ({str(exc).splitlines()[0]}).") from None
    return _checked_frame(df, path.name)


def read_raw(con: duckdb.DuckDBPyConnection, src: Source | Path, table: str = "_raw", workdir: Path | None = None,
             **how: object) -> RawTable:
    """Stage 2's reading: the rows of `src` into temp table `table` (text cells + `_line`); structural
    problems become rejects. A CSV that is not UTF-8 with LF or CR LF line ends is read from a copy in
    `workdir` that is."""
    if isinstance(src, Path):  # a file read as it is (tests, tools): stage 1 first
        src = read(src, **how)  # type: ignore[arg-type]
    if src.frame is not None:
        # Workbook row numbers (the header's row + 1 is the first data row); Parquet rows from 1.
        first = src.header_line + 1 if src.fmt == "xlsx" else 1
        return _load_frame(con, src.frame, table, src.fmt, first)
    if workdir is None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tandem-") as tmp:
            return read_raw(con, src, table, Path(tmp))
    try:
        return _read_csv(con, src, _utf8_copy(src, workdir), table)
    except NotCsv:
        # line ends that change after the first block (two exports pasted together): read a copy with LF ends
        if src.line_ends in ("lf", "crlf") and mixed_line_ends(src.path):
            return _read_csv(con, src, _utf8_copy(replace(src, line_ends="mixed"), workdir), table)
        raise


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
