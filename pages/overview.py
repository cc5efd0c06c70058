"""Overview: every KPI with its views' values side by side, and where they disagree most."""

from __future__ import annotations

import streamlit as st

from kpi_definitions import views
from tandem import agreement_targets, charts, kpi_page, selection, service, widgets

st.title("Overview")
sel = selection.filter_bar()
st.caption(widgets.plain(f"{sel.span.label} · {sel.filter_text()} · {sel.as_of_text()}"))
reg = service.reg()
widgets.review_pack_button(sel)
now, before, trend = sel.now_before_trend()
who = views.named(reg)
widgets.chart(charts.gaps(views.disagreement(reg, now), who), "overview-gaps", sel, None, f"Where {who} disagree most")
kpis = list(reg)
per_row = 2 if max(len(k.views) for k in kpis) <= 2 else 1  # three numbers side by side need a whole row
for row in (kpis[i:i + per_row] for i in range(0, len(kpis), per_row)):  # row by row, so the cards line up
    for col, kpi in zip(st.columns(per_row), row, strict=False):
        with col:
            widgets.kpi_card(kpi, sel, now, before, trend, link=kpi_page.page(kpi))
agreement_targets.off_track(sel)  # approved joint targets off track, with the status rule
widgets.notes(sel.notes())
