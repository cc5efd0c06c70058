"""The tests the fast default run leaves out, measured: reads `pytest -m "" --durations=0` output on stdin and
prints each test taking at least THRESHOLD_S seconds (setup, call and teardown together), for tests/slow.txt.

    uv run pytest -m "" --durations=0 -p no:cacheprovider | uv run python scripts/slow.py > tests/slow.txt
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict

THRESHOLD_S = 0.4  # the default run's ~700 tests under this take about two minutes on the project's machine


def main() -> None:
    took: dict[str, float] = defaultdict(float)
    for line in sys.stdin:
        if m := re.match(r"\s*([\d.]+)s (?:call|setup|teardown)\s+(\S+)", line):
            took[m.group(2)] += float(m.group(1))
    print(f"# Tests of at least {THRESHOLD_S:.1f} s (scripts/slow.py, from a full run's --durations): marked slow")
    for node in sorted(n for n, t in took.items() if t >= THRESHOLD_S):
        print(node)


if __name__ == "__main__":
    main()
