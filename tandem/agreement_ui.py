"""The Agreements page's parts (pages/agreement.py) and the agreed-definition history of the Definitions page:
who you are, the proposal form, the decisions on pending proposals, the audit log and the version history."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from decisions import agreement, audit
from kpi_definitions import targets as kpi_targets
from kpi_definitions.agreement import AgreementError
from kpi_definitions.periods import month_label
from kpi_definitions.registry import Kpi, Registry
from reports import exports, formats, safe_text
from reports.scope import Scope
from store.db import reading
from store.errors import TandemError
from tandem import auth, service, widgets
from tandem.auth import Identity

TEAM_KEY = "agreement_identity"  # the local user's stated (name, team), once per session
# A KPI opened from a review action (open_from_review): each form preselects it once, when it is drawn.
OPEN_PROPOSAL, OPEN_PENDING, OPEN_TARGET = "agreement_open_proposal", "agreement_open_pending", "agreement_open_target"


def identity() -> Identity | None:
    """The signed-in user; in local mode the name and team the user states once (records are unverified)."""
    user = auth.current_user()
    if user is not None and user.verified:
        st.caption(f"Signed in as {user.name} ({user.email}) · {user.team or 'no team'} · {user.role}")
        return user
    stated = st.session_state.get(TEAM_KEY)
    if stated:
        me = agreement.local_identity(*stated)
        c1, c2 = st.columns([4, 1])
        c1.caption(f"You: {me.name} · {me.team} · unverified (no login: every record you make is marked unverified)")
        if c2.button("Change", key="agreement_change_me"):
            del st.session_state[TEAM_KEY]
            st.rerun()
        return me
    with st.form("agreement_me", border=True):
        st.markdown("**Who are you?** Without login, state your name and team once; what you record is marked "
                    "*unverified*.")
        c1, c2 = st.columns(2)
        name = c1.text_input("Your name", max_chars=80)
        team = c2.selectbox("Your team", agreement.TEAMS, format_func=str.capitalize)
        if st.form_submit_button("Continue"):
            try:
                agreement.local_identity(name, team)
                st.session_state[TEAM_KEY] = (name, team)
                st.rerun()
            except AgreementError as exc:
                st.error(exc.message)
    return None


def _write(db: Path, fn, done: str) -> None:  # noqa: ANN001
    try:
        service.run_write(db, fn)
        st.session_state["agreement_done"] = done
    except (AgreementError, auth.NotAllowed, TandemError) as exc:
        st.session_state["agreement_error"] = exc.message
    st.rerun()


def messages() -> None:
    if done := st.session_state.pop("agreement_done", None):
        st.success(done)
    if error := st.session_state.pop("agreement_error", None):
        st.error(error)


def propose_form(db: Path, reg: Registry, me: Identity) -> None:
    """Propose an agreed definition: the bridge steps the agreed number counts, in words, from a date, and why."""
    bridged = [k.name for k in reg if k.bridge is not None]
    ver = service.version(db)
    span = service.months(str(db), ver)
    if (opened := st.session_state.pop(OPEN_PROPOSAL, None)) in bridged:  # opened from a review action
        st.session_state["agreement_kpi"] = opened
    kpi_name = st.selectbox("KPI", bridged, format_func=lambda n: reg[n].label, key="agreement_kpi")
    kpi = reg[kpi_name]
    b = kpi.bridge
    assert b is not None
    labels = b.labels  # every step, and each part of a netted step (either can be counted, not both)
    latest = None
    if span is not None:
        latest = service.bridge_of(str(db), ver, kpi_name, span[1], span[1], ())
    st.caption(f"The agreed value is the {b.from_view} value plus the bridge steps it counts: counting every step is "
               f"the {b.to_view} value, counting none is the {b.from_view} value.")
    with st.form("agreement_propose", border=True):
        chosen = st.multiselect("Bridge steps the agreed number counts", list(labels), format_func=labels.get)
        text = st.text_area("The agreed definition, in plain words", max_chars=2000)
        c1, c2 = st.columns(2)
        first = date(span[0] // 12, span[0] % 12 + 1, 1) if span else date.today()
        effective = c1.date_input("Effective from", value=first)
        reason = c2.text_input("Reason", max_chars=500)
        if st.form_submit_button("Propose", type="primary", icon=":material/handshake:"):
            _write(db, lambda con: agreement.propose(con, kpi_name, chosen, text, effective, reason, me, reg=reg),
                   f"Proposed: {kpi.label}. A member of the other team approves it on this page.")
    if latest is not None and not latest.reason and latest.start is not None:
        unit = kpi.unit
        rows = [{"Step": label, f"Amount ({month_label(span[1])})":
                 formats.signed(value, unit, service.cfg().reporting_currency)} for label, value, _ in latest.listed()]
        with st.expander(f"The bridge in {month_label(span[1])}: {b.from_view} "
                         f"{formats.value(latest.start, unit, service.cfg().reporting_currency)} → {b.to_view} "
                         f"{formats.value(latest.end, unit, service.cfg().reporting_currency)}"):
            widgets.table(pl.DataFrame(rows))


def _read(db: Path, fn):  # noqa: ANN001, ANN202
    if not db.exists():
        return None
    with reading(db) as con:
        return fn(con)


def decisions(db: Path, reg: Registry, me: Identity) -> None:
    """Pending proposals with approve, reject and withdraw; then every proposal."""
    frame = _read(db, agreement.proposals)
    if frame is None or not frame.height:
        st.info("No proposal yet.")
        return
    pending = frame.filter(pl.col("status") == "pending")
    st.markdown(f"**Pending** ({pending.height})")
    if pending.height:
        labels = {r["proposal_id"]: f"#{r['proposal_id']} {reg[r['kpi']].label if r['kpi'] in reg.kpis else r['kpi']}"
                  f" · by {r['proposed_name']} ({r['proposed_team']})" for r in pending.iter_rows(named=True)}
        opened = st.session_state.pop(OPEN_PENDING, None)
        mine = [r["proposal_id"] for r in pending.iter_rows(named=True) if r["kpi"] == opened]
        if mine:  # opened from a review action: that KPI's pending proposal
            st.session_state["agreement_pick"] = mine[0]
        pid = st.selectbox("Proposal", list(labels), format_func=labels.get, key="agreement_pick")
        with st.form("agreement_decide", border=True):
            comment = st.text_input("Comment (approval) or reason (rejection, withdrawal)", max_chars=500)
            c1, c2, c3 = st.columns(3)
            approve = c1.form_submit_button("Approve", type="primary", icon=":material/check:")
            reject = c2.form_submit_button("Reject", icon=":material/close:")
            withdraw = c3.form_submit_button("Withdraw", icon=":material/undo:")
        if approve:
            _write(db, lambda con: agreement.approve(con, pid, me, comment), f"Approved proposal {pid}.")
        elif reject:
            _write(db, lambda con: agreement.reject(con, pid, comment, me), f"Rejected proposal {pid}.")
        elif withdraw:
            _write(db, lambda con: agreement.withdraw(con, pid, me, comment), f"Withdrew proposal {pid}.")
    st.markdown("**Every proposal**")
    def steps_in_words(row: dict) -> str:
        kpi = reg.kpis.get(row["kpi"])
        names = kpi.bridge.labels if kpi and kpi.bridge else {}
        return ", ".join(names.get(c, c) for c in json.loads(row["counts"])) or "no step"

    frame = frame.with_columns(pl.struct("kpi", "counts").map_elements(steps_in_words, return_dtype=pl.String)
                               .alias("counts"))
    shown = frame.select(
        pl.col("proposal_id").alias("#"), "kpi", "status", "version", pl.col("counts").alias("counts steps"),
        "definition", "effective_date", "reason", pl.col("proposed_name").alias("proposed by"),
        pl.col("proposed_team").alias("team"),
        pl.when(pl.col("proposed_verified")).then(pl.lit("verified")).otherwise(pl.lit("unverified")).alias("identity"),
        pl.col("approved_by").alias("approved by"), pl.col("decision_reason").alias("decision reason"))
    widgets.table(shown)


def audit_section(db: Path) -> None:
    st.subheader("Audit log", anchor=False)
    st.caption("Append-only: who proposed, approved, rejected, withdrew or changed what, when, with the record "
               "before and after. Records made without login are marked unverified.")
    log = _read(db, audit.entries)
    if log is None or not log.height:
        st.info("Nothing recorded yet.")
        return
    shown = audit.export_frame(log)
    widgets.table(shown)
    row = st.container(horizontal=True)
    row.download_button("CSV", data=lambda: exports.to_csv(shown), file_name="tandem-audit-log.csv", mime="text/csv",
                        on_click="ignore", key="csv-audit", icon=":material/download:")
    row.download_button("XLSX", data=lambda: exports.to_xlsx(shown, "audit log"), file_name="tandem-audit-log.xlsx",
                        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        on_click="ignore", key="xlsx-audit", icon=":material/download:")


def history(db: Path, reg: Registry) -> None:
    """The Definitions page: each agreed definition's versions and what changed from one to the next."""
    found = _read(db, agreement.versions) or []
    if not found:
        return
    st.header("Agreed definitions: history", anchor=False)
    for kpi in reg:
        mine = [v for v in found if v.kpi == kpi.name]
        if not mine or kpi.bridge is None:
            continue
        label = kpi.bridge.labels
        st.subheader(kpi.label, anchor=False)
        widgets.table(pl.DataFrame([{"Version": v.version, "Effective": str(v.effective_date),
                                     "Counts": ", ".join(label.get(c, c) for c in v.counts) or "no step",
                                     "Definition": v.definition} for v in mine]))
        previous = None
        for v in sorted(mine, key=lambda v: v.version):
            st.text("\n".join(agreement.diff(previous, v, reg)))
            previous = v


# --- joint targets ----------------------------------------------------------------------------------------------


def targets_section(db: Path, reg: Registry, me: Identity) -> None:
    """Propose a target (one team) and approve or reject the other team's (with a comment)."""
    from decisions import targets

    st.subheader("Joint targets", anchor=False)
    st.caption("A target for a KPI view over a month, fiscal quarter or fiscal year (optionally one category, cost "
               "center or supplier), proposed by one team and approved by the other. Status rule: "
               + kpi_targets.RULE + ".")
    c1, c2 = st.columns(2)
    opened = st.session_state.pop(OPEN_TARGET, None)
    if opened in reg.names:  # opened from a review action
        st.session_state["target_kpi"] = opened
    kpi_name = c1.selectbox("KPI", reg.names, format_func=lambda n: reg[n].label, key="target_kpi")
    view = c2.selectbox("View", list(reg[kpi_name].views), key="target_view")
    with st.form("target_propose", border=True):
        c1, c2, c3 = st.columns(3)
        grain = c1.selectbox("Period type", ["month", "quarter", "year"])
        period = c2.text_input("Period (2026-03, 2026-Q1, FY2026)", max_chars=10)
        value = c3.text_input("Target value", max_chars=30)
        c4, c5 = st.columns(2)
        dims = [d for d in reg[kpi_name].dimensions if d in ("category", "cost_center", "supplier_id")]
        slice_dim = c4.selectbox("Slice (optional)", [None, *dims], format_func=lambda d: d or "all")
        slice_value = c5.text_input("Slice value", max_chars=100)
        comment = st.text_input("Comment (price outlook, budget constraint)", max_chars=500)
        if st.form_submit_button("Propose target", icon=":material/flag:"):
            _write(db, lambda con: targets.propose(con, reg, kpi_name, view, grain, period.strip(), value, comment, me,
                                                   slice_dim, slice_value.strip() or None, service.calendar()),
                   "Target proposed: the other team approves it here.")
    frame = _read(db, lambda con: con.sql("SELECT * FROM targets ORDER BY target_id DESC").pl()
                  if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'targets'")
                  .fetchall()[0][0] else None)
    if frame is None or not frame.height:
        return
    pending = frame.filter(pl.col("status") == "pending")
    if pending.height:
        mine = pending.filter(pl.col("kpi") == opened)["target_id"].to_list() if opened else []
        if mine:
            st.session_state["target_pick"] = mine[0]
        tid = st.selectbox("Pending target", pending["target_id"].to_list(), key="target_pick",
                           format_func=lambda t: "#{target_id} {kpi} ({view}) {period}: {value:g}".format(
                               **pending.filter(pl.col("target_id") == t).row(0, named=True)))
        with st.form("target_decide", border=True):
            note = st.text_input("Comment (a rejection needs a reason)", max_chars=500)
            c1, c2 = st.columns(2)
            yes = c1.form_submit_button("Approve target", type="primary")
            no = c2.form_submit_button("Reject target")
        if yes or no:
            _write(db, lambda con: targets.decide(con, tid, bool(yes), note, me),
                   f"Target {tid} {'approved' if yes else 'rejected'}.")
    seen = service.targets_evaluated(str(db), service.version(db)).select(
        "target_id", "forecast", pl.col("status").alias("outlook"))  # approved ones: run-rate forecast and status
    frame = frame.join(seen, on="target_id", how="left", maintain_order="left")
    widgets.table(frame.select("target_id", "kpi", "view", "period", "slice_dim", "slice_value", "value", "status",
                               "forecast", "outlook", "proposed_team", "proposal_comment", "decided_team",
                               "decision_comment"))


# --- as defined today -------------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def _today_values(db: str, ver: str, first: int, last: int, grain: str, filters: service.Filters, kpi: str,
                  day: date) -> pl.DataFrame:
    """The KPI's values with its agreed view's version in effect on `day` for every period; `ver` keys the cache."""
    from kpi_definitions.agreement import as_defined_today
    from kpi_definitions.compute import Selection, compute

    reg = as_defined_today(service._reg(db), day)
    with reading(Path(db)) as con:
        return compute(con, reg, Selection(first, last, grain, (), dict(filters)),  # type: ignore[arg-type]
                       currency=service.cfg().reporting_currency, cal=service.calendar(), kpis=[kpi]).values


def as_defined_today(kpi: Kpi, sel: Scope, now: pl.DataFrame, before: pl.DataFrame, trend: pl.DataFrame
                     ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A KPI page's toggle "As defined today": the numbers and the trend with the agreed view's version in effect
    today for every period (off, the default: each period under the version effective then)."""
    from kpi_definitions.agreement import in_effect, versions_of

    agreed = [name for name, v in kpi.views.items() if v.from_bridge]
    if not agreed:
        return now, before, trend
    day = service.today()
    current = in_effect(versions_of(kpi, agreed[0]), day)
    if current is None:
        return now, before, trend
    if not st.toggle("As defined today", key=f"{kpi.name}_as_defined_today",
                     help="Every period under the agreed definition in effect today, instead of the version "
                          "effective in each period"):
        return now, before, trend
    st.caption(f"As defined today: every period below under agreed version {current.version} (effective "
               f"{current.effective_date}); the bridge and the breakdown keep the version effective then.")
    prev = sel.span.previous

    def get(first: int, last: int) -> pl.DataFrame:
        return _today_values(str(sel.db), sel.ver, first, last, sel.grain, sel.key, kpi.name, day)

    return get(sel.span.first, sel.span.last), get(prev.first, prev.last), get(sel.trend_first, sel.span.last)


# --- from the review meeting ------------------------------------------------------------------------------------


def open_from_review(items: pl.DataFrame) -> None:
    """On the review page: open an open item's KPI on the Agreements page, with its proposal form, its pending
    proposal and its target form (and pending target) preselected."""
    if not items.height or "kpi" not in items.columns:
        return
    reg = service.reg()
    kpis = dict(zip(items["item_id"].to_list(), items["kpi"].to_list(), strict=True))
    texts = dict(zip(items["item_id"].to_list(), items["text"].to_list(), strict=True))

    def label(i: int) -> str:
        name = reg[kpis[i]].label if kpis[i] in reg.kpis else kpis[i]
        return safe_text.visible(f"#{i} {name}: {texts[i][:60]}")

    c1, c2 = st.columns([3, 1])
    item = c1.selectbox("Open an item's agreement or target", list(kpis), key="review_open_item", format_func=label)
    if c2.button("Open in Agreements", icon=":material/handshake:", key="review_open_agreement",
                 help="The Agreements page with this KPI chosen: its pending proposal and target, or the forms to "
                      "propose one"):
        st.session_state.update({OPEN_PROPOSAL: kpis[item], OPEN_PENDING: kpis[item], OPEN_TARGET: kpis[item]})
        st.switch_page("pages/agreement.py")
