"""Charts readable at every size they are drawn: no two tick labels of an axis overlap (measured on the SVG
Kaleido writes, laid out by Chromium), and a weak point (a partial base) is drawn but does not set the scale, in
the app, the images, the PDF and the deck, which all draw the same figures (reports/pack.py `collect`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from decisions import agreement
from decisions.identity import Identity
from kpi_definitions.periods import Span
from reports import charts, exports, pack
from reports.scope import Scope, stamp_lines
from tests.test_e2e import CHROMIUM
from workspace.db import connect

# Where a chart is drawn (CSS px wide): a KPI page at 1024 and 1440 px (measured: the main column is 564 and
# 980 px), a card of the Overview at 1024 px, the PDF (1000, 1400), a deck's half slide (960), a screen snapshot.
WIDTHS = (242, 564, 980, 1000, 1400, 960, 1100)
# Each tick label's box, per axis (xtick, ytick, y2tick, ...), as the browser lays the SVG out: the four corners
# of the text's own box carried through its transform (a label turned 30° is a turned rectangle, not the larger
# upright box around it).
TICKS = """() => {
  const out = {};
  for (const g of document.querySelectorAll('svg g[class$="tick"]')) {
    const t = g.querySelector('text');
    if (!t || !t.textContent.trim()) continue;
    const b = t.getBBox(), m = t.getScreenCTM();
    const corner = (x, y) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];
    (out[g.getAttribute('class')] = out[g.getAttribute('class')] || []).push({text: t.textContent, corners: [
      corner(b.x, b.y), corner(b.x + b.width, b.y), corner(b.x + b.width, b.y + b.height),
      corner(b.x, b.y + b.height)]});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def agreed_sel(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scope]:
    """The demo with an agreed savings definition (procurement's value plus cost avoidance and orders not yet
    invoiced), at 2026-10: every chart with three views, the agreed bar on the bridge."""
    db = tmp_path_factory.mktemp("charts") / "tandem.duckdb"
    shutil.copy(demo_db, db)
    pia = Identity("pia@example.com", "Pia", "procurement", "editor", True)
    ana = Identity("ana@example.com", "Ana", "finance", "editor", True)
    con = connect(db)
    agreement.approve(con, agreement.propose(con, "savings", ["cost_avoidance", "not_yet_invoiced"],
                                             "Savings without cost avoidance and orders not yet invoiced.",
                                             "2025-01-01", "align", pia), ana)
    con.close()
    agreement._registry.cache_clear()
    old = os.environ.get("TANDEM_DB")
    os.environ["TANDEM_DB"] = str(db)
    from reports import source

    yield Scope(db, source.version(db), Span(24321, 24321, "month", "2026-10"), 24310, {}, None, "EUR")
    if old is None:
        os.environ.pop("TANDEM_DB", None)
    else:
        os.environ["TANDEM_DB"] = old


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "the chart test lays SVGs out in Debian's chromium, which scripts/test.sh installs"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b.new_page(viewport={"width": 1600, "height": 1200})
        b.close()


def _depth(a: list[list[float]], b: list[list[float]]) -> float:
    """How far two convex quadrilaterals overlap: the least overlap of their shadows on every edge's normal
    (separating axes); 0 or less when a line separates them."""
    least = float("inf")
    for quad in (a, b):
        for i in range(4):
            (x1, y1), (x2, y2) = quad[i], quad[(i + 1) % 4]
            nx, ny = y1 - y2, x2 - x1
            norm = (nx * nx + ny * ny) ** 0.5 or 1.0
            pa = [(x * nx + y * ny) / norm for x, y in a]
            pb = [(x * nx + y * ny) / norm for x, y in b]
            least = min(least, min(max(pa), max(pb)) - max(min(pa), min(pb)))
    return least


def overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of labels whose boxes overlap by more than half a pixel."""
    return [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if _depth(a["corners"], b["corners"]) > 0.5]


def laid_out(browser, fig, width: int) -> dict[str, list[dict]]:  # noqa: ANN001
    svg = exports.image(fig, "svg", width).decode()
    browser.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
    return browser.evaluate(TICKS)


def test_the_overlap_check_sees_overlapping_labels(browser) -> None:  # noqa: ANN001
    """The check itself: twelve long labels forced flat on a narrow chart overlap, and the check says so."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=[f"2026-{m:02d} long label" for m in range(1, 13)], y=list(range(12))))
    fig.update_xaxes(tickangle=0)
    assert overlaps(laid_out(browser, fig, 400)["xtick"])
    fig.update_xaxes(tickangle=None, autotickangles=[0, 30, 90])  # what the product's charts do
    assert not overlaps(laid_out(browser, fig, 400)["xtick"])


def test_no_tick_labels_overlap_on_any_chart_at_any_width(agreed_sel: Scope, browser) -> None:  # noqa: ANN001
    shots = pack.figures(agreed_sel)
    keys = {s.key for s in shots}
    assert {"savings-trend", "savings-bridge", "savings-by-supplier_id", "overview-gaps"} <= keys
    problems = []
    for shot in shots:
        for width in WIDTHS:
            if width == 242 and not shot.key.endswith("-trend"):
                continue  # a card draws the trend only (as a sparkline, below)
            fig = charts.sparkline(shot.kpi, agreed_sel.trend()) if width == 242 else shot.fig
            for axis, boxes in laid_out(browser, fig, width).items():
                problems += [f"{shot.key} at {width} px, {axis}: {a!r} on {b!r}" for a, b in overlaps(boxes)]
        # the 16:9 slide and the stamped snapshot, as downloaded
        for size in ("slide", "screen"):
            fig = charts.stamp(shot.fig, stamp_lines(agreed_sel, shot.kpi, shot.what), size)
            for axis, boxes in laid_out(browser, fig, 1100).items():
                problems += [f"{shot.key} ({size}), {axis}: {a!r} on {b!r}" for a, b in overlaps(boxes)]
    assert not problems, "\n".join(problems)


def test_the_bridge_marks_where_the_agreed_value_lands(agreed_sel: Scope, browser) -> None:  # noqa: ANN001
    """The agreed value: a bar of its own in the agreed view's colour (no step has it), a dashed line across the
    steps, the steps it includes marked ✓, its amount in the column of amounts at the right."""
    shots = {s.key: s for s in pack.figures(agreed_sel)}
    fig = shots["savings-bridge"].fig
    now = agreed_sel.values()
    agreed = now.filter((pl.col("kpi") == "savings") & (pl.col("view") == "agreed"))["value"][0]
    bar = next(t for t in fig.data if t.type == "bar" and t.y[0].startswith("Agreed value"))
    assert bar.x[0] == agreed and bar.marker.color == charts.PALETTE["violet"]
    assert charts.PALETTE["violet"] not in (charts.STEP_UP, charts.STEP_DOWN)  # its colour is no step's
    assert [s["x0"] for s in fig.layout.shapes] == [agreed] and fig.layout.shapes[0].line.dash == "dash"
    names = list(fig.data[0].y)
    assert "✓ Cost avoidance" in names and "✓ Savings on orders not yet<br>invoiced" in names
    assert not any(n.startswith("✓") for n in names if "Volume" in n)
    assert "■</span> Agreed value, version 1: ✓ the steps it includes" in fig.layout.title.subtitle.text
    ticks = laid_out(browser, fig, 564)
    assert formats_compact(agreed) in [b["text"].strip() for b in ticks["y2tick"]]


def formats_compact(v: float) -> str:
    from reports import formats

    return formats.compact(v, "currency", "EUR")


def test_a_partial_base_point_is_drawn_but_does_not_set_the_scale(agreed_sel: Scope, browser) -> None:  # noqa: ANN001
    """Finance savings of 2025-11 sit on a partial base month (−4.27M): the trend's scale is set by the other
    points and the targets, and the point is drawn at the edge, an arrow with its value, on the page's trend, the
    card's sparkline, and the pack's and deck's figures (the same figures: reports/pack.py collect)."""
    trend = agreed_sel.trend()
    weak = trend.filter((pl.col("kpi") == "savings") & (pl.col("view") == "finance") & (pl.col("period") == "2025-11"))
    assert [w["code"] for w in weak["warnings"][0]] == ["partial_base"]
    low = weak["value"][0]
    assert low < -4e6
    others = trend.filter((pl.col("kpi") == "savings") & (pl.col("period") != "2025-11"))["value"]
    p = pack.collect(agreed_sel)
    figures = {"page": charts.trend(p.kpis[0].kpi, trend), "card": charts.sparkline(p.kpis[0].kpi, trend),
               "pack and deck": next(s.fig for s in p.kpis[0].shots if s.key == "savings-trend")}
    for where, fig in figures.items():
        lo, hi = fig.layout.yaxis.range
        assert lo > low and lo <= others.min() and hi >= others.max(), where  # the others set it, all in view
        edge = [t for t in fig.data if t.mode in ("markers+text", "markers") and t.marker.symbol == "triangle-down"]
        assert edge and edge[0].y[0] == lo and edge[0].x[0] == "2025-11", where  # drawn, at the edge
    assert [t.text[0] for t in figures["page"].data if t.mode == "markers+text"] == ["−EUR 4.27M (partial base)"]
    # drawn inside the canvas in the PDF's image too
    svg = exports.image(figures["pack and deck"], "svg", 1000).decode()
    browser.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
    box = browser.evaluate("""() => { const t = [...document.querySelectorAll('text')].find(
        t => t.textContent.includes('partial base)')); const r = t.getBoundingClientRect();
        return {l: r.left, r: r.right, t: r.top, b: r.bottom, w: document.querySelector('svg').width.baseVal.value}; }""")
    assert 0 <= box["l"] and box["r"] <= box["w"]


def test_targets_set_the_scale_with_the_points(agreed_sel: Scope) -> None:
    """A target far above every point stays in view (the range is the points' and the targets')."""
    kpi = agreement.registry_for(agreed_sel.db)["savings"]
    trend = agreed_sel.trend()
    targets = pl.DataFrame({"target_id": [1], "kpi": ["savings"], "view": ["procurement"], "grain": ["month"],
                            "period": ["2026-10"], "slice_dim": [None], "slice_value": [None], "target": [2_500_000.0],
                            "actual": [None], "forecast": [None], "status": [None], "months_elapsed": [1],
                            "months_total": [1]}, schema_overrides={"slice_dim": pl.String, "slice_value": pl.String,
                                                                     "actual": pl.Float64, "forecast": pl.Float64,
                                                                     "status": pl.String})
    fig = charts.trend(kpi, trend, targets=targets)
    assert fig.layout.yaxis.range[1] >= 2_500_000
