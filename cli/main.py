"""The `tandem` command line: every command group registers itself on one app (cli/common.py)."""

from __future__ import annotations

import sys

from cli import agreements, budget, data, kpis, lake, pack, prices, savings, serve  # noqa: F401 - each registers its commands
from cli.common import app


def run() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
