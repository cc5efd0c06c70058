"""The budget and approval exports' bad input: each problem is one sentence and nothing read is lost (read =
loaded + quarantined); an approval event naming an unknown document and events going back in time are loaded
and reported as data-quality findings; timestamps are read with their offset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import write
from workspace.db import ingest_file

EVENTS_HEADER = "document_type,document_id,seq,step,event,actor,actor_role,on_behalf_of,event_at,comment\n"
REQ_HEADER = ("req_id,req_line,requester,cost_center,category,supplier_id,amount,currency,status,submitted_at,"
              "approved_at,po_id,po_line\n")


def _findings(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.sql("SELECT export_type, rule, subject, rows, detail FROM dq_findings ORDER BY rule, subject").fetchall()


def test_an_event_for_an_unknown_document_is_a_finding_and_is_kept(con: duckdb.DuckDBPyConnection,
                                                                   tmp_path: Path) -> None:
    ingest_file(con, write(tmp_path / "requisitions.csv", REQ_HEADER +
                           "R1,1,ana,CC1,IT,,100,EUR,pending,2026-01-05T09:00:00Z,,,\n"))
    r = ingest_file(con, write(tmp_path / "approval_events.csv", EVENTS_HEADER +
                               "requisition,R1,1,manager,submitted,ana,requester,,2026-01-05T09:00:00Z,\n"
                               "requisition,R404,1,manager,submitted,bo,requester,,2026-01-06T09:00:00Z,\n"
                               "purchase_order,P9,1,buyer,approved,cy,buyer,,2026-01-07T09:00:00Z,\n"))
    assert (r.outcome, r.rows_read, r.rows_loaded) == ("loaded", 3, 3)  # nothing lost
    found = [f for f in _findings(con) if f[0] == "approval_events"]
    assert found == [
        ("approval_events", "unknown purchase order", "(no purchase_orders loaded)", 1,
         "no purchase_orders export is loaded yet: load it to check these references"),
        ("approval_events", "unknown requisition", "R404", 1,
         "approval events name a requisition missing from requisitions"),
    ]


def test_events_out_of_order_are_a_finding_and_are_kept(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # R1's seq 3 (Jan 4) is earlier than its seq 2 (Jan 6): out of order. R2 is in order across a zone change:
    # 23:30 at +01:00 is 22:30 UTC, before 23:00 UTC.
    r = ingest_file(con, write(tmp_path / "approval_events.csv", EVENTS_HEADER +
                               "requisition,R1,1,manager,submitted,ana,requester,,2026-01-03T09:00:00Z,\n"
                               "requisition,R1,2,manager,approved,bo,manager,,2026-01-06T09:00:00Z,\n"
                               "requisition,R1,3,finance,approved,cy,controller,,2026-01-04T09:00:00Z,\n"
                               "requisition,R2,1,manager,submitted,ana,requester,,2026-01-03T23:30:00+01:00,\n"
                               "requisition,R2,2,manager,approved,bo,manager,,2026-01-03T23:00:00Z,\n"))
    assert (r.outcome, r.rows_loaded) == ("loaded", 5)
    out_of_order = [f for f in _findings(con) if f[1] == "events in time order"]
    assert out_of_order == [("approval_events", "events in time order", "requisition R1", 1,
                             "a document's events go back in time as seq rises: its timeline is read in time order")]


def test_a_negative_amount_and_an_unknown_status_are_one_sentence_each(tmp_path: Path) -> None:
    f = write(tmp_path / "requisitions.csv", REQ_HEADER +
              "R1,1,ana,CC1,IT,,100,EUR,pending,2026-01-05T09:00:00Z,,,\n"
              "R1,2,ana,CC1,IT,,-250,EUR,pending,2026-01-05T09:00:00Z,,,\n"
              "R2,1,bo,CC2,IT,,80,EUR,waiting,2026-01-06T09:00:00Z,,,\n")
    db = tmp_path / "t.duckdb"
    run = subprocess.run([sys.executable, "-m", "cli.main", "ingest", "--db", str(db), "--allow-partial", str(f)],
                         capture_output=True, text=True, timeout=300)
    said = run.stdout + run.stderr
    assert "requisitions.csv, line 3, column amount: amount >= 0 (value \"-250\")" in said
    assert ("requisitions.csv, line 4, column status: status one of draft, pending, approved, rejected, ordered, "
            "cancelled (value \"waiting\")") in said
    assert "Traceback" not in said
    con = duckdb.connect(str(db), read_only=True)
    try:  # read 3 = loaded 1 + quarantined 2, each with its record
        assert con.sql("SELECT count(*) FROM requisitions").fetchall() == [(1,)]
        assert con.sql("SELECT line, rule FROM quarantine ORDER BY line").fetchall() == [
            (3, "amount >= 0"), (4, "status one of draft, pending, approved, rejected, ordered, cancelled")]
    finally:
        con.close()


def test_timestamps_keep_their_instant(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ingest_file(con, write(tmp_path / "approval_events.csv", EVENTS_HEADER +
                           "invoice,I1,1,,submitted,system,system,,2026-03-31T23:30:00+02:00,\n"
                           "invoice,I1,2,,approved,ap1,ap_clerk,,2026-03-31 22:00:00,\n"))
    got = con.sql("SELECT seq, strftime(event_at, '%Y-%m-%d %H:%M') AS utc, month(event_at) AS m, "
                  "epoch(event_at) AS s FROM approval_events ORDER BY seq").fetchall()
    # 23:30 at +02:00 is 21:30 UTC on the 31st (March); no offset reads as UTC; 30 minutes apart
    assert got == [(1, "2026-03-31 21:30", 3, 1774992600.0), (2, "2026-03-31 22:00", 3, 1774994400.0)]
