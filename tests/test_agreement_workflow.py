"""Agreeing a definition: propose, approve by both teams, reject, withdraw, versions; every step audited."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from decisions import agreement, audit
from decisions.identity import Identity
from kpi_definitions.agreement import AgreementError
from kpi_definitions.compute import Selection, compute
from kpi_definitions.periods import parse_month
from store.config import Settings
from workspace.db import connect

ANA = Identity("ana@corp.example", "Ana", "finance", "editor", True)
FIN2 = Identity("fred@corp.example", "Fred", "finance", "editor", True)
PIA = Identity("pia@corp.example", "Pia", "procurement", "editor", True)
VIEWER = Identity("val@corp.example", "Val", "procurement", "viewer", True)
DROPS = ["cost_avoidance", "not_yet_invoiced"]
TEXT = "Negotiated savings without cost avoidance and without savings not yet invoiced."


@pytest.fixture
def gcon(golden_db: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    c = connect(db)
    yield c
    c.close()


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_same_team_refused_other_team_makes_it_the_agreed_view(gcon: duckdb.DuckDBPyConnection) -> None:
    pid = agreement.propose(gcon, "savings", DROPS, TEXT, "2026-01-01", "Align with what finance can book", PIA)
    with pytest.raises(AgreementError, match="Procurement proposed it, so its approval is given: a member of "
                                             "finance must approve"):
        agreement.approve(gcon, pid, PIA)
    assert agreement.versions(gcon) == []
    row = agreement.approve(gcon, pid, ANA, "fits the budget")
    assert (row["status"], row["version"]) == ("approved", 1)
    with pytest.raises(AgreementError, match="Proposal 1 is already approved \\(version 1\\): it cannot be approved"):
        agreement.approve(gcon, pid, FIN2)
    [v1] = agreement.versions(gcon)
    assert (v1.kpi, v1.version, v1.counts) == ("savings", 1, tuple(DROPS))
    # the agreed view in the registry: computed like any view, 60 − 40 + 0 = 20 and 15 + 0 − 15 = 0
    from kpi_definitions.agreement import with_agreed
    from kpi_definitions.registry import registry
    reg = with_agreed(registry(), agreement.versions(gcon))
    assert list(reg["savings"].views) == ["finance", "procurement", "agreed"]
    assert reg["savings"].views["agreed"].version == "1"
    out = compute(gcon, reg, Selection(parse_month("2026-01"), parse_month("2026-02")), kpis=["savings"])
    assert out.values.filter(view="agreed").select("period", "value").rows() == [("2026-01", 20.0), ("2026-02", 0.0)]
    log = audit.entries(gcon, agreement.ENTITY, pid)
    assert log["action"].to_list() == ["proposed", "approved"]
    assert log["email"].to_list() == ["pia@corp.example", "ana@corp.example"]
    assert json.loads(log["before_json"][1])["status"] == "pending"
    assert json.loads(log["after_json"][1])["status"] == "approved"
    assert json.loads(log["after_json"][0])["counts"] == DROPS


def test_rejection_needs_a_reason_and_withdrawn_cannot_be_approved(gcon: duckdb.DuckDBPyConnection) -> None:
    a = agreement.propose(gcon, "savings", ["cost_avoidance"], TEXT, "2026-01-01", "Cost avoidance is not cash", ANA)
    with pytest.raises(AgreementError, match="A rejection needs a reason"):
        agreement.reject(gcon, a, "  ", PIA)
    agreement.reject(gcon, a, "Cost avoidance is real value", PIA)
    b = agreement.propose(gcon, "savings", ["mix"], TEXT, "2026-01-01", "Try the mix", ANA)
    with pytest.raises(AgreementError, match="Only finance, who proposed it, can withdraw it"):
        agreement.withdraw(gcon, b, PIA)
    agreement.withdraw(gcon, b, FIN2)
    before = (count(gcon, "agreement_decisions"), count(gcon, "audit_log"))
    with pytest.raises(AgreementError, match="Proposal 2 is already withdrawn: it cannot be approved; nothing changed"):
        agreement.approve(gcon, b, PIA)
    with pytest.raises(AgreementError, match="Proposal 1 is already rejected"):
        agreement.approve(gcon, a, PIA)
    assert (count(gcon, "agreement_decisions"), count(gcon, "audit_log")) == before
    rows = {r["proposal_id"]: r for r in agreement.proposals(gcon).iter_rows(named=True)}
    assert (rows[a]["status"], rows[a]["decision_reason"]) == ("rejected", "Cost avoidance is real value")
    assert rows[b]["status"] == "withdrawn"
    assert audit.entries(gcon)["action"].to_list() == ["proposed", "rejected", "proposed", "withdrawn"]


def test_concurrent_proposals_each_become_a_version(gcon: duckdb.DuckDBPyConnection) -> None:
    a = agreement.propose(gcon, "savings", ["cost_avoidance"], TEXT, "2026-01-01", "First", PIA)
    b = agreement.propose(gcon, "savings", DROPS, TEXT, "2026-02-01", "Second", ANA)
    agreement.approve(gcon, b, PIA)
    agreement.approve(gcon, a, ANA)
    assert [(v.version, str(v.effective_date)) for v in agreement.versions(gcon)] == [(1, "2026-02-01"),
                                                                                   (2, "2026-01-01")]
    from kpi_definitions.registry import registry
    lines = agreement.diff(agreement.versions(gcon)[0], agreement.versions(gcon)[1], registry())
    assert lines[0] == "Version 1 → 2; effective 2026-02-01 → 2026-01-01."
    assert "No longer counts: Savings on orders not yet invoiced." in lines


def test_bad_input_is_a_sentence_and_changes_nothing(gcon: duckdb.DuckDBPyConnection) -> None:
    cases = [
        (("margin", DROPS, TEXT, "2026-01-01", "r", PIA), "There is no KPI named 'margin'"),
        (("savings", ["rebates"], TEXT, "2026-01-01", "r", PIA), "has no step 'rebates'"),
        (("savings", DROPS, TEXT, "2026-13-01", "r", PIA), "'2026-13-01' is not a date: write it as YYYY-MM-DD"),
        (("savings", DROPS, TEXT, "2024-06-01", "r", PIA), "The effective date 2024-06-01 is before the data, "
                                                           "which starts 2025-01"),
        (("savings", DROPS, "short", "2026-01-01", "r", PIA), "in plain words"),
        (("savings", DROPS, TEXT, "2026-01-01", " ", PIA), "Say why"),
        (("savings", DROPS, TEXT, "2026-01-01", "r", VIEWER), "viewer role"),
        (("savings", DROPS, TEXT, "2026-01-01", "r", Identity("x@y", "X", None, "admin", True)), "has no team"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError, match=message):
            agreement.propose(gcon, *args)
    assert count(gcon, "agreement_proposals") == 0 and count(gcon, "audit_log") == 0
    with pytest.raises(AgreementError, match="There is no proposal 7"):
        agreement.approve(gcon, 7, ANA)


def test_threshold_requires_finance_and_approvers_per_team(gcon: duckdb.DuckDBPyConnection) -> None:
    cfg = Settings(approval_teams=("procurement",), finance_approval_above=30)
    # counting cost avoidance over the data: |−40| > 30, so finance must approve a procurement proposal too
    pid = agreement.propose(gcon, "savings", ["cost_avoidance"], TEXT, "2026-01-01", "r", PIA, cfg=cfg)
    with pytest.raises(AgreementError, match="a member of finance must approve"):
        agreement.approve(gcon, pid, PIA, cfg=cfg)
    two = Settings(approvers_per_team=2)
    q = agreement.propose(gcon, "savings", ["mix"], TEXT, "2026-01-01", "r", PIA, cfg=two)
    assert agreement.approve(gcon, q, ANA, cfg=two)["status"] == "pending"
    with pytest.raises(AgreementError, match="Ana already approved proposal 2"):
        agreement.approve(gcon, q, ANA, cfg=two)
    assert agreement.approve(gcon, q, FIN2, cfg=two)["status"] == "approved"


def test_local_identity_is_unverified_and_states_a_team() -> None:
    me = agreement.local_identity("Mia Local", "finance")
    assert (me.email, me.team, me.verified) == ("mia.local@localhost", "finance", False)
    with pytest.raises(AgreementError, match="State your team"):
        agreement.local_identity("Mia", "legal")


def test_cli_shows_the_agreed_view_and_exports_declarations_that_load(gcon: duckdb.DuckDBPyConnection,
                                                                     tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from cli.main import app
    from kpi_definitions.registry import PACKAGE, parse

    pid = agreement.propose(gcon, "savings", DROPS, TEXT, "2026-01-01", "Align", PIA)
    agreement.approve(gcon, pid, ANA)
    db = gcon.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    gcon.close()
    r = CliRunner().invoke(app, ["kpis", "--db", db, "--kpi", "savings", "--period", "2026-02", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert "savings,agreed,2026-02,0.0" in r.stdout.replace("\r", "") or "savings,agreed,2026-02,0" in r.stdout
    r = CliRunner().invoke(app, ["definitions", "export", "--db", db, "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    decl = yaml.safe_load((tmp_path / "out" / "savings.agreed.yaml").read_text())
    agreed = decl["views"]["agreed"]
    assert agreed["version"] == "1" and agreed["from_bridge"][0]["counts"] == DROPS
    # the export, merged into the bundled declaration, is a valid registry with a declared agreed view
    folder = tmp_path / "decls"
    folder.mkdir()
    for f in PACKAGE.glob("*.yaml"):
        raw = yaml.safe_load(f.read_text())
        if raw["name"] == "savings":
            raw["views"]["agreed"] = agreed
        (folder / f.name).write_text(yaml.safe_dump(raw))
    reg, issues = parse(folder)
    assert issues == [] and reg["savings"].views["agreed"].from_bridge[0].counts == tuple(DROPS)


def test_as_defined_today_applies_the_current_version_to_every_period(golden_db: Path, tmp_path: Path) -> None:
    """v1 (effective 2025-01-01) counts cost avoidance and not-yet-invoiced savings; v2 (effective 2026-02-01)
    counts no step, so the agreed value is procurement's. By default each month uses the version effective then:
    2026-01 v1: 60 − 40 + 0 = 20; 2026-02 v2: 15. As defined today (v2 in effect): 2026-01: 60; 2026-02: 15.
    As defined on 2026-01-15 (v1 in effect): 2026-02: 15 + 0 − 15 = 0."""
    from datetime import date

    from kpi_definitions.agreement import as_defined_today, with_agreed
    from kpi_definitions.registry import registry
    from tests.test_cli import _run

    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    con = connect(db)
    for counts, effective in ((DROPS, "2025-01-01"), ([], "2026-02-01")):
        agreement.approve(con, agreement.propose(con, "savings", counts, TEXT, effective, "a new year", PIA), ANA)
    reg = with_agreed(registry(), agreement.versions(con))
    sel = Selection(parse_month("2026-01"), parse_month("2026-02"))

    def agreed(r) -> list:  # noqa: ANN001
        out = compute(con, r, sel, kpis=["savings"]).values
        return out.filter(out["view"] == "agreed").select("period", "value").rows()

    assert agreed(reg) == [("2026-01", 20.0), ("2026-02", 15.0)]
    assert agreed(as_defined_today(reg, date(2026, 12, 1))) == [("2026-01", 60.0), ("2026-02", 15.0)]
    assert agreed(as_defined_today(reg, date(2026, 1, 15))) == [("2026-01", 20.0), ("2026-02", 0.0)]
    assert as_defined_today(reg, date(2024, 12, 31))["savings"] == reg["savings"]  # nothing in effect yet: as is
    con.close()
    agreement._registry.cache_clear()
    for flag, want in (([], [20.0, 15.0]), (["--as-defined-today"], [60.0, 15.0])):  # today is after 2026-02-01
        code, stdout, stderr = _run("kpis", "--db", str(db), "--from", "2026-01", "--to", "2026-02", "--kpi",
                                    "savings", "--format", "json", *flag)
        assert code == 0, stderr
        assert [r["value"] for r in json.loads(stdout) if r["view"] == "agreed"] == want
