"""Definitions: every KPI and view from the registry, with owner, version, effective date and SQL."""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi_definitions import views
from reports import formats
from tandem import agreement_ui, selection, service, widgets

st.title("Definitions")
st.text("Every number in Tandem comes from these declarations (kpi_definitions/*.yaml). "
        "Both teams read the same text; changing a definition is a new version with a new effective date.")
reg = service.reg()
st.dataframe(pl.DataFrame([{"KPI": k.label, "View": name, "Owner": v.owner, "Version": v.version,
                            "Effective": str(v.effective_date), "Definition": v.definition}
                           for k in reg for name, v in k.views.items()]), hide_index=True,
             column_config={"Definition": st.column_config.TextColumn(width="large")})
for kpi in reg:
    st.subheader(kpi.label, anchor=False)
    st.text(kpi.description)
    st.caption(f"Name `{kpi.name}` · unit {kpi.unit} · split by {', '.join(kpi.dimensions)}")
    for name, view in kpi.views.items():
        with st.container(border=True):
            look = views.style(kpi, name)
            st.markdown(f"{look.mark} **{look.label}** · {view.owner} · version {view.version}, effective "
                        f"{formats.day(view.effective_date)}")
            st.text(view.definition)
    if kpi.bridge is not None:
        # the bridge steps and what each is, in full (a table cell cut the longer ones off), a netted step's parts
        # under it
        st.markdown("**Bridge steps**\n\n" + "\n".join(
            f"- **{widgets.plain(label)}**: {widgets.plain(what)}" for s in kpi.bridge.steps
            for label, what in ((s.label, s.description), *((f"↳ {p.label}", p.description) for p in s.parts))))
        st.caption(f"Bridge from {kpi.bridge.from_view} to {kpi.bridge.to_view}. {kpi.bridge.convention or ''}")
    with st.expander("SQL"):
        for name, view in kpi.views.items():
            st.text(f"{name} ({view.sql}.sql, bound: {view.bind or 'nothing'})")
            st.code(reg.sql(view.sql), language="sql")

with selection.said(service.cfg().db):  # a load holding the file, or a damaged file: one sentence
    agreement_ui.history(service.cfg().db, reg)  # the agreed definitions' versions and what changed between them
