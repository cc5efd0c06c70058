"""An upload while other people read, in a real headless Chromium: no page shows a traceback or error text; a
second upload at the same time waits its turn, visibly, and both load."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.ingest import generate
from tests.browser import settled
from tests.test_e2e import CHROMIUM, server  # noqa: F401 - the served demo copy, shared with test_e2e
from workspace.db import named

READ_PAGES = ["overview", "review", "savings", "drilldown", "definitions", "data", "payment_days"]
WRONG = ("Traceback", "Error", "Exception")


@pytest.fixture(scope="module")
def browser(server: tuple[str, Path]) -> Iterator:  # noqa: F811
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "the browser test drives Debian's chromium, which scripts/test.sh installs"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _choose(page, base: str, f: Path) -> None:  # noqa: ANN001 - a Playwright page
    page.goto(f"{base}/data")
    page.get_by_role("heading", name="Data").first.wait_for(timeout=60_000)
    page.locator('input[type="file"]').first.set_input_files(str(f))
    page.get_by_role("button", name="Validate and load").wait_for(timeout=120_000)  # shown once the file is up


def _main_text(page) -> str:  # noqa: ANN001
    return page.locator('[data-testid="stApp"]').inner_text()


def test_an_upload_during_page_views_and_a_second_upload_at_once(server: tuple[str, Path], browser,  # noqa: ANN001, F811
                                                                 tmp_path: Path) -> None:
    base, db = server
    big, small = tmp_path / "invoices_upload_big.csv", tmp_path / "invoices_upload_small.csv"
    generate(400_000, big, seed=5)
    generate(1_000, small, seed=6)
    ctx = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(3)]
    uploader, second, reader = (c.new_page() for c in ctx)
    for p in (uploader, second, reader):  # every page warm once, before the load
        p.goto(f"{base}/overview")
        p.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)

    _choose(uploader, base, big)
    _choose(second, base, small)
    uploader.get_by_role("button", name="Validate and load").click()
    uploader.get_by_text("Loading 1 file(s)").first.wait_for(timeout=30_000)
    second.get_by_role("button", name="Validate and load").click()
    second.get_by_text("Waiting for another upload to finish").first.wait_for(timeout=30_000)

    views, notices = 0, 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for name in READ_PAGES:
            reader.goto(f"{base}/{name}")
            settled(reader)  # the page has finished (or shows its notice)
            text = _main_text(reader)
            assert not [w for w in WRONG if w in text], (name, text[:3000])
            views += 1
            notices += "A load is running" in text
        if uploader.get_by_text("Loaded", exact=True).count() and second.get_by_text("Loaded", exact=True).count():
            break
    for i, p in enumerate((uploader, second)):
        try:
            p.get_by_text("Loaded", exact=True).first.wait_for(timeout=240_000)
        except Exception:
            p.screenshot(path=f"/tmp/e2e-load-{i}.png", full_page=True)
            raise AssertionError(_main_text(p)[:3000]) from None
        text = _main_text(p)
        assert not [w for w in WRONG if w in text], text[:3000]
    assert views >= len(READ_PAGES)
    log = named(db, "load_log")["file_name"].to_list()
    assert log.index("invoices_upload_small.csv") < log.index("invoices_upload_big.csv")  # newest first: in turn
    print(f"{views} page views during the uploads, {notices} showed the loading notice")
    for c in ctx:
        c.close()
