"""Data: what has been loaded, what was quarantined and why, and the data-quality findings."""

from __future__ import annotations

import streamlit as st

from tandem.config import settings
from tandem.store import named

st.title("Data")
db = settings().db
if not db.exists():
    st.info("No database yet: run `tandem demo` or load your exports with `tandem ingest`.")
    st.stop()
st.subheader("Load log")
st.dataframe(named(db, "load_log"), hide_index=True)
st.subheader("Quarantine")
st.dataframe(named(db, "quarantine"), hide_index=True)
st.subheader("Data-quality findings")
st.dataframe(named(db, "findings"), hide_index=True)
