"""Joint targets in DuckDB: proposed by one team with a comment, approved by the other with a comment, every
step in the audit log; each approved target evaluated against the data (actual so far, run-rate forecast and
status: kpi_definitions/targets.py's), for the cards, charts, `tandem kpis`, exports, the review and the pack.

A newer approved target for the same KPI, view, period and slice replaces an older one (`evaluate` keeps the
latest): changing a target is proposing and approving a new one."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from decisions import audit
from decisions.agreement import _user
from decisions.identity import Identity
from kpi_definitions.agreement import AgreementError
from kpi_definitions.compute import Selection, compute, data_months
from kpi_definitions.periods import FiscalCalendar, Grain
from kpi_definitions.registry import FILTERABLE, SQL_DIR, Registry
from kpi_definitions.targets import outlook
from store.db import transaction
from store.sql import Queries

ENTITY = "target"
COLUMNS = ("target_id", "kpi", "view", "grain", "period", "slice_dim", "slice_value", "value", "status",
           "proposed_by", "proposed_team", "proposal_comment", "decided_by", "decided_team", "decision_comment")


def _row(con: duckdb.DuckDBPyConnection, target_id: int) -> dict[str, Any]:
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM targets WHERE target_id = ?", [target_id]).fetchall()
    if not rows:
        raise AgreementError(f"There is no target {target_id}.")
    return dict(zip(COLUMNS, rows[0], strict=True))


def propose(con: duckdb.DuckDBPyConnection, reg: Registry, kpi: str, view: str, grain: Grain, period: str,
            value: float | str, comment: str, by: Identity | None, slice_dim: str | None = None,
            slice_value: str | None = None, cal: FiscalCalendar | None = None) -> int:
    """Propose a target (checked first; nothing is written when any part is wrong)."""
    user = _user(by)
    if kpi not in reg.kpis:
        raise AgreementError(f"There is no KPI named {kpi!r} (known: {', '.join(reg.names)}).")
    if view not in reg[kpi].views:
        raise AgreementError(f"{reg[kpi].label} has no {view!r} view (its views: {', '.join(reg[kpi].views)}).")
    cal = cal or FiscalCalendar()
    try:
        period = cal.label(cal.parse(period, grain)[0], grain)  # stored as the label pages and commands show
    except ValueError as exc:
        raise AgreementError(f"{period!r} is not a {grain}: {exc}.") from None
    if slice_dim is not None and (slice_dim not in FILTERABLE or slice_dim not in reg[kpi].dimensions):
        raise AgreementError(f"{reg[kpi].label} cannot be sliced by {slice_dim!r} "
                             f"(it can by: {', '.join(d for d in reg[kpi].dimensions if d in FILTERABLE)}).")
    if slice_dim is not None and not (slice_value or "").strip():
        raise AgreementError(f"Name the {slice_dim} the target is for.")
    if slice_dim is not None and not con.sql(f"SELECT 1 FROM ({Queries(SQL_DIR)['filter_options']}) WHERE dim = ? AND value = ?",
                                             params=[slice_dim, slice_value]).fetchall():
        raise AgreementError(f"There is no {slice_dim.replace('_id', '').replace('_', ' ')} {slice_value!r} in the "
                             "data: pick one the filter bar offers.")
    try:
        number = float(str(value).replace(",", "").strip())
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError
    except ValueError:
        raise AgreementError(f"{value!r} is not a number: write the target like 125000 or -3.5.") from None
    with transaction(con):
        tid = int(con.execute("SELECT nextval('target_seq')").fetchall()[0][0])
        con.execute("INSERT INTO targets (target_id, kpi, view, grain, period, slice_dim, slice_value, value, status, "
                    "proposed_by, proposed_team, proposed_verified, proposal_comment, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, now())",
                    [tid, kpi, view, grain, period, slice_dim, slice_value, number, user.email, user.team,
                     user.verified, comment.strip() or None]).fetchall()
        audit.record(con, user, ENTITY, tid, "proposed", None, _row(con, tid))
    return tid


def decide(con: duckdb.DuckDBPyConnection, target_id: int, approve: bool, comment: str,
           by: Identity | None) -> dict[str, Any]:
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
    with transaction(con):
        con.execute("UPDATE targets SET status = ?, decided_by = ?, decided_team = ?, decision_comment = ?, "
                    "decided_at = now(), decided_verified = ? WHERE target_id = ?",
                    [status, user.email, user.team, comment.strip() or None, user.verified, target_id]).fetchall()
        audit.record(con, user, ENTITY, target_id, status, row, _row(con, target_id))  # type: ignore[arg-type]
    return _row(con, target_id)


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'targets'")
                .fetchall()[0][0])


def every(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every target, newest first (read-only connections too: no table yet, no target)."""
    if not _has_table(con):
        return pl.DataFrame()
    return con.sql("SELECT * FROM targets ORDER BY target_id DESC").pl()


def approved(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The approved targets (read-only connections too: no table yet, no target)."""
    if not _has_table(con):
        return pl.DataFrame()
    return con.sql("SELECT * FROM targets WHERE status = 'approved' ORDER BY target_id").pl()


# --- evaluated against the data ---------------------------------------------------------------------------------

SCHEMA = {"target_id": pl.Int64, "kpi": pl.String, "view": pl.String, "grain": pl.String, "period": pl.String,
          "slice_dim": pl.String, "slice_value": pl.String, "target": pl.Float64, "actual": pl.Float64,
          "forecast": pl.Float64, "status": pl.String, "months_elapsed": pl.Int64, "months_total": pl.Int64,
          "verified": pl.Boolean}


def evaluate(con: duckdb.DuckDBPyConnection, reg: Registry, cal: FiscalCalendar, currency: str) -> pl.DataFrame:
    """Each approved target (the latest per KPI, view, period and slice) with its actual over its period up to
    the latest month with data, the run-rate forecast to the period's end and the status (SCHEMA's columns).

    The actual is the KPI view over the target's whole period and slice, whatever a page or a command shows:
    one query per target (targets are few). A target on a view or KPI no longer declared is left out."""
    found = approved(con)
    span = data_months(con, reg)
    rows = []
    if found.height and span is not None:
        latest = found.sort("target_id").unique(["kpi", "view", "grain", "period", "slice_dim", "slice_value"],
                                                keep="last", maintain_order=True)
        for t in latest.iter_rows(named=True):
            kpi = reg.kpis.get(t["kpi"])
            if kpi is None or t["view"] not in kpi.views:
                continue
            first, last = cal.parse(t["period"], t["grain"])
            end = min(last, span[1])
            actual = None
            if end >= first:
                filters = {t["slice_dim"]: [t["slice_value"]]} if t["slice_dim"] else {}
                values = compute(con, reg, Selection(first, end, t["grain"], (), filters), currency=currency,
                                 cal=cal, kpis=[kpi.name], views=[t["view"]]).values
                hit = values.filter((pl.col("kpi") == kpi.name) & (pl.col("view") == t["view"]))
                actual = hit["value"][-1] if hit.height else None
            o = outlook(t["value"], actual, kpi.unit, kpi.better, first, last, span[1])
            rows.append({k: t[k] for k in ("target_id", "kpi", "view", "grain", "period", "slice_dim", "slice_value")}
                        | {"target": o.target, "actual": o.actual, "forecast": o.forecast, "status": o.status,
                           "months_elapsed": o.months_elapsed, "months_total": o.months_total,
                           "verified": bool(t["proposed_verified"]) and bool(t.get("decided_verified"))})
    return pl.DataFrame(rows, schema=SCHEMA)


def slice_key(dim: str | None, value: str | None) -> str:
    """One slice as text: "" for everything, "category=IT" for one value of one dimension."""
    return "" if dim is None else f"{dim}={value}"


def of_slice(evaluated: pl.DataFrame, grain: str, filters: dict[str, list[str]], kpi: str | None = None
             ) -> pl.DataFrame:
    """The evaluated targets at a grain for exactly the slice of `filters` (no filter, or one value of one
    dimension; any other selection names no target's slice)."""
    chosen = {d: v for d, v in filters.items() if v}
    if len(chosen) > 1 or any(len(v) > 1 for v in chosen.values()):
        return evaluated.clear()
    key = slice_key(*next(((d, v[0]) for d, v in chosen.items()), (None, None)))
    out = evaluated.filter((pl.col("grain") == grain) & (_key() == key))
    return out if kpi is None else out.filter(pl.col("kpi") == kpi)


def for_selection(evaluated: pl.DataFrame, grain: str, period: str, filters: dict[str, list[str]],
                  kpi: str | None = None) -> pl.DataFrame:
    """The evaluated targets of what a page shows: its period at its grain and exactly its slice."""
    return of_slice(evaluated, grain, filters, kpi).filter(pl.col("period") == period)


def _key() -> pl.Expr:
    return pl.when(pl.col("slice_dim").is_null()).then(pl.lit("")).otherwise(
        pl.concat_str(pl.col("slice_dim"), pl.lit("="), pl.col("slice_value")))


COLUMNS_OUT = ("target", "forecast", "status")  # what `tandem kpis` and the exports carry


def attach(values: pl.DataFrame, evaluated: pl.DataFrame, grain: str, by: tuple[str, ...],
           filters: dict[str, list[str]]) -> pl.DataFrame:
    """compute()'s long table with each row's approved target, forecast and status (null without one).

    A row's slice is the filters (one value of one dimension at most) and its `by` values together: a row
    carries the target of exactly that slice, at the grain, for its KPI, view and period. Companion rows
    (budget_variance_pct) carry none: targets are set on the KPI."""
    chosen = {d: v for d, v in filters.items() if v}
    fixed = [(d, v[0]) for d, v in chosen.items() if len(v) == 1]
    if len(chosen) + len(by) > 1 or len(fixed) != len(chosen):
        row_key = pl.lit(None, dtype=pl.String)  # a slice no target names
    elif by:
        row_key = pl.concat_str(pl.lit(f"{by[0]}="), pl.col(by[0]).cast(pl.String))
    else:
        row_key = pl.lit(slice_key(*fixed[0]) if fixed else "")
    mine = (evaluated.filter(pl.col("grain") == grain)
            .select("kpi", "view", "period", _key().alias("_slice"), *COLUMNS_OUT))
    return (values.with_columns(row_key.alias("_slice"))
            .join(mine, on=["kpi", "view", "period", "_slice"], how="left", maintain_order="left")
            .drop("_slice"))


# --- what the review saw ----------------------------------------------------------------------------------------

KEY = ["kpi", "view", "grain", "period", "slice_dim", "slice_value"]


def remember(con: duckdb.DuckDBPyConnection, review_id: int) -> None:
    """Keep each approved target's status as a review starts (decisions/review.py start, in its transaction), so
    the next review's "what changed" lists the targets whose status moved."""
    from decisions import agreement
    from kpi_definitions.agreement import with_agreed
    from kpi_definitions.registry import registry
    from store.config import settings

    if not _has_table(con):
        return
    cfg = settings()
    reg = with_agreed(registry(), agreement.versions(con))
    seen = evaluate(con, reg, FiscalCalendar(cfg.fiscal_year_start_month), cfg.reporting_currency)
    if seen.height:
        con.register("_seen", seen.select("target_id", *KEY, "target", "forecast", "status"))
        con.execute("INSERT INTO review_targets SELECT ?, target_id, kpi, view, grain, period, slice_dim, slice_value, "
                    "target, forecast, status FROM _seen", [review_id]).fetchall()
        con.unregister("_seen")


def seen_by(con: duckdb.DuckDBPyConnection, review_id: int) -> pl.DataFrame:
    """The targets and statuses a review started from (none kept: an empty frame)."""
    if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'review_targets'"
                       ).fetchall()[0][0]:
        return pl.DataFrame(schema={k: SCHEMA[k] for k in (*KEY, "target", "status")})
    return con.sql("SELECT kpi, view, grain, period, slice_dim, slice_value, target, status FROM review_targets "
                   "WHERE review_id = ?", params=[review_id]).pl()


def status_changes(then: pl.DataFrame, now: pl.DataFrame) -> pl.DataFrame:
    """Targets whose status (or target value) differs from what the review saw, and targets approved since:
    KEY columns, target_then, status_then, target_now, status_now (a status may be null: no forecast yet)."""
    joined = now.select(*KEY, pl.col("target").alias("target_now"), pl.col("status").alias("status_now")).join(
        then.select(*KEY, pl.col("target").alias("target_then"), pl.col("status").alias("status_then")),
        on=KEY, how="left", nulls_equal=True, maintain_order="left")
    moved = (pl.col("target_then").is_null() | (pl.col("target_then") != pl.col("target_now"))
             | pl.col("status_then").ne_missing(pl.col("status_now")))
    return joined.filter(moved).select(*KEY, "target_then", "status_then", "target_now", "status_now")


# --- the review pack --------------------------------------------------------------------------------------------
