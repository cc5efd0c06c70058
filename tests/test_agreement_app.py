"""The Agreements page in AppTest: the local user states name and team, proposes an agreed definition from the
bridge, a member of the other team approves it, and the agreed view appears on the KPI page and Definitions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from decisions import agreement
from tests.test_app import app, go, metrics

TEXT = "Negotiated savings without cost avoidance and without savings not yet invoiced."


def state(at, name: str, team: str):  # noqa: ANN001, ANN201
    at.text_input[0].input(name)
    at.selectbox[-1].set_value(team)
    return at.button[0].click().run()


def test_propose_then_the_other_team_approves(golden_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    agreement._registry.cache_clear()
    at = app(db, monkeypatch, "agreement")
    assert at.title[0].value == "Agreements"
    at = state(at, "Pia", "procurement")
    assert not at.exception, [e.message for e in at.exception]
    assert any("unverified" in c.value for c in at.caption)
    at.selectbox(key="agreement_kpi").set_value("savings").run()
    at.multiselect[0].set_value(["cost_avoidance", "not_yet_invoiced"])
    at.text_area[0].input(TEXT)
    # the effective date stays the first month of data, 2025-01-01
    [w for w in at.text_input if w.label == "Reason"][0].input("Count what finance can book")
    at = at.button(key="FormSubmitter:agreement_propose-Propose").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert [s.value for s in at.success] == ["Proposed: Savings. A member of the other team approves it on this page."]
    # Pia (procurement) cannot approve her own team's proposal: one sentence, nothing changed
    at = at.button(key="FormSubmitter:agreement_decide-Approve").click().run()
    assert [e.value for e in at.error] == ["Procurement proposed it, so its approval is given: a member of finance "
                                           "must approve; nothing changed."]
    # Ana of finance approves: version 1 of the agreed view
    at.button(key="agreement_change_me").click().run()
    at = state(at, "Ana", "finance")
    at = at.button(key="FormSubmitter:agreement_decide-Approve").click().run()
    assert [s.value for s in at.success] == ["Approved proposal 1."]
    assert any("approved" in str(df.value) for df in at.dataframe)
    # the audit log lists both steps, unverified
    log = at.dataframe[-1].value
    assert list(log["Action"]) == ["proposed", "approved"] and set(log["Identity"]) == {"unverified"}
    # the KPI page shows the agreed view: Jan 2026 = 60 − 40 + 0 = 20
    go(at, "savings").run()
    at.selectbox(key="period").set_value("2026-01").run()
    assert not at.exception, [e.message for e in at.exception]
    assert ("Agreed · 2026-01", "EUR 20") in metrics(at)
    go(at, "definitions").run()
    assert not at.exception
    assert any("Version 1, effective 2025-01-01: counts Cost avoidance, Savings on orders not yet invoiced." in t.value
               for t in at.text)


def test_target_form_and_target_vs_actual_on_the_kpi_page(golden_db: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    at = app(db, monkeypatch, "agreement")
    at = state(at, "Pia", "procurement")
    at.selectbox(key="target_kpi").set_value("savings").run()
    at.selectbox(key="target_view").set_value("procurement").run()
    form = [w for w in at.selectbox if w.label == "Period type"][0]
    form.set_value("quarter")
    [w for w in at.text_input if w.label.startswith("Period")][0].input("2026-Q1")
    [w for w in at.text_input if w.label == "Target value"][0].input("abc")
    at = at.button(key="FormSubmitter:target_propose-Propose target").click().run()
    assert [e.value for e in at.error] == ["'abc' is not a number: write the target like 125000 or -3.5."]
    [w for w in at.text_input if w.label == "Target value"][0].input("100")
    at = at.button(key="FormSubmitter:target_propose-Propose target").click().run()
    assert [s.value for s in at.success] == ["Target proposed: the other team approves it here."]
    at.button(key="agreement_change_me").click().run()
    at = state(at, "Ana", "finance")
    at = at.button(key="FormSubmitter:target_decide-Approve target").click().run()
    assert [s.value for s in at.success] == ["Target 1 approved."]
    listed = next(d.value for d in at.dataframe if "outlook" in d.value.columns)
    assert (listed["status"][0], listed["forecast"][0], listed["outlook"][0]) == ("approved", 75.0, "off track")
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
    assert list(off["KPI"]) == ["Savings"] and list(off["Target"]) == ["EUR 100"] and list(off["Forecast"]) == ["EUR 75"]
    assert any(c.value.startswith("1 of 1 approved joint targets are off track. Status rule:") for c in at.caption)


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
    go(at, "agreement")  # AppTest reruns the page it was told, not the one switched to (a browser stays there)
    at = state(at, "Ana", "finance")
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="agreement_kpi").value == "payment_days"
    assert at.selectbox(key="agreement_pick").value == pd
    assert at.selectbox(key="target_kpi").value == "payment_days"
    assert at.selectbox(key="target_pick").value == tid


def test_a_part_of_a_netted_step_can_be_counted_on_its_own(golden_db: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    agreement._registry.cache_clear()
    at = state(app(db, monkeypatch, "agreement"), "Pia", "procurement")
    at.selectbox(key="agreement_kpi").set_value("budget_variance").run()
    assert not at.exception, [e.message for e in at.exception]
    offered = at.multiselect[0].options
    assert "Timing (net)" in offered and "Orders not yet invoiced (part of Timing (net))" in offered
    at.multiselect[0].set_value(["timing", "orders_not_invoiced"])
    at.text_area[0].input("Budget on orders, without the timing of invoices on orders of other periods.")
    [w for w in at.text_input if w.label == "Reason"][0].input("Test")
    at = at.button(key="FormSubmitter:agreement_propose-Propose").click().run()
    assert [e.value for e in at.error] == ["“Timing (net)” already adds up its parts, “Orders not yet invoiced (part "
                                           "of Timing (net))” among them: count the step or some of its parts, not "
                                           "both."]


def test_definitions_list_a_netted_steps_parts(golden_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(golden_db, monkeypatch, "definitions")
    assert not at.exception, [e.message for e in at.exception]
    budget = next(m.value for m in at.markdown if m.value.startswith("**Bridge steps**") and "Timing" in m.value)
    lines = [line for line in budget.splitlines() if line.startswith("- ")]
    at_timing = next(i for i, line in enumerate(lines) if line.startswith("- **Timing \\(net\\)**"))
    assert lines[at_timing + 1].startswith("- **↳ Orders not yet invoiced**: PO lines ordered in the period")
    assert lines[at_timing + 2].startswith("- **↳ Invoices on orders of other periods**: Invoices in the period")
