"""Saving a payment-terms scenario on its page, and the saved ones on the review meeting page."""

from __future__ import annotations

import streamlit as st

from decisions import scenarios
from kpi_definitions.terms import Result, Scenario
from reports import decided
from reports.scope import Scope
from store.errors import TandemError
from tandem import auth, service, widgets


def save_form(sel: Scope, scenario: Scenario, result: Result) -> None:
    """Name the scenario and state its assumptions; it is saved with its author for the review meeting."""
    st.subheader("Save this scenario for the review", anchor=False)
    with st.form("save_scenario", clear_on_submit=True, border=True):
        name = st.text_input("Name", max_chars=scenarios.MAX_NAME, placeholder="e.g. IT Hardware to 90 days",
                             key="scenario_name")
        note = st.text_area("Assumptions", max_chars=scenarios.MAX_NOTE, key="scenario_assumptions",
                            placeholder="e.g. suppliers accept without a price rise; cost of capital from treasury")
        if st.form_submit_button("Save scenario", icon=":material/save:"):
            try:
                sid = service.run_write(sel.db, lambda con: scenarios.save(con, scenario, result, name, note,
                                                                           sel.currency, by=auth.current_user()))
                st.success(f"Saved as scenario #{sid}: it is listed in the review meeting and its pack.")
            except (TandemError, auth.NotAllowed) as exc:
                st.error(exc.message)


def listed(sel: Scope) -> None:
    """The saved payment-terms scenarios, newest first (the review meeting page)."""
    rows = scenarios.table(scenarios.saved(sel.db))
    st.markdown(f"**Payment-terms scenarios saved** ({rows.height})")
    if rows.height:
        widgets.table(rows, decided.UNITS, sel.currency)
    else:
        st.caption("None yet: save one on the Payment terms page.")
