"""The Agreements page's parts (pages/agreement.py) and the agreement links of other pages: who you are and what
your role lets you do, the proposal form with the agreed number previewed before anyone signs, the pending
proposals with the same preview beside Approve and Reject, the audit log, the version history (Definitions),
"awaiting your approval" (Overview, navigation) and a KPI page's links to propose and to its pending items.

The numbers come from the KPI layer through tandem/service.py (agreed_preview, bridge_of); the page only shows
them. What a role may do is decided by decisions/ (the server refuses a forged write); the page shows only the
forms the user may use."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from decisions import agreement, audit, inbox
from kpi_definitions.agreement import AgreementError
from kpi_definitions.engine import Request
from kpi_definitions.periods import month_label
from kpi_definitions.registry import Kpi, Registry
from reports import charts, exports, formats, preview, safe_text
from reports.preview import INCLUDE, LEAVE_OUT, Preview
from reports.scope import Scope
from store.db import reading
from store.errors import TandemError
from tandem import auth, service, widgets
from tandem.auth import Identity

TEAM_KEY = "agreement_identity"  # the local user's stated (name, team), once per session
SAID = "agreement_said"  # (kind, sentence, where): shown once as a toast and beside the form it is about
PAGE = "pages/agreement.py"


# --- who you are, and what you may do -------------------------------------------------------------------------


def identity() -> Identity | None:
    """The signed-in user; in local mode the name and team the user states once (records are unverified)."""
    user = auth.current_user()
    if user is not None and user.verified:
        st.caption(f"Signed in as {user.name} ({user.email}) · {user.team or 'no team'} · {user.role}")
        return user
    stated = st.session_state.get(TEAM_KEY)
    if stated:
        me = agreement.local_identity(*stated)
        c1, c2 = st.columns([4, 1], vertical_alignment="center")
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


def my_team() -> str | None:
    """The team of this session's user: the signed-in user's, or the one a local user stated (None: unknown)."""
    user = auth.current_user()
    if user is not None and user.verified:
        return user.team
    stated = st.session_state.get(TEAM_KEY)
    return stated[1] if stated else None


def cannot(me: Identity | None) -> str | None:
    """Why `me` may not propose or decide (None: they may), in one sentence the page shows instead of forms."""
    if me is None:
        return "State who you are above to propose or decide."
    if not auth.can("agree", me):
        return (f"You are signed in with the {me.role} role: you can read every agreement and target here; proposing "
                "and approving needs the editor role (ask your Tandem admin).")
    if me.team not in agreement.TEAMS:
        return (f"{me.name} has no team: proposing and approving is for a member of "
                f"{' or '.join(agreement.TEAMS)}.")
    return None


# --- saying what happened, where the user looks -----------------------------------------------------------------


def _write(db: Path, fn: Callable[[Any], Any], done: str | Callable[[Any], str], where: str) -> None:
    """Run a write; what it changed (or why nothing changed) is shown as a toast and beside the form `where`."""
    try:
        result = service.run_write(db, fn)
        st.session_state[SAID] = ("success", done(result) if callable(done) else done, where)
    except (AgreementError, auth.NotAllowed, TandemError) as exc:
        st.session_state[SAID] = ("error", exc.message, where)
    st.session_state[f"{SAID}_new"] = True
    st.rerun(scope="app")


def toast() -> None:
    """On the page's first lines: the last write's outcome as a toast, seen wherever the page is scrolled (a
    refusal stays until it is closed)."""
    if (said := st.session_state.get(SAID)) and st.session_state.get(f"{SAID}_new"):
        st.toast(said[1], icon=":material/check_circle:" if said[0] == "success" else ":material/block:",
                 duration="long" if said[0] == "success" else "infinite")
        st.session_state[f"{SAID}_new"] = False


def said_here(where: str) -> None:
    """Beside the form `where` (or, for "decide", above every pending proposal: an approved one is gone from
    the list): the outcome of its last write, once."""
    said = st.session_state.get(SAID)
    if said and (said[2] == where or (where == "decide" and said[2].startswith("decide-"))):
        st.session_state.pop(SAID)
        st.session_state.pop(f"{SAID}_new", None)
        (st.success if said[0] == "success" else st.error)(said[1])


# --- the agreed number, previewed -----------------------------------------------------------------------------


def preview_block(p: Preview, currency: str, key: str) -> None:
    """The agreed value a set of steps makes, with its formula in words and the last months beside both teams'."""
    with st.container(border=True):
        preview_number(p, currency)
        preview_chart(p, currency, key)


def preview_number(p: Preview, currency: str) -> None:
    """The agreed value beside both teams' values, and how it is made, in words."""
    unit = p.kpi.unit
    with st.container(horizontal=True, gap="medium"):
        st.metric(f"{views_mark(p.kpi, 'agreed')} Agreed value · {p.period}", formats.value(p.agreed, unit, currency),
                  width="content", help="The start value plus the steps included, from the bridge's own SQL")
        st.metric(f"{views_mark(p.kpi, p.bridge.start_view)} {p.start_label.capitalize()} · {p.period}",
                  formats.value(p.bridge.start, unit, currency), width="content")
        st.metric(f"{views_mark(p.kpi, p.bridge.end_view)} {p.end_label.capitalize()} · {p.period}",
                  formats.value(p.bridge.end, unit, currency), width="content")
    st.markdown(f"**The agreed number:** {widgets.plain(preview.formula(p, currency))}")


def preview_chart(p: Preview, currency: str, key: str) -> None:
    """The agreed value month by month beside both teams' (a chart, and the table under it)."""
    if not p.history.height:
        return
    months = p.history["period"].n_unique()
    fig = charts.trend(p.kpi, p.history, title=f"Agreed value, the last {months} months, beside both teams'",
                       height=320, currency=currency)
    st.plotly_chart(fig, key=f"preview-{key}", config={"displaylogo": False})
    with st.expander("Month by month"):
        widgets.table(preview.history_table(p, currency))


def views_mark(kpi: Kpi, view: str) -> str:
    from kpi_definitions import views

    return views.style(kpi, view).mark if view in kpi.views else ""


def _periods(first: int, last: int) -> list[str]:
    """The periods a preview can be for, latest first: months, then fiscal quarters and years."""
    cal = service.calendar()
    out = [month_label(m) for m in range(last, first - 1, -1)]
    for grain in ("quarter", "year"):
        out += list(dict.fromkeys(cal.label(m, grain) for m in range(last, first - 1, -1)))
    return out


def _bridged(db: Path, ver: str, kpi: str, span: tuple[int, int]) -> int:
    """The latest month (of the last 12 with data) the KPI's bridge has amounts for; the latest month if none."""
    return next((m for m in range(span[1], max(span[0], span[1] - 11) - 1, -1)
                 if not service.bridge_of(str(db), ver, kpi, m, m, ()).reason), span[1])


def _grain_word(label: str) -> str:
    from reports.source import grain_of

    return f"{label} ({grain_of(label)})"


def _steps(kpi: Kpi, b: Any, key: str, unit: str, currency: str) -> list[str]:
    """A plain choice per bridge step (each part of a netted step too), with its signed amount; the names
    of the steps to include."""
    chosen = []
    for s in b.steps:
        rows = [(s, None)] + [(p, s) for p in s.parts]
        for step, parent in rows:
            amount = formats.signed(step.value, unit, currency)
            name = f"↳ {step.label} (part of {parent.label})" if parent else step.label
            pick = st.radio(f"**{widgets.plain(name)}** · {amount}", [INCLUDE, LEAVE_OUT], index=1, horizontal=True,
                            key=f"{key}_{kpi.name}_{step.name}",
                            help=f"Included, the agreed number moves by {amount} from {kpi.bridge.from_view}'s value "
                                 f"towards {kpi.bridge.to_view}'s: {step.description}")
            if pick == INCLUDE:
                chosen.append(step.name)
    return chosen


def propose_form(db: Path, reg: Registry, me: Identity) -> None:
    """Propose an agreed definition: each bridge step with its amount and a plain choice, the agreed number live
    as the steps are chosen, then the definition in words, a date and a reason."""
    _propose(db, reg, me)


@st.fragment
def _propose(db: Path, reg: Registry, me: Identity) -> None:
    bridged = [k.name for k in reg if k.bridge is not None]
    ver = service.version(db)
    span = service.months(str(db), ver)
    if span is None:
        st.info("No data has been loaded yet: load exports before agreeing a definition.")
        return
    currency = service.cfg().reporting_currency
    c1, c2 = st.columns(2)
    kpi_name = c1.selectbox("KPI", bridged, format_func=lambda n: reg[n].label, key="agreement_kpi")
    periods = _periods(*span)
    if st.session_state.get("agreement_period") not in periods:  # the latest month the KPI's bridge has amounts for
        st.session_state["agreement_period"] = month_label(_bridged(db, ver, kpi_name, span))
    period = c2.selectbox("The amounts below are for", periods, key="agreement_period", format_func=_grain_word,
                          help="The bridge's steps over this period; the agreed definition applies to every period")
    kpi = reg[kpi_name]
    first, last = service.period_span(str(db), ver, period)
    b = service.bridge_of(str(db), ver, kpi_name, first, last, ())
    st.caption(f"The agreed number starts from {kpi.bridge.from_view}'s value and includes the bridge steps you choose: "
               f"including every step gives {kpi.bridge.to_view}'s value, including none keeps "
               f"{kpi.bridge.from_view}'s. Each step is signed as it moves {kpi.bridge.from_view}'s number.")
    if b.reason:
        st.info(f"No bridge for {period}: {b.reason}. Choose another period to see the amounts.")
        return
    steps, number = st.columns([3, 2], gap="medium")  # the choices and, beside them, the number they make
    with steps:
        chosen = _steps(kpi, b, "agree_step", kpi.unit, currency)
    with number:
        try:
            p = service.agreed_preview(str(db), ver, kpi_name, tuple(chosen), first, last, ())
        except AgreementError as exc:  # a step and its part both included: one sentence, no number
            st.warning(exc.message)
            p = None
        if p is not None:
            with st.container(border=True):
                preview_number(p, currency)
    if p is not None:  # the months below, the whole width
        preview_chart(p, currency, "propose")
    said_here("propose")
    with st.form("agreement_propose", border=True):
        text = st.text_area("The agreed definition, in plain words", max_chars=2000)
        c1, c2 = st.columns(2)
        effective = c1.date_input("Effective from", value=date(span[0] // 12, span[0] % 12 + 1, 1))
        reason = c2.text_input("Reason", max_chars=500, key="agreement_reason")
        if st.form_submit_button("Propose", type="primary", icon=":material/handshake:"):
            steps = ", ".join(kpi.bridge.labels[c] for c in chosen) or "no bridge step"
            value = formats.value(p.agreed, kpi.unit, currency) if p is not None else "n/a"
            _write(db, lambda con: agreement.propose(con, kpi_name, chosen, text or "", effective, reason, me, reg=reg),
                   lambda pid: f"Proposed #{pid}: {kpi.label} as {kpi.bridge.from_view}'s value plus {steps} "
                               f"({value} in {period}). It now awaits the other team's approval on this page and "
                               "on their Overview.", "propose")


def _read(db: Path, fn):  # noqa: ANN001, ANN202
    if not db.exists():
        return None
    with reading(db) as con:
        return fn(con)


def _approved_message(row: dict[str, Any], kpi_label: str) -> str:
    if row["status"] == "approved":
        return (f"Approved #{row['proposal_id']}: {kpi_label}'s agreed definition is now version {row['version']}, "
                f"effective {row['effective_date']}; the Agreed view shows on every page, the pack and the deck.")
    return f"Approved #{row['proposal_id']} for your team: {kpi_label} still needs another approval."


def decisions(db: Path, reg: Registry, me: Identity | None, opened: str | None = None) -> None:
    """Each pending proposal with the agreed number it makes, and the buttons this user may use: Approve and
    Reject where the other team proposed and this team must approve, Withdraw where this team proposed."""
    frame = _read(db, agreement.proposals)
    if frame is None or not frame.height:
        st.info("No proposal yet.")
        return
    pending = frame.filter(pl.col("status") == "pending")
    if opened is not None:  # opened for one KPI (a KPI page's link, a review item): its proposals first
        pending = pending.sort(pl.col("kpi") != opened, maintain_order=True)
    st.markdown(f"**Pending** ({pending.height})")
    said_here("decide")
    if not pending.height:
        st.caption("Nothing is pending.")
    ver = service.version(db)
    span = service.months(str(db), ver)
    currency = service.cfg().reporting_currency
    why_not = cannot(me)
    for row in pending.iter_rows(named=True):
        kpi = reg.kpis.get(row["kpi"])
        if kpi is not None and kpi.bridge is not None:
            _pending_one(db, kpi, row, me, why_not, span, currency)
    st.markdown("**Every proposal**")

    def steps_in_words(row: dict) -> str:
        kpi = reg.kpis.get(row["kpi"])
        names = kpi.bridge.labels if kpi and kpi.bridge else {}
        return ", ".join(names.get(c, c) for c in json.loads(row["counts"])) or "no step"

    frame = frame.with_columns(pl.struct("kpi", "counts").map_elements(steps_in_words, return_dtype=pl.String)
                               .alias("counts"),
                               pl.col("kpi").replace_strict({k.name: k.label for k in reg}, default=pl.col("kpi")))
    shown = frame.select(
        pl.col("proposal_id").alias("#"), pl.col("kpi").alias("KPI"), pl.col("status").alias("Status"),
        pl.col("version").alias("Version"), pl.col("counts").alias("Includes the steps"),
        pl.col("definition").alias("Definition"), pl.col("effective_date").alias("Effective"),
        pl.col("reason").alias("Reason"), pl.col("proposed_name").alias("Proposed by"),
        pl.col("proposed_team").alias("Team"),
        pl.when(pl.col("proposed_verified")).then(pl.lit("verified")).otherwise(pl.lit("unverified")).alias("Identity"),
        pl.col("approved_by").alias("Approved by"), pl.col("decision_reason").alias("Decision reason"))
    widgets.table(shown)


def _pending_one(db: Path, kpi: Kpi, row: dict[str, Any], me: Identity | None, why_not: str | None,
                 span: tuple[int, int] | None, currency: str) -> None:
    """One pending proposal: who proposed what and why, the agreed number it makes, and the buttons `me` may use."""
    ver = service.version(db)
    cfg = service.cfg()
    pid = row["proposal_id"]
    counts = tuple(json.loads(row["counts"]))
    with st.container(border=True, key=f"pending-{pid}"):
        st.markdown(f"**#{pid} {widgets.plain(kpi.label)}** · proposed by {widgets.plain(row['proposed_name'] or '')} "
                    f"({row['proposed_team']}) · effective {formats.day(row['effective_date'])}")
        st.text(row["definition"])
        st.caption(f"Reason: {widgets.plain(row['reason'])}"
                   + (f" · approved so far by {widgets.plain(row['approved_by'])}" if row["approved_by"] else ""))
        if span is not None:
            month = _bridged(db, ver, kpi.name, span)
            try:
                p = service.agreed_preview(str(db), ver, kpi.name, counts, month, month, ())
            except AgreementError as exc:  # a step no longer declared: the page says so
                st.warning(exc.message)
                p = None
            if p is not None:
                widgets.table(preview.step_table(p, currency))
                preview_block(p, currency, f"pending-{pid}")
        teams = agreement.needed(_row_dict(row), cfg)
        if why_not is not None:
            st.caption(why_not)
        elif me.team == row["proposed_team"]:
            with st.form(f"agreement_withdraw_{pid}", border=False):
                st.caption(f"Your team proposed it: {' and '.join(teams) or 'the other team'} approves or "
                           "rejects it. You may withdraw it.")
                reason = st.text_input("Reason for withdrawing (optional)", max_chars=500)
                if st.form_submit_button("Withdraw", icon=":material/undo:"):
                    _write(db, lambda con: agreement.withdraw(con, pid, me, reason),
                           f"Withdrew #{pid}: {kpi.label}'s proposal is closed; nothing else changed.",
                           f"decide-{pid}")
        elif me.team in teams:
            with st.form(f"agreement_decide_{pid}", border=False):
                comment = st.text_input("Comment (approval) or reason (rejection)", max_chars=500)
                c1, c2 = st.columns(2)
                approve = c1.form_submit_button("Approve", type="primary", icon=":material/check:")
                reject = c2.form_submit_button("Reject", icon=":material/close:")
            if approve:
                _write(db, lambda con: agreement.approve(con, pid, me, comment),
                       lambda r: _approved_message(r, kpi.label), f"decide-{pid}")
            elif reject:
                _write(db, lambda con: agreement.reject(con, pid, comment, me),
                       f"Rejected #{pid}: {kpi.label}'s proposal is closed with your reason; nothing else changed.",
                       f"decide-{pid}")
        else:
            st.caption(f"Awaiting {' and '.join(teams)}: your team ({me.team}) does not approve this one.")


def _row_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in agreement.COLUMNS}


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
                                     "Starts from": f"{kpi.bridge.from_view}'s value",
                                     "Includes the steps": ", ".join(label.get(c, c) for c in v.counts) or "no step",
                                     "Definition": v.definition} for v in mine]))
        previous = None
        for v in sorted(mine, key=lambda v: v.version):
            st.text("\n".join(agreement.diff(previous, v, reg)))
            previous = v


# --- finding it: awaiting your approval, a KPI page's links --------------------------------------------------


def awaiting(team: str | None = None) -> pl.DataFrame:
    """What awaits the approval of this session's team (none: no team known)."""
    team = team or my_team()
    db = service.cfg().db
    if team is None or not db.exists():
        return pl.DataFrame(schema=inbox.SCHEMA)
    return service.pending(str(db), service.version(db), None, team)


def nav_title() -> str:
    """The Agreements page's title in the navigation, with how many items await this user's team."""
    try:
        n = awaiting().height
    except TandemError:  # a load holds the file: the count comes back with the next run
        n = 0
    return f"Agreements · {n} awaiting you" if n else "Agreements"


def _item_line(r: dict[str, Any], reg: Registry, currency: str) -> str:
    kpi = reg.kpis.get(r["kpi"])
    name = kpi.label if kpi else r["kpi"]
    by = f"{r['proposed_name']} ({r['proposed_team']})"
    if r["kind"] == inbox.PROPOSAL:
        labels = kpi.bridge.labels if kpi and kpi.bridge else {}
        steps = ", ".join(labels.get(c, c) for c in r["counts"] or []) or "no bridge step"
        start = f"{kpi.bridge.from_view}'s value" if kpi and kpi.bridge else "the start value"
        return f"#{r['id']} {name}: agreed definition, {start} plus {steps}; proposed by {by}"
    unit = kpi.unit if kpi else "currency"
    where = f", {formats.header(r['slice_dim'])} = {r['slice_value']}" if r["slice_dim"] else ""
    from kpi_definitions import views

    view = views.label_of(reg, r["kpi"], r["view"])
    return (f"Target #{r['id']} {name} ({view}, {r['period']}{where}): {formats.value(r['value'], unit, currency)}; "
            f"proposed by {by.replace('@', '@' + chr(0x200B))}")  # an address as text, not a mailto link


def awaiting_box(reg: Registry, currency: str) -> None:
    """The Overview's "awaiting your approval": each pending proposal and target addressed to this user's team,
    with a link to decide it (nothing shown when nothing waits)."""
    found = awaiting()
    if not found.height:
        return
    team = my_team()
    with st.container(border=True, key="awaiting-you"):
        st.markdown(f":orange-badge[:material/pending_actions: Awaiting your approval] **{found.height} for "
                    f"{team}** to approve or reject")
        for r in found.iter_rows(named=True):  # the line wraps; the link beside it stays short
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            c1.markdown(widgets.plain(_item_line(r, reg, currency)))
            c2.page_link(PAGE, label="Decide", icon=":material/arrow_forward:", query_params={"kpi": r["kpi"]},
                         help="On the Agreements page, beside the number it makes")


def kpi_links(kpi: Kpi, sel: Scope) -> None:
    """A KPI page's way to its agreements: propose one (a KPI with a bridge), and its pending items (none when
    the page runs without the app's navigation, which has no Agreements page to link to)."""
    from streamlit.errors import StreamlitPageNotFoundError

    pending = service.pending(str(sel.db), sel.ver, kpi.name, None)
    links = []
    if kpi.bridge is not None:
        links.append((f"Propose an agreed definition of {kpi.label}", ":material/handshake:"))
    links.append((f"{pending.height} pending for {kpi.label}: proposals and targets to decide",
                  ":material/pending_actions:") if pending.height else ("Targets and agreements", ":material/flag:"))
    row = st.container(horizontal=True, gap="medium")
    try:
        for label, icon in links:
            row.page_link(PAGE, label=label, icon=icon, query_params={"kpi": kpi.name})
    except StreamlitPageNotFoundError:
        pass


def opened(reg: Registry) -> str | None:
    """The KPI a link opened the Agreements page for (?kpi=, from a KPI page, the Overview or a review item):
    its forms are preselected once per link; a review item's text is shown above them."""
    name = st.query_params.get("kpi")
    item = st.query_params.get("item")
    if name not in reg.kpis:
        return None
    if st.session_state.get("_agreement_opened") != (name, item):
        st.session_state["_agreement_opened"] = (name, item)
        if reg[name].bridge is not None:
            st.session_state["agreement_kpi"] = name
        st.session_state["target_kpi"] = name
    if item and item.isdigit():
        found = _read(service.cfg().db, lambda con: con.execute(
            "SELECT i.kind, i.text, i.owner, strftime(i.due_date, '%Y-%m-%d'), strftime(r.held_on, '%Y-%m-%d') "
            "FROM review_items i JOIN reviews r USING (review_id) WHERE i.item_id = ?", [int(item)]).fetchall()
            if inbox.has_table(con, "review_items") else [])  # a hand-typed ?item= on a database without reviews
        if found:
            kind, text, owner, due, held = found[0]
            more = f" · owner {owner}, due {due}" if owner else ""
            st.info(f"From the review of {held}: {kind} #{item} on {reg[name].label}: “{safe_text.visible(text)}”{more}. "
                    f"{reg[name].label} is chosen below; a proposal's reason starts with the item.",
                    icon=":material/event_note:")
            if st.session_state.get("_agreement_item_seeded") != item:  # once per item: the user may edit it
                st.session_state["_agreement_item_seeded"] = item
                st.session_state["agreement_reason"] = f"Review item #{item}: {text}"[:500]
    return name


# --- as defined today -------------------------------------------------------------------------------------------


def _today_values(db: str, ver: str, first: int, last: int, grain: str, filters: service.Filters, kpi: str,
                  day: date) -> pl.DataFrame:
    """The KPI's values with its agreed view's version in effect on `day` for every period (the engine's
    `as_defined_today`), cached by the service on the request; `ver` keys the cache."""
    req = Request(first, last, grain, (kpi,), filters=filters, as_defined_today=day)  # type: ignore[arg-type]
    return service.values(db, ver, req)[0].drop("warnings")


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
    """On the review page: open an open item on the Agreements page, for its KPI, with the item shown there."""
    if not items.height or "kpi" not in items.columns:
        return
    reg = service.reg()
    kpis = dict(zip(items["item_id"].to_list(), items["kpi"].to_list(), strict=True))
    texts = dict(zip(items["item_id"].to_list(), items["text"].to_list(), strict=True))

    def label(i: int) -> str:
        name = reg[kpis[i]].label if kpis[i] in reg.kpis else kpis[i]
        return safe_text.visible(f"#{i} {name}: {texts[i][:60]}")

    c1, c2 = st.columns([5, 2], vertical_alignment="bottom")  # the button's label whole at 1024 px
    item = c1.selectbox("Open an item's agreement or target", list(kpis), key="review_open_item", format_func=label)
    if c2.button("Open in Agreements", icon=":material/handshake:", key="review_open_agreement",
                 help="The Agreements page with this item shown and its KPI chosen: its pending proposal and target, "
                      "or the forms to propose one"):
        st.switch_page(PAGE, query_params={"kpi": kpis[item], "item": str(item)})
