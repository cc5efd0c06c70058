"""Data: upload exports (with a mapping you have, or a new source's mapping drafted and fixed here), and see
what was loaded, what was quarantined and why, findings and freshness."""

from __future__ import annotations

import streamlit as st

from reports import safe_text
from store.errors import TandemError
from store.exports import EXPORT_TYPES
from tandem import auth, onboarding, runs, selection, service, uploads, widgets
from workspace.db import named

st.title("Data")
cfg = service.cfg()
db = cfg.db
CANONICAL = "(canonical columns)"
NEW = "(a new source: draft one from the file)"


def _upload() -> None:
    """Upload exports: preview them as mapped, or validate and load them (the same rules as `tandem ingest`);
    or, for a new source, draft its mapping from the file, fix it in a form, check, save and load."""
    st.subheader("Load exports", anchor=False)
    files = st.file_uploader("Export files (CSV, XLSX or Parquet)", type=list(uploads.SUFFIXES), accept_multiple_files=True,
                             max_upload_size=cfg.max_upload_mb,
                             help=f"Up to {cfg.max_upload_mb} MB a file. The export type comes from the file name "
                                  "(invoices…, purchase_orders…) unless you choose one.")
    c1, c2, c3 = st.columns(3)
    etype = c1.selectbox("Export type", [uploads.AUTO, *EXPORT_TYPES], key="data-type")
    # (keyed: saving a new mapping adds an option, and the choice must stay what it was)
    mapping = c2.selectbox("Source mapping", [CANONICAL, NEW, *uploads.mapping_names()], key="data-mapping",
                           help="A file in Tandem's own columns needs none; a mapping says how another system's "
                                "columns become them. New source: Tandem drafts one from the file for you to check.")
    export_type = None if etype == uploads.AUTO else etype
    if mapping == NEW:
        st.subheader("A new source", anchor=False)
        onboarding.onboard(db, files or [], export_type)
        return
    encoding = c3.text_input("Encoding", "", placeholder="the mapping's, else utf-8",
                             help="The text encoding of CSV files (cp1252, latin-1, utf-16, ...).") or None
    allow_partial = st.checkbox("Load the valid rows of a file with invalid rows (--allow-partial)")
    chosen = None if mapping == CANONICAL else mapping
    b1, b2 = st.columns(2)
    if files and b2.button("Preview as mapped", icon=":material/preview:",
                           help="The first rows as the mapping reads them and every rule they break; nothing is loaded."):
        from pipelines.quarantine import failure_sentence  # ingestion: imported when a file is checked

        try:
            shown = uploads.preview([(f.name, f.getvalue()) for f in files], export_type, chosen, encoding)
        except TandemError as exc:
            st.text(safe_text.visible(exc.message))
            runs.stop()
        for message in shown.errors:
            st.text(safe_text.visible(message))
        for check in shown.checks:
            st.text(safe_text.visible(
                f"{check.file} as {check.export_type}: {check.rows_read:,} rows read, {check.rows_valid:,} would "
                f"load, {check.rows_invalid:,} would be quarantined, {check.rows_filtered:,} filtered out"))
            widgets.table(check.preview)
            for row in check.failures.iter_rows(named=True):
                st.text(safe_text.visible(failure_sentence(check.file, row)))
        if shown.errors and chosen is None:
            st.caption(f"Other column names than Tandem's? Choose “{NEW}” under Source mapping.")
    if files and b1.button("Validate and load", type="primary", icon=":material/upload:"):
        onboarding.load(db, [(f.name, f.getvalue()) for f in files], export_type, chosen, allow_partial, encoding)
    else:  # kept for this session's next runs: a page rerun (another upload finishing) must not hide the outcome
        onboarding.last_load()


if auth.can("upload"):
    _upload()
else:
    st.info("Uploading exports needs the editor role; ask your Tandem admin if you need it.")

if not db.exists():
    st.info("No database yet: run `tandem demo`, upload exports above, or use `tandem ingest`.")
    runs.stop()
with selection.said(db):  # a load holding the file, or a damaged file: one sentence
    freshness = onboarding.freshness(db)
    log, quarantine, findings = (named(db, q) for q in ("load_log", "quarantine", "findings"))
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
