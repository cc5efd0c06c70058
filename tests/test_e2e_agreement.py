"""End to end in a real headless Chromium against a real `tandem serve` with real sign-in (tests/oidc, a local
OpenID Connect provider): procurement proposes an agreed savings definition and sees the agreed number before
signing, checked against the bridge to the cent; finance finds it awaiting its approval, sees the same number
beside Approve and approves; a viewer sees every page without a single write form; finance proposes a target for
a percentage KPI typed in percent and procurement approves it.

The browser waits for what it needs on the page (an element with its text) and for the app's end-of-run mark
(tests/browser.py `settled`), never for a fixed time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kpi_definitions.compute import bridge
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.registry import registry
from reports import formats
from store.db import reading
from tests.browser import CHROMIUM, login_serving, runs, settled

TEXT = "Negotiated savings without cost avoidance: only what changes the price paid counts."
WAIT = 90_000  # ms a page may take to show what is waited for (a shared, loaded machine)


@pytest.fixture(scope="module")
def signed(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The provider and `tandem serve` with login: finance and procurement editors by address, viewers by group."""
    folder = tmp_path_factory.mktemp("agree")
    db = folder / "tandem.duckdb"
    shutil.copy(demo_db, db)
    with login_serving(db, folder, '[users]\n"finance@example.com" = { team = "finance", role = "editor" }\n'
                                   '"procurement@example.com" = { team = "procurement", role = "editor" }\n'
                                   '[groups]\n"tandem-viewers" = { role = "viewer" }\n') as base:
        yield base, db


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "the browser test drives Debian's chromium, which scripts/test.sh installs"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def sign_in(browser, base: str, email: str, who: str):  # noqa: ANN001, ANN201 - Playwright objects
    """A fresh browser profile through the real flow; back in Tandem once the sidebar names the user."""
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.goto(base)
    page.get_by_role("button", name="Sign in").click(timeout=WAIT)
    page.wait_for_url("http://127.0.0.1:*/interaction/**", timeout=WAIT)
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "any")
    page.locator("button[type=submit]").click()
    page.get_by_text(who).first.wait_for(timeout=WAIT)
    return page


def metric(page, label: str):  # noqa: ANN001, ANN201
    """The value of the (first) metric whose label holds `label`."""
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).first.locator(
        '[data-testid="stMetricValue"]')


def include(page, step: str) -> None:  # noqa: ANN001
    """Choose "Include in the agreed number" for one bridge step of the proposal form."""
    group = page.locator('[data-testid="stRadio"]').filter(has_text=step).first
    group.get_by_text("Include in the agreed number", exact=True).click()


def test_both_teams_agree_a_definition_seeing_the_number_and_a_viewer_writes_nothing(signed, browser) -> None:  # noqa: ANN001
    base, db = signed
    cal = FiscalCalendar()
    first, last = cal.parse("2026-10", "month")
    with reading(db) as con:
        b = bridge(con, registry(), "savings", first, last, {}, currency="EUR")
    step = next(s for s in b.steps if s.name == "cost_avoidance")
    # the agreed number procurement's value plus the cost-avoidance step makes, to the cent, from the bridge itself
    agreed = b.start + step.value
    shown = formats.money(agreed)

    # procurement opens the Agreements page, includes the cost-avoidance step and sees the agreed number live
    page = sign_in(browser, base, "procurement@example.com", "Pat Procurement · procurement · editor")
    page.goto(f"{base}/agreements")
    page.get_by_role("heading", name="Propose an agreed definition").wait_for(timeout=WAIT)
    expect(metric(page, "Agreed value · 2026-10")).to_have_text(formats.money(b.start), timeout=WAIT)  # none yet
    settled(page)
    include(page, "Cost avoidance")  # reruns the proposal form (a fragment): the number changes in place
    expect(metric(page, "Agreed value · 2026-10")).to_have_text(shown, timeout=WAIT)
    page.get_by_text(f"procurement's {formats.money(b.start)}, plus Cost avoidance "
                     f"{formats.signed(step.value, 'currency')} = {shown}").wait_for(timeout=WAIT)
    settled(page)
    page.get_by_label("The agreed definition, in plain words").fill(TEXT)
    page.get_by_label("Reason").fill("Count what changes the price")
    before = runs(page)
    page.get_by_role("button", name="Propose", exact=True).click()
    settled(page, before)  # a write reruns the whole page
    said = f"Proposed #1: Savings as procurement's value plus Cost avoidance ({shown} in 2026-10)."
    page.locator('[data-testid="stToast"]').filter(has_text=said).wait_for(timeout=WAIT)
    # its own proposal: no Approve button for procurement, Withdraw instead
    pending = page.locator('[data-testid="stVerticalBlock"]').filter(has=page.get_by_text("#1 Savings")).last
    pending.get_by_role("button", name="Withdraw").wait_for(timeout=WAIT)
    assert page.get_by_role("button", name="Approve", exact=True).count() == 0
    page.context.close()

    # finance sees it awaiting its approval on the Overview and in the navigation, with the same number
    page = sign_in(browser, base, "finance@example.com", "Fiona Finance · finance · editor")
    page.get_by_text("Awaiting your approval").wait_for(timeout=WAIT)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Agreements · 1 awaiting you").wait_for(timeout=WAIT)
    item = "#1 Savings: agreed definition, procurement's value plus Cost avoidance; proposed by Pat Procurement (procurement)"
    page.locator('[data-testid="stHorizontalBlock"]').filter(has_text=item).get_by_role("link", name="Decide").click()
    page.get_by_role("heading", name="Proposals").wait_for(timeout=WAIT)
    expect(metric(page, "Agreed value · 2026-10")).to_have_text(shown, timeout=WAIT)  # beside Approve
    before = settled(page)
    page.get_by_role("button", name="Approve", exact=True).click()
    settled(page, before)
    said = "Approved #1: Savings's agreed definition is now version 1"
    page.locator('[data-testid="stToast"]').filter(has_text=said).wait_for(timeout=WAIT)
    # the KPI page shows the agreed view at the value previewed
    page.goto(f"{base}/savings?period=2026-10")
    expect(metric(page, "Agreed · 2026-10")).to_have_text(shown, timeout=WAIT)
    page.context.close()

    # a viewer reads the agreement and the review, and sees no form to write with
    page = sign_in(browser, base, "viewer@example.com", "Victor Viewer · no team · viewer")
    page.goto(f"{base}/agreements")
    page.get_by_text("Every proposal").wait_for(timeout=WAIT)
    page.get_by_text("You are signed in with the viewer role").first.wait_for(timeout=WAIT)
    settled(page)
    assert page.locator('[data-testid="stForm"]').count() == 0
    assert page.get_by_role("button", name="Propose target").count() == 0
    page.goto(f"{base}/review")
    page.get_by_role("heading", name="Notes, decisions and actions").wait_for(timeout=WAIT)
    page.get_by_text("starting a review and adding or closing items needs the editor role").wait_for(timeout=WAIT)
    settled(page)
    assert page.locator('[data-testid="stForm"]').count() == 0
    assert page.get_by_role("button", name="Start this week's review").count() == 0
    page.context.close()

    # finance proposes a target for spend under management, a percentage, typed as 25; procurement approves it
    page = sign_in(browser, base, "finance@example.com", "Fiona Finance · finance · editor")
    page.goto(f"{base}/agreements?kpi=spend_under_management")
    page.get_by_role("heading", name="Joint targets").wait_for(timeout=WAIT)
    field = page.get_by_label("Target (%)", exact=True)
    field.wait_for(timeout=WAIT)
    settled(page)
    field.fill("25")
    before = runs(page)
    page.get_by_role("button", name="Propose target").click()
    settled(page, before)
    said = "Target #1 proposed: Spend under management (finance, 2026-10) at 25.0%."
    page.locator('[data-testid="stToast"]').filter(has_text=said).wait_for(timeout=WAIT)
    page.context.close()
    page = sign_in(browser, base, "procurement@example.com", "Pat Procurement · procurement · editor")
    page.get_by_text("Target #1 Spend under management (Finance, 2026-10): 25.0%").wait_for(timeout=WAIT)
    page.goto(f"{base}/agreements")
    before = settled(page)
    page.get_by_role("button", name="Approve target").click()
    settled(page, before)
    page.locator('[data-testid="stToast"]').filter(has_text="Target #1 approved").wait_for(timeout=WAIT)
    with reading(db) as con:
        assert con.execute("SELECT kpi, value, status FROM targets").fetchall() == [
            ("spend_under_management", 0.25, "approved")]  # 25 % stored as the KPI layer holds it
        assert con.execute("SELECT status, version FROM agreement_proposals").fetchall() == [("approved", 1)]
    page.context.close()
