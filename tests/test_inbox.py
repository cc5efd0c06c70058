"""What awaits a team's decision (decisions/inbox.py): pending proposals and targets, on the golden exports."""

from __future__ import annotations

import shutil
from pathlib import Path

from decisions import agreement, inbox, targets
from decisions.identity import Identity
from kpi_definitions.registry import registry
from store.config import Settings
from store.db import reading
from workspace.db import connect

PIA = Identity("pia@corp.example", "Pia", "procurement", "editor", True)
ANA = Identity("ana@corp.example", "Ana", "finance", "editor", True)
BEN = Identity("ben@corp.example", "Ben", "finance", "editor", True)
TEXT = "Savings without cost avoidance, as both teams count them."


def test_a_proposal_awaits_the_other_team_until_it_has_approved(golden_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    with reading(db) as con:  # nothing proposed yet: no table, nothing pending (read-only)
        assert inbox.pending(con).height == 0
    con = connect(db)
    pid = agreement.propose(con, "savings", ["cost_avoidance"], TEXT, "2025-01-01", "align", PIA)
    tid = targets.propose(con, registry(), "payment_days", "finance", "month", "2026-03", 30, "cash plan", ANA)
    two = Settings(approvers_per_team=2)
    assert inbox.pending(con, team="finance").select("kind", "id", "kpi", "counts").rows() == [
        (inbox.PROPOSAL, pid, "savings", ["cost_avoidance"])]  # finance approves procurement's proposal
    assert inbox.pending(con, team="procurement").select("kind", "id", "kpi").rows() == [
        (inbox.TARGET, tid, "payment_days")]  # and procurement finance's target
    assert inbox.pending(con, kpi="savings").height == 1 and inbox.pending(con).height == 2
    agreement.approve(con, pid, ANA, cfg=two)  # one of two finance approvals: it still awaits finance
    assert inbox.pending(con, team="finance", cfg=two)["id"].to_list() == [pid]
    agreement.approve(con, pid, BEN, cfg=two)  # the second: approved, nothing awaits finance
    assert inbox.pending(con, team="finance", cfg=two).height == 0
    targets.decide(con, tid, True, "fine", PIA)
    assert inbox.pending(con).height == 0
    con.close()
