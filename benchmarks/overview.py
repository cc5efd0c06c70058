"""Overview page benchmark: the page rendered by Streamlit's AppTest on the KPI benchmark database.

    uv run python benchmarks/overview.py --db /tmp/b10m.duckdb   # a database made by benchmarks/kpis.py
    uv run python benchmarks/overview.py --rows 1000000          # or build one here

Times a render with empty caches (what the first person to open the app after a load waits for) and a
render with warm caches (everyone else, and every filter already seen), after a first run that only pays
for Python imports (a running server has paid them before anyone opens a page). Beside each wall time: the
CPU time of this process (the machine is shared: the wall time also says how busy the neighbours were), and
how much of the render was the data reads (`reports/source.py`, the functions the face caches: their calls
that missed the cache) — the rest is the script itself (Streamlit, the page's Python, building the charts).
The same AppTest on a page with one number and one Plotly chart gives AppTest's own cost (the floor).

`--profile` samples the script's stack every 5 ms during one render with empty caches and one warm render, and
says where the time went: per function of the project (inclusive) and per library at the top of the stack.
"""

from __future__ import annotations

import argparse
import collections
import functools
import inspect
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOOR_APP = """
import plotly.graph_objects as go
import streamlit as st

st.metric("A number", "EUR 1,234")
st.plotly_chart(go.Figure(go.Bar(x=list("abcdefghij"), y=list(range(10)))))
"""

_reads: dict[str, float] = {}  # seconds spent in each data read of reports/source.py, outermost calls only
_calls: dict[str, int] = {}
_depth = threading.local()


def _timed(name: str, fn: Callable) -> Callable:
    @functools.wraps(fn)
    def run(*a, **k):  # noqa: ANN002, ANN003, ANN202 - any read's arguments
        depth = getattr(_depth, "n", 0)
        _depth.n = depth + 1
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            _depth.n = depth
            if depth == 0:
                _reads[name] = _reads.get(name, 0.0) + time.perf_counter() - t
                _calls[name] = _calls.get(name, 0) + 1
    return run


def time_the_reads() -> None:
    """Wrap reports.source's reads before the face imports (and caches) them."""
    from reports import source

    for name, fn in list(vars(source).items()):
        if inspect.isfunction(fn) and fn.__module__ == source.__name__ and not name.startswith("_") \
                and name not in {"cfg", "calendar"}:
            setattr(source, name, _timed(name, fn))


class Sampler:
    """A sampling profiler for the threads that run a Streamlit script (AppTest runs it in its own thread): every
    5 ms, each sampled thread's stack is counted once per project function on it (inclusive) and once for the
    library of its innermost frame (self)."""

    PROJECT = ("tandem/", "pages/", "reports/", "kpi_definitions/", "decisions/", "workspace/", "store/", "app.py")

    def __init__(self) -> None:
        self.inclusive: collections.Counter[str] = collections.Counter()
        self.leaf: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me, main = threading.get_ident(), threading.main_thread().ident
        root = str(ROOT) + "/"
        while not self._stop.wait(0.005):
            for ident, frame in sys._current_frames().items():
                if ident in (me, main):
                    continue
                seen, leaf, f = set(), None, frame
                while f is not None:
                    path = f.f_code.co_filename
                    if leaf is None:
                        leaf = self._library(path, root)
                    rel = path.removeprefix(root)
                    if rel.startswith(self.PROJECT):
                        seen.add(f"{rel}:{f.f_code.co_name}")
                    f = f.f_back
                if not any(s.startswith(("pages/", "app.py")) for s in seen):
                    continue  # not a script run (a Streamlit housekeeping thread)
                self.samples += 1
                self.inclusive.update(seen)
                self.leaf[leaf or "?"] += 1

    @staticmethod
    def _library(path: str, root: str) -> str:
        if "site-packages/" in path:
            return path.split("site-packages/")[1].split("/")[0].removesuffix(".py")
        if path.startswith(root):
            return "project: " + path.removeprefix(root).split("/")[0]
        return "python: " + Path(path).name

    def report(self, title: str) -> None:
        ms = 5
        print(f"  {title}: {self.samples * ms / 1000:.2f} s of script sampled")
        print("    innermost frame by library: " + ", ".join(
            f"{k} {v * ms / 1000:.2f} s" for k, v in self.leaf.most_common(8)))
        print("    project functions (inclusive):")
        for k, v in self.inclusive.most_common(25):
            print(f"      {v * ms / 1000:6.2f} s  {k}")


def as_served() -> None:
    """Run a page switched to in AppTest as the server runs it. AppTest runs a page's file directly (Streamlit's
    pages-folder path), where the server runs app.py, whose navigation runs the page inside one_reader (one
    connection for the run's reads, store/db.py): the same here, or every read would open the file again."""
    from streamlit.runtime.scriptrunner import script_runner

    from store.db import one_reader

    plain = script_runner._mpa_v1  # noqa: SLF001 - looked up at each run: replaced for this benchmark only

    def within(main_script_path: str) -> None:
        with one_reader():
            plain(main_script_path)

    script_runner._mpa_v1 = within  # noqa: SLF001


def main() -> None:
    from benchmarks.kpis import arguments, database

    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--page", help="another page's script (pages/budgets.py): its own run after the app's entry")
    known, rest = ap.parse_known_args()
    sys.argv = [sys.argv[0], *rest]
    db = database(__doc__, arguments(__doc__))
    os.environ["TANDEM_DB"] = str(db)
    time_the_reads()
    if known.page:
        as_served()
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    def render(script: str | None = None, empty: bool = False) -> tuple[float, float, float]:
        """(wall time, CPU time, seconds in data reads) of one render of the app (or of `script`); with
        --page, of that page's own run after the app's entry (caches emptied in between when `empty`)."""
        at = None
        if script is None and known.page:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
            if empty:
                st.cache_data.clear()
        _reads.clear()
        _calls.clear()
        t, c = time.perf_counter(), time.process_time()
        if at is not None:
            at.switch_page(known.page).run()
        elif script is None:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
        else:
            at = AppTest.from_string(script, default_timeout=600).run()
        elapsed, cpu = time.perf_counter() - t, time.process_time() - c
        if at.exception or (script is None and not known.page and len(at.metric) < 10):
            raise SystemExit(f"the page did not render: {[e.message for e in at.exception]}")
        return elapsed, cpu, sum(_reads.values())

    render(FLOOR_APP)
    floor = statistics.median(render(FLOOR_APP)[0] for _ in range(3))
    load = os.getloadavg()[0]
    first = render()
    colds = []
    for _ in range(3):
        st.cache_data.clear()
        colds.append(render(empty=True))
        slowest, calls = sorted(_reads.items(), key=lambda kv: -kv[1])[:6], dict(_calls)
    warms = [render() for _ in range(3)]
    cold = sorted(colds)[1]
    warm = sorted(warms)[1]
    print(f"{known.page or 'overview'} page on {db} (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after, "
          f"{os.cpu_count()} cores)")
    print(f"  AppTest of one number and one Plotly chart (the floor): {floor:.2f} s")
    print(f"  first run in a new process (Python imports included): {first[0]:.2f} s")
    print(f"  empty caches (first view after a load), median of 3:  {cold[0]:.2f} s (CPU {cold[1]:.2f} s; "
          f"data reads {cold[2]:.2f} s; all: {', '.join(f'{c[0]:.2f}' for c in colds)})")
    print(f"  warm caches, median of 3:                              {warm[0]:.2f} s (CPU {warm[1]:.2f} s; "
          f"data reads {warm[2]:.2f} s)")
    print("  slowest reads with empty caches: " + ", ".join(f"{k} {v:.2f} s ({calls[k]}×)" for k, v in slowest))
    if known.profile:
        st.cache_data.clear()
        with Sampler() as cold_profile:
            render(empty=True)
        with Sampler() as warm_profile:
            render()
        cold_profile.report("empty caches")
        warm_profile.report("warm caches")


if __name__ == "__main__":
    main()
