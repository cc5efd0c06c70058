"""Review meeting: what changed since the last review, and the notes, decisions and actions per KPI."""

from __future__ import annotations

import streamlit as st

from decisions import review
from reports import safe_text
from store.errors import TandemError
from tandem import agreement_targets, agreement_ui, auth, scenarios_ui, selection, service, widgets

st.title("Review meeting")
sel = selection.filter_bar()
reg = service.reg()
now = sel.values()
last = review.latest(sel.db)


def start_review() -> None:
    today = service.today()
    if (held := review.started_on(sel.db, today)) is not None:  # one review a day: its starting point stays
        st.session_state["review_said"] = ("info", f"Today's review was already started at {held['started_at']:%H:%M} "
                                                   f"(on {held['period']}): its starting point stays as it was.")
        return
    try:
        service.run_write(sel.db, lambda con: review.start(con, today, sel.span.label, now, by=auth.current_user()))
        st.session_state["review_said"] = ("success", f"Review started: the values of {sel.span.label} are its "
                                                      "starting point; the next review sees what moved since.")
    except TandemError as exc:
        st.session_state["review_said"] = ("error", exc.message)


if last is None:
    st.info("No review held yet. Starting one remembers today's KPI values, so the next review sees what moved.")
else:
    st.subheader(f"Since the last review ({last['held_on']}, on {last['period']})", anchor=False)
    loads, findings = review.changes(sel.db, last["review_id"])
    st.markdown("**KPIs that moved most**")
    widgets.moved(review.moved(sel.db, last["review_id"], now), sel.currency)
    st.markdown(f"**New loads** ({loads.height})")
    widgets.table(loads)
    st.markdown(f"**New data-quality findings** ({findings.height})")
    widgets.table(findings)
    agreement_targets.review_changes(sel, last["review_id"])  # joint targets whose status moved
st.button("Start this week's review", on_click=start_review, type="primary", icon=":material/play_arrow:",
          help=f"Remember the values of {sel.span.label} with the current filters as this review's starting point")
if said := st.session_state.pop("review_said", None):
    getattr(st, said[0])(said[1])

st.subheader("Notes, decisions and actions", anchor=False)
with st.form("add_item", clear_on_submit=True, border=True):
    c1, c2 = st.columns(2)
    kpi = c1.selectbox("KPI", reg.names, format_func=lambda n: reg[n].label)
    # A radio, nothing chosen: a segmented control pre-set to "action" unset itself on a click and saved a note.
    kind = c2.radio("Kind", review.KINDS, index=None, horizontal=True, format_func=str.capitalize,
                    help="An action needs an owner and a due date")
    text = st.text_area("Text", max_chars=2000)
    c3, c4 = st.columns(2)
    owner = c3.text_input("Owner (required for an action)", max_chars=100)
    due = c4.date_input("Due (required for an action)", value=None)
    if st.form_submit_button("Add", icon=":material/add:"):
        if problem := review.item_problem(kind, text, owner, due):
            st.error(problem[0].upper() + problem[1:] + ("." if not problem.endswith(".") else ""))
        else:
            try:
                service.run_write(sel.db, lambda con: review.add_item(
                    con, review.current(con, service.today(), sel.span.label, now, by=auth.current_user()), kpi, kind,
                    text, owner, due, by=auth.current_user()))
                st.success(f"Saved as {'an' if kind == 'action' else 'a'} {kind}.")
            except (ValueError, TandemError) as exc:
                st.error(getattr(exc, "message", str(exc)))

items = review.open_items(sel.db)
st.markdown(f"**Open items, carried over until closed** ({items.height})")
widgets.table(items)
if items.height:
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    item = c1.selectbox("Close an item", items["item_id"].to_list(), key="close_item",
                        format_func=lambda i: f"#{i}: {safe_text.visible(items.filter(items['item_id'] == i)['text'][0][:80])}")
    if c2.button("Close it", icon=":material/check:"):
        service.run_write(sel.db, lambda con: review.close_item(con, item, by=auth.current_user()))
        st.rerun()
closed = review.closed_items(sel.db)
with st.expander(f"Closed items, the history ({closed.height})", icon=":material/history:"):
    widgets.table(closed)
agreement_ui.open_from_review(items)  # an item's proposal or target on the Agreements page
scenarios_ui.listed(sel)  # payment-terms scenarios saved for the meeting
widgets.review_pack_button(sel)
