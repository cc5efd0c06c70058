"""Snapshots that go straight onto a slide: every chart of the demo, rendered to PNG and SVG at the slide and
the screen size, with every text element (tick labels, titles, the stamp) inside the canvas."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpi_definitions.periods import Span
from reports import charts, exports, pack
from reports.scope import Scope, stamp_lines
from tandem import service

CHROMIUM = shutil.which("chromium")

# Every <text> of the SVG, as the browser lays it out: its box against the canvas.
BOXES = """() => {
  const svg = document.querySelector('svg');
  const out = [];
  for (const t of svg.querySelectorAll('text')) {
    if (!t.textContent.trim()) continue;
    const r = t.getBoundingClientRect();
    out.push({text: t.textContent, left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  }
  return {width: svg.width.baseVal.value, height: svg.height.baseVal.value, boxes: out};
}"""


@pytest.fixture(scope="module")
def demo_sel(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scope]:
    db = tmp_path_factory.mktemp("snap") / "tandem.duckdb"
    shutil.copy(demo_db, db)
    old = os.environ.get("TANDEM_DB")
    os.environ["TANDEM_DB"] = str(db)
    yield Scope(db, service.version(db), Span(24321, 24321, "month", "2026-10"), 24310, {}, None, "EUR")
    if old is None:
        os.environ.pop("TANDEM_DB", None)
    else:
        os.environ["TANDEM_DB"] = old


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "the snapshot test lays SVGs out in Debian's chromium, which scripts/test.sh installs"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b.new_page(viewport={"width": 1600, "height": 1000})
        b.close()


def test_every_demo_chart_keeps_every_text_inside_the_canvas_in_svg_and_png(demo_sel: Scope, browser) -> None:  # noqa: ANN001
    from PIL import Image

    shots = pack.figures(demo_sel)
    keys = {s.key for s in shots}
    assert "overview-gaps" in keys and {"savings-trend", "savings-bridge", "savings-by-supplier_id"} <= keys
    problems = []
    for shot in shots:
        for size in ("slide", "screen"):
            fig = charts.stamp(shot.fig, stamp_lines(demo_sel, shot.kpi, shot.what), size)
            svg = exports.image(fig, "svg").decode()
            browser.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
            laid = browser.evaluate(BOXES)
            w, h = laid["width"], laid["height"]
            if size == "slide":
                assert (w, h) == (1280, 720)
            texts = [b["text"] for b in laid["boxes"]]
            assert any("Tandem" in t for t in texts) and any(shot.what in t for t in texts), shot.key
            for b in laid["boxes"]:
                if b["left"] < -0.5 or b["top"] < -0.5 or b["right"] > w + 0.5 or b["bottom"] > h + 0.5:
                    problems.append(f"{shot.key} ({size}): {b['text'][:40]!r} at {b}")
            # The PNG is the same layout at twice the pixels; the stamp's last line is drawn inside it.
            png = Image.open(io.BytesIO(exports.image(fig, "png"))).convert("L")
            assert png.size == (int(w) * 2, int(h) * 2), shot.key
            last = next(b for b in laid["boxes"] if b["text"].endswith("· Tandem"))
            assert last["bottom"] <= h, f"{shot.key}: the stamp's last line ends below the canvas"
            region = png.crop((int(last["left"] * 2), int(last["top"] * 2), int(last["right"] * 2),
                               int(last["bottom"] * 2)))
            assert region.getextrema()[0] < 128, f"{shot.key} ({size}): the stamp's last line is not drawn"
    assert not problems, "\n".join(problems)


def test_bridge_folds_zero_steps_and_names_its_colours(demo_sel: Scope) -> None:
    shots = {s.key: s for s in pack.figures(demo_sel)}
    fig = shots["savings-bridge"].fig
    wf = fig.data[0]
    assert all(abs(v) >= 0.5 for v in wf.y[1:-1]), "a zero step is drawn"
    assert fig.layout.xaxis.tickangle == 0
    key = fig.layout.title.subtitle.text
    assert charts.STEP_UP in key and charts.STEP_DOWN in key  # the legend's squares are the bars' colours
    assert wf.increasing.marker.color == charts.STEP_UP and wf.decreasing.marker.color == charts.STEP_DOWN


def test_a_bridge_leaves_room_for_the_labels_outside_its_bars() -> None:
    from kpi_definitions.compute import BridgeResult, BridgeStep
    from kpi_definitions.registry import registry

    # 0.1 % → −0.1 pt → +3.7 pts → 3.7 %: the running levels are 0.001, 0, 0.037
    b = BridgeResult("price_change", "procurement", "finance", 0.001, 0.037, (
        BridgeStep("contract_variance", "Paid vs contract price", "", -0.001),
        BridgeStep("contracted_items", "Contracted", "", 0.037)))
    fig = charts.waterfall(registry()["price_change"], b)
    low, high = fig.layout.yaxis.range
    assert low == pytest.approx(-0.0037) and high == pytest.approx(0.037 + 0.0037)  # 10 % of 0.037 each side
    labels = list(fig.data[0].text)
    assert labels == ["0.1%", "−0.1 pts", "+3.7 pts", "3.7%"]  # the steps signed, the two values as they are


def test_axes_carry_their_unit(demo_sel: Scope) -> None:
    shots = {s.key: s for s in pack.figures(demo_sel)}
    assert shots["savings-trend"].fig.layout.yaxis.title.text == "EUR"
    assert shots["inventory_days-trend"].fig.layout.yaxis.title.text == "Days"


def test_many_bars_get_smaller_names_so_they_do_not_touch() -> None:
    import polars as pl

    from kpi_definitions.registry import registry
    from reports import charts

    def names(n: int) -> float:
        rows = pl.DataFrame({"kpi": ["savings"] * n, "view": ["finance"] * n, "supplier_id": [f"S{i}" for i in range(n)],
                             "value": [1.0] * n})
        return charts.breakdown(registry()["savings"], rows, "supplier_id").layout.xaxis.tickfont.size

    assert (names(10), names(15)) == (11, 9)  # 15 two-word names at 11 px touched each other on a 960-px chart


def test_a_clicked_trend_point_leaves_the_other_points_as_they_are(demo_sel: Scope) -> None:
    # plotly dims every point but the selected one; a point is clicked for its lines, not to hide the rest
    fig = next(s for s in pack.figures(demo_sel) if s.key == "savings-trend").fig
    views = [t for t in fig.data if t.mode == "lines+markers"]
    assert len(views) == 2 and all(t.unselected.marker.opacity == 1 == t.selected.marker.opacity for t in views)
