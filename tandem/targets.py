"""Joint targets in DuckDB: proposed by one team with a comment, approved by the other with a comment, every
step in the audit log. The forecast and status are kpi_definitions/targets.py's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from kpi_definitions.agreement import AgreementError
from kpi_definitions.periods import FiscalCalendar, Grain
from kpi_definitions.registry import FILTERABLE, Registry
from tandem import audit
from tandem.agreement import _user

if TYPE_CHECKING:
    from tandem.auth import Identity

ENTITY = "target"
DDL = """
CREATE SEQUENCE IF NOT EXISTS target_seq START 1;
CREATE TABLE IF NOT EXISTS targets (
    target_id BIGINT PRIMARY KEY, kpi VARCHAR NOT NULL, view VARCHAR NOT NULL, grain VARCHAR NOT NULL,
    period VARCHAR NOT NULL, slice_dim VARCHAR, slice_value VARCHAR, value DOUBLE NOT NULL, status VARCHAR NOT NULL,
    proposed_by VARCHAR, proposed_team VARCHAR, proposed_verified BOOLEAN, proposal_comment VARCHAR,
    decided_by VARCHAR, decided_team VARCHAR, decision_comment VARCHAR, created_at TIMESTAMP, decided_at TIMESTAMP);
"""
COLUMNS = ("target_id", "kpi", "view", "grain", "period", "slice_dim", "slice_value", "value", "status",
           "proposed_by", "proposed_team", "proposal_comment", "decided_by", "decided_team", "decision_comment")


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def _row(con: duckdb.DuckDBPyConnection, target_id: int) -> dict[str, Any]:
    ensure(con)
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM targets WHERE target_id = ?", [target_id]).fetchall()
    if not rows:
        raise AgreementError(f"There is no target {target_id}.")
    return dict(zip(COLUMNS, rows[0], strict=True))


def propose(con: duckdb.DuckDBPyConnection, reg: Registry, kpi: str, view: str, grain: Grain, period: str,
            value: float | str, comment: str, by: Identity | None = None, slice_dim: str | None = None,
            slice_value: str | None = None, cal: FiscalCalendar | None = None) -> int:
    """Propose a target (checked first; nothing is written when any part is wrong)."""
    user = _user(by)
    if kpi not in reg.kpis:
        raise AgreementError(f"There is no KPI named {kpi!r} (known: {', '.join(reg.names)}).")
    if view not in reg[kpi].views:
        raise AgreementError(f"{reg[kpi].label} has no {view!r} view (its views: {', '.join(reg[kpi].views)}).")
    try:
        (cal or FiscalCalendar()).parse(period, grain)
    except ValueError as exc:
        raise AgreementError(f"{period!r} is not a {grain}: {exc}.") from None
    if slice_dim is not None and (slice_dim not in FILTERABLE or slice_dim not in reg[kpi].dimensions):
        raise AgreementError(f"{reg[kpi].label} cannot be sliced by {slice_dim!r} "
                             f"(it can by: {', '.join(d for d in reg[kpi].dimensions if d in FILTERABLE)}).")
    if slice_dim is not None and not (slice_value or "").strip():
        raise AgreementError(f"Name the {slice_dim} the target is for.")
    try:
        number = float(str(value).replace(",", "").strip())
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError
    except ValueError:
        raise AgreementError(f"{value!r} is not a number: write the target like 125000 or -3.5.") from None
    ensure(con)
    con.execute("BEGIN")
    try:
        tid = int(con.execute("SELECT nextval('target_seq')").fetchall()[0][0])
        con.execute("INSERT INTO targets VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, NULL, NULL, NULL, "
                    "now(), NULL)", [tid, kpi, view, grain, period, slice_dim, slice_value, number, user.email,
                                     user.team, user.verified, comment.strip() or None]).fetchall()
        audit.record(con, user, ENTITY, tid, "proposed", None, _row(con, tid))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return tid


def decide(con: duckdb.DuckDBPyConnection, target_id: int, approve: bool, comment: str,
           by: Identity | None = None) -> dict[str, Any]:
    """The other team approves or rejects a pending target (a rejection needs a reason)."""
    user = _user(by)
    row = _row(con, target_id)
    if row["status"] != "pending":
        raise AgreementError(f"Target {target_id} is already {row['status']}; nothing changed.")
    if user.team == row["proposed_team"]:
        raise AgreementError(f"{row['proposed_team'].capitalize()} proposed this target: the other team approves "
                             "it; nothing changed.")
    if not approve and not comment.strip():
        raise AgreementError("A rejection needs a reason; nothing changed.")
    status = "approved" if approve else "rejected"
    con.execute("BEGIN")
    try:
        con.execute("UPDATE targets SET status = ?, decided_by = ?, decided_team = ?, decision_comment = ?, "
                    "decided_at = now() WHERE target_id = ?",
                    [status, user.email, user.team, comment.strip() or None, target_id]).fetchall()
        audit.record(con, user, ENTITY, target_id, status, row, _row(con, target_id))  # type: ignore[arg-type]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return _row(con, target_id)


def approved(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The approved targets (read-only connections too: no table yet, no target)."""
    if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'targets'").fetchall()[0][0]:
        return pl.DataFrame()
    return con.sql("SELECT * FROM targets WHERE status = 'approved' ORDER BY target_id").pl()
