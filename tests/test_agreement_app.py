"""The Agreements page in AppTest: the local user states name and team, proposes an agreed definition from the
bridge, a member of the other team approves it, and the agreed view appears on the KPI page and Definitions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from decisions import agreement
from reports.preview import INCLUDE, LEAVE_OUT
from tandem import widgets
from tests.test_app import app, go, metrics

TEXT = "Negotiated savings without cost avoidance and without savings not yet invoiced."


def state(at, name: str, team: str):  # noqa: ANN001, ANN201
    at.text_input[0].input(name)
    at.selectbox[-1].set_value(team)
    return at.button[0].click().run()


def include(at, kpi: str, *steps: str):  # noqa: ANN001, ANN201
    """Choose "Include in the agreed number" for each step (by name) of the proposal form."""
    for step in steps:
        at.radio(key=f"agree_step_{kpi}_{step}").set_value(INCLUDE)
    return at.run()


def test_propose_seeing_the_number_then_the_other_team_approves(golden_db: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    agreement._registry.cache_clear()
    at = app(db, monkeypatch, "agreement")
    assert at.title[0].value == "Agreements"
    at = state(at, "Pia", "procurement")
    assert not at.exception, [e.message for e in at.exception]
    assert any("unverified" in c.value for c in at.caption)
    at.selectbox(key="agreement_kpi").set_value("savings").run()
    at.selectbox(key="agreement_period").set_value("2026-01").run()
    # golden bridges.yaml, 2026-01: procurement 60, cost avoidance −40, not yet invoiced 0; nothing included: 60
    assert ("Agreed value · 2026-01", "EUR 60") in metrics(at)
    radio = at.radio(key="agree_step_savings_cost_avoidance")
    assert radio.label == "**Cost avoidance** · −EUR 40" and radio.options == [INCLUDE, LEAVE_OUT]
    assert radio.value == LEAVE_OUT  # nothing included until chosen
    at = include(at, "savings", "cost_avoidance", "not_yet_invoiced")
    assert not at.exception, [e.message for e in at.exception]
    # 60 − 40 + 0 = 20, the agreed number in words, beside both teams' values
    assert ("Agreed value · 2026-01", "EUR 20") in metrics(at)
    assert ("Procurement · 2026-01", "EUR 60") in metrics(at) and ("Finance · 2026-01", "−EUR 200") in metrics(at)
    said = "procurement's EUR 60, plus Cost avoidance −EUR 40, plus Savings on orders not yet invoiced EUR 0 = EUR 20"
    assert f"**The agreed number:** {widgets.plain(said)}" in [m.value for m in at.markdown]
    at.text_area[0].input(TEXT)
    # the effective date stays the first month of data, 2025-01-01
    [w for w in at.text_input if w.label == "Reason"][0].input("Count what finance can book")
    at = at.button(key="FormSubmitter:agreement_propose-Propose").click().run()
    assert not at.exception, [e.message for e in at.exception]
    said = ("Proposed #1: Savings as procurement's value plus Cost avoidance, Savings on orders not yet invoiced (EUR 20 "
            "in 2026-01). It now awaits the other team's approval on this page and on their Overview.")
    assert [s.value for s in at.success] == [said] and [t.value for t in at.toast] == [said]
    # Pia (procurement) proposed it: no Approve for her team, Withdraw instead; the preview is beside it too
    keys = [b.key for b in at.button]
    assert "FormSubmitter:agreement_withdraw_1-Withdraw" in keys
    assert not any(k and k.startswith("FormSubmitter:agreement_decide_") for k in keys)
    # Ana of finance approves beside the same number: version 1 of the agreed view
    at.button(key="agreement_change_me").click().run()
    at = state(at, "Ana", "finance")
    assert "FormSubmitter:agreement_decide_1-Approve" in [b.key for b in at.button]
    pending = at.dataframe[0].value  # the steps of the pending proposal, included or left out, with amounts
    assert pending.columns.tolist() == ["Step", "Amount (2026-02)", "Agreed number"]  # the latest with a bridge
    assert list(pending["Agreed number"][:3]) == ["included", "included", "left out"]
    assert list(pending["Amount (2026-02)"][:2]) == ["EUR 0", "−EUR 15"]  # golden bridges.yaml, 2026-02
    at = at.button(key="FormSubmitter:agreement_decide_1-Approve").click().run()
    said = ("Approved #1: Savings's agreed definition is now version 1, effective 2025-01-01; the Agreed view shows "
            "on every page, the pack and the deck.")
    assert [s.value for s in at.success] == [said] and said in [t.value for t in at.toast]
    # the audit log lists both steps, unverified
    log = at.dataframe[-1].value
    assert list(log["Action"]) == ["proposed", "approved"] and set(log["Identity"]) == {"unverified"}
    # the KPI page shows the agreed view: Jan 2026 = 60 − 40 + 0 = 20, and the bridge says which steps it includes
    go(at, "savings").run()
    at.selectbox(key="period").set_value("2026-01").run()
    assert not at.exception, [e.message for e in at.exception]
    assert ("Agreed · 2026-01", "EUR 20") in metrics(at)
    steps = next(d.value for d in at.dataframe if "Agreed v1" in d.value.columns)
    assert dict(zip(steps["Step"], steps["Agreed v1"], strict=True))["Cost avoidance"] == "included"
    assert dict(zip(steps["Step"], steps["Agreed v1"], strict=True))["Volume change"] == "left out"
    go(at, "definitions").run()
    assert not at.exception
    assert any("Version 1, effective 2025-01-01: procurement's value plus Cost avoidance, Savings on orders not yet "
               "invoiced." in t.value for t in at.text)


def test_target_typed_in_the_kpis_unit_from_the_fiscal_calendar(golden_db: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    at = app(db, monkeypatch, "agreement")
    at = state(at, "Pia", "procurement")
    at.selectbox(key="target_kpi").set_value("savings").run()
    at.selectbox(key="target_view").set_value("procurement").run()
    at.selectbox(key="target_grain").set_value("quarter").run()
    form = [w for w in at.selectbox if w.label == "Period"][0]
    # the fiscal calendar's quarters, from the data's first (2025-Q1) to four after the latest (2026-Q1)
    assert form.options[0] == "2025-Q1" and form.options[-1] == "2027-Q1" and form.value == "2026-Q1"
    number = [w for w in at.number_input if w.label.startswith("Target")][0]
    assert number.label == "Target (EUR)"
    at = at.button(key="FormSubmitter:target_propose-Propose target").click().run()
    assert [e.value for e in at.error] == ["Type the target in EUR."]
    [w for w in at.number_input if w.label == "Target (EUR)"][0].set_value(100)
    at = at.button(key="FormSubmitter:target_propose-Propose target").click().run()
    assert [s.value for s in at.success] == ["Target #1 proposed: Savings (procurement, 2026-Q1) at EUR 100. The other "
                                             "team approves it on this page and sees it on their Overview."]
    assert "FormSubmitter:target_decide_1-Approve target" not in [b.key for b in at.button]  # its own team's
    at.button(key="agreement_change_me").click().run()
    at = state(at, "Ana", "finance")
    at = at.button(key="FormSubmitter:target_decide_1-Approve target").click().run()
    assert [s.value for s in at.success] == ["Target #1 approved: Savings 2026-Q1 at EUR 100 now shows on the cards, "
                                             "the KPI page and the trend."]
    listed = next(d.value for d in at.dataframe if "Outlook" in d.value.columns)
    assert (listed["Target"][0], listed["Status"][0], listed["Forecast"][0], listed["Outlook"][0]) == (
        "EUR 100", "approved", "EUR 75", "✗ off track")
    # a percentage KPI: 25 typed is 25 %, stored as 0.25 and shown as 25.0%
    at.selectbox(key="target_kpi").set_value("spend_under_management").run()
    at.selectbox(key="target_grain").set_value("month").run()
    [w for w in at.number_input if w.label == "Target (%)"][0].set_value(25)
    at = at.button(key="FormSubmitter:target_propose-Propose target").click().run()
    assert [s.value for s in at.success][0].startswith("Target #2 proposed: Spend under management (finance, "
                                                       "2026-03) at 25.0%.")
    from store.db import reading

    with reading(db) as con:
        assert con.execute("SELECT value FROM targets WHERE target_id = 2").fetchall() == [(0.25,)]
    go(at, "savings").run()
    at.selectbox(key="grain").set_value("quarter").run()
    at.selectbox(key="period").set_value("2026-Q1").run()
    assert not at.exception, [e.message for e in at.exception]
    # procurement 2026-Q1 = 60 + 15 + 0 = 75 with all 3 months in: forecast 75, short of 100 by 25 > 5 → off track
    line = "Target (procurement, 2026-Q1): EUR 100 · actual EUR 75 · forecast EUR 75 (3 of 3 months) · ✗ off track"
    assert line in [t.value for t in at.text]
    assert any(c.value.startswith("Status rule: on track: the forecast meets the target") for c in at.caption)
    # the trend marks the target at 2026-Q1 (a wide dash in procurement's colour)
    trend = [c for c in at.get("plotly_chart") if "Target (Procurement)" in c.proto.spec]
    assert trend and '"symbol":"line-ew-open"' in trend[0].proto.spec.replace(" ", "")
    # the Overview: the same line on the Savings card, and the target listed as off track with the rule
    at = app(db, monkeypatch, "overview", grain="quarter", period="2026-Q1")
    assert line in [c.value for c in at.caption]
    off = next(d.value for d in at.dataframe if "Target" in d.value.columns)  # after "what stands out"'s tables
    assert list(off["KPI (view)"]) == ["Savings (procurement)"] and list(off["Target"]) == ["EUR 100"]
    assert list(off["Forecast"]) == ["EUR 75"] and list(off["Months"]) == ["3 of 3"]
    assert any(c.value.startswith("1 of 1 approved joint targets are off track. Status rule:") for c in at.caption)


def test_a_quarters_target_shows_on_its_months_and_a_years_by_months(golden_db: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """targets.GRAIN_RULE on the KPI page: savings 2026 (procurement) EUR 300, payment days 2026-Q1 (finance) 30 days.
    Golden procurement savings: 2026-01 60, 02 15, 03 0 → 75 so far, 3 of 12 months: 75 ÷ 3 × 12 = 300 → on track."""
    from tests.test_targets import _approved_targets

    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    _approved_targets(db, [("savings", "procurement", "year", "2026", 300, None, None),
                           ("payment_days", "finance", "quarter", "2026-Q1", 30, None, None)])
    # at its own grain: the year's line as it was
    at = app(db, monkeypatch, "savings", grain="year", period="2026")
    assert ("Target (procurement, 2026): EUR 300 · actual EUR 75 · forecast EUR 300 (3 of 12 months) · ✓ on track"
            in [t.value for t in at.text])
    # on a quarter: a quarter of it, by months, with the year's own numbers and status
    at = app(db, monkeypatch, "savings", grain="quarter", period="2026-Q1")
    assert ("Target (procurement, 2026; EUR 75 of it for 2026-Q1, by months): EUR 300 · actual so far EUR 75 · "
            "forecast EUR 300 (3 of 12 months) · ✓ on track") in [t.value for t in at.text]
    # on a month: a twelfth; the trend marks EUR 25 at each month of 2026 it shows
    at = app(db, monkeypatch, "savings", period="2026-02")
    assert ("Target (procurement, 2026; EUR 25 of it for 2026-02, by months): EUR 300 · actual so far EUR 75 · "
            "forecast EUR 300 (3 of 12 months) · ✓ on track") in [t.value for t in at.text]
    assert any(c.value.startswith("Status rule") and "Grains: a target shows at its own grain" in c.value
               for c in at.caption)
    trend = next(c for c in at.get("plotly_chart") if "Target (Procurement)" in c.proto.spec)
    import json

    marks = next(t for t in json.loads(trend.proto.spec)["data"] if t.get("name") == "Target (Procurement)")
    assert marks["x"] == ["2026-01", "2026-02"] and marks["y"] == [25, 25]
    # a level keeps its value on each month of its quarter: 30 days in 2026-02
    at = app(db, monkeypatch, "payment_days", period="2026-02")
    assert any(t.value.startswith("Target (finance, 2026-Q1; the same for 2026-02): 30.0 days") for t in at.text)
    # and a month's target is not shown on its quarter (it says nothing of the other two months)
    _approved_targets(db, [("savings", "finance", "month", "2026-01", 10, None, None)])
    at = app(db, monkeypatch, "savings", grain="quarter", period="2026-Q1")
    assert not [t.value for t in at.text if t.value.startswith("Target (finance")]


def test_a_slice_target_in_the_breakdown_table_and_its_downloads(golden_db: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_targets import _approved_targets

    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    _approved_targets(db, [("savings", "procurement", "month", "2026-01", 19, "category", "IT")])
    at = app(db, monkeypatch, "savings", period="2026-01", savings_by="category")
    table = next(d.value for d in at.dataframe if "Target (Procurement)" in d.value.columns)
    # IT: procurement 20 against 19 → on track; LOG has no target
    got = {r["category"]: (r["Target (Procurement)"], r["Forecast (Procurement)"], r["Status (Procurement)"])
           for _, r in table.iterrows()}
    assert got["IT"] == (19.0, 20.0, "on track")
    assert all(x != x or x is None for x in got["LOG"])  # null (NaN on screen): no target for LOG


def test_as_defined_today_toggle_on_the_kpi_page(golden_db: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """v1 (from 2025-01-01) drops cost avoidance and not-yet-invoiced savings, v2 (from 2026-02-01) counts no step.
    2026-01 under v1 (default): 60 − 40 + 0 = 20; as defined today (v2): 60."""
    from decisions.identity import Identity
    from workspace.db import connect

    pia = Identity("pia@corp.example", "Pia", "procurement", "editor", True)
    ana = Identity("ana@corp.example", "Ana", "finance", "editor", True)
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    con = connect(db)
    for counts, effective in ((["cost_avoidance", "not_yet_invoiced"], "2025-01-01"), ([], "2026-02-01")):
        agreement.approve(con, agreement.propose(con, "savings", counts, TEXT, effective, "a new year", pia), ana)
    con.close()
    agreement._registry.cache_clear()
    at = app(db, monkeypatch, "savings", period="2026-01")
    assert ("Agreed · 2026-01", "EUR 20") in metrics(at)
    at.toggle(key="savings_as_defined_today").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    assert ("Agreed · 2026-01", "EUR 60") in metrics(at)
    assert any(c.value.startswith("As defined today: every period below under agreed version 2 (effective 2026-02-01)")
               for c in at.caption)
    assert ("Procurement · 2026-01", "EUR 60") in metrics(at)  # the team views are as they were


def test_the_review_opens_an_actions_proposal_and_target(golden_db: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An open action on Payment days: "Open in Agreements" opens the Agreements page with Payment days chosen in
    the proposal and target forms and its pending proposal and target picked (not the first KPI's)."""
    from datetime import date

    import polars as pl

    from decisions import review, targets
    from decisions.identity import Identity
    from kpi_definitions.registry import registry
    from workspace.db import connect

    pia = Identity("pia@corp.example", "Pia", "procurement", "editor", True)
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    con = connect(db)
    rid = review.start(con, date(2026, 4, 2), "2026-03", pl.DataFrame(
        schema={"kpi": pl.String, "view": pl.String, "period": pl.String, "value": pl.Float64}), pia)
    review.add_item(con, rid, "savings", "action", "Agree what counts", "Ana", date(2026, 4, 9), by=pia)
    item = review.add_item(con, rid, "payment_days", "action", "Settle the terms target", "Ana", date(2026, 4, 9), by=pia)
    agreement.propose(con, "savings", [], TEXT, "2025-01-01", "first", pia)
    pd = agreement.propose(con, "payment_days", [], "Payment days as both teams count them, from the bridge.",
                           "2025-01-01", "second", pia)
    targets.propose(con, registry(), "savings", "finance", "month", "2026-03", 1, "x", pia)
    tid = targets.propose(con, registry(), "payment_days", "finance", "month", "2026-03", 30, "terms", pia)
    con.close()
    at = app(db, monkeypatch, "review")
    at.selectbox(key="review_open_item").set_value(item).run()
    at = at.button(key="review_open_agreement").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Agreements"
    assert at.query_params == {"kpi": "payment_days", "item": str(item)}  # the link keeps the item's context
    go(at, "agreement")  # AppTest reruns the page it was told, not the one switched to (a browser stays there)
    at = state(at, "Ana", "finance")
    assert not at.exception, [e.message for e in at.exception]
    assert [i.value for i in at.info][0].startswith(f"From the review of 2026-04-02: action #{item} on Payment days: "
                                                   "“Settle the terms target” · owner Ana, due 2026-04-09.")
    assert at.selectbox(key="agreement_kpi").value == "payment_days"
    assert at.text_input(key="agreement_reason").value == f"Review item #{item}: Settle the terms target"
    assert at.selectbox(key="target_kpi").value == "payment_days"
    # its KPI's pending proposal first, with Approve for finance (procurement proposed it)
    firsts = [m.value for m in at.markdown if m.value.startswith("**#")]
    assert firsts[0].startswith(f"**#{pd} Payment days**")
    assert f"FormSubmitter:agreement_decide_{pd}-Approve" in [b.key for b in at.button]
    assert f"FormSubmitter:target_decide_{tid}-Approve target" in [b.key for b in at.button]


def test_a_part_of_a_netted_step_can_be_counted_on_its_own(golden_db: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    agreement._registry.cache_clear()
    at = state(app(db, monkeypatch, "agreement"), "Pia", "procurement")
    at.selectbox(key="agreement_kpi").set_value("budget_variance").run()
    assert not at.exception, [e.message for e in at.exception]
    labels = [r.label for r in at.radio if r.key and r.key.startswith("agree_step_budget_variance_")]
    assert labels[0].startswith("**Timing \\(net\\)**") and labels[1].startswith("**↳ Orders not yet invoiced \\(part of")
    at = include(at, "budget_variance", "timing", "orders_not_invoiced")
    said = ("“Timing (net)” already adds up its parts, “Orders not yet invoiced (part of Timing (net))” among them: "
            "count the step or some of its parts, not both.")
    assert [w.value for w in at.warning] == [said]  # no agreed number for a step counted twice
    at.text_area[0].input("Budget on orders, without the timing of invoices on orders of other periods.")
    [w for w in at.text_input if w.label == "Reason"][0].input("Test")
    at = at.button(key="FormSubmitter:agreement_propose-Propose").click().run()
    assert [e.value for e in at.error] == [said]
    # the part alone is fine: its own amount, included
    at.radio(key="agree_step_budget_variance_timing").set_value(LEAVE_OUT)
    at = at.run()
    assert not at.warning and any(label.startswith("Agreed value") for label, _ in metrics(at))


def test_definitions_list_a_netted_steps_parts(golden_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(golden_db, monkeypatch, "definitions")
    assert not at.exception, [e.message for e in at.exception]
    budget = next(m.value for m in at.markdown if m.value.startswith("**Bridge steps**") and "Timing" in m.value)
    lines = [line for line in budget.splitlines() if line.startswith("- ")]
    at_timing = next(i for i, line in enumerate(lines) if line.startswith("- **Timing \\(net\\)**"))
    assert lines[at_timing + 1].startswith("- **↳ Orders not yet invoiced**: PO lines ordered in the period")
    assert lines[at_timing + 2].startswith("- **↳ Invoices on orders of other periods**: Invoices in the period")
