"""Agreements: propose an agreed definition from a KPI's bridge, approve or reject proposals (one member of each
team), and the audit log of every step."""

from __future__ import annotations

import streamlit as st

from tandem import agreement_ui, selection, service

st.title("Agreements")
st.text("Finance and procurement settle one definition from the explained gap: the agreed number is the "
        "procurement value plus the bridge steps both teams decide it counts. A proposal becomes the agreed view "
        "(a third view on every page, with its version) once a member of each team has approved it.")
db = service.cfg().db
reg = service.reg()
agreement_ui.messages()


def _sections() -> None:
    """Propose, decide, set targets (with an identity), and the audit log."""
    if me is not None:
        st.subheader("Propose an agreed definition", anchor=False)
        if db.exists():
            agreement_ui.propose_form(db, reg, me)
        else:
            st.info("No data has been loaded yet: load exports before agreeing a definition.")
        st.subheader("Proposals", anchor=False)
        agreement_ui.decisions(db, reg, me)
        if db.exists():
            agreement_ui.targets_section(db, reg, me)
    agreement_ui.audit_section(db)


me = agreement_ui.identity()
with selection.said(db):  # a load holding the file, or a damaged file: one sentence
    _sections()
