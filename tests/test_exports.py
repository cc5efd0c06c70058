"""Files handed out by the dashboard: formula-safe CSV/XLSX, stamped chart images, the review pack."""

from __future__ import annotations

import io
import shutil

import plotly.graph_objects as go
import polars as pl

from reports import charts, exports

DANGEROUS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def frame() -> pl.DataFrame:
    return pl.DataFrame({"supplier_name": [*DANGEROUS, "Acme = fine", "ACME-1"],
                         "amount": [-5.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -7.0]})


def test_cells_that_would_run_as_formulas_become_text() -> None:
    out = exports.neutralise(frame())
    assert out["supplier_name"].to_list() == [f"'{d}" for d in DANGEROUS] + ["Acme = fine", "ACME-1"]
    assert out["amount"].to_list() == frame()["amount"].to_list()  # numbers stay numbers, negatives included


def test_csv_and_xlsx_carry_the_neutralised_cells() -> None:
    csv = pl.read_csv(io.BytesIO(exports.to_csv(frame())))
    assert csv["supplier_name"][0] == "'=HYPERLINK(\"http://x\")" and csv["amount"][0] == -5.5
    xlsx = pl.read_excel(io.BytesIO(exports.to_xlsx(frame(), "lines")), sheet_name="lines")
    assert xlsx["supplier_name"].to_list()[:4] == ["'=HYPERLINK(\"http://x\")", "'+1+1", "'-2+3", "'@SUM(A1)"]
    assert xlsx["amount"].to_list() == frame()["amount"].to_list()


def test_stamp_escapes_data_and_adds_the_lines() -> None:
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    stamped = charts.stamp(fig, ["Savings · 2026-01", "Filters: Supplier = <b>S1</b> & co"])
    text = stamped.layout.xaxis.title.text  # the stamp is the bottom axis title: the margin grows to hold it
    assert text == "Savings · 2026-01<br>Filters: Supplier = &lt;b&gt;S1&lt;/b&gt; &amp; co"
    assert stamped.layout.height > (fig.layout.height or 400)


def test_snapshots_are_real_png_and_svg_with_the_stamp() -> None:
    assert shutil.which("chromium"), "kaleido drives Debian's chromium, which scripts/test.sh installs"
    fig = charts.stamp(go.Figure(go.Bar(x=["Finance", "Procurement"], y=[883213, 152437])),
                       ["Savings · 2026-10 (month)", "Filters: Category = IT"])
    png = exports.image(fig, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    svg = exports.image(fig, "svg").decode()
    assert svg.startswith("<svg") and "Filters: Category = IT" in svg


def test_review_pack_is_self_contained_and_escapes_data() -> None:
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    actions = pl.DataFrame({"kpi": ["savings"], "text": ["<script>alert(1)</script>"], "owner": ["Ana & Bo"]})
    html = exports.review_pack("Review <2026-10>", None, [("Savings", [fig], pl.DataFrame({"View": ["finance"]}))],
                               actions)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Ana &amp; Bo" in html and "Review &lt;2026-10&gt;" in html
    assert "<script src=" not in html and html.count("Plotly.newPlot") == 1  # plotly.js inlined, no network


def test_xlsx_is_data_with_formats_a_frozen_header_an_autofilter_and_the_header_block() -> None:
    import datetime as dt

    import openpyxl

    df = pl.DataFrame({"supplier": ["=cmd", "Acme"], "Finance": [-1149562.4, 2500.0], "Days": [-50.0, 114.3],
                       "Share": [0.25, -0.1], "Lines": [3, 4], "Due": [dt.date(2026, 10, 31), None]})
    header = ["Savings by supplier · 2026-10 (month)", "Filters: Category = IT",
              "Definitions: finance v1.0; procurement v1.0", "Data as of 2026-11-01 08:00 · Tandem"]
    data = exports.to_xlsx(df, "savings", header, {"Finance": "currency", "Days": "days", "Share": "ratio"}, "EUR")
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [ws.cell(i + 1, 1).value for i in range(4)] == header  # the header block, above the table
    top = 6  # the block, a blank row, then the table's header row
    assert [c.value for c in ws[top]] == df.columns
    assert ws.freeze_panes == f"A{top + 1}" and ws.auto_filter.ref == f"A{top}:F{top + 2}"
    first = {c: ws.cell(top + 1, j + 1) for j, c in enumerate(df.columns)}
    assert first["supplier"].value == "'=cmd" and first["supplier"].data_type == "s"  # neutralised, text
    assert first["Finance"].value == -1149562.4 and first["Finance"].data_type == "n"
    assert first["Finance"].number_format == '"EUR "#,##0;"EUR "(#,##0)'  # separators, negatives in ()
    assert first["Days"].value == -50.0 and "(#,##0.0" in first["Days"].number_format
    assert first["Share"].number_format == "0.0%;(0.0%)" and first["Lines"].number_format == "#,##0;(#,##0)"
    assert first["Due"].is_date and first["Due"].value.date() == dt.date(2026, 10, 31)
    assert first["Due"].number_format == "yyyy-mm-dd"
    csv = pl.read_csv(io.BytesIO(exports.to_csv(df)))
    assert csv.schema["Finance"] == pl.Float64 and csv["Days"].sort().to_list() == [-50.0, 114.3]
