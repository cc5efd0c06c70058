"""End to end in a real headless Chromium: the running app, a filter, a shared link, a drill-down, a snapshot
download and a load from the command line appearing while the app is open."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from kpi_definitions.compute import Selection, compute
from kpi_definitions.engine import Request
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.registry import registry
from reports import formats, source
from store.db import reading
from tests.browser import CHROMIUM, choose, chromium, free_port, runs, serving, settled  # noqa: F401
from tests.rows import VALID

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    db = tmp_path_factory.mktemp("e2e") / "tandem.duckdb"
    shutil.copy(demo_db, db)
    with serving(db) as base:
        yield base, db


@pytest.fixture(scope="module")
def page(server: tuple[str, Path]) -> Iterator:
    with chromium() as p:
        yield p


def expected(db: Path, month: str, kpi: str, view: str, filters: dict | None = None) -> str:
    first, last = FiscalCalendar().parse(month, "month")
    with reading(db) as con:
        values = compute(con, registry(), Selection(first, last, "month", (), filters or {}), currency="EUR").values
    v = values.filter((pl.col("kpi") == kpi) & (pl.col("view") == view))["value"][0]
    return formats.value(v, registry()[kpi].unit, "EUR")


def first_metric(page) -> str:  # noqa: ANN001 - a Playwright page
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()


def shows(page, text: str, after: int = 0) -> None:  # noqa: ANN001
    """Once the page has settled (after its `after`-th run), its first card shows `text`."""
    settled(page, after)
    assert first_metric(page) == text


def test_the_app_end_to_end(server: tuple[str, Path], page, tmp_path: Path) -> None:  # noqa: ANN001
    base, db = server
    # The very first request to a fresh server is a shared link to a KPI page at a fiscal quarter: it opens
    # inside the app's navigation (sections in the sidebar), at that quarter.
    page.goto(f"{base}/savings?grain=quarter&period=2026-Q3")
    settled(page)
    first, last = FiscalCalendar().parse("2026-Q3", "quarter")
    with reading(db) as con:
        q3 = compute(con, registry(), Selection(first, last, "quarter"), currency="EUR").values
    shows(page, formats.money(q3.filter((pl.col("kpi") == "savings") & (pl.col("view") == "finance"))["value"][0]))
    assert page.locator('[data-testid="stSidebarNav"]').get_by_text("Weekly review").count() == 1

    page.goto(base)
    settled(page)
    month = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Period") \
        .locator("input").first.input_value() or "2026-10"
    assert first_metric(page) == expected(db, month, "savings", "finance")

    # a filter changes the numbers, and goes into the URL
    choose(page, "Category", "IT Hardware")  # waits for the rerun
    it_hardware = expected(db, month, "savings", "finance", {"category": ["IT Hardware"]})
    assert first_metric(page) == it_hardware
    assert "category=IT" in page.url

    # the link reopens exactly that view in a new tab
    shared = page.context.new_page()
    shared.goto(page.url)
    shows(shared, it_hardware)
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
    settled(page)
    first, last = FiscalCalendar().parse(month, "month")
    req = Request(first, last, kpis=("spend_under_management",))
    everything = source.lines(str(db), "", req, "spend_under_management", "procurement").height
    assert page.get_by_text(f"{everything:,} lines").count()
    choose(page, "Lines for category", "Software")
    software = source.lines(str(db), "", req, "spend_under_management", "procurement", {"category": "Software"}).height
    assert 0 < software < everything
    assert page.get_by_text(f"{software:,} lines").count()

    # a load from the command line while the app is open: the overview shows it without a reload
    page.goto(base)
    shows(page, expected(db, month, "savings", "finance"))
    before = runs(page)
    invoice = VALID["invoices"] | {"invoice_id": "E2E-1", "supplier_id": "S0007", "po_id": "", "po_line": "",
                                   "category": "Software", "cost_center": "IT", "invoice_date": f"{month}-15",
                                   "due_date": f"{month}-28", "amount": "1000000", "currency": "EUR"}
    f = tmp_path / "invoices_late.csv"
    pl.DataFrame([invoice]).write_csv(f)
    load = subprocess.run([sys.executable, "-m", "cli.main", "ingest", "--db", str(db), str(f)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert load.returncode == 0, load.stderr
    after = expected(db, month, "savings", "finance")  # spend rose by 1,000,000: finance savings fell by it
    shows(page, after, before)  # the page's watcher saw the new data and ran the page again


def click_for_lines(page, chart_title: str, mark: str, heading: str):  # noqa: ANN001, ANN201
    """Click the middle of the first `mark` (a bar, a point) of the chart titled `chart_title`; the panel of
    lines it opens (headed `heading`)."""
    settled(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has_text=chart_title).first
    chart.scroll_into_view_if_needed()
    target = chart.locator(mark).first
    target.wait_for()  # Plotly draws its marks after the element is in place
    box = target.bounding_box()
    before = runs(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    settled(page, before)
    assert page.get_by_text(heading).count()
    return page.locator('[data-testid="stVerticalBlockBorderWrapper"], [data-testid="stVerticalBlock"]').filter(
        has_text=heading).last


def test_clicking_a_bar_opens_the_lines_behind_it(server: tuple[str, Path], page) -> None:  # noqa: ANN001
    """Click-through in a real browser: a bar of the supplier breakdown → every view's lines for that supplier,
    with the gap; its link opens the drill-down on the same lines."""
    base, db = server
    page.goto(f"{base}/payment_days?period=2026-10")
    panel = click_for_lines(page, "Payment days by supplier", "g.trace.bars g.point path", "Lines behind")
    assert panel.get_by_text("Finance", exact=True).count() and panel.get_by_text("Procurement", exact=True).count()
    assert panel.get_by_text("Gap (finance − procurement)").count()
    assert panel.locator('[data-testid="stDataFrame"]').count() == 2  # the lines under each view, side by side
    page.get_by_text("Open in the drill-down").click()
    page.wait_for_url("**/drilldown?**")
    settled(page)
    assert "kpi=Payment+days" in page.url and "lines_for=S" in page.url  # the supplier clicked (by: the default)
    assert page.get_by_text("Lines behind the number").count()


def test_clicking_a_trend_point_opens_that_periods_lines(server: tuple[str, Path], page) -> None:  # noqa: ANN001
    """A point of the trend (a month the page does not show) → every view's lines of that month, with the gap."""
    base, _ = server
    page.goto(f"{base}/payment_days?period=2026-10")
    # the first point drawn: finance's first month on the chart
    panel = click_for_lines(page, "over time", "g.trace.scatter g.points path.point",
                            "Lines behind Payment days in 2025-11")
    assert panel.get_by_text("Gap (finance − procurement)").count()
    assert panel.locator('[data-testid="stDataFrame"]').count() == 2  # the month's lines under each view
