"""Commands that load nothing import no pandera or pandas (2 s of imports): `tandem --help`, `tandem kpis`
and the serve path start without them. Each is checked in a fresh process, where sys.modules is honest."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandera", "pandas")


def _loaded(body: str) -> dict[str, bool]:
    """Run `body` in a new interpreter and say which of HEAVY it left imported."""
    script = textwrap.dedent(body) + textwrap.dedent(f"""
        import json, sys
        print("MODULES " + json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES "))
    return json.loads(line.removeprefix("MODULES "))


def _cli(*args: str) -> str:
    return f"""
        from cli.main import app
        try:
            app({list(args)!r}, standalone_mode=False)
        except SystemExit as exc:
            assert not exc.code, exc.code
    """


NONE = {m: False for m in HEAVY}


def test_help_imports_no_pandera_or_pandas() -> None:
    assert _loaded(_cli("--help")) == NONE
    assert _loaded(_cli("kpis", "--help")) == NONE


def test_kpis_imports_no_pandera_or_pandas(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    shutil.copy(demo_db, db)
    assert _loaded(_cli("kpis", "--db", str(db))) == NONE
    assert _loaded(_cli("kpis", "--db", str(db), "--by", "category", "--format", "json")) == NONE
    assert _loaded(_cli("kpis", "--db", str(db), "--explain")) == NONE


def test_the_serve_path_imports_no_pandera_or_pandas() -> None:
    # what `tandem serve` imports before handing over to Streamlit, and the app's data access
    assert _loaded("""
        import tandem.serve
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.web import cli
        from kpi_definitions import registry
        registry.parse(registry.HERE, registry.SQL_DIR)
        import tandem.service
    """) == NONE


@pytest.mark.parametrize("module", ["pipelines.load", "workspace.db"])
def test_the_check_sees_them(module: str) -> None:
    """Loading does need pandera: the check is not blind (workspace.db imports ingestion only when loading)."""
    assert _loaded(f"import {module}")["pandera"] is (module == "pipelines.load")
