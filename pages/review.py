"""Review meeting: what changed since the previous review, and the notes, decisions and actions per KPI."""

from __future__ import annotations

import polars as pl
import streamlit as st

from decisions import review
from reports import safe_text
from store.errors import TandemError
from tandem import agreement_targets, agreement_ui, auth, scenarios_ui, selection, service, widgets

st.title("Review meeting")
sel = selection.filter_bar()
reg = service.reg()
now = sel.values()
today = service.today()
last = review.baseline(sel.db, today)  # the previous review: today's own starting point compares with itself
held = review.started_on(sel.db, today)
writer = auth.can("review")  # a viewer reads the meeting; starting it and its items need the editor role
NOT_WRITER = ("You can read the meeting's notes, decisions and actions; starting a review and adding or closing "
              "items needs the editor role (ask your Tandem admin).")


def start_review() -> None:
    if (held := review.started_on(sel.db, service.today())) is not None:  # one review a day: its starting point stays
        st.session_state["review_said"] = ("info", f"Today's review was already started at {held['started_at']:%H:%M} "
                                                   f"(on {held['period']}): its starting point stays as it was.")
        return
    try:
        service.run_write(sel.db, lambda con: review.start(con, service.today(), sel.span.label, now,
                                                           by=auth.current_user()))
        st.session_state["review_said"] = ("success", f"Review started: the values of {sel.span.label} are its "
                                                      "starting point; the next review sees what moved since.")
    except TandemError as exc:
        st.session_state["review_said"] = ("error", exc.message)


if held is not None:
    st.caption(f"Today's review started at {held['started_at']:%H:%M} on {held['period']}; it compares with the review "
               "before it.")
if last is None:
    st.info("No review before today. Starting one remembers today's KPI values, so the next review sees what moved.")
else:
    st.subheader(f"Since the previous review ({last['held_on']}, on {last['period']})", anchor=False)
    loads, findings = review.changes(sel.db, last["review_id"])
    st.markdown("**KPIs that moved most**")
    widgets.moved(review.moved(sel.db, last["review_id"], now), sel.currency)
    st.markdown(f"**New loads** ({loads.height})")
    widgets.table(loads)
    st.markdown(f"**New data-quality findings** ({findings.height})")
    widgets.table(findings)
    agreement_targets.review_changes(sel, last["review_id"])  # joint targets whose status moved
if not writer:
    st.caption(NOT_WRITER)
elif held is None:
    st.button("Start this week's review", on_click=start_review, type="primary", icon=":material/play_arrow:",
              help=f"Remember the values of {sel.span.label} with the current filters as this review's starting point")
if said := st.session_state.pop("review_said", None):
    getattr(st, said[0])(said[1])
    if said[0] != "error":
        st.toast(said[1], icon=":material/check_circle:")

st.subheader("Notes, decisions and actions", anchor=False)
if writer:
    # The text stays in the form until the write succeeded (a refused or failed write keeps what was typed).
    with st.form("add_item", clear_on_submit=False, border=True):
        c1, c2 = st.columns(2)
        kpi = c1.selectbox("KPI", reg.names, format_func=lambda n: reg[n].label, key="item_kpi")
        # A radio, nothing chosen: a segmented control pre-set to "action" unset itself on a click and saved a note.
        kind = c2.radio("Kind", review.KINDS, index=None, horizontal=True, format_func=str.capitalize, key="item_kind",
                        help="An action needs an owner and a due date")
        text = st.text_area("Text", max_chars=2000, key="item_text")
        c3, c4 = st.columns(2)
        owner = c3.text_input("Owner (required for an action)", max_chars=100, key="item_owner")
        due = c4.date_input("Due (required for an action)", value=None, key="item_due")
        if st.form_submit_button("Add", icon=":material/add:"):
            if problem := review.item_problem(kind, text, owner, due):
                st.error(problem[0].upper() + problem[1:] + ("." if not problem.endswith(".") else ""))
            else:
                try:
                    service.run_write(sel.db, lambda con: review.add_item(
                        con, review.current(con, service.today(), sel.span.label, now, by=auth.current_user()), kpi,
                        kind, text, owner, due, by=auth.current_user()))
                    for key in ("item_text", "item_owner", "item_due", "item_kind"):  # written: the form is cleared
                        st.session_state.pop(key, None)
                    st.session_state["review_item_said"] = (f"Saved as {'an' if kind == 'action' else 'a'} {kind} "
                                                            f"on {reg[kpi].label}.")
                    st.rerun()
                except (ValueError, TandemError) as exc:
                    st.error(getattr(exc, "message", str(exc)))
    if said := st.session_state.pop("review_item_said", None):
        st.success(said)
        st.toast(said, icon=":material/check_circle:")

labels = {k.name: k.label for k in reg}


def named_items(items: pl.DataFrame) -> pl.DataFrame:
    """Items as people read them: the KPI's name, the kind capitalised, columns in words, the text last (a long
    one runs on; the short columns stay in view at 1024 px); open items are all open, so no status column."""
    if not items.height:
        return items
    heads = {"item_id": "#", "kpi": "KPI", "kind": "Kind", "due_date": "Due", "owner": "Owner", "review": "Raised",
             "closed_at": "Closed", "text": "Text"}
    return items.with_columns(pl.col("kpi").replace_strict(labels, default=pl.col("kpi")),
                              pl.col("kind").str.to_titlecase()).select(
        [pl.col(c).alias(h) for c, h in heads.items() if c in items.columns])


items = review.open_items(sel.db)
st.markdown(f"**Open items, carried over until closed** ({items.height})")
widgets.table(named_items(items))
if items.height and writer:
    c1, c2 = st.columns([5, 2], vertical_alignment="bottom")
    item = c1.selectbox("Close an item", items["item_id"].to_list(), key="close_item",
                        format_func=lambda i: f"#{i} {labels.get(items.filter(items['item_id'] == i)['kpi'][0], '')}: "
                                              f"{safe_text.visible(items.filter(items['item_id'] == i)['text'][0][:80])}")
    if c2.button("Close it", icon=":material/check:"):
        service.run_write(sel.db, lambda con: review.close_item(con, item, by=auth.current_user()))
        st.rerun()
closed = review.closed_items(sel.db)
with st.expander(f"Closed items, the history ({closed.height})", icon=":material/history:"):
    widgets.table(named_items(closed))
agreement_ui.open_from_review(items)  # an item on the Agreements page, with its KPI chosen and the item shown
scenarios_ui.listed(sel)  # payment-terms scenarios saved for the meeting
widgets.review_pack_button(sel)
