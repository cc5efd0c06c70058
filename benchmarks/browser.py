"""How fast the pages show in a real browser: for the Overview and each KPI page, the moment its numbers show
and the moment its last chart shows, warm and right after a load, side by side with the floor — a minimal
Streamlit app with one Plotly chart, served and timed the same way on the same machine.

    uv run python benchmarks/browser.py [--db PATH] [--runs 3]

Times are read in the page's own clock (performance.now(), from the start of navigation), polled on every
animation frame, so they include the script run, the messages and the browser drawing, and nothing of the
test harness. "Numbers": the first KPI value on screen; "last chart": every Plotly chart drawn (its SVG in
place) and the app settled (tandem/widgets.py `settled`). Each figure is the median of `--runs` page loads.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def timed(page, url: str, settled: bool = True) -> tuple[float, float]:  # noqa: ANN001 - a Playwright page
    """(seconds until the first KPI value shows, seconds until the last chart shows) for one page load."""
    page.goto("about:blank")
    page.goto(url, wait_until="commit")
    numbers = page.wait_for_function(NUMBERS, polling="raf", timeout=300_000).json_value()
    charts = page.wait_for_function(CHARTS, arg=settled, polling="raf", timeout=300_000).json_value()
    return numbers / 1000, charts / 1000


def median(page, url: str, runs: int, settled: bool = True) -> tuple[float, float]:  # noqa: ANN001
    found = [timed(page, url, settled) for _ in range(runs)]
    return statistics.median(f[0] for f in found), statistics.median(f[1] for f in found)


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
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tandem-browser-bench-"))
    db = work / "tandem.duckdb"
    if args.db:
        shutil.copy(args.db, db)
    else:
        subprocess.run([sys.executable, "-m", "cli.main", "demo", "--db", str(db), "--out", str(work / "demo")],
                       check=True, cwd=ROOT, capture_output=True)
    from kpi_definitions.registry import registry

    pages = ["overview", *(k.name for k in registry())]
    floor_dir = work / "floor"
    floor_dir.mkdir()
    (floor_dir / "floor.py").write_text(FLOOR_APP)
    rows = []
    with chromium() as page:
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
        with serving(db) as base:
            for name in pages:
                median(page, f"{base}/{name}", 1)  # warm
                warm = median(page, f"{base}/{name}", args.runs)
                after = []
                for n in range(args.runs):
                    load_one_invoice(db, work, len(rows) * 10 + n)
                    after.append(timed(page, f"{base}/{name}"))
                cold = (statistics.median(a[0] for a in after), statistics.median(a[1] for a in after))
                rows.append((name, warm, cold))
    print(f"floor (one metric, one chart): numbers {floor[0]:.2f} s, chart {floor[1]:.2f} s; targets: numbers "
          f"within {1.3 * floor[0]:.2f} s, charts within {1.3 * floor[1]:.2f} s")
    print("| page | numbers, warm | last chart, warm | numbers, after a load | last chart, after a load |")
    print("|---|---|---|---|---|")
    for name, warm, cold in rows:
        print(f"| {name} | {warm[0]:.2f} s ({warm[0] / floor[0]:.2f}×) | {warm[1]:.2f} s ({warm[1] / floor[1]:.2f}×) "
              f"| {cold[0]:.2f} s ({cold[0] / floor[0]:.2f}×) | {cold[1]:.2f} s ({cold[1] / floor[1]:.2f}×) |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
