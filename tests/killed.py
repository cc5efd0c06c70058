"""A load killed mid-way, for the fault tests: `ingest_file` run in a real process that SIGKILLs itself (no cleanup,
no rollback by Python) right after a named function of the load has returned, inside the load's transaction."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_killed_after(db: Path, file: Path, module: str, function: str) -> None:
    """Load `file` into `db` in a new process killed once `module.function` (e.g. kpi_definitions.facts,
    update_months) has run; asserts it was killed there."""
    script = textwrap.dedent(f"""
        import importlib, os, signal
        from pathlib import Path
        from workspace.db import connect, ingest_file
        owner = importlib.import_module({module!r})
        real = getattr(owner, {function!r})
        def die(*a, **k):
            real(*a, **k)
            os.kill(os.getpid(), signal.SIGKILL)
        setattr(owner, {function!r}, die)
        ingest_file(connect({str(db)!r}), Path({str(file)!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
