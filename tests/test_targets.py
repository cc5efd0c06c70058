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


def test_joint_target_workflow_and_bad_input(con) -> None:  # noqa: ANN001
    import pytest

    from kpi_definitions.agreement import AgreementError
    from kpi_definitions.registry import registry
    from tandem import audit, targets
    from tandem.auth import Identity

    ana = Identity("ana@corp.example", "Ana", "finance", "editor", True)
    pia = Identity("pia@corp.example", "Pia", "procurement", "editor", True)
    reg = registry()
    bad = [
        (("margin", "finance", "month", "2026-01", 1), "There is no KPI named 'margin'"),
        (("savings", "board", "month", "2026-01", 1), "has no 'board' view"),
        (("savings", "finance", "quarter", "2026-13", 1), "is not a quarter"),
        (("savings", "finance", "month", "2026-01", "12k"), "'12k' is not a number"),
    ]
    for args, message in bad:
        with pytest.raises(AgreementError, match=message):
            targets.propose(con, reg, *args, "c", pia)
    with pytest.raises(AgreementError, match="cannot be sliced by 'location'"):
        targets.propose(con, reg, "savings", "finance", "month", "2026-01", 1, "c", pia, "location", "DC")
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
