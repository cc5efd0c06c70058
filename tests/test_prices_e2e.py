"""The price page and a saved payment-terms scenario in a real headless Chromium, on the running app."""

from __future__ import annotations

from pathlib import Path

import pytest

from decisions import scenarios
from tests.browser import runs, settled
from tests.test_e2e import expected, first_metric, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def test_the_price_page_and_a_saved_scenario_in_the_browser(server: tuple[str, Path], page) -> None:  # noqa: ANN001, F811
    base, db = server
    page.goto(f"{base}/price_change?period=2026-09")
    settled(page)
    assert first_metric(page) == expected(db, "2026-09", "price_change", "finance")
    assert page.get_by_role("heading", name="Our prices against the market").count()
    assert page.get_by_role("heading", name="Price outlook for planning · as of 2026-09").count()
    assert page.locator('[data-testid="stException"]').count() == 0

    page.goto(f"{base}/terms?period=2026-09&category=IT+Hardware")
    settled(page)
    page.get_by_label("Name").fill("IT Hardware to 90 days")
    page.get_by_label("Assumptions").fill("Northwind keeps its prices")
    before = runs(page)
    page.get_by_role("button", name="Save scenario").click()
    settled(page, before)
    assert page.get_by_text("Saved as scenario #").count()
    row = scenarios.saved(db).row(0, named=True)
    assert (row["name"], row["categories"], row["new_terms"], row["assumptions"]) == (
        "IT Hardware to 90 days", ["IT Hardware"], 90, "Northwind keeps its prices")

    page.goto(f"{base}/review")
    settled(page)
    assert page.get_by_text("Payment-terms scenarios saved (1)").count()
    assert page.locator('[data-testid="stException"]').count() == 0
