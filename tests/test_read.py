"""Reading CSV/XLSX/Parquet into text cells with file line numbers; structural problems become rejects."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
import xxhash

import pipelines.read as read
from pipelines.read import content_hash, count_lines, read_raw
from store.errors import TandemError
from tests.conftest import write


def _read(path: Path, **kw: object) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    con = duckdb.connect()
    raw = read_raw(con, path, **kw)  # type: ignore[arg-type]
    return con.sql("SELECT * FROM _raw ORDER BY _line").pl(), raw.rejects, raw.rows


def test_lines_survive_multiline_fields_blank_lines_and_crlf(tmp_path: Path) -> None:
    f = write(tmp_path / "x.csv", 'id,note\r\n1,"two\r\nlines"\r\n\r\n2,"a ""q"" b"\r\n3,x\r\n')
    rows, rejects, n = _read(f)
    assert rows["id"].to_list() == ["1", "2", "3"]
    assert rows["_line"].to_list() == [2, 5, 6]  # line 4 is blank, line 3 continues record 2
    assert rows["note"].to_list() == ["two\r\nlines", 'a "q" b', "x"]
    assert rejects.height == 0 and n == 3


def test_ragged_rows_and_missing_trailing_field_are_rejected_with_their_line(tmp_path: Path) -> None:
    f = write(tmp_path / "x.csv", "a,b,c\n1,2,3\n4,5,6,7\n8,9\n10,11,12\n")
    rows, rejects, n = _read(f)
    assert rows["_line"].to_list() == [2, 5]
    assert rejects.to_dicts() == [
        {"line": 3, "column": None, "rule": "too many columns", "value": "4,5,6,7"},
        {"line": 4, "column": "c", "rule": "missing columns", "value": "8,9"},
    ]
    assert n == 4


def test_unterminated_quote_keeps_every_following_line_as_a_reject(tmp_path: Path) -> None:
    f = write(tmp_path / "x.csv", 'a,b\n1,2\n3,"oops\n5,6\n7,8\n')
    rows, rejects, n = _read(f)
    assert rows["_line"].to_list() == [2]
    assert rejects["line"].to_list() == [3, 4, 5]
    assert set(rejects["rule"]) == {"unterminated quote"}
    assert n == 4  # nothing read is lost: 1 row + 3 rejected lines


def test_text_stays_text(tmp_path: Path) -> None:
    f = write(tmp_path / "x.csv", "a,b\n007,2026-13-45\n")
    rows, _, _ = _read(f)
    assert rows.row(0) == ("007", "2026-13-45", 2)


def test_semicolon_delimiter_is_detected(tmp_path: Path) -> None:
    f = write(tmp_path / "x.csv", "a;b\n1,5;x\n")
    rows, _, _ = _read(f)
    assert rows["a"].to_list() == ["1,5"]


def test_cp1252_file_needs_the_encoding_option(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_bytes("a,b\n1,Café\n".encode("cp1252"))
    with pytest.raises(TandemError, match=r"line 2 is not valid utf-8 .*--encoding cp1252"):
        _read(f)
    rows, _, _ = _read(f, encoding="cp1252")
    assert rows["b"].to_list() == ["Café"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.csv", b"", "the file is empty"),
        ("x.csv", b"a,b\n", "header but no data rows"),
        ("x.csv", b"\x00\x01\x02garbage\xff\x00", "binary data"),
        ("x.xlsx", b"a,b\n1,2\n", "named as XLSX but the content is CSV text"),
        ("x.parquet", b"a,b\n1,2\n", "named as PARQUET but the content is CSV text"),
        ("x.csv", b"PK\x03\x04rest", "named as CSV but the content is an XLSX workbook"),
        ("x.json", b"{}", "unsupported file type"),
        ("x.csv", b"a,a\n1,2\n", "more than once"),
    ],
)
def test_unreadable_files_get_one_clear_sentence(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(TandemError, match=message):
        _read(f)


def test_xlsx_and_parquet_read_as_text_with_rows(tmp_path: Path) -> None:
    from datetime import date

    df = pl.DataFrame({"Id": ["a", "b"], "When": [date(2026, 1, 2), date(2026, 2, 3)], "N": [1.5, 2.0]})
    df.write_excel(tmp_path / "x.xlsx")
    df.write_parquet(tmp_path / "x.parquet")
    x, _, _ = _read(tmp_path / "x.xlsx")
    p, _, _ = _read(tmp_path / "x.parquet")
    assert set(x.columns) == {"id", "when", "n", "_line"}
    assert x.sort("_line")["when"].to_list() == ["2026-01-02", "2026-02-03"]
    assert x.sort("_line")["_line"].to_list() == [2, 3]  # workbook row numbers
    assert p.sort("_line")["n"].to_list() == ["1.5", "2.0"]
    assert p.sort("_line")["_line"].to_list() == [1, 2]


@pytest.mark.parametrize("text, lines", [("a,b\n1,2\n3,4\n", 3), ("a,b\n1,2\n3,4", 3), ("", 0)])
def test_content_hash_and_line_count_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   text: str, lines: int) -> None:
    """The hash, block by block, is the whole file's xxh3-128; a last line without a newline counts."""
    f = tmp_path / "x.csv"
    f.write_bytes(text.encode())
    monkeypatch.setattr(read, "BLOCK", 4)  # several blocks, a newline at some block edges
    assert (content_hash(f), count_lines(f)) == (f"xxh3-128:{xxhash.xxh3_128(text.encode()).hexdigest()}", lines)


# --- issue 26: line ends, a preamble above the header --------------------------------------------------------

HEADER = "invoice_id,invoice_line,supplier_id,category,cost_center,gl_account,invoice_date,due_date,amount,currency"


def _row(n: int, amount: str) -> str:
    return f"A{n},1,S1,C,CC,GL,2024-01-05,2024-02-04,{amount},EUR"


@pytest.mark.parametrize(("layout", "text"), [
    # the repro: a CRLF header over LF rows (was "not readable as CSV")
    ("CRLF header, LF rows", f"{HEADER}\r\n{_row(1, '100.50')}\n{_row(2, '200.25')}\n"),
    ("LF header, CRLF rows", f"{HEADER}\n{_row(1, '100.50')}\r\n{_row(2, '200.25')}\r\n"),
    ("a CR-only line among LF lines", f"{HEADER}\n{_row(1, '100.50')}\r{_row(2, '200.25')}\n"),
    ("CR-only lines", f"{HEADER}\r{_row(1, '100.50')}\r{_row(2, '200.25')}\r"),
])
def test_mixed_line_ends_load_like_any_file(tmp_path: Path, layout: str, text: str) -> None:
    from workspace.db import connect, ingest_file

    f = tmp_path / "invoices.csv"
    f.write_bytes(text.encode())
    con = connect(tmp_path / "t.duckdb")
    try:
        r = ingest_file(con, f)
        assert (r.outcome, r.rows_read, r.rows_loaded) == ("loaded", 2, 2), r.message
        assert con.sql("SELECT invoice_id, amount FROM invoices ORDER BY 1").fetchall() == [("A1", 100.5), ("A2", 200.25)]
    finally:
        con.close()


def test_line_ends_that_change_after_the_first_block_still_load(tmp_path: Path) -> None:
    """Two exports pasted together: LF lines for the first 100 kB, then CR LF; nothing read is lost and the
    lines of the quarantined row are the file's own."""
    from workspace.db import connect, ingest_file

    lf = [_row(n, f"{n}.25") for n in range(1, 2001)]
    crlf = [_row(n, f"{n}.25") for n in range(2001, 2101)] + [_row(2101, "x")]
    f = tmp_path / "invoices.csv"
    f.write_bytes(("\n".join([HEADER, *lf]) + "\n" + "\r\n".join(crlf) + "\r\n").encode())
    assert f.stat().st_size > read.HEAD
    con = connect(tmp_path / "t.duckdb")
    try:
        r = ingest_file(con, f, allow_partial=True)
        assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2101, 2100, 1)
        # independent: 1.25 + 2.25 + ... + 2100.25
        assert con.sql("SELECT sum(amount) FROM invoices").fetchall()[0][0] == pytest.approx(
            sum(range(1, 2101)) + 0.25 * 2100)
        assert con.sql("SELECT line, rule FROM quarantine").fetchall() == [(2102, "type: a decimal number")]
    finally:
        con.close()


PREAMBLE = f"Invoice register\nExported 2024-05-01 by finance\n{HEADER}\n{_row(1, '100.50')}\n{_row(2, 'x')}\n"


def test_the_loader_finds_a_header_below_a_preamble_and_says_so(tmp_path: Path) -> None:
    from workspace.db import connect, ingest_file

    f = write(tmp_path / "invoices.csv", PREAMBLE)
    con = connect(tmp_path / "t.duckdb")
    try:
        r = ingest_file(con, f, allow_partial=True)
        assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2, 1, 1)
        assert r.message.startswith("the header is on line 3: lines 1–2 above it skipped (a preamble); "
                                    "`header_row: 3` in the mapping says so")
        # lines are the file's own: the bad row is line 5
        assert con.sql("SELECT line, column_name, value FROM quarantine").fetchall() == [(5, "amount", "x")]
    finally:
        con.close()


@pytest.mark.parametrize("setting", ["header_row: 3", "skip_rows: 2"])
def test_a_mapping_says_where_the_header_is(tmp_path: Path, setting: str) -> None:
    from pipelines.load import check_file
    from pipelines.mappings import load_mapping

    m = load_mapping(write(tmp_path / "m.yaml", f"name: m\n{setting}\nexports:\n  invoices: {{}}\n"))
    c = check_file(write(tmp_path / "invoices.csv", PREAMBLE), m)
    assert (c.rows_read, c.rows_valid, c.rows_invalid, c.notes) == (2, 1, 1, ())
    assert c.preview["line"].to_list() == [4, 5]


def test_a_header_row_that_is_not_the_header_says_what_is_there(tmp_path: Path) -> None:
    from pipelines.load import check_file
    from pipelines.mappings import load_mapping

    m = load_mapping(write(tmp_path / "m.yaml", "name: m\nheader_row: 2\nexports:\n  invoices: {}\n"))
    with pytest.raises(TandemError) as exc:
        check_file(write(tmp_path / "invoices.csv", PREAMBLE), m)
    assert exc.value.message.startswith("invoices.csv: Missing required column(s) for invoices: invoice_id, ")
    assert exc.value.message.endswith("(the header, line 2, has exported 2024-05-01 by finance); a preamble above "
                                      "the header? set header_row in the mapping.")


def test_a_workbook_is_read_from_the_sheet_and_row_holding_its_header(tmp_path: Path) -> None:
    """A blank cover sheet, notes, then the sheet with a title row above the header: the loader reads that
    sheet from that row and says so; the mapping's `sheet` and `header_row` read it without a word."""
    import xlsxwriter

    from pipelines.load import check_file
    from pipelines.mappings import IDENTITY, load_mapping

    f = tmp_path / "budgets.xlsx"
    wb = xlsxwriter.Workbook(f)
    wb.add_worksheet("Cover")
    wb.add_worksheet("Notes").write_column(0, 0, ["Budget 2026", "approved by the board"])
    ws = wb.add_worksheet("Plan")
    ws.write_row(0, 0, ["Budget plan 2026"])
    ws.write_row(1, 0, ["fiscal_period", "cost_center", "category", "budget_amount", "currency"])
    ws.write_row(2, 0, ["2026-01", "CC1", "IT", 1000.5, "EUR"])
    ws.write_row(3, 0, ["2026-02", "CC1", "IT", -1, "EUR"])
    wb.close()
    c = check_file(f, IDENTITY)
    assert (c.rows_read, c.rows_valid, c.rows_invalid) == (2, 1, 1)
    assert c.notes == ("read the sheet 'Plan' (the first with the columns the mapping reads)",
                       "the header is on row 2: row 1 above it skipped (a preamble); `header_row: 2` in the mapping "
                       "says so")
    assert c.preview["line"].to_list() == [3, 4]  # the workbook's own rows
    m = load_mapping(write(tmp_path / "m.yaml", "name: m\nsheet: Plan\nheader_row: 2\nexports:\n  budgets: {}\n"))
    assert check_file(f, m).notes == ()


def test_a_clean_file_below_a_preamble_takes_the_clean_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No row to quarantine: the file goes straight into its table, read from the header's line."""
    import pipelines.load as load
    from workspace.db import connect, ingest_file

    staged: list[str] = []
    monkeypatch.setattr(load, "stage", lambda *a, _f=load.stage, **k: staged.append("staged") or _f(*a, **k))
    f = write(tmp_path / "invoices.csv", PREAMBLE.replace(_row(2, "x"), _row(2, "200.25")))
    con = connect(tmp_path / "t.duckdb")
    try:
        r = ingest_file(con, f)
        assert (r.outcome, r.rows_loaded, staged) == ("loaded", 2, [])
        assert r.message.startswith("the header is on line 3")
        assert con.sql("SELECT sum(amount) FROM invoices").fetchall()[0][0] == pytest.approx(300.75)
    finally:
        con.close()
