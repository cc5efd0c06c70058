"""The approval flow on hand-computed data (tests/golden/cycles.yaml over tests/golden/budgets): cycle time per
stage as median and P90 per document (a rework loop, a delegation, a time zone crossing midnight), queue time per
step and role, the first-pass rate, the waiting list, a document's timeline, and the invoices counted
differently by the two views of a contested KPI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from kpi_definitions import approvals
from kpi_definitions.compute import Selection, resolve_range
from kpi_definitions.periods import FiscalCalendar, parse_month
from kpi_definitions.registry import registry
from tests.conftest import GOLDEN
from workspace.db import connect

GOLD = yaml.safe_load((GOLDEN / "cycles.yaml").read_text())
Q1 = (parse_month("2026-01"), parse_month("2026-03"))
TOL = 1e-9


@pytest.fixture(scope="module")
def bcon(golden_budgets_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(golden_budgets_db, read_only=True)
    yield c
    c.close()


def _sel(case: dict) -> Selection:
    grain = case.get("grain", "month")
    first, last = resolve_range(FiscalCalendar(), grain, None, case.get("period"), case.get("from"), case.get("to"))
    return Selection(first, last, grain, (), {k: [v] for k, v in (case.get("where") or {}).items()})


@pytest.mark.parametrize("case", GOLD["cycles"], ids=[f"{c['stage']}-{c.get('period') or c['label']}"
                                                       + "".join(f"-{v}" for v in (c.get("where") or {}).values())
                                                       for c in GOLD["cycles"]])
def test_golden_cycle_time(bcon: duckdb.DuckDBPyConnection, case: dict) -> None:
    rows = approvals.cycle_times(bcon, registry(), _sel(case)).filter(stage=case["stage"])
    if case.get("none"):
        assert rows.height == 0, rows
        return
    assert rows.height == 1, rows
    r = rows.row(0, named=True)
    assert r["period"] == str(case.get("label", case.get("period")))
    assert r["documents"] == case["documents"]
    assert abs(r["median_days"] - case["median"]) < TOL, (r, case["why"])
    assert abs(r["p90_days"] - case["p90"]) < TOL, (r, case["why"])


@pytest.mark.parametrize("case", GOLD["queues"], ids=[f"{c['document_type']}-{c['step']}-{c['actor_role']}"
                                                       for c in GOLD["queues"]])
def test_golden_queue_time(bcon: duckdb.DuckDBPyConnection, case: dict) -> None:
    rows = approvals.queue_times(bcon, registry(), Selection(*Q1, "quarter"))
    r = rows.filter(document_type=case["document_type"], step=case["step"], actor_role=case["actor_role"])
    assert r.height == 1
    got = r.row(0, named=True)
    assert (got["waits"], got["documents"]) == (case["waits"], case["documents"])
    for key, col in (("median", "median_days"), ("p90", "p90_days"), ("total", "total_days")):
        assert abs(got[col] - case[key]) < TOL, (key, got, case["why"])


@pytest.mark.parametrize("case", GOLD["first_pass"], ids=[c["document_type"] for c in GOLD["first_pass"]])
def test_golden_first_pass(bcon: duckdb.DuckDBPyConnection, case: dict) -> None:
    rows = approvals.first_pass(bcon, registry(), Selection(*Q1, "quarter")).filter(document_type=case["document_type"])
    r = rows.row(0, named=True)
    assert (r["period"], r["decided"], r["first_pass"]) == ("2026-Q1", case["decided"], case["first_pass"])
    assert abs(r["rate"] - case["rate"]) < TOL, case["why"]


def test_golden_waiting_list(bcon: duckdb.DuckDBPyConnection) -> None:
    got = approvals.waiting(bcon, registry())
    want = GOLD["waiting"]
    assert got.select("document_type", "document_id", "last_event").rows() == [
        (w["document_type"], w["document_id"], w["last_event"]) for w in want]  # longest first
    for row, w in zip(got["days_waiting"], want, strict=True):
        assert abs(row - w["days"]) < TOL, w["why"]
    # filtered: CC1 waits for RP only (IF is CC3's)
    assert approvals.waiting(bcon, registry(), {"cost_center": ["CC1"]})["document_id"].to_list() == ["RP"]


def test_a_documents_timeline_reads_in_time_order_with_its_waits(bcon: duckdb.DuckDBPyConnection) -> None:
    t = approvals.timeline(bcon, registry(), "requisition", "RL")
    assert t.select("seq", "event", "actor", "on_behalf_of").rows() == [
        (1, "submitted", "cy", None), (2, "delegated", "mia", None), (3, "approved", "max", "mia")]
    assert t["waited_hours"].to_list() == [None, 12.0, 12.0]
    # RX crosses midnight at +01:00: 45 minutes, not a day
    assert approvals.timeline(bcon, registry(), "requisition", "RX")["waited_hours"].to_list() == [None, 0.75]
    lines = approvals.document(bcon, registry(), "requisition", "RX")
    assert lines.select("line", "amount", "status", "refers_to").rows() == [(1, 30.0, "ordered", "PZ")]


def test_the_invoices_counted_differently_are_listed_with_why(bcon: duckdb.DuckDBPyConnection) -> None:
    reg = registry()
    touch = approvals.counted_differently(bcon, reg, "touchless_rate", *Q1)
    # IL (no PO) is counted by finance only; IC was approved by its budget owner only; IN (no PO) too
    assert sorted(touch.select("invoice_id", "finance_touchless", "procurement_touchless").rows()) == [
        ("IC", True, False), ("IL", True, None), ("IN", False, None)]
    match = approvals.counted_differently(bcon, reg, "first_time_match", *Q1)
    assert sorted(match.select("invoice_id", "why").rows()) == [
        ("IE", "received after the invoice date"), ("IG", "not received yet")]
    assert approvals.counted_differently(bcon, reg, "savings", *Q1).height == 0
