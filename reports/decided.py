"""The review pack's tables of what the teams decided: agreed definitions and joint targets with who proposed
and decided them, and the saved payment-terms scenarios with their figures written out."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl

from decisions import agreement, scenarios, targets
from kpi_definitions.registry import Registry
from reports import formats

ORDER = {"pending": 0, "approved": 1, "rejected": 2, "withdrawn": 3}  # pending first

UNITS = {"Cash released": "currency", "Financing a year": "currency", "Break-even price rise": "ratio"}


def pack_table(db: Path, currency: str, limit: int = 12) -> pl.DataFrame:
    """The latest saved scenarios with their numbers written out, for the review pack (HTML, PDF, PPTX)."""
    rows = scenarios.table(scenarios.saved(db)).head(limit)
    if not rows.height:
        return rows
    return rows.with_columns(
        pl.col(c).map_elements(lambda v, u=u: formats.value(v, u, currency), return_dtype=pl.String)
        for c, u in UNITS.items())


def pack_sections(db: Path, currency: str) -> list:
    """The pack's section of saved scenarios ((heading, items), as pack._sections builds them); none when empty."""
    rows = pack_table(db, currency)
    if not rows.height:
        return []
    return [("Payment-terms scenarios", [("p", "Saved on the Payment terms page, latest first, with who saved them "
                                               "and their assumptions; figures a year, annualised."), rows])]


def agreements_and_targets(con: duckdb.DuckDBPyConnection, reg: Registry, evaluated: pl.DataFrame, currency: str) -> pl.DataFrame:
    """What was agreed, approved or is still pending, for the review pack: every agreed-definition proposal and
    every joint target, pending first, each with who proposed and decided it; a record made without login says
    "unverified" (the pack shows it as the app does)."""
    def who(name: str | None, team: str | None, verified: bool | None) -> str:
        return "" if not name else f"{name} ({team}{'' if verified else ', unverified'})"

    def label(kpi: str) -> str:
        return reg[kpi].label if kpi in reg.kpis else kpi

    rows = []
    for p in agreement.proposals(con).iter_rows(named=True):
        steps = {s.name: s.label for s in reg[p["kpi"]].bridge.steps} if p["kpi"] in reg.kpis and \
            reg[p["kpi"]].bridge else {}
        counts = ", ".join(steps.get(c, c) for c in json.loads(p["counts"])) or "no bridge step"
        version = f"version {p['version']}, " if p["version"] else ""
        rows.append({"What": "Agreed definition", "KPI": label(p["kpi"]), "Status": p["status"],
                     "Detail": f"{version}effective {p['effective_date']}: counts {counts}",
                     "Proposed by": who(p["proposed_name"], p["proposed_team"], p["proposed_verified"]),
                     "Approved / decided by": p["approved_by"] or p["decision_reason"] or "",
                     "_unverified": not p["proposed_verified"] or "unverified" in (p["approved_by"] or ""),
                     "_order": ORDER.get(p["status"], 9), "_id": -int(p["proposal_id"])})
    status_of = {r["target_id"]: r for r in evaluated.iter_rows(named=True)}
    for t in targets.every(con).iter_rows(named=True):
        unit = reg[t["kpi"]].unit if t["kpi"] in reg.kpis else "currency"
        where = f", {t['slice_dim']} = {t['slice_value']}" if t["slice_dim"] else ""
        detail = f"{t['view']} {t['period']}{where}: {formats.value(t['value'], unit, currency)}"
        if (e := status_of.get(t["target_id"])) is not None:
            detail += (f" · forecast {formats.value(e['forecast'], unit, currency)} · "
                       f"{e['status'] or 'no forecast yet'}")
        decided = t.get("decided_verified")
        rows.append({"What": "Joint target", "KPI": label(t["kpi"]), "Status": t["status"], "Detail": detail,
                     "Proposed by": who(t["proposed_by"], t["proposed_team"], t["proposed_verified"]),
                     "Approved / decided by": who(t["decided_by"], t["decided_team"], decided),
                     "_unverified": not t["proposed_verified"] or (t["decided_by"] is not None and not decided),
                     "_order": ORDER.get(t["status"], 9), "_id": -int(t["target_id"])})
    if not rows:
        return pl.DataFrame()
    frame = pl.DataFrame(rows).sort("_order", "What", "_id")
    return frame.with_columns(pl.when(pl.col("_unverified")).then(pl.lit("unverified")).otherwise(pl.lit("verified"))
                              .alias("Identity")).drop("_unverified", "_order", "_id")
