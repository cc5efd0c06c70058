"""Tandem's Streamlit entry point: the login gate (tandem/auth.py), then the navigation of the pages in `pages/`."""

from __future__ import annotations

import streamlit as st

from tandem import auth


def run() -> None:
    auth.gate()  # sign-in, or "not on the list", or the local user without login; sets the page config
    nav = st.navigation({
        "Weekly review": [
            st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
            st.Page("pages/review.py", title="Review meeting", icon=":material/event_note:", url_path="review"),
        ],
        "KPIs": [
            st.Page("pages/savings.py", title="Savings", icon=":material/savings:", url_path="savings"),
            st.Page("pages/inventory_days.py", title="Inventory days", icon=":material/inventory_2:", url_path="inventory_days"),
            st.Page("pages/budget_variance.py", title="Budget variance", icon=":material/account_balance_wallet:",
                    url_path="budget_variance"),
            st.Page("pages/payment_days.py", title="Payment days", icon=":material/schedule:", url_path="payment_days"),
            st.Page("pages/spend_under_management.py", title="Spend under management", icon=":material/handshake:",
                    url_path="spend_under_management"),
        ],
        "Explore": [
            st.Page("pages/drilldown.py", title="Drill-down", icon=":material/search:", url_path="drilldown"),
            st.Page("pages/definitions.py", title="Definitions", icon=":material/menu_book:", url_path="definitions"),
            st.Page("pages/data.py" if auth.can("upload") else auth.read_only_data_page, title="Data",
                    icon=":material/database:", url_path="data"),
        ],
    })
    nav.run()


run()
