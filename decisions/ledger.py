"""The savings ledger's workflow: initiatives recorded (every version of their terms kept: the baseline method is
what finance disputes most), moved through the stages identified → negotiated → contracted → realised → booked
with who, when and why, and booked by finance month by month on frozen evidence. Every step is in the audit log
with the record before and after (decisions/audit.py). docs/savings-ledger.md has the rules.

The rules (each refusal is one sentence and changes nothing):
- recording and moving need a member of finance or procurement with the editor role; every move needs a reason;
- "contracted" needs a contract of the initiative's supplier; "realised" needs the evidence rule of the
  configuration (`savings_evidence_months`: invoice lines under the contract in that many months of the window);
  "booked" is reached by booking, never by a move, and a booked initiative does not move back;
- booking, refusing and correcting are finance's, and never by anyone who recorded the initiative (a version of
  its terms, or its owner), whatever team they state: the e-mail decides;
- a month is booked once, at the realised amount of that moment, with its lines frozen beside it; a correction is
  a new entry that says why, never an edit (this module has no UPDATE or DELETE of bookings or moves).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl

from decisions import audit, identity
from decisions.identity import Identity
from kpi_definitions import ledger as kpi_ledger
from kpi_definitions.periods import month_index, month_label, parse_month
from kpi_definitions.registry import Registry
from store.config import Settings, settings
from store.db import transaction
from store.errors import REJECTED, TandemError
from store.exports import EXPORT_TYPES, MAX_MONEY

ENTITY = "savings_initiative"
TEAMS = ("finance", "procurement")
STAGES = kpi_ledger.STAGES
EXPORT = "savings_initiatives"
TERMS: tuple[str, ...] = tuple(c for c in EXPORT_TYPES[EXPORT].column_names if c != "initiative_id")


class LedgerError(TandemError):
    """A ledger step refused: one sentence saying why; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, REJECTED)


def _user(by: Identity | None, doing: str) -> Identity:
    try:
        user = identity.require("review", by)
    except identity.NotAllowed:
        # require() words the refusal for review items ("cannot add or close review items"): say what was refused
        if by is None:
            raise LedgerError(f"Sign in before {doing}; nothing changed.") from None
        raise LedgerError(f"You are signed in as {by.email} with the {by.role} role, which does not allow {doing}: "
                          "ask your Tandem admin for the editor role; nothing changed.") from None
    if user.team not in TEAMS:
        raise LedgerError(f"{user.name} has no team: {doing} needs a member of finance or procurement (in local "
                          "mode, state your team).")
    return user


def _finance(by: Identity | None, doing: str) -> Identity:
    user = _user(by, doing)
    if user.team != "finance":
        raise LedgerError(f"{doing.capitalize()} is finance's sign-off: {user.name} is in {user.team}; nothing "
                          "changed.")
    return user


def _shown(text: object) -> str:
    """A value from a user or a file inside a sentence: quoted, one line, never longer than 80 characters."""
    s = " ".join(str(text).split())
    return repr(s if len(s) <= 80 else s[:79] + "…")


# --- reading ------------------------------------------------------------------------------------------------------


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table])
                .fetchall()[0][0])


def current(con: duckdb.DuckDBPyConnection, initiative_id: str) -> dict[str, Any] | None:
    """The initiative's terms as they stand, with its stage (None: no such initiative)."""
    cols = ", ".join(f"i.{c}" for c in ("initiative_id", *TERMS))
    rows = con.execute(f"SELECT {cols}, coalesce((SELECT to_stage FROM savings_moves m WHERE m.initiative_id = "
                       "i.initiative_id ORDER BY move_id DESC LIMIT 1), 'identified') AS stage "
                       "FROM savings_initiatives i WHERE i.initiative_id = ?", [initiative_id]).fetchall()
    if not rows:
        return None
    return dict(zip(("initiative_id", *TERMS, "stage"), rows[0], strict=True))


def _existing(con: duckdb.DuckDBPyConnection, initiative_id: str) -> dict[str, Any]:
    row = current(con, str(initiative_id))
    if row is None:
        raise LedgerError(f"There is no savings initiative {_shown(initiative_id)}: record it first (`tandem savings "
                          "record`, or the form on the Savings pipeline page).")
    return row


def every(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every initiative with its terms, its stage, when it last moved, its version and who recorded it first."""
    if not _has(con, EXPORT) or not _has(con, "savings_moves"):
        return pl.DataFrame()
    return con.sql(
        f"SELECT i.initiative_id, {', '.join('i.' + c for c in TERMS)}, "
        "coalesce(m.to_stage, 'identified') AS stage, m.moved_at AS stage_since, v.version, v.recorded_by "
        "FROM savings_initiatives i "
        "LEFT JOIN (SELECT *, row_number() OVER (PARTITION BY initiative_id ORDER BY move_id DESC) AS k "
        "           FROM savings_moves) m ON m.initiative_id = i.initiative_id AND m.k = 1 "
        "LEFT JOIN (SELECT initiative_id, max(version) AS version, "
        "                  arg_min(recorded_by, version) AS recorded_by FROM savings_versions GROUP BY ALL) v "
        "       ON v.initiative_id = i.initiative_id "
        "ORDER BY i.initiative_id").pl()


def versions(con: duckdb.DuckDBPyConnection, initiative_id: str) -> pl.DataFrame:
    """Every version of the initiative's terms, oldest first: who recorded it, when, from where and why."""
    return con.sql("SELECT * EXCLUDE (version_id) FROM savings_versions WHERE initiative_id = ? ORDER BY version",
                   params=[initiative_id]).pl()


def moves(con: duckdb.DuckDBPyConnection, initiative_id: str | None = None,
          since: datetime | None = None) -> pl.DataFrame:
    """Stage moves, oldest first (one initiative's, or all; those since a time)."""
    return con.sql("SELECT m.*, i.name FROM savings_moves m LEFT JOIN savings_initiatives i USING (initiative_id) "
                   "WHERE (? IS NULL OR m.initiative_id = ?) AND (? IS NULL OR m.moved_at >= ?) ORDER BY m.move_id",
                   params=[initiative_id, initiative_id, since, since]).pl()


def moved_since(con: duckdb.DuckDBPyConnection, since: datetime) -> pl.DataFrame:
    """The initiatives that changed stage since `since` (the review's "moved this week"): each move with the
    initiative's name, from and to which stage, who moved it and why, newest first. Empty before any ledger."""
    schema = {"initiative_id": pl.String, "name": pl.String, "from_stage": pl.String, "to_stage": pl.String,
              "moved_by": pl.String, "moved_team": pl.String, "moved_verified": pl.Boolean, "moved_at": pl.Datetime,
              "reason": pl.String}
    if not _has(con, "savings_moves") or not _has(con, EXPORT):
        return pl.DataFrame(schema=schema)
    found = moves(con, since=since).filter(pl.col("from_stage").is_not_null())  # a recording is not a move
    return found.select(list(schema)).sort("moved_at", descending=True).cast(schema)  # type: ignore[arg-type]


def bookings(con: duckdb.DuckDBPyConnection, initiative_id: str | None = None) -> pl.DataFrame:
    """Every booking entry (booked, refused, correction), oldest first."""
    return con.sql("SELECT b.*, i.name FROM savings_bookings b LEFT JOIN savings_initiatives i USING (initiative_id) "
                   "WHERE (? IS NULL OR b.initiative_id = ?) ORDER BY b.entry_id",
                   params=[initiative_id, initiative_id]).pl()


def booked_lines(con: duckdb.DuckDBPyConnection, entry_id: int) -> pl.DataFrame:
    """The invoice lines a booking entry was made on, as they were when it was booked."""
    return con.sql("SELECT * FROM savings_booking_lines WHERE entry_id = ? ORDER BY invoice_id, invoice_line",
                   params=[entry_id]).pl()


def email_of(who: str | None) -> str:
    """The e-mail address a load's author stands for: a signed-in user's own, or the local user's
    (`name (command line)` is name@localhost, as decisions.identity.local_user names them)."""
    text = (who or "").strip().lower()
    for suffix in (" (unverified)", " (command line)"):
        text = text.removesuffix(suffix)
    return text if "@" in text else f"{text or 'unknown'}@localhost"


def recorders(con: duckdb.DuckDBPyConnection, initiative_id: str) -> set[str]:
    """Everyone who recorded the initiative (any version of its terms, and its owner when an e-mail address): none
    of them may book it."""
    found = {str(r[0]).lower() for r in con.execute(
        "SELECT DISTINCT recorded_by FROM savings_versions WHERE initiative_id = ?", [initiative_id]).fetchall()}
    owner = con.execute("SELECT owner FROM savings_initiatives WHERE initiative_id = ?", [initiative_id]).fetchall()
    if owner and owner[0][0] and "@" in owner[0][0]:
        found.add(owner[0][0].strip().lower())
    return found


# --- recording ------------------------------------------------------------------------------------------------------


def _terms(row: Mapping[str, Any]) -> dict[str, Any]:
    return {c: row.get(c) for c in TERMS}


def _check_references(con: duckdb.DuckDBPyConnection, row: Mapping[str, Any]) -> None:
    """The supplier and contract an initiative names must be in the loaded master data: its lines are found
    through them (the export's strict rules say the same for a file)."""
    sid = row["supplier_id"]
    if not con.execute("SELECT 1 FROM suppliers WHERE supplier_id = ?", [sid]).fetchall():
        raise LedgerError(f"There is no supplier {_shown(sid)} in the supplier master: pick a loaded supplier, or "
                          "load the supplier first; nothing was recorded.")
    cid = row.get("contract_id")
    if cid:
        found = con.execute("SELECT supplier_id FROM contracts WHERE contract_id = ?", [cid]).fetchall()
        if not found:
            raise LedgerError(f"There is no contract {_shown(cid)} in the contracts loaded: give a loaded contract of "
                              f"supplier {_shown(sid)}, or leave the contract empty until it is signed; nothing was "
                              "recorded.")
        if found[0][0] != sid:
            raise LedgerError(f"Contract {_shown(cid)} is a contract of supplier {_shown(found[0][0])}, not of "
                              f"{_shown(sid)}: an initiative's contract is its supplier's; nothing was recorded.")


def record(con: duckdb.DuckDBPyConnection, row: Mapping[str, Any], by: Identity | None, reason: str = "") -> int:
    """Record an initiative, or a new version of its terms (typed values: the export's rules were checked by the
    caller, workspace/ledger.py). Returns the version. A new initiative starts at "identified"."""
    user = _user(by, "recording a savings initiative")
    initiative_id = str(row.get("initiative_id") or "").strip()
    if not initiative_id:
        raise LedgerError("Give the initiative an id (initiative_id); nothing was recorded.")
    _check_references(con, row)
    before = current(con, initiative_id)
    terms = _terms(row)
    if before is not None and _terms(before) == terms:
        raise LedgerError(f"Initiative {_shown(initiative_id)} already has these terms: nothing to record.")
    with transaction(con):
        version = int(con.execute("SELECT coalesce(max(version), 0) + 1 FROM savings_versions WHERE initiative_id = ?",
                                  [initiative_id]).fetchall()[0][0])
        con.execute("DELETE FROM savings_initiatives WHERE initiative_id = ?", [initiative_id]).fetchall()
        con.execute(f"INSERT INTO savings_initiatives (initiative_id, {', '.join(TERMS)}, _load_id) "
                    f"VALUES (?, {', '.join('?' for _ in TERMS)}, NULL)", [initiative_id, *terms.values()]).fetchall()
        con.execute(f"INSERT INTO savings_versions (version_id, initiative_id, version, {', '.join(TERMS)}, source, "
                    "load_id, reason, recorded_by, recorded_name, recorded_team, recorded_verified, recorded_at) "
                    f"VALUES (nextval('savings_version_seq'), ?, ?, {', '.join('?' for _ in TERMS)}, 'form', NULL, ?, "
                    "?, ?, ?, ?, now())",
                    [initiative_id, version, *terms.values(), reason.strip() or None, user.email, user.name,
                     user.team, user.verified]).fetchall()
        if before is None:
            _move(con, initiative_id, None, "identified", reason.strip() or "recorded", user)
        after = current(con, initiative_id)
        audit.record(con, user, ENTITY, initiative_id, "proposed" if before is None else "changed", before,
                     after | {"version": version})
    return version


def note_export(con: duckdb.DuckDBPyConnection, load_id: int) -> int:
    """A load of the export stored initiatives (inside its transaction, workspace/db.py's sink): each one new or
    with other terms than its latest version gets a version recorded by whoever loaded the file, and an audit
    entry. Returns how many."""
    if not _has(con, "savings_versions"):
        return 0
    who = con.execute("SELECT loaded_by FROM load_log WHERE load_id = ?", [load_id]).fetchall()
    loaded_by = who[0][0] if who else None
    email = email_of(loaded_by)
    verified = bool(loaded_by) and "@" in str(loaded_by) and not str(loaded_by).endswith("(unverified)")
    user = Identity(email=email, name=str(loaded_by or email), team=None, role="editor", verified=verified)
    same = " AND ".join(f"v.{c} IS NOT DISTINCT FROM i.{c}" for c in TERMS)
    changed = con.execute(
        f"SELECT i.initiative_id FROM savings_initiatives i WHERE i._load_id = ? AND NOT EXISTS ("
        f"SELECT 1 FROM savings_versions v WHERE v.initiative_id = i.initiative_id AND {same} AND v.version = "
        "(SELECT max(version) FROM savings_versions w WHERE w.initiative_id = i.initiative_id)) "
        "ORDER BY i.initiative_id", [load_id]).fetchall()
    if not changed:
        return 0
    ids = [r[0] for r in changed]
    before = {i: _latest_version(con, i) for i in ids}
    con.execute(
        f"INSERT INTO savings_versions (version_id, initiative_id, version, {', '.join(TERMS)}, source, load_id, "
        "reason, recorded_by, recorded_name, recorded_team, recorded_verified, recorded_at) "
        f"SELECT nextval('savings_version_seq'), i.initiative_id, coalesce((SELECT max(version) FROM savings_versions "
        f"w WHERE w.initiative_id = i.initiative_id), 0) + 1, {', '.join('i.' + c for c in TERMS)}, 'export', ?, "
        "NULL, ?, ?, NULL, ?, now() FROM savings_initiatives i WHERE list_contains(?, i.initiative_id)",
        [load_id, email, user.name, verified, ids]).fetchall()
    # The audit log has one writer (decisions/audit.py) and one entry per record: one per initiative that changed
    # (initiatives are few; an export of them is hundreds of rows, not millions).
    for i in ids:
        audit.record(con, user, ENTITY, i, "proposed" if before[i] is None else "changed", before[i],
                     current(con, i) | {"version": _latest_version(con, i)["version"], "load_id": load_id})  # type: ignore[index]
    return len(ids)


def _latest_version(con: duckdb.DuckDBPyConnection, initiative_id: str) -> dict[str, Any] | None:
    rows = con.execute(f"SELECT version, {', '.join(TERMS)} FROM savings_versions WHERE initiative_id = ? "
                       "ORDER BY version DESC LIMIT 1", [initiative_id]).fetchall()
    return dict(zip(("version", *TERMS), rows[0], strict=True)) if rows else None


# --- stages ---------------------------------------------------------------------------------------------------------


def _move(con: duckdb.DuckDBPyConnection, initiative_id: str, from_stage: str | None, to_stage: str, reason: str,
          user: Identity) -> None:
    con.execute("INSERT INTO savings_moves VALUES (nextval('savings_move_seq'), ?, ?, ?, ?, ?, ?, ?, ?, now())",
                [initiative_id, from_stage, to_stage, reason, user.email, user.name, user.team,
                 user.verified]).fetchall()


def _window(row: Mapping[str, Any]) -> tuple[int, int]:
    """The months of the initiative's counted window (its first 365 days)."""
    start, end = row["window_start"], row["window_end"]
    counted_end = min(end, date.fromordinal(start.toordinal() + 364))
    return month_index(start.year, start.month), month_index(counted_end.year, counted_end.month)


def _data_last(con: duckdb.DuckDBPyConnection) -> int | None:
    rows = con.execute("SELECT max(m) FROM fact_invoices").fetchall()
    return None if rows[0][0] is None else int(rows[0][0])


def move(con: duckdb.DuckDBPyConnection, reg: Registry, initiative_id: str, to_stage: str, reason: str,
         by: Identity | None, *, cfg: Settings | None = None) -> str:
    """Move an initiative to another stage, with the reason (kept in the log with who and when)."""
    user = _user(by, "moving a savings initiative")
    cfg = cfg or settings()
    row = _existing(con, initiative_id)
    stage = row["stage"]
    if to_stage not in STAGES:
        raise LedgerError(f"{_shown(to_stage)} is not a stage: the stages are {', '.join(STAGES)}.")
    if to_stage == stage:
        raise LedgerError(f"Initiative {_shown(initiative_id)} is already {stage}; nothing changed.")
    if not reason.strip():
        raise LedgerError("Say why the initiative moves (the reason is kept with the move); nothing changed.")
    if to_stage == "booked":
        raise LedgerError("An initiative is booked by finance booking a month of it (`tandem savings book`, or Book on "
                          "the Savings pipeline page), not by a move; nothing changed.")
    if stage == "booked":
        raise LedgerError(f"Initiative {_shown(initiative_id)} is booked: booked months are frozen, so it does not move "
                          "back; finance corrects a booked month with a new entry instead.")
    forward = STAGES.index(to_stage) > STAGES.index(stage)
    if forward and STAGES.index(to_stage) >= STAGES.index("contracted"):
        _contract(con, row)
    if forward and to_stage == "realised":
        first, last = _window(row)
        data_last = _data_last(con)
        need = cfg.savings_evidence_months
        have = 0 if data_last is None else kpi_ledger.evidence_months(
            con, reg, initiative_id, first, min(last, data_last), cfg.reporting_currency)
        if have < need:
            raise LedgerError(f"Initiative {_shown(initiative_id)} cannot be realised yet: the evidence rule asks for "
                              f"invoice lines under contract {_shown(row['contract_id'])} in {need} months of its "
                              f"savings window, and they are in {have}; nothing changed.")
    with transaction(con):
        _move(con, initiative_id, stage, to_stage, reason.strip(), user)
        audit.record(con, user, ENTITY, initiative_id, "changed", row, _existing(con, initiative_id)
                     | {"reason": reason.strip()})
    return to_stage


def _contract(con: duckdb.DuckDBPyConnection, row: Mapping[str, Any]) -> None:
    if not row["contract_id"]:
        raise LedgerError(f"Initiative {_shown(row['initiative_id'])} names no contract: record the contract it was "
                          "signed under before it is contracted; nothing changed.")
    _check_references(con, row)


# --- booking ----------------------------------------------------------------------------------------------------------


def _month(value: int | str) -> int:
    if isinstance(value, int):
        return value
    try:
        return parse_month(str(value))
    except ValueError:
        raise LedgerError(f"{_shown(value)} is not a month: write it as YYYY-MM.") from None


def _bookable(con: duckdb.DuckDBPyConnection, row: Mapping[str, Any], m: int, user: Identity, doing: str) -> None:
    """What every booking, refusal and correction needs: a counted initiative, a month of its window with data, and
    a finance member who did not record it."""
    if user.email.lower() in recorders(con, row["initiative_id"]):
        raise LedgerError(f"{user.name} ({user.email}) recorded initiative {_shown(row['initiative_id'])}: someone "
                          f"else in finance signs it off, whatever team you state; nothing changed.")
    if row["stage"] not in ("realised", "booked"):
        raise LedgerError(f"Initiative {_shown(row['initiative_id'])} is {row['stage']}: only a realised initiative is "
                          f"{doing} (move it to realised once its evidence is in); nothing changed.")
    first, last = _window(row)
    if not first <= m <= last:
        raise LedgerError(f"{month_label(m)} is outside the savings window of initiative "
                          f"{_shown(row['initiative_id'])} ({month_label(first)} to {month_label(last)}); nothing "
                          "changed.")
    data_last = _data_last(con)
    if data_last is None or m > data_last:
        raise LedgerError(f"There are no invoice lines for {month_label(m)} yet: a month is {doing} once its lines are "
                          "in; nothing changed.")


def _entries(con: duckdb.DuckDBPyConnection, initiative_id: str, m: int) -> list[tuple[int, str, float]]:
    return [(int(e), str(k), float(a)) for e, k, a in con.execute(
        "SELECT entry_id, kind, amount FROM savings_bookings WHERE initiative_id = ? AND period = ? ORDER BY entry_id",
        [initiative_id, date(m // 12, m % 12 + 1, 1)]).fetchall()]


def _write_entry(con: duckdb.DuckDBPyConnection, row: Mapping[str, Any], m: int, kind: str, amount: float,
                 evidence: kpi_ledger.Evidence, corrects: int | None, reason: str | None, user: Identity,
                 currency: str) -> int:
    """One booking entry with its frozen lines, the stage move to booked when it is the first, and the audit entry:
    in one transaction."""
    before = {"month": month_label(m), "stage": row["stage"],
              "booked": sum(a for _, _, a in _entries(con, row["initiative_id"], m))}
    with transaction(con):
        entry_id = int(con.execute("SELECT nextval('savings_booking_seq')").fetchall()[0][0])
        con.execute("INSERT INTO savings_bookings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                    [entry_id, row["initiative_id"], date(m // 12, m % 12 + 1, 1), kind, amount, currency,
                     evidence.lines.height, corrects, reason, user.email, user.name, user.team,
                     user.verified]).fetchall()
        if evidence.lines.height:
            con.register("_frozen", evidence.lines.with_columns(pl.lit(entry_id).alias("entry_id")))
            con.execute("INSERT INTO savings_booking_lines SELECT entry_id, invoice_id, invoice_line, invoice_date, "
                        "quantity, amount, currency, amount_rep, baseline_rep, saving FROM _frozen").fetchall()
            con.unregister("_frozen")
        if kind == "booked" and row["stage"] == "realised":
            _move(con, row["initiative_id"], "realised", "booked", reason or f"{month_label(m)} booked", user)
        after = {"entry_id": entry_id, "month": month_label(m), "kind": kind, "amount": amount,
                 "lines": evidence.lines.height, "corrects": corrects, "reason": reason,
                 "stage": _existing(con, row["initiative_id"])["stage"],
                 "booked": sum(a for _, _, a in _entries(con, row["initiative_id"], m))}
        action = {"booked": "approved", "refused": "rejected"}.get(kind, "changed")
        audit.record(con, user, ENTITY, row["initiative_id"], action, before, after)  # type: ignore[arg-type]
    return entry_id


def book(con: duckdb.DuckDBPyConnection, reg: Registry, initiative_id: str, month: int | str, by: Identity | None,
         reason: str = "", *, cfg: Settings | None = None) -> int:
    """Finance books a month of a realised initiative at its realised amount, freezing the lines it is made of."""
    user = _finance(by, "booking savings")
    cfg = cfg or settings()
    row = _existing(con, initiative_id)
    m = _month(month)
    _bookable(con, row, m, user, "booked")
    if any(k == "booked" for _, k, _ in _entries(con, initiative_id, m)):
        raise LedgerError(f"{month_label(m)} of initiative {_shown(initiative_id)} is booked already and frozen: "
                          "correct it with a new entry (`tandem savings correct`) instead; nothing changed.")
    evidence = kpi_ledger.month_evidence(con, reg, initiative_id, m, cfg.reporting_currency)
    if evidence.amount is None:
        raise LedgerError(f"The realised saving of {month_label(m)} cannot be computed: the initiative's currency has "
                          "no FX rate for the month its window starts; load that rate first; nothing changed.")
    return _write_entry(con, row, m, "booked", float(evidence.amount), evidence, None, reason.strip() or None, user,
                        cfg.reporting_currency)


def refuse(con: duckdb.DuckDBPyConnection, reg: Registry, initiative_id: str, month: int | str, reason: str,
           by: Identity | None, *, cfg: Settings | None = None) -> int:
    """Finance refuses to book a month, with the reason: an entry of 0, the evidence it refused kept beside it."""
    user = _finance(by, "refusing to book savings")
    cfg = cfg or settings()
    if not reason.strip():
        raise LedgerError("A refusal needs a reason (it is kept with the entry); nothing changed.")
    row = _existing(con, initiative_id)
    m = _month(month)
    _bookable(con, row, m, user, "refused")
    if any(k in ("booked", "refused") for _, k, _ in _entries(con, initiative_id, m)):
        raise LedgerError(f"{month_label(m)} of initiative {_shown(initiative_id)} is decided already: correct it with "
                          "a new entry instead; nothing changed.")
    evidence = kpi_ledger.month_evidence(con, reg, initiative_id, m, cfg.reporting_currency)
    return _write_entry(con, row, m, "refused", 0.0, evidence, None, reason.strip(), user, cfg.reporting_currency)


def correct(con: duckdb.DuckDBPyConnection, reg: Registry, initiative_id: str, month: int | str, amount: float | str,
            reason: str, by: Identity | None, *, cfg: Settings | None = None) -> int:
    """Finance corrects a decided month to `amount` (the month's new booked total) with a new entry of the
    difference, saying why; the entries before it stay as they were."""
    user = _finance(by, "correcting booked savings")
    cfg = cfg or settings()
    if not reason.strip():
        raise LedgerError("A correction needs a reason (it is kept with the entry); nothing changed.")
    try:
        total = float(str(amount).replace(",", "").strip())
        if total != total or total in (float("inf"), float("-inf")):
            raise ValueError
    except ValueError:
        raise LedgerError(f"{_shown(amount)} is not an amount: write the month's corrected total like 1250.50.") from None
    if abs(total) > MAX_MONEY:  # the bound every amount loaded or recorded keeps (store/exports.py)
        raise LedgerError(f"{_shown(amount)} is more than any amount may be (at most 1e13 either way): write the "
                          "month's corrected total like 1250.50; nothing changed.")
    row = _existing(con, initiative_id)
    m = _month(month)
    _bookable(con, row, m, user, "corrected")
    entries = _entries(con, initiative_id, m)
    if not entries:
        raise LedgerError(f"{month_label(m)} of initiative {_shown(initiative_id)} has no entry to correct: book it "
                          "instead; nothing changed.")
    now = sum(a for _, _, a in entries)
    if abs(total - now) < 0.005:
        raise LedgerError(f"{month_label(m)} of initiative {_shown(initiative_id)} is booked at {now:,.2f} already; "
                          "nothing changed.")
    evidence = kpi_ledger.month_evidence(con, reg, initiative_id, m, cfg.reporting_currency)
    return _write_entry(con, row, m, "correction", total - now, evidence, entries[-1][0], reason.strip(), user,
                        cfg.reporting_currency)


__all__ = ["ENTITY", "STAGES", "LedgerError", "book", "bookings", "booked_lines", "correct", "current", "email_of",
           "every", "move", "moved_since", "moves", "note_export", "record", "recorders", "refuse", "versions"]
