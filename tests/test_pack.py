"""The review pack: one self-contained HTML file with the overview, every KPI page and the open actions."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from decisions import review
from decisions.identity import local_user
from kpi_definitions.periods import Span
from kpi_definitions.registry import registry
from kpi_definitions.views import value_of
from reports import deck as tandem_deck
from reports import formats, pack
from reports.scope import Scope
from tandem import service
from workspace.db import connect

LOCAL = local_user()  # the command line's user: every write names who acts


def test_pack_has_every_kpi_the_overview_numbers_and_the_open_actions(demo_db: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "t.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("TANDEM_DB", str(db))
    values = service.kpi_values(str(db), "x", 24321, 24321, "month", (), ())[0]
    con = connect(db)
    rid = review.start(con, date(2026, 11, 2), "2026-10", values, by=LOCAL)
    review.add_item(con, rid, "savings", "action", "Ask <Logistics> why spend rose", "Ana", date(2026, 11, 9), by=LOCAL)
    con.close()
    sel = Scope(db, service.version(db), Span(24321, 24321, "month", "2026-10"), 24310, {}, None, "EUR")
    html = pack.build(sel)
    assert html.startswith("<!doctype html>") and "Tandem weekly KPI review · 2026-10" in html
    for kpi in registry():
        assert f"<h2>{kpi.label}</h2>" in html
    now = sel.values()
    savings = formats.value(value_of(now, "savings", "finance"), "currency", "EUR")
    assert f"<td class='nw'>{savings}</td>" in html  # the overview table carries the KPI layer's number
    assert "<td class='nw'>2026-01-01</td>" in html  # a short cell (a date, an amount) never breaks in print
    assert "Ask &lt;Logistics&gt; why spend rose" in html and "<Logistics>" not in html


@pytest.fixture(scope="module")
def with_action(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scope]:
    """The demo with one open action, selected at 2026-10 as `tandem pack --period 2026-10` would."""
    import os

    db = tmp_path_factory.mktemp("pack") / "t.duckdb"
    shutil.copy(demo_db, db)
    old = os.environ.get("TANDEM_DB")
    os.environ["TANDEM_DB"] = str(db)
    values = service.kpi_values(str(db), "x", 24321, 24321, "month", (), ())[0]
    con = connect(db)
    rid = review.start(con, date(2026, 11, 2), "2026-10", values, by=LOCAL)
    review.add_item(con, rid, "savings", "action", "Ask Logistics why spend rose", "Ana", date(2026, 11, 9), by=LOCAL)
    con.close()
    yield pack.selected(db, "2026-10")
    if old is None:
        os.environ.pop("TANDEM_DB", None)
    else:
        os.environ["TANDEM_DB"] = old


def _headline(sel: Scope, kpi: str, view: str) -> str:
    unit = registry()[kpi].unit
    return formats.value(value_of(sel.values(), kpi, view), unit, "EUR")


def test_pdf_handout_has_every_kpi_its_values_bridge_breakdown_and_the_actions(with_action: Scope,
                                                                              tmp_path: Path) -> None:
    import subprocess

    assert shutil.which("pdftoppm"), "the pack test reads the PDF with poppler-utils (scripts/_env.sh installs it)"
    pdf = tmp_path / "pack.pdf"
    pdf.write_bytes(pack.pdf(with_action))
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Tandem weekly KPI review · 2026-10" in text
    for kpi in registry():
        assert kpi.label in text
        for view in kpi.views:
            assert _headline(with_action, kpi.name, view) in text, (kpi.name, view)
    assert "Bridge steps" in text and "Cost avoidance" in text  # the savings bridge table
    assert "Savings by supplier (largest 10)" in text and "S0007" in text  # the top breakdown table
    assert "Ask Logistics why spend rose" in text and "Open actions" in text
    # a short word never breaks inside a table cell (the definitions' View column once read "Procureme / nt")
    assert text.count("Procur") == text.count("Procurement") and text.count("Finan") == text.count("Finance")
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 6 <= len(pages) <= 20  # overview, about two pages a KPI, the actions: not one chart a page
    from PIL import Image

    for page in pages:  # every page has something on it
        assert Image.open(page).convert("L").getextrema()[0] < 100, page.name


def test_pptx_deck_has_a_slide_per_kpi_with_numbers_images_definitions_and_a_stamp(with_action: Scope) -> None:
    import io

    from pptx import Presentation

    deck = Presentation(io.BytesIO(tandem_deck.pptx(with_action)))
    assert deck.slide_width * 9 == deck.slide_height * 16  # 16:9
    slides = list(deck.slides)
    reg = registry()
    assert len(slides) == 2 + len(list(reg)) + 1  # title, overview, one per KPI, actions

    def texts(slide) -> str:  # noqa: ANN001
        parts = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
        parts += [c.text for s in slide.shapes if s.has_table for r in s.table.rows for c in r.cells]
        return "\n".join(parts)

    for slide, kpi in zip(slides[2:-1], reg, strict=True):
        t = texts(slide)
        assert t.startswith(f"{kpi.label} · 2026-10")
        for view, v in kpi.views.items():
            assert _headline(with_action, kpi.name, view) in t
            assert f"v{v.version} (effective {v.effective_date}" in t  # the definition with its version
        assert "Filters: none" in t and "Tandem" in t  # the stamp
        pictures = [s for s in slide.shapes if s.shape_type == 13]
        assert len(pictures) == (2 if kpi.bridge is not None else 1), kpi.name  # trend and bridge
    assert "Ask Logistics why spend rose" in texts(slides[-1]) and "Ana" in texts(slides[-1])


def test_the_pack_command_writes_the_pack(with_action: Scope, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    out = tmp_path / "pack.html"
    r = CliRunner().invoke(app, ["pack", "--db", str(with_action.db), "--period", "2026-10", "--where",
                                 "category=IT", "--format", "html", "-o", str(out)])
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert "Tandem weekly KPI review · 2026-10" in html and "Category = IT" in html
    bad = CliRunner().invoke(app, ["pack", "--db", str(with_action.db), "--where", "colour=red", "-o", str(out)])
    assert bad.exit_code != 0


def test_suppliers_are_named_and_a_shared_name_keeps_its_id(with_action: Scope) -> None:
    names = pack.dimension_names(with_action, "supplier_id")
    assert names["S0007"] == "Northwind Components (S0007)" and names["S0001"] == "Northwind Components (S0001)"
    assert pack.dimension_names(with_action, "category") == {}
    p = pack.collect(with_action)
    savings = next(k for k in p.kpis if k.kpi.name == "savings")
    assert savings.breakdown is not None and savings.breakdown.columns[:2] == ["Supplier id", "Supplier"]
    assert "Northwind Components (S0007)" in savings.breakdown["Supplier"].to_list()
    chart = next(s for s in savings.shots if s.key == "savings-by-supplier_id").fig
    assert any("(S0007)" in x for x in chart.data[0].x)  # the chart's labels are names, the duplicate with its id
    table = pack.with_names(pl.DataFrame({"supplier_id": ["S0007", "S9999"], "v": [1.0, 2.0]}), "supplier_id", names)
    assert table.columns == ["supplier_id", "Supplier", "v"] and table["Supplier"].to_list() == [
        "Northwind Components (S0007)", None]


def test_the_pack_lists_a_netted_bridge_step_with_its_parts(with_action: Scope) -> None:
    p = pack.collect(with_action)
    budget = next(k for k in p.kpis if k.kpi.name == "budget_variance").bridge
    assert budget is not None
    steps = budget["Step"].to_list()
    b = service.bridge_of(str(with_action.db), with_action.ver, "budget_variance", with_action.span.first,
                          with_action.span.last, with_action.key)
    timing = next(s for s in b.steps if s.parts)  # the demo's budget bridge nets its timing step
    at = steps.index(timing.label)
    assert steps[at + 1:at + 1 + len(timing.parts)] == [f"↳ {part.label}" for part in timing.parts]
    amounts = budget["Amount"].to_list()[at:at + 1 + len(timing.parts)]
    assert amounts == [formats.signed(v, "currency", "EUR") for v in [timing.value, *(x.value for x in timing.parts)]]
    assert abs(sum(x.value for x in timing.parts) - timing.value) < 0.01  # the parts add up to the step
