"""Files that cannot run and output that shows data as data: every CSV and XLSX the product writes, read
back with the csv module and openpyxl, and the CLI's tables, with hostile values in them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from reports import exports, safe_text
from tests.rows import VALID

runner = CliRunner()

HOSTILE = [
    '=HYPERLINK("http://x")', "@SUM(A1)", "+1+1", "-2+3", "external:\\\\host\\share\\x.exe", "http://example.com",
    "a\rb", "abc\u202etxt.exe", "[/bold]", "<b>x</b>", " =1+1", "\t=1", "＝1+1", "12", "-5",
]
RUNS = ['=HYPERLINK("http://x")', "@SUM(A1)", "+1+1", "-2+3", " =1+1", "\t=1", "＝1+1", "-5"]  # formula-like text
SHOWN = {"abc\u202etxt.exe": "abc⟨U+202E⟩txt.exe"}  # made visible


def expected(text: str) -> str:
    shown = SHOWN.get(text, text)
    return "'" + shown if text in RUNS else shown


def frame() -> pl.DataFrame:
    n = len(HOSTILE)
    return pl.DataFrame({"supplier_name": HOSTILE, "amount": [-5.0 + i for i in range(n)],
                         "lines": list(range(-2, n - 2)), "category": pl.Series(HOSTILE, dtype=pl.Categorical)})


def test_csv_export_read_back() -> None:
    rows = list(csv.reader(io.StringIO(exports.to_csv(frame()).decode("utf-8"), newline="")))
    assert rows[0] == ["supplier_name", "amount", "lines", "category"]
    assert [r[0] for r in rows[1:]] == [expected(t) for t in HOSTILE]
    assert [r[3] for r in rows[1:]] == [expected(t) for t in HOSTILE]
    assert [float(r[1]) for r in rows[1:]] == frame()["amount"].to_list()  # numbers stay numbers: -5.0, not '-5.0
    assert rows[1][1] == "-5.0" and rows[1][2] == "-2"


def test_csv_export_quotes_a_bare_cr() -> None:
    raw = exports.to_csv(pl.DataFrame({"note": ["a\rb", "c\nd", "plain"]}))
    assert raw == b'note\n"a\rb"\n"c\nd"\nplain\n'


def _cells(xlsx: bytes) -> tuple[openpyxl.worksheet.worksheet.Worksheet, list[list[openpyxl.cell.Cell]]]:
    ws = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    return ws, [list(r) for r in ws.iter_rows()]


def test_xlsx_export_writes_text_as_text_and_numbers_as_numbers() -> None:
    ws, rows = _cells(exports.to_xlsx(frame(), "lines"))
    assert [c.value for c in rows[0]] == ["supplier_name", "amount", "lines", "category"]
    for text, row in zip(HOSTILE, rows[1:], strict=True):
        name, amount, lines, category = row
        want = expected(text).replace("\r", "_x000D_")  # (how the XLSX format stores a CR in a string)
        assert (name.value, name.data_type) == (want, "s")
        assert (category.value, category.data_type) == (want, "s")
        assert amount.data_type == "n" and isinstance(amount.value, (int, float))
        assert lines.data_type == "n"
        assert name.hyperlink is None and category.hyperlink is None
    assert rows[1][1].value == -5 and rows[1][2].value == -2
    assert not ws._hyperlinks  # noqa: SLF001 - no live link anywhere, not even `external:\\host\share`
    assert all(c.data_type != "f" for r in rows for c in r)  # no formula cell


def test_xlsx_sheet_name_is_made_safe() -> None:
    ws, _ = _cells(exports.to_xlsx(pl.DataFrame({"a": [1]}), "lines:[x]/y?*" + "z" * 40))
    assert ws.title == "lines__x__y__" + "z" * 18 and len(ws.title) == 31


def test_review_pack_shows_hidden_characters() -> None:
    html = exports.review_pack("t", None, [], pl.DataFrame({"supplier": ["abc\u202etxt.exe", "<b>x</b>"]}))
    assert "abc⟨U+202E⟩txt.exe" in html and "\u202e" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


@pytest.mark.parametrize(("text", "shown"), [
    ("abc\u202etxt.exe", "abc⟨U+202E⟩txt.exe"),
    ("\u202a\u202b\u202c\u202d", "⟨U+202A⟩⟨U+202B⟩⟨U+202C⟩⟨U+202D⟩"),
    ("\u2066a\u2067b\u2068c\u2069", "⟨U+2066⟩a⟨U+2067⟩b⟨U+2068⟩c⟨U+2069⟩"),
    ("\u200e\u200f\u061c", "⟨U+200E⟩⟨U+200F⟩⟨U+061C⟩"),
    ("a\u200bb\u200cc\u200dd\u2060e\ufefff", "a⟨U+200B⟩b⟨U+200C⟩c⟨U+200D⟩d⟨U+2060⟩e⟨U+FEFF⟩f"),
    ("esc\x1b[31mred", "esc⟨U+001B⟩[31mred"), ("line\u2028sep", "line⟨U+2028⟩sep"),
    ("tab\tnew\nline\rcr", "tab\tnew\nline\rcr"), ("café 日本 Ünïcödé", "café 日本 Ünïcödé"),
])
def test_visible(text: str, shown: str) -> None:
    assert safe_text.visible(text) == shown
    assert safe_text.visible_frame(pl.DataFrame({"x": [text, None]}))["x"].to_list() == [shown, None]


def test_label_is_capped_escaped_and_visible() -> None:
    assert safe_text.label("x" * 100_000) == "x" * 59 + "…"
    assert safe_text.label("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"
    assert safe_text.label("abc\u202etxt", 8) == "abc⟨U+2…"
    assert safe_text.label(None) == "" and safe_text.label("a\nb") == "a b"


def test_capped_labels_of_distinct_values_stay_distinct() -> None:
    long = "Supplier with a very long legal name GmbH & Co. KG, Niederlassung "
    got = safe_text.labels([long + "Nord", long + "Süd", long + "Nord", "short", None], max_len=40)
    assert got[0] != got[1] and got[0] == got[2] and all(len(g) <= 40 + 16 for g in got)  # (& escaped: &amp;)
    assert got[1].endswith(" #2") and got[3:] == ["short", ""]
    names = safe_text.label_map(pl.Series([long + "Nord", long + "Süd", "<b>x</b>", long + "Nord"]), max_len=40)
    assert len(names) == 3 and len(set(names.values())) == 3 and names["<b>x</b>"] == "&lt;b&gt;x&lt;/b&gt;"


def test_streamlit_flag_is_an_option_of_the_installed_streamlit() -> None:
    from streamlit import config

    for key, value in safe_text.STREAMLIT_OPTIONS.items():
        assert config.get_option(key) is False  # (the default: exports on) and the option exists
        assert f"--{key}={str(value).lower()}" in safe_text.STREAMLIT_FLAGS


def _hostile_db(tmp_path: Path) -> tuple[str, Path]:
    rows = [{**VALID["invoices"], "invoice_id": f"H{i}", "po_id": "", "po_line": "", "category": text,
             "supplier_id": text}
            for i, text in enumerate(HOSTILE)]
    folder = tmp_path / "in"
    folder.mkdir()
    f = folder / "invoices [bold] \u202eabc.csv"  # (a file name cannot hold "/")
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    db = str(tmp_path / "t.duckdb")
    r = runner.invoke(app, ["ingest", str(f), "--db", db])
    assert r.exit_code == 0, r.output
    assert "[bold]" in r.stdout and "⟨U+202E⟩" in r.stdout and "\u202e" not in r.stdout  # the summary shows the name as it is
    return db, f


def test_kpis_by_category_print_data_as_data(tmp_path: Path) -> None:
    db, _ = _hostile_db(tmp_path)
    base = ["kpis", "--db", db, "--period", "2026-01", "--kpi", "spend_under_management", "--by", "category"]
    table = runner.invoke(app, base)
    assert table.exit_code == 0, table.output
    assert "[/bold]" in table.stdout and "⟨U+202E⟩" in table.stdout and "\u202e" not in table.stdout
    assert "<b>x</b>" in table.stdout and "MarkupError" not in table.output

    con = duckdb.connect(db, read_only=True)
    stored = sorted(c for (c,) in con.execute("SELECT DISTINCT category FROM invoices").fetchall())
    con.close()
    assert len(stored) == len(HOSTILE)  # (ingestion trims the cells: ' =1+1' is '=1+1')
    doc = json.loads(runner.invoke(app, [*base, "--format", "json"]).stdout)
    assert sorted({d["dimensions"]["category"] for d in doc}) == stored  # JSON carries the data itself

    out = runner.invoke(app, [*base, "--format", "csv"]).stdout
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0][:6] == ["kpi", "view", "period", "category", "value", "unit"]  # then excluded, warnings, ...
    shown = {r[3] for r in rows[1:]}
    assert shown == {safe_text.cell(safe_text.visible(c)) for c in stored}
    assert {"'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "'+1+1", "'-2+3", "abc⟨U+202E⟩txt.exe", "[/bold]"} <= shown
    assert not any(c.lstrip(" \t\r\n").startswith(("=", "+", "-", "@", "＝")) for c in shown)
    assert all(isinstance(float(r[4]), float) for r in rows[1:])
    assert '"a\rb"' in out  # a bare CR is quoted


def test_errors_print_data_as_text(tmp_path: Path) -> None:
    missing = tmp_path / "[/bold] \u202eexe.csv"  # (in a folder "[" that does not exist)
    r = runner.invoke(app, ["ingest", str(missing)])
    assert r.exit_code == 2
    assert "[/bold] ⟨U+202E⟩exe.csv: no such file." in r.stderr and "MarkupError" not in r.output
