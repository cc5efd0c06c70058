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
from decisions.agreement import _user, check_approver, same_person
from decisions.identity import Identity
from kpi_definitions.agreement import AgreementError
from kpi_definitions.engine import Engine, Request, canonical
from kpi_definitions.periods import FiscalCalendar, Grain
from kpi_definitions.registry import FILTERABLE, SQL_DIR, Registry
from kpi_definitions.targets import outlook
from store.config import Settings, settings
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


def calendar() -> FiscalCalendar:
    """The configured fiscal calendar (what periods are named by)."""
    return FiscalCalendar(settings().fiscal_year_start_month)


# --- a target in the KPI's unit ---------------------------------------------------------------------------------
# A target is entered as people read the KPI: a ratio in percent (25 means 25 %), days in days, money in the
# reporting currency (1,200,000, 1.2M or 150k). It is stored as the KPI layer computes it (a ratio as 0.25).

EXAMPLE = {"ratio": "25 or 25 %", "days": "45", "currency": "125000, 1.2M or 150k"}
SCALE = {"ratio": 100.0}  # entered ÷ SCALE = stored


def _unit(unit: str) -> str:
    return unit if unit in ("ratio", "days") else "currency"


def entry_unit(unit: str, currency: str = "EUR") -> str:
    """What a target of a KPI in `unit` is typed in: "%", "days" or the currency's code."""
    return {"ratio": "%", "days": "days"}.get(unit, currency if unit == "currency" else unit)


def stored(number: float, unit: str) -> float:
    """A number as typed in the KPI's unit, as the KPI layer holds it (25 % → 0.25)."""
    return number / SCALE.get(_unit(unit), 1.0)


def entered(value: float, unit: str) -> float:
    """A stored target as it is typed (0.25 → 25 for a ratio): what a form shows to change it."""
    return value * SCALE.get(_unit(unit), 1.0)


def parse_value(text: str, unit: str) -> float:
    """A target as typed in the KPI's unit ("25 %", "45 days", "EUR 1,200,000", "1.2M", "150k"), stored; a
    sentence saying how to write it otherwise."""
    raw = str(text).strip()
    clean = raw.replace(",", "").replace("\u2212", "-").replace(" ", "")
    for mark in ("%", "days", "day", "pts"):
        clean = clean.removesuffix(mark)
    clean = clean.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") if clean[:1].isalpha() else clean  # "EUR1200000"
    factor = 1.0
    if clean[-1:] in ("k", "K", "m", "M") and _unit(unit) == "currency":
        factor, clean = (1e3 if clean[-1] in "kK" else 1e6), clean[:-1]
    try:
        number = float(clean) * factor
    except ValueError:
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):
        raise AgreementError(f"{raw!r} is not a number: write the target like {EXAMPLE[_unit(unit)]}.")
    return stored(number, unit)


def _fiscal_label(text: str, cal: FiscalCalendar) -> str:
    """A year or quarter written with "FY" where the calendar names none (fiscal year = calendar year), or
    without it where it does: the same period, so it is taken (the form's example "FY2026" was refused)."""
    text = text.strip().upper()
    if not cal.prefix and text.startswith("FY"):
        return text[2:]
    if cal.prefix and text[:1].isdigit() and (len(text) == 4 or "-Q" in text):
        return cal.prefix + text
    return text


def periods(cal: FiscalCalendar, grain: Grain, data: tuple[int, int] | None, ahead: int = 4) -> list[str]:
    """The periods a target can be set for, oldest first: from the period holding the first month of data to
    `ahead` periods after the one holding the latest (targets are set for what is coming)."""
    if data is None:
        return []
    step = {"month": 1, "quarter": 3, "year": 12}[grain]
    first = cal.span(data[0], grain)[0]
    last = cal.span(data[1], grain)[0] + ahead * step
    return [cal.label(m, grain) for m in range(first, last + 1, step)]


def propose(con: duckdb.DuckDBPyConnection, reg: Registry, kpi: str, view: str, grain: Grain, period: str,
            value: float | str, comment: str, by: Identity | None, slice_dim: str | None = None,
            slice_value: str | None = None, cal: FiscalCalendar | None = None) -> int:
    """Propose a target (checked first; nothing is written when any part is wrong). `value` as text is what a
    person typed in the KPI's unit (parse_value: "25" for a ratio is 25 %); a number is stored as it is (a
    ratio as a fraction). A period with or without "FY" names the same fiscal year or quarter."""
    user = _user(by)
    if kpi not in reg.kpis:
        raise AgreementError(f"There is no KPI named {kpi!r} (known: {', '.join(reg.names)}).")
    if view not in reg[kpi].views:
        raise AgreementError(f"{reg[kpi].label} has no {view!r} view (its views: {', '.join(reg[kpi].views)}).")
    cal = cal or calendar()
    try:
        period = cal.label(cal.parse(_fiscal_label(period, cal), grain)[0], grain)  # stored as pages show it
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
    number = parse_value(value, reg[kpi].unit) if isinstance(value, str) else float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise AgreementError(f"{value!r} is not a number: write the target like {EXAMPLE[_unit(reg[kpi].unit)]}.")
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
           by: Identity | None, *, cfg: Settings | None = None) -> dict[str, Any]:
    """The other team approves or rejects a pending target (a rejection needs a reason); its proposer never
    decides it, whatever team they state."""
    user = _user(by)
    cfg = cfg or settings()
    row = _row(con, target_id)
    if row["status"] != "pending":
        raise AgreementError(f"Target {target_id} is already {row['status']}; nothing changed.")
    if user.team == row["proposed_team"]:
        raise AgreementError(f"{row['proposed_team'].capitalize()} proposed this target: the other team approves "
                             "it; nothing changed.")
    if approve:
        check_approver(user, row["proposed_by"], f"target {target_id}", cfg)
    elif same_person(user.email, row["proposed_by"]):
        raise AgreementError(f"You ({user.email}) proposed target {target_id}, so you cannot reject it, whatever "
                             "team you state: a member of the other team approves or rejects it; nothing changed.")
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
          "verified": pl.Boolean, "unit": pl.String}


def evaluate(con: duckdb.DuckDBPyConnection, reg: Registry, cal: FiscalCalendar, currency: str, *,
             engine: Engine | None = None) -> pl.DataFrame:
    """Each approved target (the latest per KPI, view, period and slice) with its actual over its period up to
    the latest month with data, the run-rate forecast to the period's end and the status (SCHEMA's columns).

    The targets are read from `con` (the database file keeps the decisions); the actuals are asked of `engine`,
    the KPI engine the numbers come from (None: DuckDB on `con`; Spark on a lake: reports/source.targets_of).
    The actual is the KPI view over the target's whole period and slice, whatever a page or a command shows:
    one request per target (targets are few). A target on a view or KPI no longer declared is left out, and so is
    one whose period the fiscal calendar no longer reads (set before TANDEM_FISCAL_YEAR_START_MONTH changed: a
    target is stored with its period's label, docs/agreements.md)."""
    found = approved(con)
    if not found.height:
        return pl.DataFrame(schema=SCHEMA)
    engine = engine or Engine(con, reg, currency=currency, calendar=cal)
    span = engine.data_months()
    rows = []
    if span is not None:
        latest = found.sort("target_id").unique(["kpi", "view", "grain", "period", "slice_dim", "slice_value"],
                                                keep="last", maintain_order=True)
        for t in latest.iter_rows(named=True):
            kpi = reg.kpis.get(t["kpi"])
            if kpi is None or t["view"] not in kpi.views:
                continue
            try:
                first, last = cal.parse(t["period"], t["grain"])
            except ValueError:  # set under another fiscal calendar ("2026-Q2" once years start in April)
                continue
            end = min(last, span[1])
            actual = None
            if end >= first:
                filters = {t["slice_dim"]: [t["slice_value"]]} if t["slice_dim"] else {}
                values = engine.values(Request(first, end, t["grain"], (kpi.name,), (t["view"],),
                                               filters=canonical(filters))).frame
                hit = values.filter((pl.col("kpi") == kpi.name) & (pl.col("view") == t["view"]))
                actual = hit["value"][-1] if hit.height else None
            o = outlook(t["value"], actual, kpi.unit, kpi.better, first, last, span[1])
            rows.append({k: t[k] for k in ("target_id", "kpi", "view", "grain", "period", "slice_dim", "slice_value")}
                        | {"target": o.target, "actual": o.actual, "forecast": o.forecast, "status": o.status,
                           "months_elapsed": o.months_elapsed, "months_total": o.months_total,
                           "verified": bool(t["proposed_verified"]) and bool(t.get("decided_verified")),
                           "unit": kpi.unit})
    return pl.DataFrame(rows, schema=SCHEMA)


def slice_key(dim: str | None, value: str | None) -> str:
    """One slice as text: "" for everything, "category=IT" for one value of one dimension."""
    return "" if dim is None else f"{dim}={value}"


# --- a target at every grain it can be compared with -------------------------------------------------------------

GRAIN_RULE = ("a target shows at its own grain and at every finer one inside its period: a year's on its quarters "
              "and months, a quarter's on its months; days and percentages keep the target's value, amounts are "
              "shared by months (a year's EUR 1.2M is EUR 300k a quarter, EUR 100k a month); a month's or quarter's "
              "target is not shown on a longer period, whose other months it says nothing about. The status is "
              "always the whole target period's")
RANK = {"month": 0, "quarter": 1, "year": 2}
AT_GRAIN = {"target_period": pl.String, "target_grain": pl.String, "target_full": pl.Float64,
            "forecast_full": pl.Float64, "share": pl.Float64}


def at_grain(evaluated: pl.DataFrame, grain: str, cal: FiscalCalendar | None = None) -> pl.DataFrame:
    """The evaluated targets as a page at `grain` compares them (GRAIN_RULE): one row per period of `grain`
    inside each target's period, `period` that period, `target` and `forecast` for it (an amount's share by
    months; a level as it is), with `target_period`, `target_grain`, `target_full` and `forecast_full` (the whole
    period's) and `share` (the months' share, 1 at the target's own grain). The actual and the status stay the whole
    target period's."""
    cal = cal or calendar()
    if "unit" not in evaluated.columns:  # evaluated before targets carried their unit: levels as they are
        evaluated = evaluated.with_columns(unit=pl.lit("days"))
    coarse = evaluated.filter(pl.col("grain").replace_strict(RANK, default=-1) >= RANK[grain])
    if not coarse.height:  # no target at this grain or a coarser one (a month's on a quarter): none to show; the
        # steps below would turn `period` into the months' integers (no label to replace them with)
        return coarse.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in AT_GRAIN.items())
    spans = {(p, g): cal.parse(p, g) for p, g in coarse.select("period", "grain").unique().iter_rows()}  # few targets
    months = coarse.with_columns(
        _first=pl.struct("period", "grain").map_elements(lambda r: spans[(r["period"], r["grain"])][0],
                                                         return_dtype=pl.Int64),
        _last=pl.struct("period", "grain").map_elements(lambda r: spans[(r["period"], r["grain"])][1],
                                                        return_dtype=pl.Int64),
    ).with_columns(_m=pl.int_ranges("_first", pl.col("_last") + 1)).explode("_m")
    labels = {m: cal.label(m, grain) for m in months["_m"].unique().to_list()}  # a label per month, once
    shared = pl.col("unit") == "currency"
    return (months.with_columns(_label=pl.col("_m").replace_strict(labels, return_dtype=pl.String))
            .group_by([c for c in coarse.columns] + ["_first", "_last", "_label"], maintain_order=True)
            .agg(_n=pl.len())
            .with_columns(share=pl.col("_n") / (pl.col("_last") - pl.col("_first") + 1),
                          target_period=pl.col("period"), target_grain=pl.col("grain"), target_full=pl.col("target"),
                          forecast_full=pl.col("forecast"))
            .with_columns(period=pl.col("_label"), grain=pl.lit(grain),
                          **{c: pl.when(shared).then(pl.col(c) * pl.col("share")).otherwise(pl.col(c))
                             for c in ("target", "forecast")})
            .select(*coarse.columns, *AT_GRAIN))


def of_slice(evaluated: pl.DataFrame, grain: str, filters: dict[str, list[str]], kpi: str | None = None,
             cal: FiscalCalendar | None = None) -> pl.DataFrame:
    """The evaluated targets a page at `grain` shows for exactly the slice of `filters` (no filter, or one
    value of one dimension; any other selection names no target's slice), at_grain's rows."""
    chosen = {d: v for d, v in filters.items() if v}
    if len(chosen) > 1 or any(len(v) > 1 for v in chosen.values()):
        return at_grain(evaluated.clear(), grain, cal)
    key = slice_key(*next(((d, v[0]) for d, v in chosen.items()), (None, None)))
    mine = evaluated.filter(_key() == key)
    out = at_grain(mine if kpi is None else mine.filter(pl.col("kpi") == kpi), grain, cal)
    return out


def for_selection(evaluated: pl.DataFrame, grain: str, period: str, filters: dict[str, list[str]],
                  kpi: str | None = None, cal: FiscalCalendar | None = None) -> pl.DataFrame:
    """The evaluated targets of what a page shows: its period at its grain (GRAIN_RULE) and exactly its slice."""
    return of_slice(evaluated, grain, filters, kpi, cal).filter(pl.col("period") == period)


def _key() -> pl.Expr:
    return pl.when(pl.col("slice_dim").is_null()).then(pl.lit("")).otherwise(
        pl.concat_str(pl.col("slice_dim"), pl.lit("="), pl.col("slice_value")))


COLUMNS_OUT = ("target", "forecast", "status")  # what `tandem kpis` and the exports carry


def attach(values: pl.DataFrame, evaluated: pl.DataFrame, grain: str, by: tuple[str, ...],
           filters: dict[str, list[str]], cal: FiscalCalendar | None = None) -> pl.DataFrame:
    """compute()'s long table with each row's approved target, forecast and status (null without one).

    A row's slice is the filters (one value of one dimension at most) and its `by` values together: a row
    carries the target of exactly that slice for its KPI, view and period, at the grain or a coarser one's share
    (GRAIN_RULE; its own grain's first). Companion rows
    (budget_variance_pct) carry none: targets are set on the KPI."""
    chosen = {d: v for d, v in filters.items() if v}
    fixed = [(d, v[0]) for d, v in chosen.items() if len(v) == 1]
    if len(chosen) + len(by) > 1 or len(fixed) != len(chosen):
        row_key = pl.lit(None, dtype=pl.String)  # a slice no target names
    elif by:
        row_key = pl.concat_str(pl.lit(f"{by[0]}="), pl.col(by[0]).cast(pl.String))
    else:
        row_key = pl.lit(slice_key(*fixed[0]) if fixed else "")
    mine = (at_grain(evaluated, grain, cal).sort(pl.col("target_grain").replace_strict(RANK, default=9),
                                                 maintain_order=True)
            .select("kpi", "view", "period", _key().alias("_slice"), *COLUMNS_OUT)
            # a period two targets cover (a month's own and its year's share): its own grain's target wins
            .unique(["kpi", "view", "period", "_slice"], keep="first", maintain_order=True))
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
