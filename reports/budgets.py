"""Budgets and approvals as a reader gets them: the verdict of a "before I buy" check in one sentence, the tables of
funds available this period and to year end, the buckets and cycle-time charts, and the review pack's section.
The numbers come from the KPI layer (kpi_definitions/budgets.py, approvals.py) through a source; nothing here
computes one."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import plotly.graph_objects as go
import polars as pl

from kpi_definitions import views
from kpi_definitions.approvals import DOCUMENT_TYPES, STAGES
from kpi_definitions.budgets import KPI, horizon_months
from kpi_definitions.registry import Kpi
from reports import charts, formats

if TYPE_CHECKING:
    from kpi_definitions.budgets import Check
    from reports.scope import Scope

VERDICTS = {"fits": "Fits", "fits_with_pending": "Fits only while requests wait", "does_not_fit": "Does not fit"}


def verdict(c: Check, currency: str) -> str:
    """The check in one sentence: the verdict, by how much, against what."""
    j = c.judged
    what = f"{formats.money(c.amount, currency)} for {c.cost_center} × {c.category}"
    against = "to the end of " + j.label if c.horizon == "year" else "in " + j.label
    fin, proc = formats.money(j.available_finance, currency), formats.money(j.available_procurement, currency)
    pending = formats.money(j.pending, currency)
    if c.verdict == "fits" and not j.pending:
        return f"Fits: {what} leaves {formats.money(j.available_finance - c.amount, currency)} {against} (no request " \
               "is pending)."
    if c.verdict == "fits":
        return (f"Fits: {what} leaves {formats.money(j.available_procurement - c.amount, currency)} {against}, even "
                f"once the {pending} of pending requests is approved ({proc} available counting them, {fin} without).")
    if c.verdict == "fits_with_pending":
        return (f"Fits only while requests wait: {what} fits the {fin} available {against}, but once the {pending} of "
                f"pending requests is approved only {proc} is left: short by "
                f"{formats.money(c.short_once_pending, currency)}.")
    return (f"Does not fit: {what} is {formats.money(c.short_by, currency)} more than the {fin} available {against} "
            f"({proc} once the {pending} of pending requests is approved).")


FUNDS_COLUMNS = {"budget": "Budget", "used_finance": "Used (finance)", "pending": "Pending requests",
                 "available_finance": "Available (finance)", "available_procurement": "Available (procurement)"}


def funds_table(src: ModuleType, sel: Scope) -> tuple[pl.DataFrame, str, str]:
    """Per cost center and category: what is available this period and to year end under each view, with what is
    pending; tightest first. Also the two spans' labels."""
    cal = src.calendar()
    first, last, year = horizon_months(sel.span.last, "year", cal)
    now = src.funds(str(sel.db), sel.ver, sel.span.first, sel.span.last, sel.key)
    ahead = src.funds(str(sel.db), sel.ver, first, last, sel.key)
    keys = ["cost_center", "category"]
    period = sel.span.label
    left = now.select(*keys, *[pl.col(c).alias(f"{h} {period}") for c, h in FUNDS_COLUMNS.items()
                               if c in ("budget", "available_finance", "available_procurement")])
    right = ahead.select(*keys, *[pl.col(c).alias(f"{h} to year end") for c, h in FUNDS_COLUMNS.items()])
    table = left.join(right, on=keys, how="full", coalesce=True).sort(
        "Available (procurement) to year end", nulls_last=True)
    return table.rename({"cost_center": "Cost center", "category": "Category"}), period, year


def buckets_frame(src: ModuleType, sel: Scope) -> pl.DataFrame:
    """Where the period's budget goes, per bucket, under each view: the budget, then each bucket, then what is left."""
    b = src.funds_buckets(str(sel.db), sel.ver, sel.span.first, sel.span.last, sel.key)
    budget = b.filter(pl.col("bucket") == "budget")
    used = b.filter(pl.col("bucket") != "budget")
    left = budget.select(pl.lit("available").alias("bucket"),
                         *(pl.col(v) - used[v].sum() for v in ("finance", "procurement")),
                         pl.lit(0).alias("excluded"), pl.lit("Funds available").alias("label"))
    return pl.concat([budget, used, left], how="vertical_relaxed").select("bucket", "label", "finance", "procurement")


def buckets_figure(kpi: Kpi, frame: pl.DataFrame, currency: str, title: str) -> go.Figure:
    """Each bucket as two bars, one per view in its colour: where the budget goes, side by side."""
    shown = frame.filter(~pl.col("bucket").is_in(["budget", "available"]))
    fig = go.Figure()
    for view in ("finance", "procurement"):
        s = views.style(kpi, view)
        fig.add_trace(go.Bar(y=shown["label"].to_list(), x=shown[view].to_list(), name=s.label, orientation="h",
                             marker_color=charts.colour(kpi, view), customdata=shown["bucket"].to_list(),
                             text=[formats.compact(v, "currency", currency) for v in shown[view].to_list()],
                             textposition="outside", cliponaxis=False))
    fig.update_layout(barmode="group", title=title, height=360, margin=dict(l=10, r=40, t=60, b=30),
                      legend=dict(orientation="h", y=-0.15), yaxis=dict(autorange="reversed"), font=charts.FONT,
                      plot_bgcolor="white", paper_bgcolor="white")
    fig.update_xaxes(title_text=currency, gridcolor="#e6e6e6", zerolinecolor="#999")
    return fig


def cycles_figure(frame: pl.DataFrame, title: str) -> go.Figure:
    """Median and P90 days per stage of the flow, in the flow's order."""
    stages = [s for s in STAGES if s in frame["stage"].to_list()]
    rows = {r["stage"]: r for r in frame.iter_rows(named=True)}
    labels = [STAGES[s] for s in stages]
    fig = go.Figure([
        go.Bar(x=labels, y=[rows[s]["median_days"] for s in stages], name="Median", marker_color="#4c78a8",
               text=[formats.days(rows[s]["median_days"]) for s in stages], textposition="outside",
               cliponaxis=False),
        go.Bar(x=labels, y=[rows[s]["p90_days"] for s in stages], name="P90 (9 in 10 within)", marker_color="#9ecae9",
               text=[formats.days(rows[s]["p90_days"]) for s in stages], textposition="outside", cliponaxis=False)])
    fig.update_layout(barmode="group", title=title, height=360, margin=dict(l=10, r=10, t=60, b=30),
                      legend=dict(orientation="h", y=-0.2), font=charts.FONT, plot_bgcolor="white",
                      paper_bgcolor="white")
    fig.update_yaxes(title_text="days", gridcolor="#e6e6e6", zerolinecolor="#999")
    return fig


def cycles_table(frame: pl.DataFrame, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Cycle times with the stages named, one row per stage (and slice)."""
    return frame.select(pl.col("stage").replace_strict(STAGES, default=pl.col("stage")).alias("Stage"), *by,
                        pl.col("documents").alias("Documents"), pl.col("median_days").alias("Median"),
                        pl.col("p90_days").alias("P90"))


def queues_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col("document_type").replace_strict(DOCUMENT_TYPES, default=None).alias("Document"),
                        pl.col("step").alias("Step"), pl.col("actor_role").alias("Role"),
                        pl.col("waits").alias("Waits"), pl.col("median_days").alias("Median"),
                        pl.col("p90_days").alias("P90"), pl.col("total_days").alias("Total"))


def first_pass_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col("document_type").replace_strict(DOCUMENT_TYPES, default=None).alias("Document"),
                        pl.col("decided").alias("Decided"), pl.col("first_pass").alias("First pass"),
                        pl.col("rate").alias("First-pass rate"))


def waiting_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col("document_type").replace_strict(DOCUMENT_TYPES, default=None).alias("Document"),
                        pl.col("document_id").alias("Id"), pl.col("cost_center").alias("Cost center"),
                        pl.col("category").alias("Category"), pl.col("amount").alias("Amount"),
                        (pl.col("last_event") + pl.lit(" at ") + pl.col("last_step").fill_null("?")
                         + pl.lit(" by ") + pl.col("last_role").fill_null("?")).alias("Last event"),
                        pl.col("waiting_since").dt.strftime("%Y-%m-%d %H:%M UTC").alias("Since"),
                        pl.col("days_waiting").alias("Waiting"))


DAYS_COLUMNS = ("Median", "P90", "Total", "Waiting")


def pack_sections(sel: Scope) -> list:
    """The review pack's "Budgets and approvals" section: funds to year end, cycle times, queue times, first-pass
    rates and the documents waiting longest ((heading, items), as pack._sections builds them)."""
    src, ccy = sel.source, sel.currency
    reg = src.reg(sel.db)
    if KPI not in reg.kpis:
        return []
    money = lambda c: pl.col(c).map_elements(lambda v: formats.money(v, ccy), return_dtype=pl.String)  # noqa: E731
    days = lambda c: pl.col(c).map_elements(formats.days, return_dtype=pl.String)  # noqa: E731
    funds, period, year = funds_table(src, sel)
    funds = funds.head(12).with_columns(money(c) for c, t in funds.schema.items() if t.is_numeric())
    cycles = src.approval_cycles(str(sel.db), sel.ver, sel.span.first, sel.span.last, "year", (), sel.key)
    queues = src.approval_queues(str(sel.db), sel.ver, sel.span.first, sel.span.last, sel.key)
    passes = src.approval_first_pass(str(sel.db), sel.ver, sel.span.first, sel.span.last, "year", sel.key)
    waiting = src.approval_waiting(str(sel.db), sel.ver, sel.key, 10)
    items: list = [("p", f"Funds available in {period} and to the end of {year} per cost center and category, "
                         "tightest first (procurement counts pending requests; finance does not).")]
    items += [funds] if funds.height else [("p", "No budget in this selection.")]
    if cycles.height:
        items += [("h3", f"Cycle times, {sel.span.label}"), cycles_figure(cycles, f"Cycle times, {sel.span.label}"),
                  cycles_table(cycles).with_columns(days(c) for c in ("Median", "P90"))]
    if queues.height:
        items += [("h3", "Where requests wait: queue time per step and role (longest first)"),
                  queues_table(queues).head(8).with_columns(days(c) for c in ("Median", "P90", "Total"))]
    if passes.height:
        items += [("h3", "First-pass approval rate"), first_pass_table(passes).with_columns(
            pl.col("First-pass rate").map_elements(formats.ratio, return_dtype=pl.String))]
    if waiting.height:
        items += [("h3", "Waiting longest now"), waiting_table(waiting).with_columns(
            money("Amount"), days("Waiting"))]
    return [("Budgets and approvals", items)]
