"""The Budgets and approvals page's building blocks: a KPI's views side by side with their definitions, the "before
I buy" form, where the budget goes, the bridge, funds by cost center and category, the approval flow, the waiting
list and a document's lines and event timeline. They draw with tandem/widgets.py and read through tandem/service.py;
every number comes from the KPI layer."""

from __future__ import annotations

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from kpi_definitions import views
from kpi_definitions.approvals import DOCUMENT_TYPES, FLOW_DIMENSIONS
from kpi_definitions.registry import Kpi
from reports import budgets as report
from reports import charts, formats
from reports.scope import Scope
from store.errors import TandemError
from tandem import click, service, widgets
from tandem.kpi_page import DIM_LABELS

DAYS = {c: "days" for c in report.DAYS_COLUMNS}


def views_side_by_side(kpi: Kpi, sel: Scope, now: pl.DataFrame, before: pl.DataFrame) -> None:
    """Each view's number with its definition right beside the other's, then the gap in words."""
    for col, (name, view) in zip(st.columns(len(kpi.views)), kpi.views.items(), strict=True):
        with col.container(border=True):
            widgets.metric(kpi, sel, name, now, before, f"{views.style(kpi, name).label} · {sel.span.label}")
            st.text(view.definition)
            st.caption(f"Owner: {view.owner} · version {view.version} · effective {formats.day(view.effective_date)}")
    widgets.gap_lines(kpi, now, sel.currency)
    widgets.ignored(kpi, now)


def before_i_buy(sel: Scope) -> None:
    """Does a request of an amount fit a cost center's and category's budget? Fits, fits only while requests wait,
    or does not fit, by how much (kpi_definitions/budgets.py check)."""
    st.subheader("Before I buy", anchor=False)
    year = service.funds(str(sel.db), sel.ver, *_year(sel), ())
    budgeted = year.filter(pl.col("budget").is_not_null())
    if not budgeted.height:
        st.info("No budget is loaded: load a budgets export to check a request against it.")
        return
    centers = sorted(budgeted["cost_center"].unique().to_list())
    with st.form("before_i_buy", border=True):
        c1, c2, c3, c4 = st.columns([1, 1.4, 1, 1.2])
        center = c1.selectbox("Cost center", centers, key="buy_center")
        categories = sorted(budgeted.filter(pl.col("cost_center") == center)["category"].to_list()) or \
            sorted(budgeted["category"].unique().to_list())
        category = c2.selectbox("Category", sorted(budgeted["category"].unique().to_list()), key="buy_category",
                                help=f"{center} has a budget for {', '.join(categories)}")
        amount = c3.number_input(f"Amount ({sel.currency})", min_value=0.0, value=25_000.0, step=1_000.0,
                                 key="buy_amount")
        horizon = c4.radio("Against", ["year", "period"], key="buy_horizon", horizontal=True,
                           format_func={"year": "to year end", "period": f"{_month(sel)} only"}.get)
        asked = st.form_submit_button("Check", icon=":material/fact_check:")
    if not asked and "buy_result" not in st.session_state:
        st.caption("A budget holder's question before raising a request: fits (even once every pending request is "
                   "approved), fits only while requests wait, or does not fit, by how much.")
        return
    if asked:
        try:
            c = service.budget_check(str(sel.db), sel.ver, center, category, float(amount), sel.span.last, horizon)
            st.session_state["buy_result"] = (c.verdict, report.verdict(c, sel.currency), c)
        except TandemError as exc:
            st.session_state["buy_result"] = ("error", exc.message, None)
    kind, sentence, c = st.session_state["buy_result"]
    {"fits": st.success, "fits_with_pending": st.warning, "does_not_fit": st.error, "error": st.info}[kind](
        sentence, icon={"fits": ":material/check_circle:", "fits_with_pending": ":material/hourglass_top:",
                        "does_not_fit": ":material/block:", "error": ":material/info:"}[kind])
    if c is not None:
        rows = pl.DataFrame([{"": f"This month ({f.label})" if f is c.period else f"To year end ({f.label})",
                              "Budget": f.budget, "Used (finance)": f.used_finance, "Pending requests": f.pending,
                              "Available (finance)": f.available_finance,
                              "Available (procurement)": f.available_procurement} for f in (c.period, c.year)])
        widgets.table(rows, {k: "currency" for k in rows.columns if k}, sel.currency)


def _year(sel: Scope) -> tuple[int, int]:
    first, last, _ = report.horizon_months(sel.span.last, "year", service.calendar())
    return first, last


def _month(sel: Scope) -> str:
    from kpi_definitions.periods import month_label

    return month_label(sel.span.last)


def buckets(kpi: Kpi, sel: Scope) -> None:
    """Where the period's budget goes, bucket by bucket, as each view counts it."""
    st.subheader("Where the budget goes", anchor=False)
    frame = report.buckets_frame(service, sel)
    title = f"What holds the budget, {sel.span.label}"
    widgets.chart(report.buckets_figure(kpi, frame, sel.currency, title), "funds-buckets", sel, kpi, title)
    table = frame.select(pl.col("label").alias("Bucket"), *(pl.col(v).alias(views.style(kpi, v).label)
                                                           for v in kpi.views))
    widgets.table(table, {views.style(kpi, v).label: "currency" for v in kpi.views}, sel.currency)
    st.caption("Each line lands in one bucket: a PO line's value is invoiced, received (not invoiced) or open; a "
               "requisition on a loaded PO line is counted as that line. Finance dates commitments by their "
               "document, procurement by their approval, and only procurement counts pending requests.")


def bridge(kpi: Kpi, sel: Scope) -> None:
    """Why the two numbers differ: the bridge's chart, its steps (a netted step followed by its parts)."""
    if kpi.bridge is None:
        return
    st.subheader("Why the two numbers differ", anchor=False)
    b = service.bridge_of(str(sel.db), sel.ver, kpi.name, sel.span.first, sel.span.last, sel.key)
    if b.reason:
        st.info(f"No bridge for {sel.span.label}: {b.reason}.")
        return
    widgets.chart(charts.waterfall(kpi, b, currency=sel.currency), f"{kpi.name}-bridge", sel, kpi,
                  f"{kpi.label}: bridge")
    rows = b.listed()
    steps = pl.DataFrame(rows, schema={"Step": pl.String, "Change": pl.Float64, "What it is": pl.String}, orient="row")
    widgets.table(steps.drop("What it is"), {"Change": kpi.unit}, sel.currency)
    st.markdown("\n".join(f"- **{widgets.plain(step)}**: {widgets.plain(what)}" for step, _, what in rows))
    if kpi.bridge.convention:
        st.caption(f"Convention: {kpi.bridge.convention}")


def funds_breakdown(kpi: Kpi, sel: Scope) -> None:
    """Funds available per cost center and category, this period and to year end, with what is pending; a row
    selected opens the lines behind it."""
    st.subheader("By cost center and category", anchor=False)
    table, period, year = report.funds_table(service, sel)
    if not table.height:
        st.info("Nothing to split for this selection.")
        return
    st.caption(f"{period} and the whole of {year}, tightest first (by procurement's funds to year end). Select a row "
               "for the lines behind it.")
    units = {c: "currency" for c, t in table.schema.items() if t.is_numeric()}
    # on screen: what is left this period and to year end, with what is pending; the files carry every column
    shown = table.drop(f"Budget {period}", "Used (finance) to year end")
    event = widgets.table(shown, units, sel.currency, key="funds-rows", on_select="rerun", height=320)
    widgets.table_downloads(table, f"funds-available-{sel.span.label}", "funds-by",
                            widgets.stamp_lines(sel, kpi, "Funds available by cost center and category"), units,
                            sel.currency)
    if (row := click.row_pick(event, table, ("Cost center", "Category"))) is not None:
        click.lines_panel(sel, kpi, ("cost_center", "category"), row, DIM_LABELS, " · ".join(row))


SPLITS = {"": "No split", **{d: DIM_LABELS[d] for d in FLOW_DIMENSIONS}}


def flow(sel: Scope) -> None:
    """Cycle time per stage (median and P90 per document), queue time per approval step and role, first-pass rate."""
    st.subheader("Approval flow", anchor=False)
    st.caption("Each document counts once (never an average over its lines); durations run between instants, so "
               "a time zone or midnight changes nothing. P90: nine documents in ten took at most this long.")
    split = st.selectbox("Split cycle times by", list(SPLITS), format_func=SPLITS.get, key="flow_by",
                         bind="query-params")
    by = (split,) if split else ()
    cycles = service.approval_cycles(str(sel.db), sel.ver, sel.span.first, sel.span.last, "year", by, sel.key)
    if not cycles.height:
        st.info(f"No document completed a stage in {sel.span.label}: load requisitions and approval events.")
    else:
        if not by:
            title = f"Cycle time per stage, {sel.span.label}"
            widgets.chart(report.cycles_figure(cycles, title), "flow-cycles", sel, None, title)
        table = report.cycles_table(cycles, by).rename({d: DIM_LABELS[d] for d in by})
        widgets.table(table, DAYS, sel.currency, height=320 if by else None)
        widgets.table_downloads(table, f"cycle-times-{sel.span.label}", "cycles", None, DAYS, sel.currency)
    queues, passes = st.columns([3, 2])
    with queues:
        st.markdown("**Where requests wait**: queue time per step and role, longest first")
        q = report.queues_table(service.approval_queues(str(sel.db), sel.ver, sel.span.first, sel.span.last, sel.key))
        widgets.table(q.drop("Total"), DAYS, sel.currency)
        widgets.table_downloads(q, f"queue-times-{sel.span.label}", "queues", None, DAYS, sel.currency)
    with passes:
        st.markdown("**First-pass approval rate**: decided with no rejection or return")
        p = report.first_pass_table(service.approval_first_pass(str(sel.db), sel.ver, sel.span.first, sel.span.last,
                                                                "year", sel.key))
        widgets.table(p, {"First-pass rate": "ratio"}, sel.currency)


def waiting(sel: Scope) -> None:
    """The documents waiting longest now; a row selected opens its lines and its event timeline."""
    st.subheader("Waiting longest now", anchor=False)
    frame = service.approval_waiting(str(sel.db), sel.ver, sel.key, 25)
    if not frame.height:
        st.info("Nothing is waiting for an approval.")
        return
    st.caption("Requests and invoices not decided yet, by how long since their last event (now: the latest event in "
               "the data). Select a row for the document and its timeline.")
    table = report.waiting_table(frame)
    event = widgets.table(table, {"Amount": "currency", "Waiting": "days"}, sel.currency, key="waiting-rows",
                          on_select="rerun", height=300)
    widgets.table_downloads(table, f"waiting-{sel.span.label}", "waiting", None,
                            {"Amount": "currency", "Waiting": "days"}, sel.currency)
    if (row := click.row_pick(event, frame, ("document_type", "document_id"))) is not None:
        document_panel(sel, row[0], row[1])


def contested(kpi: Kpi, sel: Scope, now: pl.DataFrame, before: pl.DataFrame) -> None:
    """A contested definition: both views with their rules, the bridge in words, and the invoices they count
    differently (a row selected opens the invoice and its timeline)."""
    st.subheader(kpi.label, anchor=False)
    st.text(kpi.description)
    views_side_by_side(kpi, sel, now, before)
    b = service.bridge_of(str(sel.db), sel.ver, kpi.name, sel.span.first, sel.span.last, sel.key)
    if not b.reason:
        st.text(" · ".join(f"{label}: {formats.signed(value, kpi.unit, sel.currency)}" for label, value, _ in b.listed()))
    frame = service.counted_differently(str(sel.db), sel.ver, kpi.name, sel.span.first, sel.span.last, sel.key)
    st.markdown(f"**Invoices counted differently** · {frame.height:,} in {sel.span.label}")
    if not frame.height:
        return
    table = frame.rename({c: formats.header(c) for c in frame.columns})
    event = widgets.table(table, {formats.header("amount"): "currency"}, sel.currency, key=f"{kpi.name}-differ",
                          on_select="rerun", height=260)
    widgets.table_downloads(table, f"{kpi.name}-counted-differently-{sel.span.label}", f"{kpi.name}-differ", None,
                            {formats.header("amount"): "currency"}, sel.currency)
    if (row := click.row_pick(event, frame, ("invoice_id",))) is not None:
        document_panel(sel, "invoice", row[0])


def document_panel(sel: Scope, document_type: str, document_id: str) -> None:
    """A document's lines and its approval events in time order, with the wait before each, right here."""
    lines, events = service.document_timeline(str(sel.db), sel.ver, document_type, document_id)
    with st.container(border=True):
        st.markdown(f"**{DOCUMENT_TYPES.get(document_type, document_type)} {widgets.plain(document_id)}** · "
                    f"{lines.height:,} line{'s' * (lines.height != 1)} · {events.height:,} event"
                    f"{'s' * (events.height != 1)}")
        widgets.table(lines.drop("document_type", "document_id").rename(
            {c: formats.header(c) for c in lines.columns if c not in ("document_type", "document_id")}))
        if events.height:
            shown = events.select(
                pl.col("event_at").dt.strftime("%Y-%m-%d %H:%M UTC").alias("When"), pl.col("step").alias("Step"),
                pl.col("event").alias("Event"), pl.col("actor").alias("Who"), pl.col("actor_role").alias("Role"),
                pl.col("on_behalf_of").alias("On behalf of"), (pl.col("waited_hours") / 24).alias("Waited"),
                pl.col("comment").alias("Comment"))
            widgets.table(shown, {"Waited": "days"}, sel.currency)
        else:
            st.caption("No approval events for this document.")


def overview_lines(sel: Scope) -> None:
    """The approval flow in two lines for the Overview (what is no KPI row): requisition-to-approval time and the
    documents waiting now, with the longest wait, and a link to the Budgets and approvals page."""
    cycles = service.approval_cycles(str(sel.db), sel.ver, sel.span.first, sel.span.last, "year", (), sel.key)
    waiting = service.approval_waiting(str(sel.db), sel.ver, sel.key, 1)
    said = []
    first = cycles.filter(pl.col("stage") == "requisition_to_approval")
    if first.height:
        r = first.row(0, named=True)
        said.append(f"Requisition to approval in {sel.span.label}: median {formats.days(r['median_days'])}, P90 "
                    f"{formats.days(r['p90_days'])} ({r['documents']:,} requests)")
    if waiting.height:
        w = waiting.row(0, named=True)
        said.append(f"waiting longest: {DOCUMENT_TYPES.get(w['document_type'], w['document_type']).lower()} "
                    f"{widgets.plain(w['document_id'])}, {formats.days(w['days_waiting'])} since its last event")
    if said:
        st.caption(" · ".join(said))
    label = "Budgets and approvals: funds, before I buy, where requests wait"
    try:
        st.page_link("pages/budgets.py", label=label, icon=":material/request_quote:")
    except StreamlitPageNotFoundError:  # run on its own (no navigation): the same link, as an address
        st.markdown(f"[{label}](budgets)")
