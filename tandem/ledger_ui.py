"""The Savings pipeline page's parts (pages/savings_pipeline.py): the ledger's cards, the evaporation bridge with
the lines behind each step, the initiatives (nominal beside index-adjusted) and one initiative's story, the
monthly forecast, the forms that record an initiative, move it and book it, and the ledger's audit log. Numbers
are read through tandem/service.py; every write goes through decisions/ledger.py (workspace/ledger.py checks a
recorded initiative with the export's rules)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import streamlit as st

from decisions import audit, ledger
from kpi_definitions import views
from kpi_definitions.compute import BridgeResult
from kpi_definitions.periods import month_label
from kpi_definitions.registry import Kpi
from reports import exports, formats, safe_text
from reports import ledger as report
from reports.scope import Scope
from store.db import reading
from store.errors import TandemError
from tandem import auth, click, service, widgets
from tandem.auth import Identity

KPI = "savings_ledger"
STEP_OF_LINE = {"price_not_applied": "price_not_applied", "volume": "volume", "off_contract": "off_contract",
                "fx_scope": "fx_scope", "realised": "realised"}  # a bridge bar whose lines can be listed
SAID, ERROR = "ledger_done", "ledger_error"


def kpi() -> Kpi:
    return service.reg()[KPI]


def messages() -> None:
    if done := st.session_state.pop(SAID, None):
        st.success(done)
    if error := st.session_state.pop(ERROR, None):
        st.error(error)


def _write(db: Path, fn, done: str) -> None:  # noqa: ANN001 - a function of the write connection
    try:
        service.run_write(db, fn)
        st.session_state[SAID] = done
    except (TandemError, auth.NotAllowed) as exc:
        st.session_state[ERROR] = exc.message
    st.rerun()


# --- cards -------------------------------------------------------------------------------------------------------


def cards(k: Kpi, sel: Scope, now: pl.DataFrame, before: pl.DataFrame) -> None:
    """Negotiated (procurement), realised (from invoice lines) and booked (finance) for the period, each with its
    change since the period before and its definition, and the share of the negotiated saving realised."""
    def realised(first: int, last: int) -> float | None:
        found = service.ledger_realised(str(sel.db), sel.ver, first, last, sel.grain, sel.key)
        return found["value"][-1] if found.height else None

    prev = sel.span.previous
    now_r, before_r = realised(sel.span.first, sel.span.last), realised(prev.first, prev.last)
    with st.container(border=True):
        with st.container(horizontal=True, gap="medium"):
            widgets.metric(k, sel, "procurement", now, before, f"Negotiated · {views.style(k, 'procurement').label}",
                           help=k.views["procurement"].definition, width="content")
            change = now_r - before_r if now_r is not None and before_r is not None else None
            st.metric(":gray[■] Realised · from invoice lines", formats.value(now_r, "currency", sel.currency),
                      formats.signed(change, "currency", sel.currency) if change is not None else None,
                      delta_color="off", delta_arrow="off" if not change else "up" if change > 0 else "down",
                      delta_description=f"vs {prev.label}" if change is not None else None, width="content",
                      help="Computed from invoice lines, never typed: on the lines under each counted initiative's "
                           "contract in its window, (baseline price − price paid) × quantity invoiced.")
            widgets.metric(k, sel, "finance", now, before, f"Booked · {views.style(k, 'finance').label}",
                           help=k.views["finance"].definition, width="content")
            negotiated = views.value_of(now, k.name, "procurement")
            rate = now_r / negotiated if negotiated and now_r is not None else None
            st.metric("Realised ÷ negotiated", formats.value(rate, "ratio"), width="content",
                      help="The share of the negotiated saving of the period that shows in the invoice lines.")
        widgets.gap_lines(k, now, sel.currency)
        widgets.ignored(k, now)


# --- the bridge ----------------------------------------------------------------------------------------------------


def bridge_section(k: Kpi, sel: Scope) -> None:
    """Where the negotiated saving evaporated on the way to the books, step by step, each step's lines a click
    away (the table's rows, or the chart's bars)."""
    st.subheader("Where the savings evaporate", anchor=False)
    b = service.bridge_of(str(sel.db), sel.ver, k.name, sel.span.first, sel.span.last, sel.key)
    if b.reason:
        st.info(f"No bridge for {sel.span.label}: {b.reason}.")
        return
    st.caption("Negotiated → price not applied → volume → bought off contract → FX and scope → realised → booked. "
               "Select a bar or a row for the invoice lines behind it.")
    picked = widgets.chart(report.waterfall(k, b, f"Savings ledger, {sel.span.label}: from negotiated to booked",
                                            sel.currency), "ledger-bridge", sel, k, "Savings ledger: bridge",
                           select=True)
    steps = _steps_table(k, b)
    event = widgets.table(steps.drop("step"), {"Amount": "currency"}, sel.currency, key="ledger-steps",
                          on_select="rerun")
    widgets.table_downloads(steps.drop("step"), f"savings-ledger-bridge-{sel.span.label}", "ledger-bridge",
                            widgets.stamp_lines(sel, k, "Savings ledger: bridge"), {"Amount": "currency"},
                            sel.currency)
    labels = dict(zip(steps["step"], steps["Step"], strict=True))
    named = st.selectbox("Lines behind a step", [None, *labels], format_func=lambda s: labels.get(s, "(pick a step)"),
                         key="ledger_step_lines", help="The same as selecting its bar or its row")
    chosen = click.chart_pick(picked) or named
    if (row := click.row_pick(event, steps, ("step",))) is not None:
        chosen = row[0]
    st.markdown("\n".join(f"- **{widgets.plain(label)}**: {widgets.plain(what)}"
                          for label, _, what in b.listed()))
    if chosen is not None:
        step_lines_panel(sel, chosen, None)


def _steps_table(k: Kpi, b: BridgeResult) -> pl.DataFrame:
    rows = report.bars(k, b)
    return rows.select("step", pl.col("label").alias("Step"), pl.col("amount").alias("Amount"))


def step_lines_panel(sel: Scope, step: str, initiative: str | None) -> None:
    """The invoice lines behind one step (or behind realised), each with what it adds to every step."""
    with st.container(border=True):
        if step == "not_booked" or step == "booked":
            st.markdown(f"**Booked months** · {sel.span.label}")
            st.caption("What finance booked, refused or corrected: the Booked view's entries. A month not booked "
                       "yet shows no entry.")
            found = sel.lines(KPI, "finance")
            if initiative is not None and found.height:
                found = found.filter(pl.col("initiative_id") == initiative)
            widgets.table(found.rename({c: formats.header(c) for c in found.columns}), height=300)
            return
        if step == "negotiated":
            st.markdown(f"**Negotiated, month by month** · {sel.span.label}")
            found = sel.lines(KPI, "procurement")
            if initiative is not None and found.height:
                found = found.filter(pl.col("initiative_id") == initiative)
            widgets.table(found.rename({c: formats.header(c) for c in found.columns}), height=300)
            return
        what = {"fx": "fx_scope", "market_index": "fx_scope", "scope": "fx_scope"}.get(step, step)
        found = service.ledger_lines(str(sel.db), sel.ver, sel.span.first, sel.span.last, sel.key, initiative,
                                     STEP_OF_LINE.get(what))
        assert kpi().bridge is not None
        label = (kpi().bridge.labels | {"realised": "Realised (the lines on contract)"}).get(what, what)  # type: ignore[union-attr]
        st.markdown(f"**Lines behind {widgets.plain(label)}** · {found.height:,} lines · {sel.span.label}"
                    + (f" · initiative {widgets.plain(safe_text.visible(initiative))}" if initiative else ""))
        if what == "volume":
            st.caption("Volume compares every unit bought in the initiative's scope (on contract, off contract, and "
                       "what lines without a quantity bought at the new price) with the forecast quantity of the "
                       "days counted: the lines show the units bought, valued at the saving per unit.")
        widgets.table(found.rename({c: formats.header(c) for c in found.columns}), height=320)
        widgets.table_downloads(found, f"savings-ledger-{what}-lines-{sel.span.label}", f"ledger-lines-{what}",
                                widgets.stamp_lines(sel, kpi(), f"Savings ledger: lines behind {label}"),
                                currency=sel.currency)


# --- initiatives -----------------------------------------------------------------------------------------------------

BREAKDOWN = {"initiative_id": "Initiative", "category": "Category", "supplier_id": "Supplier"}


def initiatives_section(k: Kpi, sel: Scope) -> str | None:
    """Each initiative of the period: the bridge's steps, realised nominal beside index-adjusted, booked; by category
    or supplier too. Returns the initiative picked (a row selected), for its story below."""
    st.subheader("Initiatives", anchor=False)
    rows = service.ledger_by_initiative(str(sel.db), sel.ver, sel.span.first, sel.span.last, sel.key)
    if not rows.height:
        st.info(f"No initiative at stage negotiated or later has a savings window in {sel.span.label}: record one "
                "below, or load a savings_initiatives export on the Data page.")
        return None
    by = st.radio("Split by", list(BREAKDOWN), format_func=BREAKDOWN.get, horizontal=True, key="ledger_by")
    money = {c: "currency" for c in report.MONEY if c in report.INITIATIVE_COLUMNS}
    if by == "initiative_id":
        table = report.initiatives_table(rows)
        units = {report.INITIATIVE_COLUMNS[c]: u for c, u in money.items()} | {"Realised ÷ negotiated": "ratio"}
        st.caption("Realised is computed from invoice lines under each initiative's contract. Beside it, realised "
                   "against a baseline moved with the market index its category follows (no index: the same); "
                   "a negative index-adjusted saving means the market fell more than the price. Select a row for "
                   "the initiative's bridge, lines and history.")
        event = widgets.table(table, units, sel.currency, key="ledger-initiatives", on_select="rerun")
        widgets.table_downloads(table, f"savings-ledger-initiatives-{sel.span.label}", "ledger-initiatives",
                                widgets.stamp_lines(sel, k, "Savings ledger by initiative"), units, sel.currency)
        picked = click.row_pick(event, table, ("Initiative",))
        return picked[0] if picked else None
    measures = ["negotiated", "price_not_applied", "volume", "off_contract", "fx_scope", "realised",
                "realised_indexed", "booked", "not_booked"]
    grouped = (rows.group_by(by, maintain_order=True).agg(pl.col(measures).sum())
               .sort("negotiated", descending=True, nulls_last=True)
               .rename({by: BREAKDOWN[by]} | {m: report.INITIATIVE_COLUMNS.get(m, m) for m in measures}))
    grouped = grouped.rename({"Realised (as declared)": "Realised"})
    units = {c: "currency" for c in grouped.columns if c != BREAKDOWN[by]}
    widgets.table(grouped, units, sel.currency)
    widgets.table_downloads(grouped, f"savings-ledger-by-{by}-{sel.span.label}", f"ledger-by-{by}",
                            widgets.stamp_lines(sel, k, f"Savings ledger by {BREAKDOWN[by].lower()}"), units,
                            sel.currency)
    return None


def initiative_story(k: Kpi, sel: Scope, initiative: str) -> None:
    """One initiative: its own bridge (from its row), the lines under it, its versions, moves and bookings."""
    rows = service.ledger_by_initiative(str(sel.db), sel.ver, sel.span.first, sel.span.last, sel.key)
    mine = rows.filter(pl.col("initiative_id") == initiative)
    if not mine.height:
        return
    r = mine.row(0, named=True)
    with st.container(border=True):
        st.markdown(f"**{widgets.plain(safe_text.visible(initiative))} · {widgets.plain(safe_text.visible(r['name']))}**"
                    f" · {r['stage']} · baseline {r['baseline_method'].replace('_', ' ')}")
        assert k.bridge is not None
        from kpi_definitions.compute import BridgeStep

        steps = tuple(BridgeStep(s.name, s.label, s.description, float(r[s.name] or 0.0),
                                 tuple(BridgeStep(p.name, p.label, p.description, float(r[p.name] or 0.0))
                                       for p in s.parts)) for s in k.bridge.steps)
        b = BridgeResult(k.name, k.bridge.from_view, k.bridge.to_view, r["negotiated"], r["booked"], steps)
        widgets.chart(report.waterfall(k, b, f"{safe_text.label(r['name'])}: from negotiated to booked", sel.currency),
                      f"ledger-bridge-{initiative}", sel, k, f"Savings ledger: {safe_text.label(r['name'])}")
        step_lines_panel(sel, "realised", initiative)
        history = service.ledger_history(str(sel.db), sel.ver, initiative)
        st.markdown("**Versions of its terms** (the baseline method is what finance disputes most)")
        widgets.table(history["versions"].select(
            "version", "baseline_method", "baseline_price", "new_price", "forecast_quantity", "currency",
            "window_start", "window_end", "contract_id", "source", "recorded_by", "recorded_team", "recorded_at",
            "reason"))
        st.markdown("**Stage moves**")
        widgets.table(history["moves"].select("from_stage", "to_stage", "moved_name", "moved_team", "moved_at",
                                              "reason"))
        st.markdown("**Booked months**")
        booked = history["bookings"]
        if booked.height:
            widgets.table(booked.select(pl.col("period").dt.strftime("%Y-%m").alias("month"), "kind", "amount",
                                        "lines", "corrects", "booked_name", "booked_team", "booked_at", "reason"),
                          {"amount": "currency"}, sel.currency)
        else:
            st.caption("Nothing booked yet.")


# --- the forecast ---------------------------------------------------------------------------------------------------

FORECAST_AHEAD = 12  # months after the data's last


def forecast_section(sel: Scope) -> None:
    """The pipeline's prorated savings by month next to the spend budget and the joint targets; the initiatives
    with their realisation rate; what is at risk."""
    st.subheader("Savings forecast", anchor=False)
    span = service.months(str(sel.db), sel.ver)
    if span is None:
        return
    first, last = span[1] - 11, span[1] + FORECAST_AHEAD
    frame = service.ledger_forecast(str(sel.db), sel.ver, first, last, span[1], sel.key)
    st.caption(f"{month_label(first)} to {month_label(last)}: realised up to {month_label(span[1])} (the latest "
               "month with invoices), then what each initiative is expected to bring: its prorated saving × its "
               "realisation rate so far (at most 100 %; contracted or later). At risk: the rest of the prorated "
               "saving, all of it for a deal not contracted yet, and realised months finance refused. Identified "
               "initiatives are pipeline only.")
    widgets.chart(report.forecast_chart(frame, sel.currency), "ledger-forecast", sel, kpi(), "Savings forecast")
    table = report.forecast_table(frame)
    units = {c: "currency" for c in table.columns if c not in ("Month", "Expected ÷ budget")} | {
        "Expected ÷ budget": "ratio"}
    widgets.table(table, units, sel.currency, height=300)
    widgets.table_downloads(table, f"savings-forecast-{month_label(first)}-{month_label(last)}", "ledger-forecast",
                            widgets.stamp_lines(sel, kpi(), "Savings forecast by month"), units, sel.currency)
    targets = service.ledger_targets(str(sel.db), sel.ver)
    if targets.height:
        st.markdown("**Joint targets on the savings ledger**")
        widgets.table(targets.select("period", "view", "slice_dim", "slice_value", "target", "actual", "forecast",
                                     "status"), {"target": "currency", "actual": "currency", "forecast": "currency"},
                      sel.currency)
    plan = service.ledger_pipeline(str(sel.db), sel.ver, first, last, span[1], sel.key)
    st.markdown("**Initiatives: realisation and risk**")
    shown = plan.select(pl.col("initiative_id").alias("Initiative"), pl.col("name").alias("Name"),
                        pl.col("stage").alias("Stage"), pl.col("prorated_to_date").alias("Negotiated to date"),
                        pl.col("realised").alias("Realised"), pl.col("rate").alias("Realisation rate"),
                        pl.col("booked").alias("Booked"), pl.col("prorated_after").alias("Negotiated to come"),
                        pl.col("expected").alias("Expected"), pl.col("at_risk").alias("At risk"),
                        pl.col("risk").alias("Why"))
    units = {c: "currency" for c in shown.columns if shown.schema[c].is_numeric()} | {"Realisation rate": "ratio"}
    widgets.table(shown, units, sel.currency)


# --- recording and deciding -------------------------------------------------------------------------------------------


def _initiatives(db: Path) -> pl.DataFrame:
    return service.ledger_initiatives(str(db), service.version(db))


def record_form(db: Path, me: Identity) -> None:
    """Record an initiative (or a new version of its terms): each field in its unit, checked with the export's rules;
    a refusal says which field and why, and the form keeps what was typed."""
    from workspace import ledger as workspace_ledger

    st.markdown("**Record an initiative** (a new id records one; an existing id records a new version of its terms)")
    with st.form("ledger_record", border=True):
        c1, c2, c3 = st.columns(3)
        iid = c1.text_input("Initiative id", max_chars=60, key="ledger_f_id")
        name = c2.text_input("Name", max_chars=200, key="ledger_f_name")
        owner = c3.text_input("Owner (e-mail)", max_chars=200, key="ledger_f_owner", value=me.email)
        c1, c2, c3 = st.columns(3)
        supplier = c1.text_input("Supplier id", max_chars=60, key="ledger_f_supplier")
        category = c2.text_input("Category", max_chars=100, key="ledger_f_category")
        contract = c3.text_input("Contract id (once signed)", max_chars=60, key="ledger_f_contract")
        c1, c2, c3 = st.columns(3)
        kind = c1.selectbox("Type", ("reduction", "avoidance", "process"), key="ledger_f_type")
        method = c2.selectbox("Baseline method", ("last_price", "contract", "bid", "index_adjusted"),
                              key="ledger_f_method", format_func=lambda m: m.replace("_", " "),
                              help="How the baseline price was set: the last price paid, the old contract's, a bid, "
                                   "or one that moves with the category's market index")
        currency = c3.text_input("Currency", value=service.cfg().reporting_currency, max_chars=3, key="ledger_f_ccy")
        c1, c2, c3 = st.columns(3)
        baseline = c1.text_input("Baseline price (per unit, in the currency)", key="ledger_f_baseline")
        new = c2.text_input("New price (per unit, in the currency)", key="ledger_f_new")
        qty = c3.text_input("Forecast quantity (units over the whole window)", key="ledger_f_qty")
        c1, c2, c3 = st.columns(3)
        start = c1.date_input("Savings window from", value=None, key="ledger_f_start")
        end = c2.date_input("to (at most its first 365 days count)", value=None, key="ledger_f_end")
        reason = c3.text_input("Why (kept with the version)", max_chars=500, key="ledger_f_reason")
        submitted = st.form_submit_button("Record", type="primary", icon=":material/add_task:")
    if submitted:
        fields = {"initiative_id": iid.strip(), "name": name, "category": category.strip(),
                  "supplier_id": supplier.strip(), "contract_id": contract.strip(), "item_id": "", "type": kind,
                  "baseline_method": method, "baseline_price": baseline, "new_price": new, "forecast_quantity": qty,
                  "currency": currency.strip(), "window_start": start or "", "window_end": end or "",
                  "owner": owner.strip()}
        _write(db, lambda con: workspace_ledger.record(con, fields, me, reason),
               f"Recorded initiative {safe_text.visible(iid.strip())}: it starts at identified.")


def move_form(db: Path, me: Identity) -> None:
    """Move an initiative to another stage, with why."""
    found = _initiatives(db)
    if not found.height:
        return
    labels = {r["initiative_id"]: safe_text.label(f"{r['initiative_id']} · {r['name']} ({r['stage']})")
              for r in found.iter_rows(named=True)}
    st.markdown("**Move an initiative** (who, when and why go to the audit log; realised needs its evidence)")
    with st.form("ledger_move", border=True):
        c1, c2 = st.columns([3, 1])
        iid = c1.selectbox("Initiative", list(labels), format_func=labels.get, key="ledger_m_id")
        stage = c2.selectbox("To stage", [s for s in ledger.STAGES if s != "booked"], key="ledger_m_stage")
        reason = st.text_input("Why", max_chars=500, key="ledger_m_reason")
        submitted = st.form_submit_button("Move", icon=":material/arrow_forward:")
    if submitted:
        reg = service.reg()
        _write(db, lambda con: ledger.move(con, reg, iid, stage, reason, me),
               f"Moved {safe_text.visible(iid)} to {stage}.")


def finance_form(db: Path, me: Identity, sel: Scope) -> None:
    """Finance books, refuses or corrects a month of a realised initiative (never one it recorded)."""
    found = _initiatives(db)
    if not found.height:
        return
    realised = found.filter(pl.col("stage").is_in(["realised", "booked"]))
    st.markdown("**Book a month** (finance; never whoever recorded the initiative). A booked month is frozen with "
                "its lines; a correction is a new entry.")
    if not realised.height:
        st.caption("No initiative is realised yet: move one to realised once its evidence is in.")
        return
    labels = {r["initiative_id"]: safe_text.label(f"{r['initiative_id']} · {r['name']} ({r['stage']})")
              for r in realised.iter_rows(named=True)}
    span = service.months(str(db), service.version(db))
    last = span[1] if span else sel.span.last
    with st.form("ledger_book", border=True):
        c1, c2, c3 = st.columns([3, 1, 1])
        iid = c1.selectbox("Initiative", list(labels), format_func=labels.get, key="ledger_b_id")
        months = [month_label(m) for m in range(last, last - 24, -1)]
        month = c2.selectbox("Month", months, key="ledger_b_month")
        action = c3.radio("Decision", ("book", "refuse", "correct"), key="ledger_b_action",
                          format_func=str.capitalize)
        c1, c2 = st.columns([1, 3])
        amount = c1.text_input("Corrected total (correct only)", key="ledger_b_amount")
        reason = c2.text_input("Why (required to refuse or correct)", max_chars=500, key="ledger_b_reason")
        submitted = st.form_submit_button("Record the decision", type="primary", icon=":material/verified:")
    if submitted:
        reg = service.reg()
        if action == "book":
            _write(db, lambda con: ledger.book(con, reg, iid, month, me, reason),
                   f"Booked {month} of {safe_text.visible(iid)}: its lines are frozen with it.")
        elif action == "refuse":
            _write(db, lambda con: ledger.refuse(con, reg, iid, month, reason, me),
                   f"Refused {month} of {safe_text.visible(iid)}.")
        else:
            _write(db, lambda con: ledger.correct(con, reg, iid, month, amount, reason, me),
                   f"Corrected {month} of {safe_text.visible(iid)}: a new entry.")


def audit_section(db: Path) -> None:
    """Every step of the ledger, oldest first, with the record before and after (append-only)."""
    st.subheader("Ledger log", anchor=False)
    st.caption("Append-only: every initiative recorded or changed (from the form or an export), every stage move, "
               "booking, refusal and correction, with who, when and the record before and after. Records made "
               "without login are marked unverified.")
    with reading(db) as con:
        log = audit.entries(con, entity_type=ledger.ENTITY)
    if not log.height:
        st.info("Nothing recorded yet.")
        return
    shown = audit.export_frame(log.sort("entry_id", descending=True))
    widgets.table(shown, height=320)
    row = st.container(horizontal=True)
    row.download_button("CSV", data=lambda: exports.to_csv(shown), file_name="tandem-savings-ledger-log.csv",
                        mime="text/csv", on_click="ignore", key="csv-ledger-log", icon=":material/download:")


# --- for the review page ------------------------------------------------------------------------------------------------


def moved_this_week(db: Path, days: int = 7) -> None:
    """The review page's "moved this week": initiatives that changed stage in the last `days` days."""
    since = datetime.combine(date.today() - timedelta(days=days), datetime.min.time())
    moved = service.ledger_moved_since(str(db), service.version(db), since)
    st.markdown(f"**Savings initiatives that moved this week** ({moved.height})")
    if moved.height:
        widgets.table(moved.select("initiative_id", "name", "from_stage", "to_stage", "moved_by", "moved_team",
                                   "moved_at", "reason"))
