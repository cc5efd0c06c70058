"""The Budgets and approvals page (pages/budgets.py) with AppTest on real DuckDB files: the hand-computed funds of
tests/golden/budgets under both views, the before-I-buy form's three verdicts, the waiting list's click-through to a
document's timeline, the invoices counted differently, and the demo's stories."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import app, metrics


def _buy(at: AppTest, center: str, category: str, amount: float, horizon: str = "year") -> AppTest:
    at.selectbox(key="buy_center").set_value(center)
    at.selectbox(key="buy_category").set_value(category)
    at.number_input(key="buy_amount").set_value(amount)
    at.radio(key="buy_horizon").set_value(horizon)
    at.button[0].click()  # the form's submit
    at = at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_page_shows_both_views_and_checks_a_request(golden_budgets_db: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(golden_budgets_db, monkeypatch, "budgets", period="2026-01", cost_center=["CC1"])
    assert [t.value for t in at.title] == ["Budgets and approvals"]
    # tests/golden/cases.yaml: CC1 in January, finance 1,000 − 150 = 850, procurement 1,000 − 600 = 400
    assert metrics(at)[:2] == [("Finance · 2026-01", "EUR 850"), ("Procurement · 2026-01", "EUR 400")]
    texts = [t.value for t in at.text]
    assert "Gap (finance − procurement): +EUR 450" in texts
    # the year of CC1 × IT: finance 2,200, procurement 1,900 (RP 300 pending) — tests/test_budgets.py
    said = _buy(at, "CC1", "IT", 1_000)
    assert [s.value for s in said.success] == [
        "Fits: EUR 1,000 for CC1 × IT leaves EUR 900 to the end of 2026, even once the EUR 300 of pending requests "
        "is approved (EUR 1,900 available counting them, EUR 2,200 without)."]
    said = _buy(at, "CC1", "IT", 2_000)
    assert [w.value for w in said.warning] == [
        "Fits only while requests wait: EUR 2,000 for CC1 × IT fits the EUR 2,200 available to the end of 2026, but "
        "once the EUR 300 of pending requests is approved only EUR 1,900 is left: short by EUR 100."]
    said = _buy(at, "CC1", "IT", 500, "period")  # January alone: finance 850, procurement 400
    assert [w.value for w in said.warning][0].startswith("Fits only while requests wait: EUR 500 for CC1 × IT fits "
                                                         "the EUR 850 available in 2026-01")
    said = _buy(at, "CC1", "IT", 2_500)
    assert [e.value for e in said.error] == [
        "Does not fit: EUR 2,500 for CC1 × IT is EUR 300 more than the EUR 2,200 available to the end of 2026 "
        "(EUR 1,900 once the EUR 300 of pending requests is approved)."]
    said = _buy(at, "CC2", "IT", 10)  # CC2 has a LAB budget only: one sentence, no traceback
    assert [i.value for i in said.info] == ["No budget for category 'IT' in cost center CC2; its categories: LAB."]


def test_a_waiting_request_opens_with_its_timeline(golden_budgets_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(golden_budgets_db, monkeypatch, "budgets", period="2026-03")
    waiting = next(d for d in at.dataframe if d.key == "waiting-rows").value
    assert waiting["Id"].tolist() == ["RP", "IF"]  # longest first: 44.6 days, 9 days (tests/golden/cycles.yaml)
    at.session_state["waiting-rows"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at = at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "**Requisition RP** · 1 line · 1 event" in [m.value for m in at.markdown]
    # the invoices the two touchless views count differently in March: IC (approved by its budget owner only)
    differ = next(d for d in at.dataframe if d.key == "touchless_rate-differ").value
    assert differ["Invoice ID"].tolist() == ["IC"]
    at.session_state["touchless_rate-differ"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at = at.run()
    assert "**Invoice IC** · 1 line · 2 events" in [m.value for m in at.markdown]
    timeline = [d.value for d in at.dataframe if "Event" in d.value.columns][-1]  # RP's panel is still open above
    assert timeline["Event"].tolist() == ["submitted", "approved"] and timeline["Role"].tolist() == [
        "system", "budget_owner"]


def test_the_demo_tells_its_stories(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_db, monkeypatch, "budgets")
    assert not [e for e in at.error]
    # R&D's IT Hardware: room to year end by finance's view, gone once its pending lab requisitions count
    said = _buy(at, "RND", "IT Hardware", 25_000)
    assert said.warning and said.warning[0].value.startswith("Fits only while requests wait: EUR 25,000 for RND × "
                                                             "IT Hardware")
    # IT's requests wait longest at the architecture review
    queues = [d.value for d in said.dataframe if list(d.value.columns)[:3] == ["Document", "Step", "Role"]][0]
    assert (queues.iloc[0]["Step"], queues.iloc[0]["Role"]) == ("it_review", "it_architect")
    waiting = next(d for d in said.dataframe if d.key == "waiting-rows").value
    assert set(waiting["Cost center"].head(10)) == {"IT"}


def test_the_overview_lines_say_the_flow_and_link_the_page(golden_budgets_db: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """tandem/budgets_ui.py overview_lines, for the Overview (pages/overview.py calls it where the lead places it)."""
    def page() -> None:
        from tandem import budgets_ui, selection

        budgets_ui.overview_lines(selection.filter_bar())

    monkeypatch.setenv("TANDEM_DB", str(golden_budgets_db))
    at = AppTest.from_function(page, default_timeout=120).run()  # the latest month: 2026-03
    assert not at.exception, [e.message for e in at.exception]
    # tests/golden/cycles.yaml: March's approvals RA 3 days and RX 45 minutes; RP has waited 44.6 days
    assert [c.value for c in at.caption if "Requisition to approval" in c.value] == [
        "Requisition to approval in 2026-03: median 1.5 days, P90 2.7 days (2 requests) · waiting longest: "
        "requisition RP, 44.6 days since its last event"]
