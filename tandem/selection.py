"""What a page shows: the filter bar (in the sidebar, bound to the URL), its selection, and the watcher that
reruns a page when a load has changed the database."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from kpi_definitions import views
from kpi_definitions.periods import GRAINS, Grain, resolve
from reports import safe_text
from reports.scope import FILTER_LABELS, FILTER_PARAMS, TREND_PERIODS, Scope, stamp_lines, trend_start  # noqa: F401
from store import gate
from store.errors import Busy, TandemError
from tandem import service

Selected = Scope  # what the filter bar selected, read through the cached service
WATCH_EVERY_S = 3


def database_or_stop() -> tuple[Path, str]:
    db = service.cfg().db
    if not db.exists():
        st.info("No database yet: run `tandem demo`, or load your exports on the Data page or with `tandem ingest`.")
        st.stop()
    return db, service.version(db)


def legend() -> str:
    """What the colours and the gaps mean, from the registry: each view's colour, then every gap in words."""
    reg = service.reg()
    colours = [f"■ {s.colour} {'is ' if i == 0 else ''}always **{s.word}**" for i, s in enumerate(views.styles(reg))]
    return f"{', '.join(colours)}; gaps are {', '.join(g.words for g in views.all_gaps(reg))}."


def filter_bar() -> Selected:
    """The one filter bar, in the sidebar, bound to the URL so a view can be shared as a link."""
    db, ver = database_or_stop()
    with st.sidebar:
        _watch(db, ver)
    if gate.writing():  # this server's upload: the page shows the data from before it (service.version)
        st.info(service.loading_notice(db))
    try:
        rng = service.months(str(db), ver)
        problem = service.facts_problem(str(db), ver)
        opts = service.options(str(db), ver)
    except Busy:  # a long load holds the file: say so, the watcher reruns when it is done
        st.info(service.loading_notice(db))
        st.stop()
    except TandemError as exc:  # the file itself (damaged, unreadable): the store's one sentence
        st.error(exc.message)
        st.stop()
    if problem:
        st.error(problem)
        st.stop()
    if rng is None:
        st.info("The database holds no orders, invoices or stock yet: load exports on the Data page.")
        st.stop()
    cal = service.calendar()
    data_first, data_last = rng
    with st.sidebar:
        st.header("Filters")
        # A bound widget writes what it shows into the URL, so links read like the screen: ?grain=quarter
        grain: Grain = st.selectbox("Grain (fiscal calendar)", GRAINS, index=0, key="grain", bind="query-params")
        labels = list(dict.fromkeys(lbl for _, lbl in cal.buckets(data_first, data_last, grain)))[::-1]
        period = st.selectbox("Period", labels, index=0, key="period", bind="query-params",
                              help="A period still running is shown up to the latest month with data.")
        span = resolve(cal, grain, rng, period, clamp=True)
        filters: dict[str, list[str]] = {}
        rerun = False
        for param, dim in FILTER_PARAMS.items():
            choices = opts.get(dim, [])
            label_of = dict(choices)
            shown = lambda v, m=label_of: safe_text.visible(m.get(v, v))  # noqa: E731 - the widget's format
            rerun |= _ids_as_shown(param, label_of, shown)
            picked = st.multiselect(FILTER_LABELS[param], [v for v, _ in choices], key=param, bind="query-params",
                                    format_func=shown, placeholder="All")
            if picked:
                filters[dim] = list(picked)
        if rerun:
            st.rerun()
        st.caption(legend())
        as_of = service.data_as_of(str(db), ver)
        st.caption(f"Data as of {as_of:%Y-%m-%d %H:%M}" if as_of else "No load yet")
    return Scope(db, ver, span, trend_start(data_first, span, cal.span, grain), filters, as_of,
                 service.cfg().reporting_currency, service)


def _ids_as_shown(param: str, label_of: Mapping[str, str], shown: Callable[[str], str]) -> bool:
    """A link typed by hand names ids (?supplier=S0007), where the bound widget writes and reads the values it
    shows ("S0007 · Northwind Components") and drops any other. Streamlit lets only the session state set a
    bound widget, and on a page's first run the URL wins whenever one of its values is valid: a link of ids
    alone is picked through the session state now; a link mixing ids and shown values needs a second run,
    once the widget exists (True: rerun after the filters are drawn)."""
    if (pending := st.session_state.pop(f"_link_{param}", None)) is not None:
        st.session_state[param] = pending  # the second run: the code's value wins over the URL's
        return False
    given = st.query_params.get_all(param)
    if param in st.session_state or not any(v in label_of for v in given):
        return False
    id_of = {shown(v): v for v in label_of}
    ids = list(dict.fromkeys(v if v in label_of else id_of[v] for v in given if v in label_of or v in id_of))
    if all(v in label_of or v not in id_of for v in given):  # no shown value: the URL's are all dropped
        st.session_state[param] = ids
        return False
    st.session_state[f"_link_{param}"] = ids
    return True


@st.fragment(run_every=WATCH_EVERY_S)
def _watch(db: Path, ver: str) -> None:
    """Rerun the page when a load (from the command line, or another user) has changed the database."""
    if service.version(db) != ver:
        st.rerun()


@contextmanager
def said(db: Path) -> Iterator[None]:
    """A problem with the file inside, in one sentence: the loading notice while a load holds it (st.info), the
    store's sentence for a damaged or unreadable file (st.error); then the page stops."""
    try:
        yield
    except Busy:
        loading(db)
        st.stop()
    except TandemError as exc:
        st.error(exc.message)
        st.stop()


def loading(db: Path) -> None:
    """The notice a page shows while a load holds the file, and a watcher that reruns the page when it is done."""
    st.info(service.loading_notice(db))
    _until_done(db, service.version(db), gate.writing())


@st.fragment(run_every=WATCH_EVERY_S)
def _until_done(db: Path, ver: str, was_writing: bool) -> None:
    if (was_writing and not gate.writing()) or service.version(db) != ver:
        st.rerun()

