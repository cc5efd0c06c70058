"""Files handed out by the dashboard: formula-safe CSV/XLSX, stamped chart images, the review pack."""

from __future__ import annotations

import io
import shutil

import plotly.graph_objects as go
import polars as pl

from tandem import charts, exports

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
    text = stamped.layout.annotations[-1].text
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
