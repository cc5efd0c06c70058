"""How fast the pages show in a real browser: for the Overview and each KPI page, the moment its numbers show
and the moment its last chart shows, warm and right after a load, side by side with the floor — a minimal
Streamlit app with one Plotly chart, served and timed the same way on the same machine.

    uv run python benchmarks/browser.py [--db PATH] [--runs 3]

Times are read in the page's own clock (performance.now(), from the start of navigation), polled on every
animation frame, so they include the script run, the messages and the browser drawing, and nothing of the
test harness. "Numbers": the first KPI value on screen; "last chart": every Plotly chart drawn (its SVG in
place) and the app settled (tandem/widgets.py `settled`). Each figure is the median of `--runs` page loads.

Where the time goes: the app's messages are the websocket frames the browser receives, timed from the start of
the navigation in the page's clock as they arrive: before the first frame is the page
itself (HTML, the JavaScript bundle, the socket opened); from the first to the last frame before the charts show
is the script run (the server streams the page's elements while its script runs); after the last frame is the
browser drawing. The bytes received say how heavy the messages are.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import chromium, free_port, serving, up  # noqa: E402

FLOOR_APP = '''
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="Floor", layout="wide")
st.metric("A number", "EUR 1,234")
st.plotly_chart(go.Figure(go.Bar(x=list("abcdefghij"), y=list(range(10)))))
'''
# the moment a KPI value shows, and the moment every chart is drawn and nothing is still running
NUMBERS = """() => document.querySelector('[data-testid="stMetricValue"]') ? performance.now() : false"""
CHARTS = """(settled) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (settled && !document.querySelector('[data-tandem-settled]')) return false;
    if (document.querySelector('[data-testid="stElementContainer"][data-stale="true"]')) return false;
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    if (!charts.length || !charts.every(c => c.querySelector('.main-svg'))) return false;
    return performance.now();
}"""


# Every websocket message the page receives, stamped in the page's own clock as it arrives (before Streamlit's
# handler reads it): [performance.now(), bytes].
FRAMES = """
const Native = window.WebSocket;
window.__frames = [];
window.WebSocket = class extends Native {
    constructor(...args) {
        super(...args);
        this.addEventListener('message', e => window.__frames.push(
            [performance.now(), e.data.byteLength ?? e.data.size ?? e.data.length ?? 0]));
    }
};
"""


def listen(page) -> None:  # noqa: ANN001 - a Playwright page
    page.add_init_script(FRAMES)


@dataclass(frozen=True)
class Load:
    """One page load, in seconds from the start of navigation: numbers and last chart shown; first and last
    message received before the last chart showed, and the bytes of those messages."""

    numbers: float
    charts: float
    first_msg: float
    last_msg: float
    kb: float


def timed(page, url: str, settled: bool = True) -> Load:  # noqa: ANN001 - a Playwright page
    """When the first KPI value and the last chart showed on one page load, and when its messages came."""
    page.goto("about:blank")
    page.goto(url, wait_until="commit")
    numbers = page.wait_for_function(NUMBERS, polling="raf", timeout=300_000).json_value() / 1000
    charts = page.wait_for_function(CHARTS, arg=settled, polling="raf", timeout=300_000).json_value() / 1000
    got = [(t / 1000, n) for t, n in page.evaluate("window.__frames") if t / 1000 <= charts]
    first, last = (got[0][0], got[-1][0]) if got else (float("nan"), float("nan"))
    return Load(numbers, charts, first, last, sum(n for _, n in got) / 1024)


def middle(loads: list[Load]) -> Load:
    """The median of each figure over page loads."""
    return Load(*(statistics.median(getattr(x, f) for x in loads)
                  for f in ("numbers", "charts", "first_msg", "last_msg", "kb")))


def median(page, url: str, runs: int, settled: bool = True) -> Load:  # noqa: ANN001
    return middle([timed(page, url, settled) for _ in range(runs)])


def row(name: str, load: Load, floor: Load) -> str:
    return (f"| {name} | {load.numbers:.2f} s ({load.numbers / floor.numbers:.2f}×) | {load.charts:.2f} s "
            f"({load.charts / floor.charts:.2f}×) | {load.first_msg:.2f} s | {load.last_msg - load.first_msg:.2f} s | "
            f"{load.charts - load.last_msg:.2f} s | {load.kb:,.0f} kB |")


def load_one_invoice(db: Path, folder: Path, n: int) -> None:
    """A small load from the command line: the data version changes, every cache is cold again."""
    f = folder / f"invoices_bench_{n}.csv"
    f.write_text("invoice_id,invoice_line,supplier_id,po_id,po_line,item_id,category,cost_center,gl_account,"
                 "invoice_date,due_date,paid_date,quantity,amount,currency\n"
                 f"BENCH-{n},1,S0007,,,,Software,IT,6000,2026-10-15,2026-11-14,,,{100 + n},EUR\n")
    subprocess.run([sys.executable, "-m", "cli.main", "ingest", "--db", str(db), str(f)], check=True, cwd=ROOT,
                   capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, help="a Tandem database (default: the demo, built in a temp folder)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pages", help="comma-separated page names (default: the Overview and every KPI page)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tandem-browser-bench-"))
    db = work / "tandem.duckdb"
    if args.db:
        shutil.copy(args.db, db)
    else:
        subprocess.run([sys.executable, "-m", "cli.main", "demo", "--db", str(db), "--out", str(work / "demo")],
                       check=True, cwd=ROOT, capture_output=True)
    from kpi_definitions.registry import registry

    pages = args.pages.split(",") if args.pages else ["overview", *(k.name for k in registry())]
    floor_dir = work / "floor"
    floor_dir.mkdir()
    (floor_dir / "floor.py").write_text(FLOOR_APP)
    rows = []
    header = ("| page | numbers | last chart | first message | script run (first to last message) | drawing (last "
              "message to last chart) | messages |\n|---|---|---|---|---|---|---|")
    with chromium() as page:
        listen(page)
        port = free_port()
        floor_proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(floor_dir / "floor.py"),
                                       "--server.headless", "true", "--server.port", str(port),
                                       "--browser.gatherUsageStats", "false"], cwd=floor_dir,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            up(f"{url}/_stcore/health")
            median(page, url, 1, settled=False)  # warm its caches and the browser's
            floor = median(page, url, args.runs, settled=False)
        finally:
            floor_proc.terminate()
        print(f"floor (one metric, one chart; load average {os.getloadavg()[0]:.1f}): numbers {floor.numbers:.2f} s, "
              f"chart {floor.charts:.2f} s; targets: numbers within {1.3 * floor.numbers:.2f} s, charts within "
              f"{1.3 * floor.charts:.2f} s\n{header}\n{row('floor', floor, floor)}", flush=True)
        with serving(db) as base:
            for name in pages:
                load = os.getloadavg()[0]
                median(page, f"{base}/{name}", 1)  # warm
                warm = median(page, f"{base}/{name}", args.runs)
                after = []
                for n in range(args.runs):
                    load_one_invoice(db, work, len(rows) * 10 + n)
                    after.append(timed(page, f"{base}/{name}"))
                cold = middle(after)
                rows.append((name, warm, cold))
                print(f"{row(name + ', warm', warm, floor)}\n{row(name + ', after a load', cold, floor)} "
                      f"load average {load:.1f}", flush=True)
    print(f"\n{header}\n{row('floor', floor, floor)}")
    for name, warm, cold in rows:
        print(f"{row(name + ', warm', warm, floor)}\n{row(name + ', after a load', cold, floor)}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
