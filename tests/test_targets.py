"""Run-rate forecasts and status of joint targets (kpi_definitions/targets.py), hand-computed."""

from __future__ import annotations

from kpi_definitions.periods import FiscalCalendar, parse_month
from kpi_definitions.targets import forecast, outlook, status


def test_a_month_complete() -> None:
    # savings 2026-01, procurement 60 against a target of 62: misses by 2 ≤ 5 % × 62 = 3.1 → at risk
    o = outlook(62, 60, "currency", "higher", parse_month("2026-01"), parse_month("2026-01"), parse_month("2026-03"))
    assert (o.forecast, o.status, o.months_elapsed, o.months_total) == (60, "at risk", 1, 1)


def test_a_quarter_part_way() -> None:
    # 2026-Q1 with data to February: 75 so far over 2 months → 75 ÷ 2 × 3 = 112.5; target 100 → on track
    first, last = FiscalCalendar().parse("2026-Q1", "quarter")
    o = outlook(100, 75, "currency", "higher", first, last, parse_month("2026-02"))
    assert (o.forecast, o.status, o.months_elapsed) == (112.5, "on track", 2)
    # a level (days) is forecast as it stands: 41 days against a target of at most 35 → 6 > 1.75 → off track
    o = outlook(35, 41, "days", "lower", first, last, parse_month("2026-02"))
    assert (o.forecast, o.status) == (41, "off track")


def test_a_fiscal_year_with_a_july_start() -> None:
    # FY2026 = 2025-07..2026-06; data to 2026-03 → 9 months; −270 so far → −270 ÷ 9 × 12 = −360
    first, last = FiscalCalendar(7).parse("FY2026", "year")
    assert (first, last) == (parse_month("2025-07"), parse_month("2026-06"))
    o = outlook(-350, -270, "currency", "higher", first, last, parse_month("2026-03"))
    # short by 10 ≤ 5 % × 350 = 17.5 → at risk
    assert (o.forecast, o.status, o.months_elapsed, o.months_total) == (-360, "at risk", 9, 12)
    assert forecast(None, "currency", 3, 12) is None and status(None, 1, "higher") is None


def test_joint_target_workflow_and_bad_input(golden_db, tmp_path) -> None:  # noqa: ANN001
    import shutil

    import pytest

    from workspace.db import connect

    shutil.copy(golden_db, tmp_path / "g.duckdb")
    con = connect(tmp_path / "g.duckdb")

    from decisions import audit, targets
    from decisions.identity import Identity
    from kpi_definitions.agreement import AgreementError
    from kpi_definitions.registry import registry

    ana = Identity("ana@corp.example", "Ana", "finance", "editor", True)
    pia = Identity("pia@corp.example", "Pia", "procurement", "editor", True)
    reg = registry()
    bad = [
        (("margin", "finance", "month", "2026-01", 1), "There is no KPI named 'margin'"),
        (("savings", "board", "month", "2026-01", 1), "has no 'board' view"),
        (("savings", "finance", "quarter", "2026-13", 1), "is not a quarter"),
        (("savings", "finance", "month", "2026-01", "twelve"), "'twelve' is not a number: write the target like "
         "125000, 1.2M or 150k"),
    ]
    for args, message in bad:
        with pytest.raises(AgreementError, match=message):
            targets.propose(con, reg, *args, "c", pia)
    with pytest.raises(AgreementError, match="cannot be sliced by 'location'"):
        targets.propose(con, reg, "savings", "finance", "month", "2026-01", 1, "c", pia, "location", "DC")
    with pytest.raises(AgreementError, match="There is no category 'Toys' in the data: pick one the filter bar offers"):
        targets.propose(con, reg, "savings", "finance", "month", "2026-01", 1, "c", pia, "category", "Toys")
    assert audit.entries(con).height == 0
    tid = targets.propose(con, reg, "savings", "procurement", "quarter", "2026-Q1", "100", "price outlook: flat", pia,
                          "category", "IT")
    with pytest.raises(AgreementError, match="Procurement proposed this target"):
        targets.decide(con, tid, True, "", pia)
    with pytest.raises(AgreementError, match="A rejection needs a reason"):
        targets.decide(con, tid, False, " ", ana)
    assert targets.decide(con, tid, True, "within budget", ana)["status"] == "approved"
    with pytest.raises(AgreementError, match="already approved"):
        targets.decide(con, tid, True, "", ana)
    assert targets.approved(con).select("kpi", "period", "slice_value", "value").rows() == [
        ("savings", "2026-Q1", "IT", 100.0)]
    assert audit.entries(con, "target")["action"].to_list() == ["proposed", "approved"]
    con.close()


def _approved_targets(db, targets_spec):  # noqa: ANN001, ANN202
    """Propose (procurement) and approve (finance) each (kpi, view, grain, period, value, slice_dim, slice_value)."""
    from decisions import targets
    from decisions.identity import Identity
    from kpi_definitions.registry import registry
    from workspace.db import connect

    ana = Identity("ana@corp.example", "Ana", "finance", "editor", True)
    pia = Identity("pia@corp.example", "Pia", "procurement", "editor", False)  # stated in local mode: unverified
    c = connect(db)
    try:
        for kpi, view, grain, period, value, dim, slice_value in targets_spec:
            tid = targets.propose(c, registry(), kpi, view, grain, period, value, "outlook", pia, dim, slice_value)
            targets.decide(c, tid, True, "fits the budget", ana)
    finally:
        c.close()


def test_targets_evaluated_against_the_golden_data_and_attached_to_kpi_rows(golden_db, tmp_path) -> None:  # noqa: ANN001
    """Golden savings (procurement): 2026-01 60 (IT 20, LOG 40), 2026-02 15, 2026-03 0; data to 2026-03."""
    import shutil

    import polars as pl

    from decisions import targets
    from kpi_definitions.compute import Selection, compute
    from kpi_definitions.periods import FiscalCalendar
    from kpi_definitions.registry import registry
    from store.db import reading

    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    _approved_targets(db, [
        ("savings", "procurement", "quarter", "2026-Q1", 100, None, None),
        ("savings", "procurement", "month", "2026-01", 19, "category", "IT"),
        ("savings", "procurement", "year", "2026", 310, None, None),
        ("savings", "procurement", "quarter", "2026-02", 70, None, None),  # a month names its quarter: replaces 100
    ])
    cal = FiscalCalendar()
    with reading(db) as con:
        ev = targets.evaluate(con, registry(), cal, "EUR")
        got = ev.sort("target_id").select("period", "slice_value", "target", "actual", "forecast", "status",
                                          "months_elapsed", "months_total", "verified").rows()
        # IT 2026-01: 20 ≥ 19 → on track; 2026: 75 over 3 of 12 months → 75 ÷ 3 × 12 = 300, short 10 ≤ 5 % × 310
        # = 15.5 → at risk; 2026-Q1 (the newer target, 70): 75 ≥ 70 → on track
        assert got == [("2026-01", "IT", 19.0, 20.0, 20.0, "on track", 1, 1, False),
                       ("2026", None, 310.0, 75.0, 300.0, "at risk", 3, 12, False),
                       ("2026-Q1", None, 70.0, 75.0, 75.0, "on track", 3, 3, False)]
        q = compute(con, registry(), Selection(*cal.parse("2026-Q1", "quarter"), "quarter"), kpis=["savings"]).values
        by = compute(con, registry(), Selection(*cal.parse("2026-01", "month"), "month", ("category",)),
                     kpis=["savings"]).values
        it = compute(con, registry(), Selection(*cal.parse("2026-01", "month"), "month", (), {"category": ["IT"]}),
                     kpis=["savings"]).values
    rows = targets.attach(q, ev, "quarter", (), {}).select("view", "value", *targets.COLUMNS_OUT).rows()
    assert rows == [("finance", -270.0, None, None, None), ("procurement", 75.0, 70.0, 75.0, "on track")]
    split = targets.attach(by, ev, "month", ("category",), {}).filter(pl.col("view") == "procurement")
    assert split.select("category", "target", "status").rows() == [("IT", 19.0, "on track"), ("LOG", None, None)]
    assert targets.attach(it, ev, "month", (), {"category": ["IT"]}).filter(
        pl.col("view") == "procurement")["status"].to_list() == ["on track"]
    # the month at quarter grain carries no month target; two filters name no target's slice
    assert targets.attach(by, ev, "quarter", ("category",), {})["target"].null_count() == by.height
    assert targets.attach(it, ev, "month", ("supplier_id",), {"category": ["IT"]})["target"].null_count() == it.height
    assert targets.for_selection(ev, "month", "2026-01", {"category": ["IT"]})["target"].to_list() == [19.0]
    # the month shows the year's and the quarter's targets, shared by months (GRAIN_RULE): 310 ÷ 12 and 70 ÷ 3
    assert targets.for_selection(ev, "month", "2026-01", {})["target"].to_list() == [310 / 12, 70 / 3]
    # `tandem kpis` carries them: the procurement IT row of 2026-01 has 19, forecast 20, on track; others null
    import csv
    import io
    import json

    from tests.test_cli import _run

    code, stdout, stderr = _run("kpis", "--db", str(db), "--period", "2026-01", "--kpi", "savings", "--by",
                                "category", "--format", "json")
    assert code == 0, stderr
    got = {(r["view"], r["dimensions"]["category"]): (r["target"], r["forecast"], r["status"])
           for r in json.loads(stdout)}
    assert got[("procurement", "IT")] == (19.0, 20.0, "on track")
    assert got[("procurement", "LOG")] == got[("finance", "IT")] == (None, None, None)
    code, stdout, stderr = _run("kpis", "--db", str(db), "--period", "2026-Q1", "--grain", "quarter", "--kpi",
                                "savings", "--format", "csv")
    rows = {r["view"]: r for r in csv.DictReader(io.StringIO(stdout))}
    assert (rows["procurement"]["target"], rows["procurement"]["forecast"], rows["procurement"]["status"]) == (
        "70.0", "75.0", "on track")
    assert (rows["finance"]["target"], rows["finance"]["status"]) == ("", "")


def test_a_quarters_rows_when_every_target_is_a_months() -> None:
    """Only a month's target approved: a quarter's rows carry none (GRAIN_RULE), and are still the quarter's (the
    month's integers once replaced no label there: `tandem kpis --grain quarter` stopped on a schema error)."""
    import polars as pl

    from decisions import targets

    month = pl.DataFrame([{"target_id": 1, "kpi": "savings", "view": "procurement", "grain": "month",
                           "period": "2026-01", "target": 19.0, "actual": 20.0, "forecast": 20.0, "status": "on track",
                           "months_elapsed": 1, "months_total": 1, "verified": True, "unit": "currency"}],
                         schema=targets.SCHEMA)
    assert targets.at_grain(month, "quarter").schema == targets.at_grain(month.clear(), "quarter").schema
    values = pl.DataFrame({"kpi": ["savings"], "view": ["procurement"], "period": ["2026-Q1"], "value": [75.0]})
    assert targets.attach(values, month, "quarter", (), {}).rows() == [("savings", "procurement", "2026-Q1", 75.0,
                                                                        None, None, None)]
    assert targets.for_selection(month, "month", "2026-01", {})["target"].to_list() == [19.0]


def test_the_review_lists_target_status_changes_since_it_started(golden_db, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """A review starts with savings 2026-Q1 (procurement) at target 100: 75 → off track. Then a new target of 70
    replaces it (75 ≥ 70 → on track) and IT 2026-01 gets 19 (20 ≥ 19 → on track): both are "what changed"."""
    import shutil
    from datetime import date

    import polars as pl

    from decisions import review, targets
    from decisions.identity import Identity
    from kpi_definitions.periods import FiscalCalendar
    from kpi_definitions.registry import registry
    from store.db import reading
    from tests.test_app import app
    from workspace.db import connect

    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    _approved_targets(db, [("savings", "procurement", "quarter", "2026-Q1", 100, None, None)])
    con = connect(db)
    rid = review.start(con, date(2026, 4, 2), "2026-Q1", pl.DataFrame(
        schema={"kpi": pl.String, "view": pl.String, "period": pl.String, "value": pl.Float64}),
        Identity("ana@corp.example", "Ana", "finance", "editor", True))
    con.close()
    _approved_targets(db, [("savings", "procurement", "quarter", "2026-Q1", 70, None, None),
                           ("savings", "procurement", "month", "2026-01", 19, "category", "IT")])
    with reading(db) as con:
        then = targets.seen_by(con, rid)
        now = targets.evaluate(con, registry(), FiscalCalendar(), "EUR")
    assert then.select("period", "target", "status").rows() == [("2026-Q1", 100.0, "off track")]
    changed = targets.status_changes(then, now).sort("period")
    assert changed.select("period", "slice_value", "target_then", "status_then", "target_now", "status_now").rows() == [
        ("2026-01", "IT", None, None, 19.0, "on track"), ("2026-Q1", None, 100.0, "off track", 70.0, "on track")]
    assert targets.status_changes(now, now).height == 0  # nothing moved: nothing listed
    at = app(db, monkeypatch, "review")
    assert not at.exception, [e.message for e in at.exception]
    assert "**Joint targets whose status changed** (2)" in [m.value for m in at.markdown]
    table = next(d.value for d in at.dataframe if {"Then", "Slice"} <= set(d.value.columns))  # not "moved most"
    assert list(table["Then"]) == ["no target then", "EUR 100 · ✗ off track"]
    assert list(table["Now"]) == ["EUR 19 · ✓ on track", "EUR 70 · ✓ on track"]


def test_the_review_pack_lists_agreements_and_targets_with_the_unverified_mark(golden_db, tmp_path,  # noqa: ANN001
                                                                                monkeypatch) -> None:  # noqa: ANN001
    """One agreed savings definition (Pia proposed in local mode: unverified; Ana approved signed in), one approved
    target (evaluated: 2026-Q1 75 vs 100 → off track) and one pending target: HTML, PPTX list all three."""
    import io
    import shutil

    from pptx import Presentation

    from decisions import agreement
    from decisions.agreement import local_identity
    from decisions.identity import Identity
    from kpi_definitions.registry import registry
    from reports import pack
    from tandem import service
    from workspace.db import connect

    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    monkeypatch.setenv("TANDEM_DB", str(db))
    _approved_targets(db, [("savings", "procurement", "quarter", "2026-Q1", 100, None, None)])
    pia = local_identity("Pia", "procurement")
    ana = Identity("ana@corp.example", "Ana", "finance", "editor", True)
    con = connect(db)
    agreement.approve(con, agreement.propose(con, "savings", ["cost_avoidance"], "Savings without cost avoidance, "
                                             "as both teams count them.", "2025-01-01", "align", pia), ana)
    from decisions import targets

    targets.propose(con, registry(), "payment_days", "finance", "month", "2026-03", 30, "terms", ana)
    con.close()
    agreement._registry.cache_clear()
    sel = pack.selected(db, "2026-Q1", "quarter")
    rows = pack.agreements(sel)
    assert rows.select("What", "KPI", "Status", "Identity").rows() == [
        ("Joint target", "Payment days", "pending", "verified"),
        ("Agreed definition", "Savings", "approved", "unverified"),
        ("Joint target", "Savings", "approved", "unverified")]
    assert rows["Detail"].to_list()[1] == "version 1, effective 2025-01-01: procurement's value plus Cost avoidance"
    assert rows["Detail"].to_list()[2] == "procurement 2026-Q1: EUR 100 · forecast EUR 75 · off track"
    assert rows["Proposed by"].to_list()[1] == "Pia (procurement, unverified)"
    html = pack.build(sel)
    assert "<h2>Agreements and joint targets: agreed, approved, pending</h2>" in html
    assert "procurement 2026-Q1: EUR 100 · forecast EUR 75 · off track" in html
    assert "Records made without login (local mode) are marked unverified." in html
    from reports import deck as tandem_deck

    deck = Presentation(io.BytesIO(tandem_deck.pptx(sel)))
    texts = [" ".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in deck.slides]
    slide = next(s for s, t in zip(deck.slides, texts, strict=True) if "Agreements and joint targets" in t)
    cells = [c.text for sh in slide.shapes if sh.has_table for row in sh.table.rows for c in row.cells]
    assert "Pia (procurement, unverified)" in cells and "pending" in cells
    service.st.cache_data.clear()


def test_a_target_set_under_another_fiscal_calendar_is_left_out(golden_db, tmp_path) -> None:  # noqa: ANN001
    """Years started in January when the quarter's target was set; now they start in April: "2026-Q1" no longer
    names a period, so the target is left out (its month's target stays) instead of failing every request."""
    import shutil

    from decisions import targets
    from kpi_definitions.periods import FiscalCalendar
    from kpi_definitions.registry import registry
    from store.db import reading

    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    _approved_targets(db, [("savings", "procurement", "quarter", "2026-Q1", 100, None, None),
                           ("savings", "procurement", "month", "2026-01", 19, "category", "IT")])
    with reading(db) as con:
        assert targets.evaluate(con, registry(), FiscalCalendar(), "EUR")["period"].to_list() == ["2026-Q1", "2026-01"]
        now = targets.evaluate(con, registry(), FiscalCalendar(4), "EUR")
    assert now.select("period", "actual").rows() == [("2026-01", 20.0)]  # golden: savings IT 2026-01 = 20
    assert targets.at_grain(now, "quarter", FiscalCalendar(4)).height == 0  # a month's target: not on a quarter
