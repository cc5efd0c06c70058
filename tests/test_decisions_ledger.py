"""The savings ledger's workflow (decisions/ledger.py) on the hand-built exports of tests/test_ledger_kpi.py: who may
record, move, book, refuse and correct; booked months frozen, corrected only by a new entry; every step in the
audit log with the record before and after; versions of an initiative's terms from the form and from exports."""

from __future__ import annotations

import ast
import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from decisions import audit, ledger
from decisions.agreement import local_identity
from decisions.identity import Identity
from decisions.ledger import LedgerError
from kpi_definitions.registry import registry
from store.config import Settings
from tests.rows import VALID
from tests.test_ledger_kpi import EXPORTS, load
from workspace import ledger as workspace_ledger
from workspace.db import connect, ingest_file

PAT, FRAN, ANA = (local_identity("Pat", "procurement"), local_identity("Fran", "finance"),
                  local_identity("Ana", "finance"))
CFG = Settings(savings_evidence_months=2)
REG = registry


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ledger-flow")
    db = folder / "base.duckdb"
    load(folder, db, {k: v for k, v in EXPORTS.items() if k != "savings_initiatives"})
    return db


@pytest.fixture
def con(base: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A copy of the loaded exports with SI-A recorded by Pat through the form (owner ana@corp.example)."""
    db = tmp_path / "ledger.duckdb"
    shutil.copy(base, db)
    c = connect(db)
    workspace_ledger.record(c, initiative("SI-A"), PAT, "first record")
    yield c
    c.close()


def initiative(iid: str, **change: str) -> dict[str, str]:
    rows = {"SI-A": "SI-A,Laptops,IT,S1,C1,,reduction,last_price,10,8,620,EUR,2025-12-01,2026-01-31,ana@corp.example",
            "SI-B": "SI-B,Freight lanes,LOG,S2,C2,,reduction,last_price,20,15,90,USD,2025-12-01,2026-02-28,x@corp.example",
            "SI-D": "SI-D,Two years,OTH,S1,,,reduction,last_price,2,1,730,EUR,2026-01-01,2027-12-31,x@corp.example"}
    return dict(zip(VALID["savings_initiatives"], rows[iid].split(","), strict=True)) | change


def realise(con: duckdb.DuckDBPyConnection, iid: str = "SI-A", by: Identity = PAT) -> None:
    for stage in ("negotiated", "contracted", "realised"):
        ledger.move(con, REG(), iid, stage, f"to {stage}", by, cfg=CFG)


def test_the_recorder_cannot_book_whatever_team_they_state(con: duckdb.DuckDBPyConnection) -> None:
    realise(con)
    pat_in_finance = local_identity("Pat", "finance")  # the same name: the same e-mail, pat@localhost
    with pytest.raises(LedgerError, match=r"Pat \(pat@localhost\) recorded initiative 'SI-A': someone else in "
                                          r"finance signs it off, whatever team you state; nothing changed\."):
        ledger.book(con, REG(), "SI-A", "2025-12", pat_in_finance, cfg=CFG)
    # its owner neither (ana@corp.example, signed in)
    ana = Identity("ana@corp.example", "Ana", "finance", "editor", True)
    with pytest.raises(LedgerError, match="Ana \\(ana@corp.example\\) recorded initiative 'SI-A'"):
        ledger.book(con, REG(), "SI-A", "2025-12", ana, cfg=CFG)
    with pytest.raises(LedgerError, match="finance's sign-off: Pat is in procurement"):
        ledger.book(con, REG(), "SI-A", "2025-12", PAT, cfg=CFG)
    assert con.execute("SELECT count(*) FROM savings_bookings").fetchall() == [(0,)]
    entry = ledger.book(con, REG(), "SI-A", "2025-12", FRAN, cfg=CFG)  # someone else in finance
    assert con.execute("SELECT amount, lines, booked_by FROM savings_bookings WHERE entry_id = ?", [entry]).fetchall() \
        == [(pytest.approx(200.0), 1, "fran@localhost")]


def test_whoever_loaded_an_export_of_it_cannot_book_it(base: Path, tmp_path: Path) -> None:
    db = tmp_path / "ledger.duckdb"
    shutil.copy(base, db)
    c = connect(db)
    try:
        f = tmp_path / "savings_initiatives.csv"
        f.write_text(",".join(VALID["savings_initiatives"]) + "\n" + EXPORTS["savings_initiatives"], encoding="utf-8")
        assert ingest_file(c, f, who="fran (command line)").ok
        assert ledger.versions(c, "SI-A")[["version", "source", "recorded_by"]].rows() == [(1, "export", "fran@localhost")]
        realise(c)
        with pytest.raises(LedgerError, match="recorded initiative 'SI-A'"):
            ledger.book(c, REG(), "SI-A", "2025-12", local_identity("fran", "finance"), cfg=CFG)
    finally:
        c.close()


def test_a_booked_month_is_frozen_and_a_correction_is_a_new_entry(con: duckdb.DuckDBPyConnection,
                                                                   tmp_path: Path) -> None:
    realise(con)
    first = ledger.book(con, REG(), "SI-A", "2025-12", FRAN, cfg=CFG)
    with pytest.raises(LedgerError, match="2025-12 of initiative 'SI-A' is booked already and frozen: correct it"):
        ledger.book(con, REG(), "SI-A", "2025-12", ANA, cfg=CFG)
    # a late line arrives for December: realised moves, the booking does not
    late = tmp_path / "invoices.csv"
    late.write_text(",".join(VALID["invoices"]) + "\nI10,1,S1,P1,1,,IT,CC1,6000,2025-12-20,2026-01-19,,10,70,EUR\n",
                    encoding="utf-8")
    assert ingest_file(con, late).ok
    assert ledger.booked_lines(con, first)["invoice_id"].to_list() == ["I1"]  # the evidence as it was booked
    from kpi_definitions import ledger as kpi_ledger

    assert kpi_ledger.month_evidence(con, REG(), "SI-A", 24311).amount == pytest.approx(230.0)  # + 10 × 10 − 70
    fixed = ledger.correct(con, REG(), "SI-A", "2025-12", "230", "A December invoice arrived after booking.", ANA,
                           cfg=CFG)
    entries = ledger.bookings(con, "SI-A").select("entry_id", "kind", "amount", "corrects", "lines").rows()
    assert entries == [(first, "booked", pytest.approx(200.0), None, 1),
                       (fixed, "correction", pytest.approx(30.0), first, 2)]
    with pytest.raises(LedgerError, match="needs a reason"):
        ledger.correct(con, REG(), "SI-A", "2025-12", "250", " ", ANA, cfg=CFG)
    with pytest.raises(LedgerError, match="'12,5x' is not an amount"):
        ledger.correct(con, REG(), "SI-A", "2025-12", "12,5x", "typo", ANA, cfg=CFG)
    # a correction keeps the bound of every recorded amount (1e13): 1e15 used to be booked
    with pytest.raises(LedgerError, match="'1e15' is more than any amount may be"):
        ledger.correct(con, REG(), "SI-A", "2025-12", "1e15", "typo", ANA, cfg=CFG)
    assert ledger.bookings(con, "SI-A")["entry_id"].to_list() == [first, fixed]  # nothing changed


def test_the_module_offers_no_way_to_edit_or_remove_a_booking_a_move_or_a_version() -> None:
    tree = ast.parse(Path(ledger.__file__).read_text(encoding="utf-8"))
    strings = " ".join(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    for table in ("savings_bookings", "savings_booking_lines", "savings_moves", "savings_versions"):
        assert f"UPDATE {table}" not in strings and f"DELETE FROM {table}" not in strings, table
    assert "DROP " not in strings


def test_the_audit_log_has_every_step_with_before_and_after(con: duckdb.DuckDBPyConnection) -> None:
    realise(con)
    ledger.book(con, REG(), "SI-A", "2025-12", FRAN, "December's lines", cfg=CFG)
    ledger.refuse(con, REG(), "SI-A", "2026-01", "The credit note is not ours to count.", FRAN, cfg=CFG)
    log = audit.entries(con, ledger.ENTITY, "SI-A")
    assert log["action"].to_list() == ["proposed", "changed", "changed", "changed", "approved", "rejected"]
    assert log["email"].to_list() == ["pat@localhost"] * 4 + ["fran@localhost"] * 2
    moves = [(json.loads(b)["stage"] if b else None, json.loads(a)["stage"])
             for b, a in zip(log["before_json"], log["after_json"], strict=True)]
    assert moves == [(None, "identified"), ("identified", "negotiated"), ("negotiated", "contracted"),
                     ("contracted", "realised"), ("realised", "booked"), ("booked", "booked")]
    booked = json.loads(log["after_json"][4])
    assert (booked["month"], booked["kind"], booked["amount"], booked["lines"]) == ("2025-12", "booked", 200.0, 1)
    refused = json.loads(log["after_json"][5])
    assert (refused["kind"], refused["amount"], refused["reason"]) == ("refused", 0.0,
                                                                       "The credit note is not ours to count.")
    assert ledger.moves(con, "SI-A")["reason"].to_list() == ["first record", "to negotiated", "to contracted",
                                                             "to realised", "December's lines"]


def test_the_stage_rules(con: duckdb.DuckDBPyConnection) -> None:
    reg = REG()
    workspace_ledger.record(con, initiative("SI-D"), PAT)
    with pytest.raises(LedgerError, match="Say why the initiative moves"):
        ledger.move(con, reg, "SI-D", "negotiated", "  ", PAT, cfg=CFG)
    with pytest.raises(LedgerError, match="'signed' is not a stage: the stages are identified, negotiated"):
        ledger.move(con, reg, "SI-D", "signed", "why", PAT, cfg=CFG)
    with pytest.raises(LedgerError, match="Initiative 'SI-D' names no contract: record the contract it was signed"):
        ledger.move(con, reg, "SI-D", "contracted", "signed", PAT, cfg=CFG)
    with pytest.raises(LedgerError, match="not by a move"):
        ledger.move(con, reg, "SI-A", "booked", "done", PAT, cfg=CFG)
    with pytest.raises(LedgerError, match="There is no savings initiative 'SI-X'"):
        ledger.move(con, reg, "SI-X", "negotiated", "why", PAT, cfg=CFG)
    # the evidence rule: SI-A has lines under C1 in two months of its window; three are asked by default
    ledger.move(con, reg, "SI-A", "contracted", "signed", PAT)
    with pytest.raises(LedgerError, match=r"cannot be realised yet: the evidence rule asks for invoice lines under "
                                          r"contract 'C1' in 3 months of its savings window, and they are in 2"):
        ledger.move(con, reg, "SI-A", "realised", "lines are in", PAT, cfg=Settings(savings_evidence_months=3))
    ledger.move(con, reg, "SI-A", "realised", "lines are in", PAT, cfg=CFG)
    with pytest.raises(LedgerError, match="2026-02 is outside the savings window of initiative 'SI-A' "
                                          r"\(2025-12 to 2026-01\)"):
        ledger.book(con, reg, "SI-A", "2026-02", FRAN, cfg=CFG)
    ledger.book(con, reg, "SI-A", "2026-01", FRAN, cfg=CFG)
    with pytest.raises(LedgerError, match="is booked: booked months are frozen, so it does not move back"):
        ledger.move(con, reg, "SI-A", "contracted", "oops", PAT, cfg=CFG)
    with pytest.raises(LedgerError, match="needs a member of finance or procurement"):
        ledger.move(con, reg, "SI-D", "negotiated", "why", Identity("x@localhost", "X", None, "admin", False), cfg=CFG)
    viewer = Identity("v@corp.example", "Vi", "finance", "viewer", True)
    with pytest.raises(LedgerError) as refused:
        ledger.move(con, reg, "SI-D", "negotiated", "why", viewer, cfg=CFG)
    # what was refused, not the review's "cannot add or close review items"
    assert refused.value.message == ("You are signed in as v@corp.example with the viewer role, which does not allow "
                                     "moving a savings initiative: ask your Tandem admin for the editor role; nothing "
                                     "changed.")
    with pytest.raises(LedgerError, match="^Sign in before booking savings; nothing changed.$"):
        ledger.book(con, reg, "SI-D", "2026-01", None, cfg=CFG)


def test_a_refusal_needs_a_reason_and_books_nothing(con: duckdb.DuckDBPyConnection) -> None:
    realise(con)
    with pytest.raises(LedgerError, match="A refusal needs a reason"):
        ledger.refuse(con, REG(), "SI-A", "2025-12", "", FRAN, cfg=CFG)
    ledger.refuse(con, REG(), "SI-A", "2025-12", "Baseline never paid.", FRAN, cfg=CFG)
    with pytest.raises(LedgerError, match="is decided already"):
        ledger.refuse(con, REG(), "SI-A", "2025-12", "Again.", ANA, cfg=CFG)
    from kpi_definitions import ledger as kpi_ledger
    from kpi_definitions.compute import Selection, compute

    got = compute(con, REG(), Selection(24311, 24311), kpis=["savings_ledger"]).values
    assert dict(zip(got["view"], got["value"], strict=True)) == {"procurement": pytest.approx(620.0), "finance": 0.0}
    assert kpi_ledger.realised(con, REG(), 24311, 24311)["value"].to_list() == [pytest.approx(200.0)]


def test_a_new_version_from_the_form_and_from_an_export(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="already has these terms: nothing to record"):
        workspace_ledger.record(con, initiative("SI-A"), PAT)
    workspace_ledger.record(con, initiative("SI-A", baseline_method="bid", baseline_price="11"), PAT,
                            "The baseline is the tender's highest bid.")
    f = tmp_path / "savings_initiatives.csv"
    text = ",".join(VALID["savings_initiatives"]) + "\n" + ",".join(initiative("SI-A", baseline_method="index_adjusted")
                                                                     .values()) + "\n"
    f.write_text(text, encoding="utf-8")
    assert ingest_file(con, f, who="ana@corp.example").ok
    assert ingest_file(con, f, who="ana@corp.example").ok  # the same terms again: no new version
    versions = ledger.versions(con, "SI-A").select("version", "baseline_method", "baseline_price", "source",
                                                   "recorded_by", "reason").rows()
    assert versions == [(1, "last_price", 10.0, "form", "pat@localhost", "first record"),
                        (2, "bid", 11.0, "form", "pat@localhost", "The baseline is the tender's highest bid."),
                        (3, "index_adjusted", 10.0, "export", "ana@corp.example", None)]
    log = audit.entries(con, ledger.ENTITY, "SI-A")
    changed = [(json.loads(b)["baseline_method"], json.loads(a)["baseline_method"])
               for b, a in zip(log["before_json"][1:], log["after_json"][1:], strict=True)]
    assert changed == [("last_price", "bid"), ("bid", "index_adjusted")]
    assert ledger.current(con, "SI-A")["stage"] == "identified"  # a new version does not move it


def test_moved_since_lists_the_moves_for_the_review(con: duckdb.DuckDBPyConnection) -> None:
    realise(con)
    moved = ledger.moved_since(con, datetime.now() - timedelta(days=7))
    assert moved.select("initiative_id", "from_stage", "to_stage").rows() == [
        ("SI-A", "contracted", "realised"), ("SI-A", "negotiated", "contracted"), ("SI-A", "identified", "negotiated")]
    assert ledger.moved_since(con, datetime.now() + timedelta(days=1)).height == 0
    assert moved.schema["moved_at"] == pl.Datetime
