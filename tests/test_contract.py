"""docs/contract.md is the contract as the code runs it: its generated tables (export types, KPIs and views,
commands) match the declarations, and it names every one of them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kpi_definitions.registry import registry
from store.exports import EXPORT_TYPES

ROOT = Path(__file__).resolve().parents[1]


def _script():  # noqa: ANN202 - scripts/contract.py, loaded as a module
    spec = importlib.util.spec_from_file_location("contract", ROOT / "scripts" / "contract.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_contract_is_current() -> None:
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert _script().render(text) == text, "docs/contract.md is out of date: run `uv run python scripts/contract.py`"


def test_the_contract_names_every_export_kpi_view_and_command() -> None:
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert all(f"| **{name}**" in text for name in EXPORT_TYPES)
    for kpi in registry():
        assert f"(`{kpi.name}`)" in text
        assert all(f"| {view} |" in text for view in kpi.views)
    for command in ("ingest", "kpis", "pack", "demo", "mapping draft", "mapping check", "definitions export"):
        assert f"- `tandem {command}" in text


@pytest.mark.parametrize("block", ["exports", "kpis", "commands"])
def test_a_stale_block_is_caught(block: str) -> None:
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    start = text.index(f"<!-- generated: {block} -->\n") + len(f"<!-- generated: {block} -->\n")
    stale = text[:start] + "| something no longer true |\n" + text[start:]
    assert _script().render(stale) == text
