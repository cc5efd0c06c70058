"""Budgets and approvals: what is left of each budget under both views and where it goes, whether a request fits
before it is raised, and where requests wait (cycle and queue times, the waiting list), with the two contested
invoice KPIs (touchless rate, first-time match) and the invoices they count differently."""

from __future__ import annotations

import streamlit as st

from tandem import budgets_ui, selection, service, widgets

st.title("Budgets and approvals")
st.text("What is still available before buying, and where requests wait: funds available under finance's and "
        "procurement's definitions side by side, the budget bucket by bucket, and the approval flow document by "
        "document.")
sel = selection.filter_bar()
st.caption(widgets.plain(f"{sel.span.label} · {sel.filter_text()} · {sel.as_of_text()}"))
reg = service.reg()
shown = tuple(k for k in ("funds_available", "touchless_rate", "first_time_match") if k in reg.kpis)
now, before, _ = sel.now_before_trend(kpis=shown)
funds = reg["funds_available"]

st.header(funds.label, anchor=False)
st.text(funds.description)
budgets_ui.views_side_by_side(funds, sel, now, before)
budgets_ui.before_i_buy(sel)
budgets_ui.buckets(funds, sel)
budgets_ui.bridge(funds, sel)
budgets_ui.funds_breakdown(funds, sel)

st.header("Where requests wait", anchor=False)
budgets_ui.flow(sel)
budgets_ui.waiting(sel)

st.header("Invoices: touchless and first-time match", anchor=False)
for name in ("touchless_rate", "first_time_match"):
    if name in reg.kpis:
        budgets_ui.contested(reg[name], sel, now, before)
widgets.notes(sel.notes(kpis=shown))  # the shown KPIs' (the trend's request: asked once)
