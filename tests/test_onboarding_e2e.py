"""Onboarding a new source in a real headless Chromium against `tandem serve`: a German payments export with a
preamble, decimal commas, thousands dots and euro signs is uploaded on the Data page, its drafted mapping shown
as a form, the check counted, the amount's source corrected, and the file loaded with it: the gross total in
the database to the cent of a sum computed here (tests/test_onboarding.py checks the form piece by piece)."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.db import reading
from tests.browser import choose, chromium, runs, serving, settled
from tests.test_onboarding import NEW, sample_file

pytestmark = pytest.mark.e2e


def metric(page, label: str) -> str:  # noqa: ANN001 - a Playwright page
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).first.locator(
        '[data-testid="stMetricValue"]').inner_text()


def test_a_new_source_onboarded_and_loaded_in_the_browser(tmp_path: Path) -> None:
    file, gross_cents = sample_file(tmp_path)
    db = tmp_path / "tandem.duckdb"
    with serving(db) as base, chromium(1440, 1000) as page:
        page.goto(f"{base}/data")
        settled(page)
        before = runs(page)
        page.locator('input[type="file"]').first.set_input_files(str(file))
        settled(page, before)
        choose(page, "Source mapping", NEW)
        page.get_by_text("Would load").first.wait_for()
        # the draft read the file as it is: 40 rows, the one dated 31.02.2024 would be quarantined
        assert (metric(page, "Rows read"), metric(page, "Would load"), metric(page, "Would be quarantined")) == (
            "40", "39", "1")
        assert page.get_by_text("line 7, column invoice_date: required (value empty)").count()

        # the one edit a user makes: the amount is the gross one, not the net the draft guessed
        choose(page, "Source of amount", "Betrag brutto", rerun=False)  # in the form: checked on the button
        before = runs(page)
        page.get_by_role("button", name="Check the mapping").click()
        settled(page, before)
        before = runs(page)
        page.get_by_text("Load the valid rows of a file with invalid rows").click()  # a checkbox: the page reruns
        settled(page, before)
        before = runs(page)
        page.get_by_role("button", name="Load 1 file(s) with this mapping").click()
        page.get_by_text("Loaded", exact=True).first.wait_for(timeout=120_000)
        settled(page, before)
    with reading(db) as con:
        total, n = con.execute("SELECT round(sum(amount) * 100), count(*) FROM invoices").fetchone()
    assert (int(total), n) == (gross_cents, 39)
