"""Overview page benchmark: the page rendered by Streamlit's AppTest on the KPI benchmark database.

    uv run python benchmarks/overview.py --db /tmp/b10m.duckdb   # a database made by benchmarks/kpis.py
    uv run python benchmarks/overview.py --rows 1000000          # or build one here

Times a render with empty caches (what the first person to open the app after a load waits for) and a
render with warm caches (everyone else, and every filter already seen), after a first run that only pays
for Python imports (a running server has paid them before anyone opens a page).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from benchmarks.kpis import database

    db = database(__doc__)
    os.environ["TANDEM_DB"] = str(db)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    def render() -> float:
        t = time.perf_counter()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
        elapsed = time.perf_counter() - t
        if at.exception or len(at.metric) < 10:
            raise SystemExit(f"the overview did not render: {[e.message for e in at.exception]}")
        return elapsed

    first = render()
    st.cache_data.clear()
    cold = render()
    warm = min(render() for _ in range(3))
    print(f"overview page on {db}")
    print(f"  first run in a new process (Python imports included): {first:.2f} s")
    print(f"  empty caches (first view after a load):                {cold:.2f} s")
    print(f"  warm caches:                                           {warm:.2f} s")


if __name__ == "__main__":
    main()
