"""Joint targets where the numbers are: target vs actual with the run-rate forecast and status on every KPI card
and KPI page, target markers on the trends, and the Overview's list of what is off track (decisions/targets.py
evaluates them; the status rule is kpi_definitions/targets.py's, stated beside every status)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from decisions import targets
from kpi_definitions import targets as kpi_targets
from kpi_definitions import views
from kpi_definitions.registry import Kpi
from reports import formats
from reports.scope import Scope
from store.db import reading
from tandem import grid, service

MARK = {"on track": "✓", "at risk": "⚠", "off track": "✗"}  # a sign beside the word: status reads without colour
RULE = f"Status rule: {kpi_targets.RULE}."


def of_selection(sel: Scope, kpi: str, period: bool = True) -> pl.DataFrame:
    """The KPI's evaluated targets for what the page shows: its grain and slice (and its period, unless a
    trend wants every period)."""
    found = service.targets_evaluated(str(sel.db), sel.ver)
    if period:
        return targets.for_selection(found, sel.grain, sel.span.label, sel.filters, kpi)
    return targets.of_slice(found, sel.grain, sel.filters, kpi)


def status_text(status: str | None) -> str:
    return f"{MARK[status]} {status}" if status else "no forecast yet (no month of data in the period)"


def line(kpi: Kpi, t: dict, currency: str) -> str:
    """"Target (procurement, 2026-Q1): EUR 100 · actual EUR 75 · forecast EUR 75 (3 of 3 months) · ✗ off track"."""
    def v(x: float | None) -> str:
        return formats.value(x, kpi.unit, currency)

    where = f", {t['slice_value']}" if t["slice_dim"] else ""
    view = views.style(kpi, t["view"]).word if t["view"] in kpi.views else t["view"]
    return (f"Target ({view}, {t['period']}{where}): {v(t['target'])} · actual {v(t['actual'])} · forecast "
            f"{v(t['forecast'])} ({t['months_elapsed']} of {t['months_total']} months) · {status_text(t['status'])}")


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
        st.caption(RULE)


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
        rows.append({"KPI": kpi.label, "View": views.label_of(reg, kpi.name, t["view"]), "Period": t["period"],
                     "Slice": f"{t['slice_dim']} = {t['slice_value']}" if t["slice_dim"] else "all",
                     "Target": formats.value(t["target"], kpi.unit, sel.currency),
                     "Actual so far": formats.value(t["actual"], kpi.unit, sel.currency),
                     "Forecast": formats.value(t["forecast"], kpi.unit, sel.currency),
                     "Months with data": f"{t['months_elapsed']} of {t['months_total']}"})

    grid.table(pl.DataFrame(rows))
    st.caption(f"{len(rows)} of {found.height} approved joint targets are off track. {RULE}")


def with_targets(table: pl.DataFrame, rows: pl.DataFrame, kpi: Kpi, sel: Scope, dim: str) -> pl.DataFrame:
    """A breakdown table (one row per value of `dim`) with, per view that has any, the approved target of each
    value's slice, its forecast and status: columns "Target (Procurement)", "Forecast (…)", "Status (…)", null
    where a value has none; the table as it was when no value has a target (what its downloads carry too)."""
    found = service.targets_evaluated(str(sel.db), sel.ver)
    if not found.height or dim not in table.columns:
        return table
    hit = targets.attach(rows, found, sel.grain, (dim,), sel.filters).filter(pl.col("target").is_not_null())
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
