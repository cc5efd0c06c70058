"""Review meeting: what changed since the last review, and the notes, decisions and actions per KPI."""

from __future__ import annotations

import streamlit as st

from store.errors import TandemError
from tandem import agreement_targets, agreement_ui, review, safe_text, scenarios_ui, selection, service, widgets

st.title("Review meeting")
sel = selection.filter_bar()
reg = service.reg()
now = sel.values()
last = review.latest(sel.db)


def start_review() -> None:
    try:
        service.run_write(sel.db, lambda con: review.start(con, service.today(), sel.span.label, now))
    except TandemError as exc:
        st.session_state["review_error"] = exc.message


if last is None:
    st.info("No review held yet. Starting one remembers today's KPI values, so the next review sees what moved.")
else:
    st.subheader(f"Since the last review ({last['held_on']}, on {last['period']})", anchor=False)
    loads, findings = review.changes(sel.db, last["review_id"])
    st.markdown("**KPIs that moved most**")
    widgets.table(widgets.moved_table(review.moved(sel.db, last["review_id"], now), sel.currency))
    st.markdown(f"**New loads** ({loads.height})")
    widgets.table(loads)
    st.markdown(f"**New data-quality findings** ({findings.height})")
    widgets.table(findings)
    agreement_targets.review_changes(sel, last["review_id"])  # joint targets whose status moved
st.button("Start this week's review", on_click=start_review, type="primary", icon=":material/play_arrow:",
          help=f"Remember the values of {sel.span.label} with the current filters as this review's starting point")
if error := st.session_state.pop("review_error", None):
    st.error(error)

st.subheader("Notes, decisions and actions", anchor=False)
with st.form("add_item", clear_on_submit=True, border=True):
    c1, c2 = st.columns(2)
    kpi = c1.selectbox("KPI", reg.names, format_func=lambda n: reg[n].label)
    kind = c2.segmented_control("Kind", review.KINDS, default="action", format_func=str.capitalize)
    text = st.text_area("Text", max_chars=2000)
    c3, c4 = st.columns(2)
    owner = c3.text_input("Owner (actions)", max_chars=100)
    due = c4.date_input("Due (actions)", value=None)
    if st.form_submit_button("Add", icon=":material/add:"):
        try:
            service.run_write(sel.db, lambda con: review.add_item(
                con, review.current(con, service.today(), sel.span.label, now), kpi, kind or "note", text, owner, due))
            st.success("Saved.")
        except (ValueError, TandemError) as exc:
            st.error(getattr(exc, "message", str(exc)))

items = review.open_items(sel.db)
st.markdown(f"**Open items, carried over until closed** ({items.height})")
widgets.table(items)
if items.height:
    c1, c2 = st.columns([3, 1])
    item = c1.selectbox("Close an item", items["item_id"].to_list(), key="close_item",
                        format_func=lambda i: f"#{i}: {safe_text.visible(items.filter(items['item_id'] == i)['text'][0][:80])}")
    if c2.button("Close it", icon=":material/check:"):
        service.run_write(sel.db, lambda con: review.close_item(con, item))
        st.rerun()
agreement_ui.open_from_review(items)  # an item's proposal or target on the Agreements page
scenarios_ui.listed(sel)  # payment-terms scenarios saved for the meeting
widgets.review_pack_button(sel)
