"""Joint targets where the numbers are: target vs actual with the run-rate forecast and status on every KPI card
and KPI page, target markers on the trends, and the Overview's list of what is off track (decisions/targets.py
evaluates them; the status rule is kpi_definitions/targets.py's, stated beside every status)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from decisions import targets
from decisions.identity import Identity
from kpi_definitions import targets as kpi_targets
from kpi_definitions import views
from kpi_definitions.registry import FILTERABLE, Kpi, Registry
from reports import formats
from reports.scope import Scope
from store.db import reading
from tandem import grid, service

MARK = {"on track": "✓", "at risk": "⚠", "off track": "✗"}  # a sign beside the word: status reads without colour
RULE = f"Status rule: {kpi_targets.RULE}."
GRAINS = f"Grains: {targets.GRAIN_RULE}."


def of_selection(sel: Scope, kpi: str, period: bool = True) -> pl.DataFrame:
    """The KPI's evaluated targets for what the page shows: its grain and slice (and its period, unless a
    trend wants every period)."""
    found = service.targets_evaluated(str(sel.db), sel.ver)
    if period:
        return targets.for_selection(found, sel.grain, sel.span.label, sel.filters, kpi, service.calendar())
    return targets.of_slice(found, sel.grain, sel.filters, kpi, service.calendar())


def status_text(status: str | None) -> str:
    return f"{MARK[status]} {status}" if status else "no forecast yet (no month of data in the period)"


def line(kpi: Kpi, t: dict, currency: str) -> str:
    """"Target (procurement, 2026-Q1): EUR 100 · actual EUR 75 · forecast EUR 75 (3 of 3 months) · ✗ off track";
    a longer period's target on one of its parts says so: "Target (procurement, 2026; EUR 25 of it for 2026-01,
    by months): EUR 310 · actual so far EUR 75 · …" (targets.GRAIN_RULE)."""
    def v(x: float | None) -> str:
        return formats.value(x, kpi.unit, currency)

    where = f", {t['slice_value']}" if t["slice_dim"] else ""
    view = views.style(kpi, t["view"]).word if t["view"] in kpi.views else t["view"]
    own = t.get("target_period") in (None, t["period"])
    if own:
        return (f"Target ({view}, {t['period']}{where}): {v(t['target'])} · actual {v(t['actual'])} · forecast "
                f"{v(t['forecast'])} ({t['months_elapsed']} of {t['months_total']} months) · "
                f"{status_text(t['status'])}")
    part = (f"{v(t['target'])} of it for {t['period']}, by months" if kpi.unit == "currency" else
            f"the same for {t['period']}")
    return (f"Target ({view}, {t['target_period']}{where}; {part}): {v(t['target_full'])} · actual so far "
            f"{v(t['actual'])} · forecast {v(t['forecast_full'])} "
            f"({t['months_elapsed']} of {t['months_total']} months) · {status_text(t['status'])}")


def card_lines(kpi: Kpi, sel: Scope) -> None:
    """On a KPI card: each approved target of the period and slice shown, with the rule on hover."""
    for t in of_selection(sel, kpi.name).iter_rows(named=True):
        st.caption(line(kpi, t, sel.currency), help=RULE)


def kpi_lines(kpi: Kpi, sel: Scope) -> None:
    """On a KPI page: each approved target of the period and slice shown, and the rule, in words."""
    shown = of_selection(sel, kpi.name)
    for t in shown.iter_rows(named=True):
        st.text(line(kpi, t, sel.currency))
    if shown.height:
        st.caption(f"{RULE} {GRAINS}")


def trend_targets(sel: Scope, kpi: str) -> pl.DataFrame:
    """The targets a trend marks: the KPI's, at the trend's grain and slice, every period."""
    return of_selection(sel, kpi, period=False)


def off_track(sel: Scope) -> None:
    """The Overview's list of approved targets off track (any period; every slice), with the rule."""
    found = service.targets_evaluated(str(sel.db), sel.ver)
    if not found.height:
        return
    reg = service.reg()
    st.subheader("Targets off track", anchor=False)
    bad = found.filter(pl.col("status") == "off track")
    if not bad.height:
        st.caption(f"None of the {found.height} approved joint targets is off track. {RULE}")
        return
    rows = []
    for t in bad.sort(["period", "kpi"]).iter_rows(named=True):
        kpi = reg.kpis.get(t["kpi"])
        if kpi is None:
            continue
        # KPI and view in one column, the months short: eight columns were cut at 1024 px
        rows.append({"KPI (view)": f"{kpi.label} ({views.label_of(reg, kpi.name, t['view']).lower()})",
                     "Period": t["period"],
                     "Slice": f"{formats.header(t['slice_dim'])} = {t['slice_value']}" if t["slice_dim"] else "all",
                     "Target": formats.value(t["target"], kpi.unit, sel.currency),
                     "Actual so far": formats.value(t["actual"], kpi.unit, sel.currency),
                     "Forecast": formats.value(t["forecast"], kpi.unit, sel.currency),
                     "Months": f"{t['months_elapsed']} of {t['months_total']}"})

    grid.table(pl.DataFrame(rows))
    st.caption(f"{len(rows)} of {found.height} approved joint targets are off track. {RULE}")


def with_targets(table: pl.DataFrame, rows: pl.DataFrame, kpi: Kpi, sel: Scope, dim: str) -> pl.DataFrame:
    """A breakdown table (one row per value of `dim`) with, per view that has any, the approved target of each
    value's slice, its forecast and status: columns "Target (Procurement)", "Forecast (…)", "Status (…)", null
    where a value has none; the table as it was when no value has a target (what its downloads carry too)."""
    found = service.targets_evaluated(str(sel.db), sel.ver)
    if not found.height or dim not in table.columns:
        return table
    hit = targets.attach(rows, found, sel.grain, (dim,), sel.filters, service.calendar()).filter(
        pl.col("target").is_not_null())
    for view in [v for v in kpi.views if v in hit["view"].to_list()]:
        label = views.style(kpi, view).label
        mine = hit.filter(pl.col("view") == view).select(
            pl.col(dim).cast(pl.String), pl.col("target").alias(f"Target ({label})"),
            pl.col("forecast").alias(f"Forecast ({label})"), pl.col("status").alias(f"Status ({label})"))
        table = table.join(mine, on=dim, how="left", maintain_order="left")
    return table


def review_changes(sel: Scope, review_id: int) -> None:
    """The review's "what changed": joint targets whose status moved since the review started, and targets
    approved since (the review kept the statuses it saw)."""
    now = service.targets_evaluated(str(sel.db), sel.ver)
    with reading(sel.db) as con:
        then = targets.seen_by(con, review_id)
    if not now.height and not then.height:
        return
    changed = targets.status_changes(then, now).sort(["kpi", "period", "view"])
    reg = service.reg()
    rows = []
    for r in changed.iter_rows(named=True):
        kpi = reg.kpis.get(r["kpi"])
        unit = kpi.unit if kpi else "currency"

        def said(target: float | None, status: str | None, unit: str = unit) -> str:
            return "no target then" if target is None else (
                f"{formats.value(target, unit, sel.currency)} · {status_text(status) if status else 'no forecast'}")

        rows.append({"KPI": kpi.label if kpi else r["kpi"], "View": views.label_of(reg, r["kpi"], r["view"]),
                     "Period": r["period"],
                     "Slice": f"{r['slice_dim']} = {r['slice_value']}" if r["slice_dim"] else "all",
                     "Then": said(r["target_then"], r["status_then"]), "Now": said(r["target_now"], r["status_now"])})
    st.markdown(f"**Joint targets whose status changed** ({len(rows)})")
    if rows:

        grid.table(pl.DataFrame(rows))
    st.caption(RULE)


# --- the Agreements page's targets ------------------------------------------------------------------------------

STEP = {"ratio": 0.5, "days": 1.0}  # a number input's step in the unit it is typed in (money: 1,000)


def entered_text(value: float | None, unit: str, currency: str) -> str:
    return formats.value(value, unit, currency)


def section(db: Path, reg: Registry, me: Identity | None) -> None:
    """Propose a target (one team), typed in the KPI's unit, for a period of the fiscal calendar and a slice from
    the data; approve or reject the other team's; every target, formatted like the rest."""
    from tandem import agreement_ui

    currency = service.cfg().reporting_currency
    cal = service.calendar()
    ver = service.version(db)
    st.subheader("Joint targets", anchor=False)
    st.caption("A target for one view of a KPI over a month, fiscal quarter or fiscal year (for everything, or one "
               f"category, cost center or supplier), proposed by one team and approved by the other. {RULE} {GRAINS}")
    span = service.months(str(db), ver)
    why_not = agreement_ui.cannot(me)
    if why_not is not None:
        st.caption(why_not)
    elif span is not None:
        _propose(db, reg, me, span, currency, cal)
    frame = agreement_ui._read(db, targets.every)
    if frame is None or not frame.height:
        return
    _pending(db, reg, me, frame, currency, why_not)
    seen = service.targets_evaluated(str(db), ver).select(
        "target_id", "forecast", pl.col("status").alias("outlook"))  # approved ones: run-rate forecast and status
    frame = frame.join(seen, on="target_id", how="left", maintain_order="left")
    st.markdown(f"**Every target** ({frame.height})")
    grid.table(_table(frame, reg, currency), {}, currency)


def _unit(reg: Registry, kpi: str) -> str:
    return reg[kpi].unit if kpi in reg.kpis else "currency"


def _propose(db: Path, reg: Registry, me: Identity, span: tuple[int, int], currency: str, cal) -> None:  # noqa: ANN001
    from tandem import agreement_ui

    c1, c2, c3 = st.columns(3)
    kpi_name = c1.selectbox("KPI", reg.names, format_func=lambda n: reg[n].label, key="target_kpi")
    kpi = reg[kpi_name]
    view = c2.selectbox("View", list(kpi.views), format_func=lambda v: views.style(kpi, v).label, key="target_view")
    grain = c3.selectbox("Period type", ["month", "quarter", "year"], key="target_grain",
                         format_func=lambda g: {"month": "Month", "quarter": "Fiscal quarter", "year": "Fiscal year"}[g])
    dims = [d for d in kpi.dimensions if d in FILTERABLE]
    c4, c5 = st.columns(2)
    slice_dim = c4.selectbox("Slice", [None, *dims], key="target_slice_dim",
                             format_func=lambda d: "Everything (no slice)" if d is None else formats.header(d))
    slice_value = None
    if slice_dim is not None:  # the values the data has, as the filter bar shows them
        choices = service.options(str(db), service.version(db)).get(slice_dim, [])
        shown = dict(choices)
        slice_value = c5.selectbox(formats.header(slice_dim), [v for v, _ in choices], key="target_slice_value",
                                   format_func=lambda v: shown.get(v, v))
    periods = targets.periods(cal, grain, span)
    now = cal.label(span[1], grain)
    unit = targets.entry_unit(kpi.unit, currency)
    agreement_ui.said_here("target-propose")
    with st.form("target_propose", border=True):
        c1, c2 = st.columns(2)
        period = c1.selectbox("Period", periods, index=periods.index(now) if now in periods else 0,
                              help="From the fiscal calendar: the data's periods and the next few")
        number = c2.number_input(f"Target ({unit})", value=None, step=STEP.get(kpi.unit, 1000.0),
                                 format="%.1f" if kpi.unit in ("ratio", "days") else "%.0f",
                                 placeholder={"ratio": "25 means 25 %", "days": "45"}.get(kpi.unit, "125000"),
                                 help=f"In the KPI's unit: {unit}" + (" (25 means 25 %)" if kpi.unit == "ratio" else ""))
        comment = st.text_input("Comment (price outlook, budget constraint)", max_chars=500)
        if st.form_submit_button("Propose target", icon=":material/flag:"):
            if number is None:
                st.error(f"Type the target in {unit}.")
            else:
                stored = targets.stored(float(number), kpi.unit)
                where = f", {formats.header(slice_dim)} = {shown.get(slice_value, slice_value)}" if slice_dim else ""
                agreement_ui._write(
                    db, lambda con: targets.propose(con, reg, kpi_name, view, grain, period, stored, comment, me,
                                                    slice_dim, slice_value, cal),
                    lambda tid: f"Target #{tid} proposed: {kpi.label} ({views.style(kpi, view).word}, {period}{where}) "
                                f"at {formats.value(stored, kpi.unit, currency)}. The other team approves it on this "
                                "page and sees it on their Overview.", "target-propose")


def _pending(db: Path, reg: Registry, me: Identity | None, frame: pl.DataFrame, currency: str,
             why_not: str | None) -> None:
    from tandem import agreement_ui

    pending = frame.filter(pl.col("status") == "pending").sort("target_id")
    st.markdown(f"**Pending targets** ({pending.height})")
    agreement_ui.said_here("target-decide")
    for t in pending.iter_rows(named=True):
        kpi = reg.kpis.get(t["kpi"])
        if kpi is not None:
            _pending_one(db, reg, kpi, t, me, currency, why_not)


def _pending_one(db: Path, reg: Registry, kpi: Kpi, t: dict, me: Identity | None, currency: str,
                 why_not: str | None) -> None:
    """One pending target in the KPI's unit, with Approve and Reject for the other team."""
    from tandem import agreement_ui

    tid = t["target_id"]
    where = f", {formats.header(t['slice_dim'])} = {t['slice_value']}" if t["slice_dim"] else ""
    with st.container(border=True, key=f"pending-target-{tid}"):
        st.markdown(f"**Target #{tid} {kpi.label}** ({views.label_of(reg, kpi.name, t['view'])}, {t['period']}"
                    f"{widgets_plain(where)}): **{formats.value(t['value'], kpi.unit, currency)}** · proposed by "
                    f"{widgets_plain(t['proposed_by'] or '')} ({t['proposed_team']})")
        if t["proposal_comment"]:
            st.caption(f"Comment: {widgets_plain(t['proposal_comment'])}")
        if why_not is not None:
            st.caption(why_not)
        elif me.team == t["proposed_team"]:
            st.caption("Your team proposed it: the other team approves or rejects it.")
        else:
            with st.form(f"target_decide_{tid}", border=False):
                note = st.text_input("Comment (a rejection needs a reason)", max_chars=500)
                c1, c2 = st.columns(2)
                yes = c1.form_submit_button("Approve target", type="primary", icon=":material/check:")
                no = c2.form_submit_button("Reject target", icon=":material/close:")
            if yes or no:
                value = formats.value(t["value"], kpi.unit, currency)
                agreement_ui._write(db, lambda con: targets.decide(con, tid, bool(yes), note, me),
                                    f"Target #{tid} {'approved' if yes else 'rejected'}: {kpi.label} "
                                    f"{t['period']} at {value}"
                                    + (" now shows on the cards, the KPI page and the trend." if yes else
                                       " is closed; nothing else changed."), "target-decide")


def no_link(email: str) -> str:
    """An address in Markdown as text, not a mailto link (a zero-width space after the @)."""
    return email.replace("@", "@\u200b")


def widgets_plain(text: str) -> str:
    from tandem import widgets

    return widgets.plain(text)


def _table(frame: pl.DataFrame, reg: Registry, currency: str) -> pl.DataFrame:
    """Every target as people read it: KPI and view names, the slice in words, values in the KPI's unit."""
    rows = []
    for t in frame.iter_rows(named=True):
        unit = _unit(reg, t["kpi"])
        kpi = reg.kpis.get(t["kpi"])
        rows.append({"#": t["target_id"], "KPI": kpi.label if kpi else t["kpi"],
                     "View": views.label_of(reg, t["kpi"], t["view"]), "Period": t["period"],
                     "Slice": f"{formats.header(t['slice_dim'])} = {t['slice_value']}" if t["slice_dim"] else "all",
                     "Target": formats.value(t["value"], unit, currency), "Status": t["status"],
                     "Outlook": status_text(t["outlook"]) if t["status"] == "approved" else "—",
                     "Forecast": formats.value(t["forecast"], unit, currency) if t["forecast"] is not None else "—",
                     "Proposed by": f"{t['proposed_by']} ({t['proposed_team']})",
                     "Comment": t["proposal_comment"] or "",
                     "Decided by": f"{t['decided_by']} ({t['decided_team']})" if t["decided_by"] else "",
                     "Decision comment": t["decision_comment"] or ""})
    return pl.DataFrame(rows)
