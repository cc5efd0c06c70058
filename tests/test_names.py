"""Names from the data on the pages: bidi controls and zero-width characters shown as ⟨U+XXXX⟩, markup shown as
written (filter labels, the filter text, drill-down rows, Data page tables, review items)."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from decisions import review
from decisions.identity import local_user
from tests.rows import VALID
from tests.test_app import app
from workspace.db import connect, ingest_file

LOCAL = local_user()  # the command line's user: every write names who acts

BIDI, HTML, MD, ZW = "abc\u202etxt.exe", "<b>x</b>", "**x** [y](z)", "zero\u200bwidth"
SHOWN = {BIDI: "abc⟨U+202E⟩txt.exe", HTML: "<b>x</b>", MD: "**x** [y](z)", ZW: "zero⟨U+200B⟩width"}
HIDDEN = ("\u202e", "\u200b")


@pytest.fixture(scope="module")
def db(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database with suppliers and categories named to mislead, invoiced in the demo's last month."""
    folder = tmp_path_factory.mktemp("names")
    path = folder / "names.duckdb"
    shutil.copy(demo_db, path)
    suppliers = [VALID["suppliers"] | {"supplier_id": f"SN{i}", "supplier_name": name}
                 for i, name in enumerate((BIDI, HTML, MD, ZW))]
    invoices = [VALID["invoices"] | {"invoice_id": f"IN{i}", "supplier_id": f"SN{i}", "po_id": "", "po_line": "",
                                     "category": name, "cost_center": "OPS", "invoice_date": "2026-10-10",
                                     "due_date": "2026-11-09", "amount": "100"}
                for i, name in enumerate((BIDI, HTML, MD, ZW))]
    invoices.append(VALID["invoices"] | {"invoice_id": "IN9", "supplier_id": "Z\u202e9", "po_id": "", "po_line": "",
                                         "invoice_date": "2026-10-10", "due_date": "2026-11-09", "amount": "5"})
    con = connect(path)
    try:
        for name, rows in (("suppliers_names.csv", suppliers), ("invoices_names.csv", invoices)):
            f = folder / name
            pl.DataFrame(rows).write_csv(f)
            assert ingest_file(con, f).ok
        rid = review.current(con, review.date(2026, 11, 1), "2026-10", pl.DataFrame(
            schema={"kpi": pl.Utf8, "view": pl.Utf8, "period": pl.Utf8, "value": pl.Float64}), by=LOCAL)
        review.add_item(con, rid, "savings", "note", f"Ask {BIDI} about {HTML}", by=LOCAL)
    finally:
        con.close()
    return path


def _no_hidden(values: list[str]) -> None:
    assert not [v for v in values if any(h in v for h in HIDDEN)], values


def test_filter_labels_and_the_filter_text_show_names_as_written(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(db, monkeypatch, "overview")
    supplier, category = (w for w in at.multiselect if w.key in ("supplier", "category"))
    for i, name in enumerate((BIDI, HTML, MD, ZW)):
        assert f"SN{i} · {SHOWN[name]}" in supplier.options
        assert SHOWN[name] in category.options
    _no_hidden(supplier.options + category.options)
    assert "Z⟨U+202E⟩9 · (not in supplier master)" in supplier.options
    category.set_value([BIDI, MD]).run()
    assert not at.exception
    caption = at.caption[0].value  # Markdown source: punctuation escaped, so it shows as written
    assert "abc⟨U\\+202E⟩txt\\.exe" in caption and "\\*\\*x\\*\\* \\[y\\]\\(z\\)" in caption
    _no_hidden([c.value for c in at.caption])


def test_drilldown_rows_and_lines_show_names_as_written(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(db, monkeypatch, "drilldown", kpi="spend_under_management", period="2026-10")
    at.multiselect(key="by").set_value(["category"]).run()
    assert not at.exception
    picker = at.selectbox(key="lines_for")
    assert {SHOWN[BIDI], SHOWN[HTML], SHOWN[MD], SHOWN[ZW]} <= set(picker.options)
    _no_hidden(picker.options)
    aggregate = at.dataframe[0].value
    assert {SHOWN[BIDI], SHOWN[MD]} <= set(aggregate["Category"])
    picker.set_value(BIDI).run()
    lines = at.dataframe[1].value
    assert set(lines["Category"]) == {SHOWN[BIDI]}


def test_data_page_tables_show_names_as_written(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(db, monkeypatch, "data")
    findings = at.dataframe[3].value
    assert "Z⟨U+202E⟩9" in set(findings["subject"])
    _no_hidden([str(v) for d in at.dataframe for v in d.value.astype(str).to_numpy().ravel()])


def test_review_items_show_names_as_written(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(db, monkeypatch, "review")
    items = at.dataframe[-2].value  # the open items (the closed ones follow)
    assert list(items["text"]) == ["Ask abc⟨U+202E⟩txt.exe about <b>x</b>"]
    close = at.selectbox(key="close_item")
    assert close.options[0].endswith(": Ask abc⟨U+202E⟩txt.exe about <b>x</b>")
    _no_hidden(close.options)
