"""The approval-flow and budget facts (kpi_definitions/flow.py) kept current by loads of invoices: only the
documents a load touched are rebuilt, and afterwards every flow fact is what a whole rebuild makes of the lines,
over tests/golden/budgets."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from kpi_definitions import facts, flow
from tests.frames import same_tables
from tests.killed import load_killed_after
from workspace.db import connect, ingest_file

HEADER = "invoice_id,invoice_line,supplier_id,po_id,po_line,item_id,category,cost_center,gl_account,invoice_date," \
         "due_date,paid_date,quantity,amount,currency"


def stored(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    return {t: con.sql(f"SELECT * FROM {t}").pl().sort(pl.all(), nulls_last=True) for t in flow.TABLES}


def rebuilt(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """The flow facts a whole rebuild makes of the stored lines now (rolled back: nothing is changed)."""
    con.begin()
    try:
        flow.rebuild(con, "EUR")
        return stored(con)
    finally:
        con.rollback()


@pytest.fixture
def con(golden_budgets_db: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    db = tmp_path / "b.duckdb"
    shutil.copy(golden_budgets_db, db)
    c = connect(db)
    yield c
    c.close()


def load(con: duckdb.DuckDBPyConnection, path: Path, rows: list[str]) -> None:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    result = ingest_file(con, path)
    assert result.ok and result.rows_quarantined == 0, result.message


def test_a_load_of_invoices_rebuilds_only_what_it_touched_and_matches_a_whole_rebuild(
        con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    same_tables(stored(con), rebuilt(con))
    # An approval event for an invoice not loaded yet: its wait has no cost center until the invoice comes
    (tmp_path / "approval_events_iz.csv").write_text(
        "document_type,document_id,seq,step,event,actor,actor_role,on_behalf_of,event_at,comment\n"
        "invoice,IZ,1,ap,submitted,joe,ap_clerk,,2026-04-03T08:00:00Z,\n")
    assert ingest_file(con, tmp_path / "approval_events_iz.csv").ok
    assert con.sql("SELECT cost_center FROM fact_waits WHERE document_id = 'IZ'").fetchall() == [(None,)]
    invoiced_pc = con.sql("SELECT invoiced FROM fact_po_invoiced WHERE po_id = 'PC'").fetchall()
    with monkeypatch.context() as m:
        m.setattr(flow, "rebuild", None)  # the incremental path must not need a whole rebuild
        m.setattr(facts, "REBUILD", "no_full_rebuild_here")
        # April: IZ on PA after IA; IY on PC dated before IC (IC's quantity invoiced so far changes: 1 + 2 > 2,
        # so IC no longer matches two-way); IX without an order
        load(con, tmp_path / "invoices_april.csv", [
            "IZ,1,S1,PA,1,,IT,CC1,6000,2026-04-02,2026-05-02,,2,40,EUR",
            "IY,1,S2,PC,1,,IT,CC1,6000,2026-03-12,2026-04-11,2026-03-30,1,50,EUR",
            "IX,1,S2,,,,LAB,CC2,6000,2026-04-09,2026-05-09,,,30,EUR"])
        # a correction of IE (same order): its quantity 4 -> 3
        load(con, tmp_path / "invoices_ie.csv", ["IE,1,S2,PE,1,,OPS,CC3,6000,2026-03-05,2026-04-04,2026-03-25,3,75,EUR"])
    same_tables(stored(con), rebuilt(con))
    # by hand: PC's line was invoiced 100 (IC), now 150 with IY; IZ's wait now carries PA's cost center
    assert invoiced_pc == [(100.0,)]
    assert con.sql("SELECT invoiced FROM fact_po_invoiced WHERE po_id = 'PC'").fetchall() == [(150.0,)]
    assert con.sql("SELECT cost_center FROM fact_waits WHERE document_id = 'IZ'").fetchall() == [("CC1",)]
    assert con.sql("SELECT two_way FROM fact_documents WHERE document_id IN ('IC', 'IY') ORDER BY document_id"
                   ).fetchall() == [(False,), (True,)]


def test_a_monthly_load_reads_its_own_lines_and_continues_the_running_quantities(
        con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # May, after every invoice on its PO lines: only its own lines are read ({new}), the quantity invoiced on PA's
    # line so far starting from IA's 6 (fact_po_invoiced as it was)
    loads: list[int | None] = []
    real = flow._statements

    def spy(scoped: bool, newest: int | None = None) -> list[str]:
        loads.append(newest)
        return real(scoped, newest)

    monkeypatch.setattr(flow, "_statements", spy)
    monkeypatch.setattr(facts, "REBUILD", "no_full_rebuild_here")
    before = con.sql("SELECT quantity, lines, last_invoiced::VARCHAR FROM fact_po_invoiced WHERE po_id = 'PA'").fetchall()
    load(con, tmp_path / "invoices_may.csv", [
        "IV,1,S1,PA,1,,IT,CC1,6000,2026-05-04,2026-06-03,,3,60,EUR",
        "IT,1,S1,PA,1,,IT,CC1,6000,2026-05-20,2026-06-19,,2,40,EUR",
        "IU,1,S2,,,,LAB,CC2,6000,2026-05-06,2026-06-05,,,15,EUR"])
    assert len(loads) == 1 and loads[0] is not None  # the appending path, with the load's id
    same_tables(stored(con), rebuilt(con))
    # by hand: PA line 1 orders 10 at 20. IA 6 before; IV 6 + 3 = 9 <= 10 matches two-way, IT 9 + 2 = 11 > 10 not
    assert before == [(6.0, 1, "2026-02-05")]
    assert con.sql("SELECT quantity, lines, last_invoiced::VARCHAR, invoiced FROM fact_po_invoiced WHERE po_id = 'PA'"
                   ).fetchall() == [(11.0, 3, "2026-05-20", 220.0)]
    assert con.sql("SELECT document_id, two_way FROM fact_documents WHERE document_id IN ('IT', 'IV') "
                   "ORDER BY document_id").fetchall() == [("IT", False), ("IV", True)]


def test_a_replaced_line_that_left_an_untouched_order_rebuilds_everything(
        con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # IA moves from PA to PB: PA is not among the orders the load names, and its invoiced amount must fall to 0
    path = tmp_path / "invoices_ia.csv"
    path.write_text(f"{HEADER}\nIA,1,S1,PB,1,,IT,CC1,6000,2026-02-05,2026-03-07,2026-02-25,5,150,EUR\n")
    calls: list[bool] = []
    real = flow.update_invoices

    def spy(c: duckdb.DuckDBPyConnection, currency: str) -> bool:
        calls.append(real(c, currency))
        return calls[-1]

    monkeypatch.setattr(flow, "update_invoices", spy)
    assert ingest_file(con, path).ok
    assert calls == [False]  # the line count of fact_po_invoiced told it
    same_tables(stored(con), rebuilt(con))
    assert con.sql("SELECT po_id, invoiced FROM fact_po_invoiced ORDER BY po_id").fetchall()[:2] == [
        ("PB", 150.0), ("PC", 100.0)]


def test_a_load_killed_after_the_flow_facts_changes_nothing(golden_budgets_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "b.duckdb"
    shutil.copy(golden_budgets_db, db)
    (tmp_path / "invoices_may.csv").write_text(f"{HEADER}\nIW,1,S2,PC,1,,IT,CC1,6000,2026-03-01,2026-03-31,,1,50,EUR\n")
    with connect(db) as c:
        before = stored(c)
    # a real process, SIGKILLed by itself inside the load's transaction, once the flow facts are updated
    load_killed_after(db, tmp_path / "invoices_may.csv", "kpi_definitions.flow", "update_invoices")
    with connect(db) as c:
        after = stored(c)
        same_tables(after, before)  # the load never committed
        same_tables(after, rebuilt(c))
        assert c.sql("SELECT count(*) FROM fact_invoices WHERE invoice_id = 'IW'").fetchall() == [(0,)]
