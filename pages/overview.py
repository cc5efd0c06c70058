"""Overview: every KPI with its finance and procurement value side by side, and where they disagree most."""

from __future__ import annotations

import streamlit as st

from tandem import charts, service, widgets

st.title("Overview")
sel = widgets.filter_bar()
st.caption(widgets.plain(f"{sel.span.label} · {sel.filter_text()} · {sel.as_of_text()}"))
reg = service.reg()
widgets.review_pack_button(sel)
now, before, trend = sel.now_before_trend()
widgets.chart(charts.gaps(widgets.gap_rows(now)), "overview-gaps", sel, None, "Where finance and procurement disagree most")
kpis = list(reg)
for pair in (kpis[i:i + 2] for i in range(0, len(kpis), 2)):  # row by row, so the cards of a row line up
    for col, kpi in zip(st.columns(2), pair, strict=False):
        with col:
            widgets.kpi_card(kpi, sel, now, before, trend, link=f"pages/{kpi.name}.py")
widgets.notes(sel.notes())
