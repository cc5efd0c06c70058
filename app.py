"""Tandem's Streamlit entry point: the login gate (tandem/auth.py), then the navigation. The KPI pages come from
the registry (one per declaration, at /<kpi name>); the other pages are the scripts in `pages/`."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException

from store.errors import Busy, TandemError
from tandem import auth, kpi_page, selection, service, widgets


def _open(page: st.Page) -> None:
    """Open `page` with the link's query parameters (a shared link to / keeps its period and filters)."""
    st.switch_page(page, query_params={k: st.query_params.get_all(k) for k in st.query_params})


def run() -> None:
    auth.gate()  # sign-in, or "not on the list", or the local user without login; sets the page config
    widgets.fit_numbers()  # headline numbers wrap on a narrow screen instead of reading "EUR …"
    overview = st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview")
    # The app's root opens the Overview at its own address, so /overview is a link like any other page's
    # (Streamlit serves a default page only at / and answers its own path with "Page not found").
    root = st.Page(lambda: _open(overview), title="Tandem", url_path="start", default=True, visibility="hidden")
    nav = st.navigation({
        "Weekly review": [
            root,
            overview,
            st.Page("pages/review.py", title="Review meeting", icon=":material/event_note:", url_path="review"),
        ],
        "KPIs": kpi_page.pages(),
        "Explore": [
            st.Page("pages/drilldown.py", title="Drill-down", icon=":material/search:", url_path="drilldown"),
            st.Page("pages/terms.py", title="Payment terms", icon=":material/payments:", url_path="terms"),
            st.Page("pages/definitions.py", title="Definitions", icon=":material/menu_book:", url_path="definitions"),
            st.Page("pages/agreement.py", title="Agreements", icon=":material/approval:", url_path="agreements"),
            st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
        ],
    })
    try:
        nav.run()
    except Busy:  # a load holds the file (an upload here, or a long CLI load): a calm notice, not an error
        selection.loading(service.cfg().db)
    except TandemError as exc:  # a problem the user can act on (a damaged file, a long load): one sentence
        st.error(exc.message)
    except RerunException:  # st.rerun: not the end of this page's run, the next run marks it
        raise
    except BaseException:  # a page that stopped early (st.stop) or failed: this run is over all the same
        widgets.settled()
        raise
    widgets.settled()  # the page shows all this run draws: what browser tests and the browser benchmark wait on


run()
