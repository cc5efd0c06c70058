"""Agreeing a definition from the bridge: proposals, approvals by both teams, rejections and withdrawals, kept in
DuckDB, each step recorded in the audit log (decisions/audit.py) with the proposal before and after.

The workflow (rules from configuration, store/config.py):
- a member of a team proposes an agreed definition of a KPI: the bridge steps the agreed number counts, a
  plain-language definition, an effective date and a reason; proposing counts as the proposer's team's
  approval;
- a member of each other team of `approval_teams` (`approvers_per_team` of them) approves; with
  `finance_approval_above` set, finance must also approve a proposal whose effect (|agreed − procurement|
  over the data) is larger; approval by the proposer's own team is refused;
- once every team needed approved, the proposal is the KPI's agreed definition, version 1, 2, ... (concurrent
  proposals are each a new version when approved);
- a rejection needs a reason; the proposer's team may withdraw; only a pending proposal can be decided.
Every refusal is one sentence and changes nothing.
"""

from __future__ import annotations

import json
import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from decisions import audit, identity
from decisions.identity import Identity
from kpi_definitions import agreement as kpi_agreement
from kpi_definitions.agreement import AgreementError, Version
from kpi_definitions.compute import data_months
from kpi_definitions.registry import Registry, folder, registry
from store import db as store_db
from store.config import Settings, settings
from store.db import transaction

TEAMS = ("finance", "procurement")
ENTITY = "agreed_definition"
COLUMNS = ("proposal_id", "kpi", "counts", "definition", "effective_date", "reason", "effect", "status", "version",
           "proposed_by", "proposed_name", "proposed_team", "proposed_verified", "proposed_at", "decided_at",
           "decision_reason")


def local_identity(name: str, team: str) -> Identity:
    """Single-user local mode: the user states name and team once; every record they make is unverified."""

    name = name.strip()
    if not name:
        raise AgreementError("State your name before proposing or approving.")
    if team not in TEAMS:
        raise AgreementError(f"State your team ({' or '.join(TEAMS)}) before proposing or approving.")
    slug = "".join(c if c.isalnum() else "." for c in name.lower()).strip(".") or "local"
    return Identity(email=f"{slug}@localhost", name=name, team=team, role="admin", verified=False)


def _user(by: Identity | None) -> Identity:

    user = identity.require("review", by)
    if user.team not in TEAMS:
        raise AgreementError(f"{user.name} has no team: agreeing a definition needs a member of finance or "
                             "procurement (in local mode, state your team).")
    return user


def _date(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise AgreementError(f"{value!r} is not a date: write it as YYYY-MM-DD.") from None


def _row(con: duckdb.DuckDBPyConnection, proposal_id: int) -> dict[str, Any]:
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM agreement_proposals WHERE proposal_id = ?",
                       [proposal_id]).fetchall()
    if not rows:
        raise AgreementError(f"There is no proposal {proposal_id}.")
    row = dict(zip(COLUMNS, rows[0], strict=True))
    row["counts"] = json.loads(row["counts"])
    return row


def _state(row: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a proposal."""
    keep = ("kpi", "counts", "definition", "effective_date", "reason", "status", "version", "decision_reason")
    return {k: row[k] for k in keep}


def propose(con: duckdb.DuckDBPyConnection, kpi: str, counts: list[str] | tuple[str, ...], definition: str,
            effective_date: date | str, reason: str, by: Identity | None, *, reg: Registry | None = None,
            cfg: Settings | None = None) -> int:
    """Record a proposal (checked first: nothing is written when any part is wrong); returns its id."""
    user = _user(by)
    cfg = cfg or settings()
    reg = reg or registry()
    counts = list(dict.fromkeys(counts))
    kpi_agreement.check_steps(reg, kpi, counts)
    definition, reason = definition.strip(), reason.strip()
    if len(definition) < 20:
        raise AgreementError("Write the agreed definition in plain words (20 characters or more).")
    if not reason:
        raise AgreementError("Say why the definition should change (the reason is kept with the proposal).")
    day = _date(effective_date)
    span = data_months(con, reg)
    if span is None:
        raise AgreementError("There is no data yet: load exports before agreeing a definition.")
    first = date(span[0] // 12, span[0] % 12 + 1, 1)
    if day < first:
        raise AgreementError(f"The effective date {day} is before the data, which starts {first:%Y-%m}.")
    effect = None
    if cfg.finance_approval_above is not None:
        start, steps = kpi_agreement.span_value(con, reg, kpi, counts, list(range(span[0], span[1] + 1)),
                                                currency=cfg.reporting_currency)
        effect = abs(sum(steps[c] for c in counts))
    with transaction(con):
        pid = int(con.execute("SELECT nextval('agreement_seq')").fetchall()[0][0])
        con.execute("INSERT INTO agreement_proposals VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL, ?, ?, ?, ?, now(), "
                    "NULL, NULL)", [pid, kpi, json.dumps(counts), definition, day, reason, effect, user.email,
                                    user.name, user.team, user.verified]).fetchall()
        audit.record(con, user, ENTITY, pid, "proposed", None, _state(_row(con, pid)))
    return pid


def needed(row: dict[str, Any], cfg: Settings) -> list[str]:
    """The teams that must approve a proposal besides the proposer's own."""
    teams = list(cfg.approval_teams)
    if cfg.finance_approval_above is not None and (row["effect"] or 0) > cfg.finance_approval_above \
            and "finance" not in teams:
        teams.append("finance")
    return [t for t in teams if t != row["proposed_team"]]


def _pending(row: dict[str, Any], doing: str) -> None:
    if row["status"] != "pending":
        what = f"approved (version {row['version']})" if row["status"] == "approved" else row["status"]
        raise AgreementError(f"Proposal {row['proposal_id']} is already {what}: it cannot be {doing}; "
                             "nothing changed.")


def approve(con: duckdb.DuckDBPyConnection, proposal_id: int, by: Identity | None, comment: str = "", *,
            cfg: Settings | None = None) -> dict[str, Any]:
    """Approve a pending proposal; the last approval needed makes it the next version. Returns the proposal."""
    user = _user(by)
    cfg = cfg or settings()
    row = _row(con, proposal_id)
    _pending(row, "approved")
    if user.team == row["proposed_team"]:
        raise AgreementError(f"{row['proposed_team'].capitalize()} proposed it, so its approval is given: a member of "
                             f"{' and '.join(needed(row, cfg)) or 'the other team'} must approve; nothing changed.")
    teams = needed(row, cfg)
    if user.team not in teams:
        raise AgreementError(f"This proposal needs approval from {' and '.join(teams)}, not {user.team}.")
    given = con.execute("SELECT email, team FROM agreement_decisions WHERE proposal_id = ? AND decision = 'approved'",
                        [proposal_id]).fetchall()
    if any(email == user.email for email, _ in given):
        raise AgreementError(f"{user.name} already approved proposal {proposal_id}; nothing changed.")
    counted = {t: sum(1 for _, team in given if team == t) for t in teams}
    counted[user.team] += 1
    done = all(n >= cfg.approvers_per_team for n in counted.values())
    before = _state(row)
    with transaction(con):
        con.execute("INSERT INTO agreement_decisions VALUES (?, ?, ?, ?, ?, 'approved', ?, now())",
                    [proposal_id, user.email, user.name, user.team, user.verified, comment.strip() or None]).fetchall()
        if done:
            version = con.execute("SELECT coalesce(max(version), 0) + 1 FROM agreement_proposals WHERE kpi = ?",
                                  [row["kpi"]]).fetchall()[0][0]
            con.execute("UPDATE agreement_proposals SET status = 'approved', version = ?, decided_at = now() "
                        "WHERE proposal_id = ?", [version, proposal_id]).fetchall()
        after = _state(_row(con, proposal_id))
        audit.record(con, user, ENTITY, proposal_id, "approved", before, after | {"approved_by_team": user.team})
    _registry.cache_clear()
    return _row(con, proposal_id)


def reject(con: duckdb.DuckDBPyConnection, proposal_id: int, reason: str, by: Identity | None) -> None:
    """Reject a pending proposal, with the reason (the proposer withdraws instead)."""
    user = _user(by)
    row = _row(con, proposal_id)
    _pending(row, "rejected")
    if not reason.strip():
        raise AgreementError("A rejection needs a reason; nothing changed.")
    if user.email == row["proposed_by"]:
        raise AgreementError("You proposed it: withdraw it instead of rejecting it.")
    _decide(con, row, user, "rejected", reason.strip())


def withdraw(con: duckdb.DuckDBPyConnection, proposal_id: int, by: Identity | None, reason: str = "") -> None:
    """Withdraw a pending proposal (the proposer's team only)."""
    user = _user(by)
    row = _row(con, proposal_id)
    _pending(row, "withdrawn")
    if user.team != row["proposed_team"]:
        raise AgreementError(f"Only {row['proposed_team']}, who proposed it, can withdraw it; reject it instead.")
    _decide(con, row, user, "withdrawn", reason.strip() or None)


def _decide(con: duckdb.DuckDBPyConnection, row: dict[str, Any], user: Identity, status: str,
            reason: str | None) -> None:
    pid = row["proposal_id"]
    with transaction(con):
        con.execute("INSERT INTO agreement_decisions VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                    [pid, user.email, user.name, user.team, user.verified, status, reason]).fetchall()
        con.execute("UPDATE agreement_proposals SET status = ?, decided_at = now(), decision_reason = ? "
                    "WHERE proposal_id = ?", [status, reason, pid]).fetchall()
        audit.record(con, user, ENTITY, pid, status, _state(row), _state(_row(con, pid)))  # type: ignore[arg-type]


# --- reading ----------------------------------------------------------------------------------------------------


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'agreement_proposals'"
                            ).fetchall()[0][0])


def proposals(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every proposal, newest first, with the approvals it has."""
    if not _has_table(con):
        return pl.DataFrame()
    return con.sql(f"SELECT {', '.join('p.' + c for c in COLUMNS)}, "
                   "(SELECT string_agg(d.name || ' (' || d.team || CASE WHEN d.verified THEN '' ELSE ', unverified' END"
                   " || ')', '; ') FROM agreement_decisions d WHERE d.proposal_id = p.proposal_id "
                   "AND d.decision = 'approved') AS approved_by "
                   "FROM agreement_proposals p ORDER BY p.proposal_id DESC").pl()


def versions(con: duckdb.DuckDBPyConnection, kpi: str | None = None) -> list[Version]:
    """The approved versions (of one KPI, or all), oldest first."""
    if not _has_table(con):
        return []
    rows = con.execute("SELECT kpi, version, effective_date, counts, definition FROM agreement_proposals "
                       "WHERE status = 'approved' AND (? IS NULL OR kpi = ?) ORDER BY kpi, version",
                       [kpi, kpi]).fetchall()
    return [Version(k, int(v), d, tuple(json.loads(c)), text) for k, v, d, c, text in rows]


def _key(db: Path) -> str:
    try:
        stat = os.stat(db)
    except FileNotFoundError:
        return "missing"
    wal = Path(f"{db}.wal")
    return f"{stat.st_mtime_ns}:{stat.st_size}:{wal.stat().st_mtime_ns if wal.exists() else 0}"


def registry_for(db: Path | str) -> Registry:
    """The registry in use with the agreed views of the approved definitions in `db` (cached per file state)."""
    return _registry(str(db), _key(Path(db)), str(folder()))


@lru_cache(maxsize=8)
def _registry(db: str, key: str, declarations: str) -> Registry:
    base = registry()  # the declarations of `declarations` ($TANDEM_KPI_DIR): part of the cache key
    if key == "missing":
        return base
    try:
        with store_db.reading(Path(db)) as con:
            found = versions(con)
    except Exception:  # an unreadable file: the pages say so themselves; the declarations still show  # noqa: BLE001
        return base
    return kpi_agreement.with_agreed(base, found)


def diff(old: Version | None, new: Version, reg: Registry) -> list[str]:
    """A readable difference between two versions of an agreed definition."""
    kpi = reg[new.kpi]
    label = {s.name: s.label for s in kpi.bridge.steps} if kpi.bridge else {}
    if old is None:
        return [f"Version {new.version}, effective {new.effective_date}: counts "
                + (", ".join(label.get(c, c) for c in new.counts) or "no bridge step") + "."]
    out = [f"Version {old.version} → {new.version}; effective {old.effective_date} → {new.effective_date}."]
    out += [f"Now counts: {label.get(c, c)}." for c in new.counts if c not in old.counts]
    out += [f"No longer counts: {label.get(c, c)}." for c in old.counts if c not in new.counts]
    if old.definition != new.definition:
        out.append(f"Definition was: “{old.definition}” — now: “{new.definition}”.")
    return out


def yaml_declarations(reg: Registry, found: list[Version]) -> dict[str, dict[str, Any]]:
    """The agreed views as YAML declarations (`tandem definitions export`): for each KPI, its `agreed` view with
    every version, to add under `views:` of kpi_definitions/<kpi>.yaml."""
    merged = kpi_agreement.with_agreed(reg, found)
    out: dict[str, dict[str, Any]] = {}
    for kpi in merged:
        view = kpi.views.get(kpi_agreement.VIEW)
        if view is None or not view.from_bridge:
            continue
        out[kpi.name] = {"name": kpi.name, "views": {kpi_agreement.VIEW: view.model_dump(
            mode="json", exclude_defaults=True, exclude={"dimensions"}) | {"version": view.version}}}
    return out
