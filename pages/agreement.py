"""Agreements: what awaits a decision, proposing an agreed definition with the agreed number shown before anyone
signs, approving or rejecting the other team's proposals beside the same number, joint targets in the KPI's unit,
and the audit log of every step. Viewers read it all and see no form."""

from __future__ import annotations

import streamlit as st

from tandem import agreement_targets, agreement_ui, selection, service

st.title("Agreements")
st.text("Finance and procurement settle one definition from the explained gap: the agreed number is procurement's "
        "value plus the bridge steps both teams choose to include. A proposal becomes the agreed view (a third view on "
        "every page, with its version) once a member of each team has approved it.")
agreement_ui.toast()  # the last write's outcome, where the user is looking
db = service.cfg().db
reg = service.reg()


def _sections() -> None:
    """What awaits a decision, proposing, the targets and the audit log (the forms only for who may use them)."""
    opened = agreement_ui.opened(reg)  # ?kpi= from a KPI page, the Overview or a review item
    st.subheader("Proposals", anchor=False)
    agreement_ui.decisions(db, reg, me, opened)
    st.subheader("Propose an agreed definition", anchor=False)
    if (why_not := agreement_ui.cannot(me)) is not None:
        st.caption(why_not)
    elif db.exists():
        agreement_ui.propose_form(db, reg, me)
    else:
        st.info("No data has been loaded yet: load exports before agreeing a definition.")
    if db.exists():
        agreement_targets.section(db, reg, me)
    agreement_ui.audit_section(db)


me = agreement_ui.identity()
with selection.said(db):  # a load holding the file, or a damaged file: one sentence
    _sections()
