"""Savings pipeline: each negotiated saving followed from the deal to the books. The ledger's numbers (negotiated,
realised from invoice lines, booked by finance), where the savings evaporate in between (to the cent, with the lines
behind each step), the initiatives, the monthly forecast finance plans with, and the forms that record an
initiative, move it through its stages and book it."""

from __future__ import annotations

import streamlit as st

from tandem import agreement_ui, auth, ledger_ui, selection, widgets

st.title("Savings pipeline")
st.text("Procurement claims a saving when the deal is signed; finance accepts it when it shows in spend. The ledger "
        "follows each initiative from negotiated to booked: realised savings are computed from invoice lines, never "
        "typed, and finance books them month by month.")
sel = selection.filter_bar()
k = ledger_ui.kpi()
ledger_ui.messages()
now, before, _ = sel.now_before_trend(kpis=(k.name,))
ledger_ui.cards(k, sel, now, before)
widgets.notes(sel.notes(kpis=(k.name,)))  # this KPI's only
ledger_ui.bridge_section(k, sel)
picked = ledger_ui.initiatives_section(k, sel)
if picked is not None:
    ledger_ui.initiative_story(k, sel, picked)
ledger_ui.forecast_section(sel)

st.subheader("Record and decide", anchor=False)
writer = auth.can("review")  # recording and deciding need the editor role, as review items do: a viewer reads
if not writer:
    st.caption("You can read the ledger and its log; recording, moving and booking initiatives need the editor role.")
me = agreement_ui.identity() if writer else None
with selection.said(sel.db):
    if me is not None:
        ledger_ui.record_form(sel.db, me)
        ledger_ui.move_form(sel.db, me)
        ledger_ui.finance_form(sel.db, me, sel)
    ledger_ui.audit_section(sel.db)
