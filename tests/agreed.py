"""The third-view test registry, generated from the bundled declarations: every KPI as bundled, plus a view
`agreed` (violet) that reuses one team's SQL, so a new bundled KPI needs no test copy kept by hand."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import yaml

from kpi_definitions.registry import PACKAGE

# The team view whose SQL the agreed view reuses (finance unless named): tests/test_third_view.py computes with
# these numbers (inventory days and payment days agree with procurement).
REUSES = {"inventory_days": "procurement", "payment_days": "procurement"}
OWN = ("label", "colour", "definition", "owner", "version", "effective_date")  # what the agreed view says itself


def agreed_view(name: str, views: dict) -> dict:
    """The agreed view of KPI `name`: the reused view's SQL, lines, bindings and sources, its own words."""
    base = views[REUSES.get(name, "finance")]
    return {"label": "Agreed", "colour": "violet",
            "definition": f"The definition both teams agreed on in the joint KPI review (a test declaration: it "
                          f"reuses the SQL {base['sql']}.sql).",
            **{k: v for k, v in base.items() if k not in OWN},
            "owner": "Joint KPI review", "version": "0.1", "effective_date": "2026-06-01"}


@cache
def registry_folder() -> Path:
    """A folder (made once per test process) holding every bundled declaration with its agreed view."""
    folder = Path(tempfile.mkdtemp(prefix="tandem-agreed-registry-"))
    for path in sorted(PACKAGE.glob("*.yaml")):
        kpi = yaml.safe_load(path.read_text(encoding="utf-8"))
        kpi["views"]["agreed"] = agreed_view(kpi["name"], kpi["views"])
        (folder / path.name).write_text(yaml.safe_dump(kpi, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return folder
