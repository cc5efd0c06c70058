"""End to end in a real headless Chromium: the running app, a filter, a shared link, a drill-down, a snapshot
download and a load from the command line appearing while the app is open."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from kpi_definitions.compute import Selection, compute
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.registry import registry
from reports import formats
from store.db import reading
from tandem.service import lines
from tests.rows import VALID

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    db = tmp_path_factory.mktemp("e2e") / "tandem.duckdb"
    shutil.copy(demo_db, db)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tandem.serve", "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=os.environ | {"TANDEM_DB": str(db)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the app did not start")
        yield base, db
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def page(server: tuple[str, Path]) -> Iterator:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "the browser test drives Debian's chromium, which scripts/test.sh installs"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        yield context.new_page()
        browser.close()


def expected(db: Path, month: str, kpi: str, view: str, filters: dict | None = None) -> str:
    first, last = FiscalCalendar().parse(month, "month")
    with reading(db) as con:
        values = compute(con, registry(), Selection(first, last, "month", (), filters or {}), currency="EUR").values
    v = values.filter((pl.col("kpi") == kpi) & (pl.col("view") == view))["value"][0]
    return formats.value(v, registry()[kpi].unit, "EUR")


def first_metric(page) -> str:  # noqa: ANN001 - a Playwright page
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()


def wait_for_metric(page, text: str, timeout_s: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.locator('[data-testid="stMetricValue"]').count() and first_metric(page) == text:
            return
        time.sleep(0.3)
    raise AssertionError(f"the first card shows {first_metric(page)!r}, not {text!r}")


def choose(page, label: str, option: str) -> None:  # noqa: ANN001
    """Pick an option of a Streamlit selectbox or multiselect found by its label."""
    widget = page.locator('[data-testid="stSelectbox"], [data-testid="stMultiSelect"]').filter(has_text=label).first
    widget.locator("input").first.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def test_the_app_end_to_end(server: tuple[str, Path], page, tmp_path: Path) -> None:  # noqa: ANN001
    base, db = server
    # The very first request to a fresh server is a shared link to a KPI page at a fiscal quarter: it opens
    # inside the app's navigation (sections in the sidebar), at that quarter.
    page.goto(f"{base}/savings?grain=quarter&period=2026-Q3")
    page.get_by_role("heading", name="Savings").first.wait_for(timeout=60_000)
    first, last = FiscalCalendar().parse("2026-Q3", "quarter")
    with reading(db) as con:
        q3 = compute(con, registry(), Selection(first, last, "quarter"), currency="EUR").values
    wait_for_metric(page, formats.money(q3.filter((pl.col("kpi") == "savings") & (pl.col("view") == "finance"))
                                        ["value"][0]))
    assert page.locator('[data-testid="stSidebarNav"]').get_by_text("Weekly review").count() == 1

    page.goto(base)
    page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
    month = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Period") \
        .locator("input").first.input_value() or "2026-10"
    wait_for_metric(page, expected(db, month, "savings", "finance"))

    # a filter changes the numbers, and goes into the URL
    choose(page, "Category", "IT Hardware")
    it_hardware = expected(db, month, "savings", "finance", {"category": ["IT Hardware"]})
    wait_for_metric(page, it_hardware)
    page.wait_for_url("**category=IT*", timeout=30_000)

    # the link reopens exactly that view in a new tab
    shared = page.context.new_page()
    shared.goto(page.url)
    wait_for_metric(shared, it_hardware)
    shared.close()

    # a snapshot of the first chart downloads as a real PNG
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="Snapshot PNG").first.click()
    png = Path(download.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert download.value.suggested_filename.endswith(".png")

    # drill down to the lines behind one category
    # a link names what the screen shows: ?kpi=Spend+under+management&view=Procurement&by=Category
    page.goto(f"{base}/drilldown?kpi=Spend+under+management&view=Procurement&by=Category")
    page.get_by_role("heading", name="Drill-down").wait_for(timeout=60_000)
    first, last = FiscalCalendar().parse(month, "month")
    everything = lines(db, "spend_under_management", "procurement", first, last, {}).height
    page.get_by_text(f"{everything:,} lines").first.wait_for(timeout=60_000)
    choose(page, "Lines for category", "Software")
    software = lines(db, "spend_under_management", "procurement", first, last, {}, {"category": "Software"}).height
    assert 0 < software < everything
    page.get_by_text(f"{software:,} lines").first.wait_for(timeout=60_000)

    # a load from the command line while the app is open: the overview shows it without a reload
    page.goto(base)
    wait_for_metric(page, expected(db, month, "savings", "finance"))
    invoice = VALID["invoices"] | {"invoice_id": "E2E-1", "supplier_id": "S0007", "po_id": "", "po_line": "",
                                   "category": "Software", "cost_center": "IT", "invoice_date": f"{month}-15",
                                   "due_date": f"{month}-28", "amount": "1000000", "currency": "EUR"}
    f = tmp_path / "invoices_late.csv"
    pl.DataFrame([invoice]).write_csv(f)
    load = subprocess.run([sys.executable, "-m", "cli.main", "ingest", "--db", str(db), str(f)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert load.returncode == 0, load.stderr
    after = expected(db, month, "savings", "finance")  # spend rose by 1,000,000: finance savings fell by it
    wait_for_metric(page, after)


def click_for_lines(page, chart_title: str, mark: str, heading: str):  # noqa: ANN001, ANN201
    """Click the middle of the first `mark` (a bar, a point) of the chart titled `chart_title`; the panel of
    lines it opens (headed `heading`)."""
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has_text=chart_title).first
    chart.wait_for(timeout=60_000)
    chart.scroll_into_view_if_needed()
    target = chart.locator(mark).first
    target.wait_for(timeout=60_000)
    box = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_text(heading).first.wait_for(timeout=60_000)
    return page.locator('[data-testid="stVerticalBlockBorderWrapper"], [data-testid="stVerticalBlock"]').filter(
        has_text=heading).last


def test_clicking_a_bar_opens_the_lines_behind_it(server: tuple[str, Path], page) -> None:  # noqa: ANN001
    """Click-through in a real browser: a bar of the supplier breakdown → every view's lines for that supplier,
    with the gap; its link opens the drill-down on the same lines."""
    base, db = server
    page.goto(f"{base}/payment_days?period=2026-10")
    page.get_by_role("heading", name="Breakdown").wait_for(timeout=60_000)
    panel = click_for_lines(page, "Payment days by supplier", "g.trace.bars g.point path", "Lines behind")
    # the panel's heading comes first; the numbers and the lines follow as their queries return
    panel.locator('[data-testid="stDataFrame"]').nth(1).wait_for(timeout=60_000)
    assert panel.get_by_text("Finance", exact=True).count() and panel.get_by_text("Procurement", exact=True).count()
    assert panel.get_by_text("Gap (finance − procurement)").count()
    assert panel.locator('[data-testid="stDataFrame"]').count() == 2  # the lines under each view, side by side
    page.get_by_text("Open in the drill-down").click()
    page.get_by_role("heading", name="Drill-down").wait_for(timeout=60_000)
    assert "kpi=Payment+days" in page.url and "lines_for=S" in page.url  # the supplier clicked (by: the default)
    page.get_by_text("Lines behind the number").wait_for(timeout=60_000)


def test_clicking_a_trend_point_opens_that_periods_lines(server: tuple[str, Path], page) -> None:  # noqa: ANN001
    """A point of the trend (a month the page does not show) → every view's lines of that month, with the gap."""
    base, _ = server
    page.goto(f"{base}/payment_days?period=2026-10")
    # the first point drawn: finance's first month on the chart
    panel = click_for_lines(page, "over time", "g.trace.scatter g.points path.point",
                            "Lines behind Payment days in 2025-11")
    panel.get_by_text("Gap (finance − procurement)").first.wait_for(timeout=60_000)
    panel.locator('[data-testid="stDataFrame"]').nth(1).wait_for(timeout=60_000)
    assert panel.locator('[data-testid="stDataFrame"]').count() == 2  # the month's lines under each view
