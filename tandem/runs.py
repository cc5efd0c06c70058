"""How a page's run ends early: `stop()` instead of `st.stop()`, so the app still marks the run finished.

Streamlit's `st.stop()` only requests a stop: the next element the script sends raises, so nothing can follow it,
not even app.py's end-of-run mark (widgets.settled) that browser tests and the browser benchmark wait on. Under
app.py a page's `stop()` raises PageDone instead, which app.py catches, then marks the run; a page run on its own
(AppTest.from_function, a shared bare page) falls back to `st.stop()`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NoReturn

import streamlit as st

_UNDER_APP: ContextVar[bool] = ContextVar("tandem_under_app", default=False)


class PageDone(Exception):  # noqa: N818 - not an error: the page has shown all it will this run
    """Raised by `stop()` under app.py: the page has drawn everything it will this run."""


@contextmanager
def under_app() -> Iterator[None]:
    """app.py runs the page inside this block: `stop()` then raises PageDone for it to catch."""
    token = _UNDER_APP.set(True)
    try:
        yield
    finally:
        _UNDER_APP.reset(token)


def stop() -> NoReturn:
    """End this run of the page here, as `st.stop()` does, leaving app.py free to mark the run finished."""
    if _UNDER_APP.get():
        raise PageDone
    st.stop()
    raise AssertionError("unreachable: st.stop() ends the run")  # for the type checker: stop never returns
