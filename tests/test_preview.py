"""The agreed number before anyone signs (reports/source.py agreed_preview, reports/preview.py, `tandem agreements
preview`), on the hand-built golden exports: hand-computed values, the bridge to the cent, the words."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from kpi_definitions.agreement import AgreementError
from kpi_definitions.periods import parse_month
from reports import preview, source
from tests.test_cli import _run

JAN, FEB, MAR = parse_month("2026-01"), parse_month("2026-02"), parse_month("2026-03")


def test_the_preview_is_the_start_value_plus_the_steps_included(golden_db: Path) -> None:
    db = str(golden_db)
    ver = source.version(golden_db)
    # golden bridges.yaml, 2026-01: procurement 60, cost avoidance −40, not yet invoiced 0, ..., finance −200
    p = source.agreed_preview(db, ver, "savings", ("cost_avoidance", "not_yet_invoiced"), JAN, JAN, ())
    assert (p.period, p.bridge.start, p.bridge.end, p.agreed) == ("2026-01", 60.0, -200.0, 20.0)
    assert [(s.name, s.value, s.included) for s in p.steps][:3] == [
        ("cost_avoidance", -40.0, True), ("not_yet_invoiced", 0.0, True), ("contracted_price", 0.0, False)]
    # to the cent: the bridge's start plus the included steps, as the bridge itself computes them
    assert p.agreed == pytest.approx(p.bridge.start + sum(s.value for s in p.bridge.steps
                                                          if s.name in ("cost_avoidance", "not_yet_invoiced")), abs=0.005)
    assert preview.formula(p) == ("procurement's EUR 60, plus Cost avoidance −EUR 40, plus Savings on orders not yet "
                                  "invoiced EUR 0 = EUR 20")
    # including every step is finance's value, none is procurement's
    every = tuple(s.name for s in p.bridge.steps)
    assert source.agreed_preview(db, ver, "savings", every, JAN, JAN, ()).agreed == pytest.approx(-200.0)
    none = source.agreed_preview(db, ver, "savings", (), JAN, JAN, ())
    assert none.agreed == 60.0 and preview.formula(none) == ("procurement's EUR 60, with no bridge step included: "
                                                              "procurement's value as it is.")


def test_the_preview_over_a_quarter_and_the_months_beside_both_teams(golden_db: Path) -> None:
    db, ver = str(golden_db), source.version(golden_db)
    # 2026-Q1 to date: procurement 60 + 15 + 0 = 75; cost avoidance −40 + 0; not yet invoiced 0 − 15
    p = source.agreed_preview(db, ver, "savings", ("cost_avoidance", "not_yet_invoiced"), JAN, MAR, ())
    assert p.period == "2026-Q1" and p.bridge.start == 75.0 and p.agreed == pytest.approx(75 - 40 - 15)
    months = p.history.filter(pl.col("period").is_in(["2026-01", "2026-02"]))
    got = {(r["period"], r["view"]): r["value"] for r in months.iter_rows(named=True)}
    # each month under the proposal: 2026-01 60 − 40 = 20, 2026-02 15 − 15 = 0, beside both teams'
    assert got[("2026-01", "agreed")] == 20.0 and got[("2026-02", "agreed")] == 0.0
    assert got[("2026-01", "procurement")] == 60.0 and got[("2026-01", "finance")] == -200.0
    table = preview.history_table(p)
    assert table.columns == ["Month", "Procurement", "Finance", "Agreed"]
    assert table.filter(pl.col("Month") == "2026-02").row(0) == ("2026-02", "EUR 15", "−EUR 70", "EUR 0")
    # a part of a netted step and the step itself: one sentence, no number
    with pytest.raises(AgreementError, match="already adds up its parts"):
        source.agreed_preview(db, ver, "budget_variance", ("timing", "orders_not_invoiced"), FEB, FEB, ())


def test_agreements_preview_prints_the_number_before_anyone_signs(golden_db: Path) -> None:
    code, out, err = _run("agreements", "preview", "--db", str(golden_db), "--kpi", "savings", "--include",
                          "cost_avoidance,not_yet_invoiced", "--period", "2026-01")
    assert code == 0, err
    assert "Savings · the agreed number a proposal makes · 2026-01" in out
    assert "Procurement's value: EUR 60 · finance's value: −EUR 200" in out
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert "Cost avoidance │ −EUR 40 │ included" in lines and "Volume change │ EUR 0 │ left out" in lines
    assert "Agreed value: EUR 20" in out
    assert "procurement's EUR 60, plus Cost avoidance −EUR 40, plus Savings on orders not yet invoiced EUR 0 = EUR 20" \
        in " ".join(out.split())
    assert "2026-01 │ EUR 60 │ −EUR 200 │ EUR 20" in lines  # the months beside both teams'
    code, out, err = _run("agreements", "preview", "--db", str(golden_db), "--kpi", "savings", "--include", "volumes")
    assert code == 2 and "Savings's bridge has no step 'volumes'" in err
    code, out, err = _run("agreements", "preview", "--db", str(golden_db), "--kpi", "savings", "--period", "2026-13")
    assert code == 2 and "--period '2026-13'" in err
