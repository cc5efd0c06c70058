"""Payment-terms scenarios on the hand-built exports, every figure worked out by hand in the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_definitions.terms import Discount, Scenario, run
from store.db import reading
from store.errors import TandemError

JAN_2026 = 2026 * 12
# Lines with a positive amount paid 2026-01..2026-03 (tests/golden/exports), in EUR, days taken, agreed terms:
#   S1: I11 80 EUR, 10 days, contract C1 60 | I13 50, 26 days, supplier terms 30 | I21 33, 15 days, contract C3 90
#   S2: I12 450 USD x 0.8 = 360, 25 days, contract C2 20 | I22 15, 23 days, contract C1 60
#       (I31 100 USD in 2026-03 has no FX rate: left out, counted)
#   S9: I15 30, 23 days, not in the supplier master: no agreed terms
# Three months of payments: annual figures are x 4.
S1_SPEND, S1_AMOUNT_DAYS = 80 + 50 + 33, 80 * 10 + 50 * 26 + 33 * 15       # 163, 2,595
S2_SPEND, S2_AMOUNT_DAYS = 360 + 15, 360 * 25 + 15 * 23                     # 375, 9,345
S9_SPEND, S9_AMOUNT_DAYS = 30, 30 * 23                                      # 30, 690


def _run(db: Path, scenario: Scenario):  # noqa: ANN202
    with reading(db) as con:
        return run(con, scenario, "EUR")


def test_moving_two_suppliers_to_60_days(golden_db: Path) -> None:
    r = _run(golden_db, Scenario(new_terms=60, first=JAN_2026, last=JAN_2026 + 2, cost_of_capital=0.08,
                                 suppliers=("S1", "S2"), discount=Discount(0.02, 10, 30)))
    assert (r.months, r.suppliers_affected, r.excluded_lines) == (3, 2, 1)
    assert r.spend_affected == pytest.approx((S1_SPEND + S2_SPEND) * 4)  # 2,152
    total = S1_SPEND + S2_SPEND + S9_SPEND  # 568
    assert r.dpo_before == pytest.approx((S1_AMOUNT_DAYS + S2_AMOUNT_DAYS + S9_AMOUNT_DAYS) / total)  # 22.24 days
    assert r.dpo_after == pytest.approx((S9_AMOUNT_DAYS + (S1_SPEND + S2_SPEND) * 60) / total)  # 58.05 days
    # cash released = 4 x (163 x 60 - 2,595 + 375 x 60 - 9,345) / 365 = 4 x 20,340 / 365 = 222.90
    assert r.cash_released == pytest.approx(4 * (163 * 60 - 2595 + 375 * 60 - 9345) / 365)
    assert r.cash_released == pytest.approx(222.9041, abs=1e-4)
    assert r.financing_value == pytest.approx(222.9041 * 0.08, abs=1e-4)  # 17.83 a year
    assert r.break_even_price_increase == pytest.approx(17.8323 / 2152, abs=1e-6)  # 0.83 %
    # lines whose agreed terms are below 60: I13 (30 days) of S1 and I12 (20) of S2
    assert (r.suppliers_beyond_terms, r.spend_beyond_terms) == (2, pytest.approx((50 + 360) * 4))
    # 2/10 net 30: 0.02 / 0.98 x 365 / 20 = 37.24 % a year, above 8 %: the discount pays
    assert r.discount_annualised == pytest.approx(0.02 / 0.98 * 365 / 20)
    assert r.discount_annualised == pytest.approx(0.372449, abs=1e-6) and r.discount_pays is True


def test_cash_given_away_by_paying_before_terms(golden_db: Path) -> None:
    r = _run(golden_db, Scenario(new_terms=30, first=JAN_2026, last=JAN_2026 + 2, suppliers=("S1",)))
    # S1: 80 x (60 - 10) + 50 x (30 - 26) + 33 x (90 - 15) = 4,000 + 200 + 2,475 = 6,675 amount-days
    # S2: 360 x max(20 - 25, 0) + 15 x (60 - 23) = 555; S9 has no agreed terms
    by = {row["supplier_id"]: row for row in r.by_supplier.to_dicts()}
    assert by["S1"]["cash_given_away"] == pytest.approx(6675 * 4 / 365)  # 73.15
    assert by["S2"]["cash_given_away"] == pytest.approx(555 * 4 / 365)  # 6.08
    assert by["S9"]["cash_given_away"] == 0
    assert r.cash_given_away == pytest.approx((6675 + 555) * 4 / 365)
    assert r.cost_of_cash_given_away == pytest.approx((6675 + 555) * 4 / 365 * 0.08)
    assert by["S1"]["days_now"] == pytest.approx(2595 / 163) and by["S1"]["agreed_days"] == pytest.approx(9270 / 163)


def test_a_spend_band_and_a_category_select_suppliers(golden_db: Path) -> None:
    # annual spend: S1 652, S2 1,500, S9 120
    r = _run(golden_db, Scenario(new_terms=45, first=JAN_2026, last=JAN_2026 + 2, min_spend=600, max_spend=1000))
    assert (r.suppliers_affected, r.spend_affected) == (1, pytest.approx(652))
    r = _run(golden_db, Scenario(new_terms=45, first=JAN_2026, last=JAN_2026 + 2, categories=("LOG",)))
    assert (r.suppliers_affected, r.spend_affected) == (1, pytest.approx(1500))
    assert r.cash_released == pytest.approx(4 * (375 * 45 - 9345) / 365)


@pytest.mark.parametrize(("scenario", "message"), [
    (Scenario(new_terms=-5, first=JAN_2026, last=JAN_2026), "New terms of -5 days: give between 0 and 365 days."),
    (Scenario(new_terms=60, first=JAN_2026, last=JAN_2026, cost_of_capital=8),
     "A cost of capital of 8: give it as a share, e.g. 0.08 for 8 %."),
    (Scenario(new_terms=60, first=JAN_2026, last=JAN_2026 + 2, suppliers=("S404",)),
     "No payments to supplier(s) S404 in the window; check the ids."),
    (Scenario(new_terms=60, first=JAN_2026, last=JAN_2026 + 2, categories=("NONE",)),
     "The selection holds no supplier with payments in the window; widen it."),
    (Scenario(new_terms=60, first=JAN_2026, last=JAN_2026, discount=Discount(0.02, 30, 10)),
     "An early-payment discount needs a rate between 0 and 1 and fewer discount days than net days (e.g. 2/10 net 30)."),
])
def test_bad_scenarios_are_one_sentence(golden_db: Path, scenario: Scenario, message: str) -> None:
    with pytest.raises(TandemError) as refused:
        _run(golden_db, scenario)
    assert refused.value.message == message


def test_tandem_scenario_json_and_bad_input(golden_db: Path) -> None:
    import json

    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    args = ["scenario", "--db", str(golden_db), "--from", "2026-01", "--to", "2026-03", "--supplier", "S1",
            "--supplier", "S2", "--terms", "60", "--cost-of-capital", "0.08", "--discount", "2/10/30"]
    r = runner.invoke(app, [*args, "--format", "json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["cash_released"] == pytest.approx(222.9041, abs=1e-4)
    assert doc["discount_annualised"] == pytest.approx(0.372449, abs=1e-6)
    assert doc["assumptions"] == {"new_terms": 60, "cost_of_capital": 0.08, "currency": "EUR"}
    assert [s["supplier_id"] for s in doc["by_supplier"] if s["chosen"]] == ["S1", "S2"]
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "EUR 223" in table.stdout and "37.2%" in table.stdout
    bad = runner.invoke(app, [*args[:-2], "--discount", "two percent"])
    assert bad.exit_code == 2 and "--discount 'two percent': give RATE/DAYS/NET, e.g. 2/10/30." in bad.stderr
    bad = runner.invoke(app, ["scenario", "--db", str(golden_db), "--terms", "400"])
    assert bad.exit_code == 2 and "New terms of 400 days: give between 0 and 365 days." in bad.stderr


def test_the_payment_terms_page_shows_both_sides(golden_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.test_app import ROOT, metrics

    monkeypatch.setenv("TANDEM_DB", str(golden_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/terms.py").run()
    at.selectbox(key="grain").set_value("quarter").run()
    at.selectbox(key="period").set_value("2026-Q1")
    at.multiselect(key="supplier").set_value(["S1", "S2"])
    at.number_input(key="terms_days").set_value(60)
    at.number_input(key="terms_capital").set_value(8.0).run()
    assert not at.exception
    assert at.caption[0].value.startswith("3 month(s) of payments (2026-Q1), annualised")
    shown = dict(metrics(at))
    # S1 and S2 over the payments of 2026-Q1 (see test_moving_two_suppliers_to_60_days): cash released 222.90
    assert shown["Cash released"] == "EUR 223"
    assert shown["Financing value a year at 8.0%"] == "EUR 18"
    assert (shown["Suppliers affected"], shown["Pushed beyond agreed terms"]) == ("2", "2")
    assert shown["Spend affected a year"] == "EUR 2,152"
    assert "37.2% a year annualised" in " ".join(t.value for t in at.text)
    table = at.dataframe[0].value
    assert table["Supplier"].to_list()[:2] == ["S1", "S2"]  # largest cash given away first: 73.15, then 6.08
    assert table["Cash given away (EUR)"].to_list()[:2] == [73.0, 6.0]  # 73.15 and 6.08, to the unit
    at.text_input(key="terms_discount").set_value("2 percent").run()
    assert not at.exception and "Discount '2 percent': give RATE/DAYS/NET, e.g. 2/10/30." in [i.value for i in at.info]
