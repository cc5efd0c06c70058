"""The review pack: one self-contained HTML file with the overview, every KPI page and the open actions."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from kpi_definitions.periods import Span
from kpi_definitions.registry import registry
from kpi_definitions.views import value_of
from tandem import formats, pack, review, service
from tandem.db import connect
from tandem.selection import Selected


def test_pack_has_every_kpi_the_overview_numbers_and_the_open_actions(demo_db: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "t.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("TANDEM_DB", str(db))
    values = service.kpi_values(str(db), "x", 24321, 24321, "month", (), ())[0]
    con = connect(db)
    rid = review.start(con, date(2026, 11, 2), "2026-10", values)
    review.add_item(con, rid, "savings", "action", "Ask <Logistics> why spend rose", "Ana", date(2026, 11, 9))
    con.close()
    sel = Selected(db, service.version(db), Span(24321, 24321, "month", "2026-10"), 24310, {}, None, "EUR")
    html = pack.build(sel)
    assert html.startswith("<!doctype html>") and "Tandem weekly KPI review · 2026-10" in html
    for kpi in registry():
        assert f"<h2>{kpi.label}</h2>" in html
    now = sel.values()
    savings = formats.value(value_of(now, "savings", "finance"), "currency", "EUR")
    assert f"<td>{savings}</td>" in html  # the overview table carries the KPI layer's number
    assert "Ask &lt;Logistics&gt; why spend rose" in html and "<Logistics>" not in html
