"""The import graph: each layer imports only the layers below it; decisions and reports import no Streamlit; the
command line imports no page (docs/architecture.md draws the picture)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("store", "pipelines", "kpi_definitions", "decisions", "workspace", "reports", "cli", "tandem", "pages", "app")
# package -> the project packages it may import (besides itself), from the bottom up
ALLOWED: dict[str, set[str]] = {
    "store": set(),
    "pipelines": {"store"},
    "kpi_definitions": {"store"},
    "decisions": {"store", "kpi_definitions"},
    "workspace": {"store", "pipelines", "kpi_definitions", "decisions"},
    "reports": {"store", "kpi_definitions", "decisions", "workspace"},
    "cli": {"store", "pipelines", "kpi_definitions", "decisions", "workspace", "reports", "tandem"},
    "tandem": {"store", "pipelines", "kpi_definitions", "decisions", "workspace", "reports"},
}
NO_STREAMLIT = ("store", "pipelines", "kpi_definitions", "decisions", "workspace", "reports", "cli")


def imports_of(path: Path, names: tuple[str, ...] = PROJECT) -> set[str]:
    """Top-level packages among `names` a module imports, wherever in the module (lazy imports count too)."""
    return {n.split(".")[0] for n in modules_of(path) if n.split(".")[0] in names}


def modules_of(path: Path) -> set[str]:
    """Every module a file imports, by its full dotted name (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_layer_imports_only_what_lies_below_it(package: str) -> None:
    wrong = {str(p.relative_to(ROOT)): sorted(imports_of(p) - ALLOWED[package] - {package})
             for p in sorted((ROOT / package).rglob("*.py"))}
    assert {k: v for k, v in wrong.items() if v} == {}


@pytest.mark.parametrize("package", NO_STREAMLIT)
def test_only_the_face_imports_streamlit(package: str) -> None:
    found = [str(p.relative_to(ROOT)) for p in sorted((ROOT / package).rglob("*.py"))
             if imports_of(p, ("streamlit",))]
    assert found == []


def test_the_command_line_reaches_the_face_only_to_serve_it() -> None:
    """`tandem serve` starts the server (tandem/serve.py); no command imports a page or another face module."""
    used = {m for p in (ROOT / "cli").rglob("*.py") for m in modules_of(p) if m.split(".")[0] in ("tandem", "pages")}
    assert used <= {"tandem.serve", "tandem.serve.main"}


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from tandem import widgets\nimport kpi_definitions.facts\nimport streamlit as st\n")
    assert imports_of(bad) == {"tandem", "kpi_definitions"}
    assert imports_of(bad, ("streamlit",)) == {"streamlit"}
