"""Tandem's Streamlit entry point: it only builds the navigation. The KPI pages come from the registry (one per
declaration, at /<kpi name>); the other pages are the scripts in `pages/`."""

from __future__ import annotations

import streamlit as st

from tandem import kpi_page


def run() -> None:
    st.set_page_config(page_title="Tandem", page_icon=":material/balance:", layout="wide")
    nav = st.navigation({
        "Weekly review": [
            st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
            st.Page("pages/review.py", title="Review meeting", icon=":material/event_note:", url_path="review"),
        ],
        "KPIs": kpi_page.pages(),
        "Explore": [
            st.Page("pages/drilldown.py", title="Drill-down", icon=":material/search:", url_path="drilldown"),
            st.Page("pages/definitions.py", title="Definitions", icon=":material/menu_book:", url_path="definitions"),
            st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
        ],
    })
    nav.run()


run()
