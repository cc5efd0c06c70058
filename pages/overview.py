"""Overview: every KPI with its views' values side by side, then what stands out: the largest gaps by slice,
what moved since the last review, what is off track, and the data-quality warnings."""

from __future__ import annotations

import streamlit as st

from decisions import review
from kpi_definitions import views
from reports import charts, pack
from tandem import agreement_targets, click, kpi_page, selection, service, standout, widgets

st.title("Overview")
sel = selection.filter_bar()
st.caption(widgets.plain(f"{sel.span.label} · {sel.filter_text()} · {sel.as_of_text()}"))
reg = service.reg()
now, before, trend = sel.now_before_trend()
who = views.named(reg)

kpis = list(reg)
per_row = 2 if max(len(k.views) for k in kpis) <= 2 else 1  # three numbers side by side need a whole row
for row in (kpis[i:i + per_row] for i in range(0, len(kpis), per_row)):  # row by row, so the cards line up
    for col, kpi in zip(st.columns(per_row), row, strict=False):
        with col:
            widgets.kpi_card(kpi, sel, now, before, trend, link=kpi_page.page(kpi), compact=True)
widgets.notes(sel.notes())

st.header("What stands out", anchor=False)
st.subheader(f"Where {who} differ most, by slice", anchor=False)
names = {d: pack.dimension_names(sel, d) for d in standout.SLICES}
gaps, picks = standout.largest_gaps(sel, reg, kpi_page.DIM_LABELS, names)
st.caption("Each KPI's largest gap by supplier and by category. Select a row for the lines behind it.")
event = widgets.table(gaps, {c: "" for c in gaps.columns if c not in (*standout.COLUMNS, "unit")}, sel.currency,
                      key="standout-gaps", on_select="rerun", unit_column="unit")
if (row := (event or {}).get("selection", {}).get("rows", [])) and row[0] < len(picks):
    name, dim, value = picks[row[0]]
    click.lines_panel(sel, reg[name], (dim,), (value,), kpi_page.DIM_LABELS, names.get(dim, {}).get(value, value))
moved, quality, off_track = st.columns([3, 2, 2])
with moved:
    last = review.latest(sel.db)
    st.subheader("Moved most since the last review", anchor=False)
    if last is None:
        st.caption("No review held yet: starting one on the Review meeting page remembers today's values.")
    else:
        st.caption(f"Review of {last['held_on']} (on {last['period']}), largest relative move first.")
        widgets.moved(review.moved(sel.db, last["review_id"], now).head(5), sel.currency, key="standout-moved",
                      compact=True)
with quality:
    st.subheader("Data quality", anchor=False)
    dq = standout.data_quality(sel.db)
    if dq["quarantined"] or dq["findings"]:
        st.warning(f"{dq['quarantined']:,} row{'s' * (dq['quarantined'] != 1)} quarantined by the input rules; "
                   f"{dq['findings']:,} data-quality finding{'s' * (dq['findings'] != 1)} across files, covering "
                   f"{dq['finding_rows']:,} row{'s' * (dq['finding_rows'] != 1)}.", icon=":material/warning:")
    else:
        st.success("No quarantined rows and no data-quality findings.", icon=":material/check_circle:")
    st.page_link("pages/data.py", label="Data: the quarantine and the findings", icon=":material/database:")

with off_track:  # approved joint targets off track, with the status rule
    agreement_targets.off_track(sel)

widgets.chart(charts.gaps(views.disagreement(reg, now), who), "overview-gaps", sel, None,
              f"How far apart {who} are")
widgets.review_pack_button(sel)
