"""Tandem's Streamlit entry point: it only builds the navigation of the pages in `pages/`."""

from __future__ import annotations

import streamlit as st


def run() -> None:
    st.set_page_config(page_title="Tandem", page_icon="⚖️", layout="wide")
    nav = st.navigation([
        st.Page("pages/data.py", title="Data", icon="🗂️", url_path="data", default=True),
    ])
    nav.run()


run()
