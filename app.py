"""Tandem's Streamlit entry point: the login gate (tandem/auth.py), then the navigation. The KPI pages come from
the registry (one per declaration, at /<kpi name>); the other pages are the scripts in `pages/`."""

from __future__ import annotations

import threading

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException

from tandem import auth  # the sign-in page needs only this: the rest is imported once someone is let in


def _import_the_pages() -> None:
    """What every page imports (polars, plotly, DuckDB, pandas for the tables: about 3 s of CPU on a fresh
    server), imported while the first visitor signs in at the identity provider instead of after."""
    import pandas  # noqa: F401 - the tables' number formats (tandem/grid.py)

    from tandem import agreement_ui, kpi_page, selection, widgets  # noqa: F401


@st.cache_resource(show_spinner=False)
def _warm() -> threading.Thread:
    """Start importing the pages' modules once per server, in the background (the sign-in page does not wait)."""
    thread = threading.Thread(target=_import_the_pages, name="tandem-warm-up", daemon=True)
    thread.start()
    return thread


def _open(page: st.Page) -> None:
    """Open `page` with the link's query parameters (a shared link to / keeps its period and filters)."""
    st.switch_page(page, query_params={k: st.query_params.get_all(k) for k in st.query_params})


def run() -> None:
    _warm()
    auth.gate()  # sign-in, or "not on the list", or the local user without login; sets the page config
    from store.db import one_reader
    from store.errors import Busy, TandemError
    from tandem import agreement_ui, kpi_page, runs, selection, service, widgets

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
            # with how many proposals and targets await this user's team: "Agreements · 2 awaiting you"
            st.Page("pages/agreement.py", title=agreement_ui.nav_title(), icon=":material/approval:",
                    url_path="agreements"),
            st.Page("pages/savings_pipeline.py", title="Savings pipeline", icon=":material/trending_down:",
                    url_path="savings_pipeline"),
        ],
        "KPIs": kpi_page.pages(),
        "Explore": [
            st.Page("pages/drilldown.py", title="Drill-down", icon=":material/search:", url_path="drilldown"),
            st.Page("pages/terms.py", title="Payment terms", icon=":material/payments:", url_path="terms"),
            st.Page("pages/budgets.py", title="Budgets and approvals", icon=":material/request_quote:", url_path="budgets"),
            st.Page("pages/definitions.py", title="Definitions", icon=":material/menu_book:", url_path="definitions"),
            st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
        ],
    }, expanded=True)  # every page in view: "View 3 more" hid Agreements
    try:
        # the page's reads share one connection to the file, closed when the run ends (store/db.py one_reader)
        with runs.under_app(), one_reader():  # a page's runs.stop() ends its run here, still marked below
            nav.run()
    except runs.PageDone:
        pass
    except Busy:  # a load holds the file (an upload here, or a long CLI load): a calm notice, not an error
        selection.loading(service.cfg().db)
    except TandemError as exc:  # a problem the user can act on (a damaged file, a long load): one sentence
        st.error(exc.message)
    except RerunException:  # st.rerun: not the end of this page's run, the next run marks it
        raise
    except BaseException:  # a page that failed: this run is over all the same
        widgets.settled()
        raise
    widgets.settled()  # the page shows all this run draws: what browser tests and the browser benchmark wait on


run()
