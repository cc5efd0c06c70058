"""End to end in a real headless Chromium against a real `tandem serve` in local mode (no login): one agreed
definition proposed by procurement and approved by finance, and one joint target proposed by finance, approved
by procurement, then seen on the Overview's Savings card with its forecast and status."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from kpi_definitions.compute import Selection, compute
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.registry import registry
from reports import formats
from store.db import reading
from tests.test_e2e import choose, page, server  # noqa: F401 - the running app and the browser, as fixtures

TEXT = "Negotiated savings without cost avoidance: only what changes the price paid counts."


def me(page, name: str, team: str) -> None:  # noqa: ANN001, F811 - a Playwright page
    """State who you are once (local mode): name and team."""
    change = page.get_by_role("button", name="Change")
    if change.count():
        change.click()
    page.get_by_label("Your name").fill(name)
    choose(page, "Your team", team, rerun=False)  # inside the form: no rerun until Continue
    page.get_by_role("button", name="Continue").click()
    page.get_by_text(f"You: {name} · {team.lower()} · unverified").wait_for(timeout=60_000)


def pick(page, nth: int, label: str, option: str) -> None:  # noqa: ANN001, F811
    """The nth selectbox labelled `label` (two forms on the Agreements page have a "KPI")."""
    widget = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).nth(nth)
    wanted = page.get_by_role("option", name=option, exact=True)
    # A page still rerunning after the approval above (the database changed: the page reruns itself) opens
    # nothing on a click, or redraws the open list under the pointer: open it and pick again.
    for attempt in range(4):
        widget.locator("input").first.click()
        try:
            wanted.click(timeout=15_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            if attempt == 3:
                raise
    page.keyboard.press("Escape")


def settled(page) -> None:  # noqa: ANN001, F811
    """Wait until the page has finished rerunning: a field filled while it redraws can come back empty."""
    page.wait_for_timeout(500)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)


def fill(page, label: str, value: str) -> None:  # noqa: ANN001, F811
    """Fill a field and see that it kept the value (it is filled again if a rerun redrew it empty)."""
    field = page.get_by_label(label)
    for _ in range(4):
        settled(page)
        field.fill(value)
        page.wait_for_timeout(300)
        if field.input_value() == value:
            return
    raise AssertionError(f"{label!r} would not keep {value!r}")


def test_one_agreement_and_one_target_through_the_app(server: tuple[str, Path], page) -> None:  # noqa: ANN001, F811
    base, db = server
    page.goto(f"{base}/agreements")
    page.get_by_role("heading", name="Agreements").first.wait_for(timeout=60_000)

    # procurement proposes: savings without cost avoidance
    me(page, "Pia", "Procurement")
    choose(page, "Bridge steps the agreed number counts", "Cost avoidance")
    page.get_by_label("The agreed definition, in plain words").fill(TEXT)
    page.get_by_label("Reason").fill("Count what changes the price")
    page.get_by_role("button", name="Propose", exact=True).click()
    page.get_by_text("Proposed: Savings. A member of the other team approves it on this page.").wait_for(
        timeout=60_000)

    # procurement cannot approve its own proposal; finance can
    page.get_by_role("button", name="Approve", exact=True).click()
    page.get_by_text("Procurement proposed it, so its approval is given").wait_for(timeout=60_000)
    me(page, "Ana", "Finance")
    page.get_by_role("button", name="Approve", exact=True).click()
    page.get_by_text("Approved proposal 1.").wait_for(timeout=60_000)

    # finance proposes a target for procurement's savings in the latest month, 2026-10
    # (the target form's KPI is Savings, the first KPI, by default)
    pick(page, 0, "View", "procurement")
    for label, value in [("Period (2026-03, 2026-Q1, FY2026)", "2026-10"), ("Target value", "160000"),
                         ("Comment (price outlook, budget constraint)", "the budget needs 160k")]:
        fill(page, label, value)
    settled(page)
    page.get_by_role("button", name="Propose target").click()
    page.get_by_text("Target proposed: the other team approves it here.").wait_for(timeout=60_000)
    me(page, "Pia", "Procurement")
    page.get_by_role("button", name="Approve target").click()
    page.get_by_text("Target 1 approved.").wait_for(timeout=60_000)
    # the audit log has all four steps, each unverified (local mode)
    page.get_by_role("heading", name="Audit log").wait_for(timeout=60_000)

    # the Overview's Savings card shows target vs actual, the forecast and status; the agreed view is on it too
    first, last = FiscalCalendar().parse("2026-10", "month")
    with reading(db) as con:
        values = compute(con, registry(), Selection(first, last), currency="EUR", kpis=["savings"]).values
    actual = values.filter(pl.col("view") == "procurement")["value"][0]
    # a month complete: the forecast is the actual; it misses 160,000 by 160,000 − actual
    short = 160_000 - actual
    status = "✓ on track" if short <= 0 else "⚠ at risk" if short <= 0.05 * 160_000 else "✗ off track"
    line = (f"Target (procurement, 2026-10): EUR 160,000 · actual {formats.money(actual)} · forecast "
            f"{formats.money(actual)} (1 of 1 months) · {status}")
    page.goto(base)
    page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not page.get_by_text(line).count():
        time.sleep(0.5)
    assert page.get_by_text(line).count() == 1, line
    # the agreed view on the card: procurement + the cost-avoidance step, as the KPI layer computes it
    from decisions.agreement import registry_for

    with reading(db) as con:
        agreed = compute(con, registry_for(db), Selection(first, last), currency="EUR", kpis=["savings"]).values
    value = agreed.filter(pl.col("view") == "agreed")["value"][0]
    deadline, shown = time.monotonic() + 60, []
    while time.monotonic() < deadline and formats.money(value) not in shown:  # the page may be rerunning
        shown = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
        time.sleep(0.5)
    assert formats.money(value) in shown, (formats.money(value), shown)
