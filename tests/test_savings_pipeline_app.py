"""The Savings pipeline page (pages/savings_pipeline.py, tandem/ledger_ui.py) in AppTest on the demo with its ledger
decisions (workspace/demo.py plant_decisions): the cards, the bridge to the cent with the lines behind a step, the
initiatives nominal beside index-adjusted, the forecast, and the forms (a bad field is one sentence and the form
keeps what was typed; the recorder cannot book; finance books)."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from kpi_definitions.compute import bridge
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import registry
from store.db import reading
from tests.test_app import app
from tests.test_app import metrics as shown_metrics
from workspace.db import connect
from workspace.demo import plant_decisions


@pytest.fixture(scope="module")
def ledger_demo(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ledger-demo") / "tandem.duckdb"
    shutil.copy(demo_db, db)
    c = connect(db)
    try:
        plant_decisions(c)
    finally:
        c.close()
    return db


@pytest.fixture
def db(ledger_demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "tandem.duckdb"
    shutil.copy(ledger_demo, path)
    return path


def state(at, name: str, team: str):  # noqa: ANN001, ANN201 - the local user states name and team once
    [w for w in at.text_input if w.label == "Your name"][0].input(name)
    [w for w in at.selectbox if w.label == "Your team"][0].set_value(team)
    return at.button(key="FormSubmitter:agreement_me-Continue").click().run()


def test_the_page_shows_the_ledger_of_the_period(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(db, monkeypatch, "savings_pipeline", grain="quarter", period="2026-Q3")
    assert at.title[0].value == "Savings pipeline"
    assert [h.value for h in at.subheader] == ["Where the savings evaporate", "Initiatives", "Savings forecast",
                                               "Record and decide", "Ledger log"]
    with reading(db) as con:
        b = bridge(con, registry(), "savings_ledger", parse_month("2026-07"), parse_month("2026-09"))
    labels = dict(shown_metrics(at))
    assert {"Negotiated · Procurement", "Realised · from invoice lines", "Booked · Finance",
            "Realised ÷ negotiated"} <= set(labels)
    steps = at.dataframe[0].value  # the bridge's rows: negotiated, each step, realised, not booked, booked
    assert list(steps["Step"]) == ["Negotiated (prorated)", "Price not applied", "Volume below or above forecast",
                                   "Bought off contract", "FX and scope", "Realised (from invoice lines)",
                                   "Realised, not booked", "Booked by finance"]
    amounts = list(steps["Amount"])
    assert amounts[0] == pytest.approx(b.start) and amounts[-1] == pytest.approx(b.end)
    assert round(amounts[0] + sum(amounts[1:5]), 2) == round(amounts[5], 2)  # to the cent
    assert round(amounts[5] + amounts[6], 2) == round(amounts[-1], 2)
    assert amounts[3] < -0.2 * amounts[0]  # the demo's off-contract leak (SAV-03's contract lapsed in June 2026)
    initiatives = at.dataframe[1].value
    assert {"SAV-01", "SAV-03", "SAV-04", "SAV-05", "SAV-06"} <= set(initiatives["Initiative"])
    freight = initiatives[initiatives["Initiative"] == "SAV-06"].iloc[0]  # index-adjusted: freight fell
    assert freight["Realised, index-adjusted"] == pytest.approx(freight["Realised (as declared)"])
    assert freight["Realised"] > freight["Realised, index-adjusted"]


def test_a_step_row_opens_its_lines(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(db, monkeypatch, "savings_pipeline", grain="quarter", period="2026-Q3")
    before = len(at.dataframe)
    at.selectbox(key="ledger_step_lines").set_value("off_contract").run()  # as a click on its bar or row
    assert not at.exception, [e.message for e in at.exception]
    assert any(m.value.startswith("**Lines behind Bought off contract**") for m in at.markdown)
    lines = at.dataframe[1].value
    assert len(at.dataframe) == before + 1 and set(lines["Counted as"]) <= {"off contract"}
    assert lines["Off contract"].sum() == pytest.approx(at.dataframe[0].value["Amount"].iloc[3])


def test_the_forms_refuse_with_a_sentence_and_finance_books(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(db, monkeypatch, "savings_pipeline")
    at = state(at, "Pat Keller", "procurement")
    assert not at.exception, [e.message for e in at.exception]
    typed = {"ledger_f_id": "SAV-09", "ledger_f_name": 'Cables "2027" <b>', "ledger_f_supplier": "S0011",
             "ledger_f_category": "Facilities", "ledger_f_baseline": "0", "ledger_f_new": "9", "ledger_f_qty": "100"}
    for key, value in typed.items():
        at.text_input(key=key).input(value)
    at = at.button(key="FormSubmitter:ledger_record-Record").click().run()
    assert [e.value for e in at.error] == ['The initiative was not recorded: the field baseline_price: baseline_price > 0 '
                                           '(value "0"); the field window_start: required (value empty); the field '
                                           'window_end: required (value empty).']
    assert {k: at.text_input(key=k).value for k in typed} == typed  # nothing lost: the form keeps what was typed
    # Pat recorded nothing here, but Fran books; Pat in finance cannot book SAV-02 if Pat recorded it: the demo's
    # initiatives were loaded from the export, so their recorder is whoever loaded them and their owner Pat Keller
    at.button(key="agreement_change_me").click().run()
    at = state(at, "Fran Moreau", "finance")
    at.selectbox(key="ledger_b_id").set_value("SAV-01")
    at.selectbox(key="ledger_b_month").set_value("2026-09")
    at = at.button(key="FormSubmitter:ledger_book-Record the decision").click().run()
    assert [s.value for s in at.success] == ["Booked 2026-09 of SAV-01: its lines are frozen with it."]
    with reading(db) as con:
        booked = con.sql("SELECT amount, booked_by FROM savings_bookings WHERE initiative_id = 'SAV-01' AND "
                         "period = DATE '2026-09-01'").pl()
    assert booked.select(pl.col("booked_by")).item() == "fran.moreau@localhost" and booked["amount"][0] > 0
    log = at.dataframe[-1].value
    assert log["Action"].iloc[0] == "approved" and log["Who"].iloc[0] == "Fran Moreau"


def test_a_viewer_reads_the_ledger_and_is_offered_no_form(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A viewer was shown the Record, Move and booking forms (every submit refused); now the page says what the
    role allows and shows the ledger and its log, no form. An editor still gets them."""
    import json

    from tests.test_app import signed_in_page

    monkeypatch.setenv("TANDEM_DB", str(db))
    monkeypatch.setenv("TANDEM_ROLES", json.dumps({"users": {
        "vic@example.com": {"role": "viewer"}, "eve@example.com": {"role": "editor", "team": "finance"}}}))
    seen = {}
    for who in ("vic@example.com", "eve@example.com"):
        at = signed_in_page(who, "pages/savings_pipeline.py")
        seen[who] = (at.get("form"),
                     any("recording, moving and booking initiatives need the editor role" in c.value for c in at.caption))
    assert seen["vic@example.com"] == ([], True)
    assert len(seen["eve@example.com"][0]) == 3 and seen["eve@example.com"][1] is False  # record, move, decide
