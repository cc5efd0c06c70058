"""The import graph: the store imports nothing of the project; ingestion and the KPI layer import only the store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("store", "pipelines", "kpi_definitions", "tandem", "pages", "app")
# package -> the project packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "store": set(),
    "pipelines": {"store"},
    "kpi_definitions": {"store"},
}


def imports_of(path: Path) -> set[str]:
    """Top-level project packages a module imports, wherever in the module (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {n.split(".")[0] for n in names if n.split(".")[0] in PROJECT}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_layer_imports_only_what_lies_below_it(package: str) -> None:
    wrong = {str(p.relative_to(ROOT)): sorted(imports_of(p) - ALLOWED[package] - {package})
             for p in sorted((ROOT / package).rglob("*.py"))}
    assert {k: v for k, v in wrong.items() if v} == {}


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from tandem import widgets\nimport kpi_definitions.facts\n")
    assert imports_of(bad) == {"tandem", "kpi_definitions"}
