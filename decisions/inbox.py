"""What waits for a decision: pending agreed-definition proposals and joint targets, all of them (a KPI page's
"pending") or those a team can approve ("awaiting your approval" on the Overview and in the navigation).

A proposal awaits a team when that team must approve it (decisions/agreement.py `needed`) and has not given
all its approvals yet; a target awaits the team that did not propose it."""

from __future__ import annotations

import json

import duckdb
import polars as pl

from decisions import agreement
from store.config import Settings, settings

SCHEMA = {"kind": pl.String, "id": pl.Int64, "kpi": pl.String, "counts": pl.List(pl.String), "view": pl.String,
          "period": pl.String, "value": pl.Float64, "slice_dim": pl.String, "slice_value": pl.String,
          "proposed_name": pl.String, "proposed_team": pl.String, "proposed_at": pl.Datetime("us")}
PROPOSAL, TARGET = "agreed definition", "joint target"


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the database has `table` yet (a read-only connection creates nothing)."""
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table])
                .fetchall()[0][0])


def pending(con: duckdb.DuckDBPyConnection, kpi: str | None = None, team: str | None = None,
            cfg: Settings | None = None) -> pl.DataFrame:
    """Pending proposals and targets (of one KPI, or all), oldest first; with `team`, only those awaiting it.
    Works on a read-only connection (no table yet: nothing pending)."""
    cfg = cfg or settings()
    rows: list[dict] = []
    if has_table(con, "agreement_proposals"):
        found = con.execute(
            f"SELECT {', '.join(agreement.COLUMNS)} FROM agreement_proposals WHERE status = 'pending' "
            "AND (? IS NULL OR kpi = ?) ORDER BY proposal_id", [kpi, kpi]).fetchall()
        given = dict(con.execute("SELECT proposal_id, list(team) FROM agreement_decisions WHERE decision = 'approved' "
                                 "GROUP BY proposal_id").fetchall()) if found else {}
        for values in found:
            row = dict(zip(agreement.COLUMNS, values, strict=True))
            if team is not None:
                teams = agreement.needed(row, cfg)
                if team not in teams or (given.get(row["proposal_id"]) or []).count(team) >= cfg.approvers_per_team:
                    continue
            rows.append({"kind": PROPOSAL, "id": row["proposal_id"], "kpi": row["kpi"],
                         "counts": json.loads(row["counts"]), "proposed_name": row["proposed_name"],
                         "proposed_team": row["proposed_team"], "proposed_at": row["proposed_at"]})
    if has_table(con, "targets"):
        found = con.execute(
            "SELECT target_id, kpi, view, period, value, slice_dim, slice_value, proposed_by, proposed_team, created_at "
            "FROM targets WHERE status = 'pending' AND (? IS NULL OR kpi = ?) AND (? IS NULL OR proposed_team <> ?) "
            "ORDER BY target_id", [kpi, kpi, team, team]).fetchall()
        for tid, k, view, period, value, dim, sv, by, by_team, at in found:
            rows.append({"kind": TARGET, "id": tid, "kpi": k, "view": view, "period": period, "value": value,
                         "slice_dim": dim, "slice_value": sv, "proposed_name": by, "proposed_team": by_team,
                         "proposed_at": at})
    return pl.DataFrame(rows, schema=SCHEMA).sort("proposed_at", nulls_last=True, maintain_order=True)
