"""Saved payment-terms scenarios: stored with their author, assumptions and figures through the app's write
gate, refused in one sentence when unnamed, listed in the review meeting and included in the pack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from decisions import audit, scenarios
from decisions.identity import Identity
from kpi_definitions.terms import Scenario, run
from reports import pack
from store.db import reading
from store.errors import TandemError
from tests.test_app import app, go
from workspace.db import connect

JAN_2026 = 2026 * 12
ANNA = Identity("anna@example.com", "Anna", "finance", "editor", True)
VIEWER = Identity("vic@example.com", "Vic", "procurement", "viewer", True)


@pytest.fixture
def gdb(golden_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "golden.duckdb"
    shutil.copy(golden_db, db)
    return db


def test_a_scenario_is_saved_with_its_author_assumptions_and_figures(gdb: Path) -> None:
    s = Scenario(new_terms=60, first=JAN_2026, last=JAN_2026 + 2, cost_of_capital=0.08, suppliers=("S1", "S2"))
    with reading(gdb) as con:
        r = run(con, s, "EUR")
    con = connect(gdb)
    try:
        sid = scenarios.save(con, s, r, "  S1 and S2 to 60 days ", "both accept without a price rise", "EUR", ANNA)
        log = audit.entries(con, scenarios.ENTITY, sid)
    finally:
        con.close()
    row = scenarios.saved(gdb).row(0, named=True)
    assert (row["scenario_id"], row["name"], row["saved_by"], row["team"], row["verified"]) == (
        sid, "S1 and S2 to 60 days", "anna@example.com", "finance", True)
    assert (row["new_terms"], row["window_from"], row["window_to"], row["suppliers"]) == (60, "2026-01", "2026-03",
                                                                                         ["S1", "S2"])
    # the figures of tests/test_terms.py: cash released 4 × 20,340 / 365 = 222.90, financing at 8 % = 17.83
    assert row["cash_released"] == pytest.approx(222.9041, abs=1e-4)
    assert row["financing_value"] == pytest.approx(17.8323, abs=1e-4)
    assert row["assumptions"] == "both accept without a price rise"
    assert log["action"].to_list() == ["proposed"] and log["email"].to_list() == ["anna@example.com"]
    shown = scenarios.table(scenarios.saved(gdb)).row(0, named=True)
    assert shown["Selection"] == "suppliers S1, S2"
    assert shown["Terms, window, cost of capital"] == "60 days · 2026-01 to 2026-03 · capital 8.0%"


@pytest.mark.parametrize(("name", "by", "says"), [
    ("   ", ANNA, "Give the scenario a name"),
    ("x" * 121, ANNA, "at most 120 characters"),
    ("Viewer's", VIEWER, "viewer role, which cannot"),
])
def test_a_scenario_without_a_name_or_by_a_viewer_is_refused_and_nothing_saved(gdb: Path, name: str, by: Identity,
                                                                              says: str) -> None:
    s = Scenario(new_terms=60, first=JAN_2026, last=JAN_2026 + 2, suppliers=("S1",))
    with reading(gdb) as con:
        r = run(con, s, "EUR")
    con = connect(gdb)
    try:
        with pytest.raises((TandemError, ValueError), match=says):
            scenarios.save(con, s, r, name, "", "EUR", by)
    finally:
        con.close()
    assert scenarios.saved(gdb).height == 0


def test_saved_in_the_app_listed_in_the_review_and_in_the_pack(demo_db: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    at = app(db, monkeypatch, "terms", period="2026-09", supplier=["S0007"])
    at.text_input(key="scenario_name").input("Northwind to 60 days")
    at.text_area(key="scenario_assumptions").input("Northwind keeps its prices")
    next(b for b in at.button if b.label == "Save scenario").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("Saved as scenario #1")
    row = scenarios.saved(db).row(0, named=True)
    assert (row["name"], row["suppliers"], row["new_terms"], row["window_from"]) == (
        "Northwind to 60 days", ["S0007"], 90, "2026-09")
    assert row["saved_by"].endswith("(unverified)")  # the local user, no login
    go(at, "review").run()
    assert not at.exception
    listed = next(df.value for df in at.dataframe if "Scenario" in df.value.columns)
    assert listed["Scenario"].tolist() == ["Northwind to 60 days"]
    assert listed["Assumptions"].tolist() == ["Northwind keeps its prices"]
    html = pack.build(pack.selected(db, "2026-09"))
    assert "Payment-terms scenarios" in html and "Northwind to 60 days" in html
