"""Data: upload exports, and see what was loaded, what was quarantined and why, findings and freshness."""

from __future__ import annotations

import streamlit as st

from pipelines.quarantine import failure_sentence
from pipelines.schemas import EXPORTS
from reports import safe_text
from store.errors import TandemError
from tandem import auth, selection, service, uploads, widgets
from workspace.db import named

st.title("Data")
cfg = service.cfg()
db = cfg.db


def _upload() -> None:
    """Upload exports: preview them as mapped, or validate and load them (the same rules as `tandem ingest`)."""
    st.subheader("Load exports", anchor=False)
    files = st.file_uploader("Export files (CSV, XLSX or Parquet)", type=list(uploads.SUFFIXES), accept_multiple_files=True,
                             max_upload_size=cfg.max_upload_mb,
                             help=f"Up to {cfg.max_upload_mb} MB a file. The export type comes from the file name "
                                  "(invoices…, purchase_orders…) unless you choose one.")
    c1, c2, c3 = st.columns(3)
    etype = c1.selectbox("Export type", [uploads.AUTO, *EXPORTS])
    mapping = c2.selectbox("Source mapping", ["(canonical columns)", *uploads.mapping_names()])
    encoding = c3.text_input("Encoding", "utf-8")
    allow_partial = st.checkbox("Load the valid rows of a file with invalid rows (--allow-partial)")
    b1, b2 = st.columns(2)
    if files and b2.button("Preview as mapped", icon=":material/preview:",
                           help="The first rows as the mapping reads them and every rule they break; nothing is loaded."):
        try:
            shown = uploads.preview([(f.name, f.getvalue()) for f in files], None if etype == uploads.AUTO else etype,
                                    None if mapping.startswith("(") else mapping, encoding)
        except TandemError as exc:
            st.text(exc.message)
            st.stop()
        for message in shown.errors:
            st.text(message)
        for check in shown.checks:
            st.text(f"{check.file} as {check.export_type}: {check.rows_read:,} rows read, {check.rows_valid:,} would load, "
                    f"{check.rows_invalid:,} would be quarantined, {check.rows_filtered:,} filtered out")
            widgets.table(check.preview)
            for row in check.failures.iter_rows(named=True):
                st.text(failure_sentence(check.file, row))
    if files and b1.button("Validate and load", type="primary", icon=":material/upload:"):
        with st.status(f"Loading {len(files)} file(s)…", expanded=True) as status:
            bar = st.progress(0.0, text="reading")

            def waiting() -> None:
                status.update(label="Waiting for another upload to finish…", state="running")
                bar.progress(0.0, text="waiting for another upload to finish")

            try:
                outcome = uploads.load(
                    db, [(f.name, f.getvalue()) for f in files], None if etype == uploads.AUTO else etype,
                    None if mapping.startswith("(") else mapping, allow_partial, encoding,
                    progress=lambda name, done, total: bar.progress(min(done / total, 1.0) if total else 0.0,
                                                                    text=f"validating {name}"),
                    waiting=waiting)
            except TandemError as exc:  # the file is held or damaged: one sentence
                status.update(label="Nothing loaded", state="error")
                st.text(safe_text.visible(exc.message))
                st.stop()
            rejected = outcome.errors or any(r.outcome == "rejected" for r in outcome.results)
            label, state = ("Some files were not loaded", "error") if rejected else ("Loaded", "complete")
            status.update(label=label, state=state)
            messages = [safe_text.visible(m) for m in outcome.errors + outcome.failures]
            for message in messages:
                st.text(message)  # file names and values are data: plain text, controls shown
            widgets.table(outcome.table())
        # kept for this session's next runs: a page rerun (another upload finishing) must not hide the outcome
        st.session_state["last_upload"] = (label, state, messages, outcome.table())
    elif last := st.session_state.get("last_upload"):
        label, state, messages, table = last
        with st.status(label, state=state, expanded=True):
            for message in messages:
                st.text(message)
            widgets.table(table)


if auth.can("upload"):
    _upload()
else:
    st.info("Uploading exports needs the editor role; ask your Tandem admin if you need it.")

if not db.exists():
    st.info("No database yet: run `tandem demo`, upload exports above, or use `tandem ingest`.")
    st.stop()
with selection.said(db):  # a load holding the file, or a damaged file: one sentence
    freshness, log, quarantine, findings = (named(db, q) for q in ("freshness", "load_log", "quarantine", "findings"))
st.subheader("Freshness", anchor=False)
widgets.table(freshness)
st.subheader("Load log", anchor=False)
widgets.table(log)
st.subheader("Quarantine", anchor=False)
st.caption("Rows that broke a rule, with the file, line, column, rule and the bad value.")
widgets.table(quarantine)
st.subheader("Data-quality findings", anchor=False)
st.caption("Cross-file problems: rows are loaded but a reference is unknown or an FX rate is missing.")
widgets.table(findings)
