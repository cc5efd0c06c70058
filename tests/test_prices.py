"""The price KPI (kpi_definitions/price_change.yaml) on a hand-built basket (tests/prices), every value worked
out by hand in the test: the chain-linked index with items entering and leaving, the price paid against
contract with FX, the bridge between them and the items that moved each.

The basket (reporting currency EUR; USD 0.8 in 2026-01, 0.9 in 2026-02, no rate in 2026-03), price = amount ÷ qty:
    item (supplier)   2026-01          2026-02          2026-03
    A (S1), on C1     10 for 100 = 10  10 for 110 = 11  10 for 121 = 12.1  (+ a credit note −30: no price)
    B (S1)            5 for 100 = 20   5 for 95 = 19    —                  (leaves)
    D (S1)            —                4 for 100 = 25   4 for 120 = 30     (enters)
    C (S2), on C2     2 for 90 EUR + 1 for 60 USD × 0.8 = 48: 3 for 138   —   2 for 100 (not in two months running)
The market: PPI-IT 100 from 2025-03 to 2025-12, then 104, 106, 110 in 2026-01..03; category IT follows it.
Monthly links L_t = Σ s_t−1 × (p_t ÷ p_t−1) ÷ Σ s_t−1 over the items bought in both months:
    2026-01: no month before: no link
    2026-02: A, B: (100 × 11/10 + 100 × 19/20) ÷ 200 = (110 + 95) ÷ 200 = 1.025
    2026-03: A, D: (110 × 12.1/11 + 100 × 30/25) ÷ 210 = (121 + 120) ÷ 210 = 241/210 = 1.147619…
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from kpi_definitions import prices
from kpi_definitions.compute import Selection, bridge, compute
from kpi_definitions.lines import lines
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import registry
from store.db import reading
from workspace.db import connect, ingest_file

BASKET = Path(__file__).parent / "prices"
JAN, FEB, MAR = parse_month("2026-01"), parse_month("2026-02"), parse_month("2026-03")
L_FEB, L_MAR = 1.025, 241 / 210


@pytest.fixture(scope="module")
def basket_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prices") / "prices.duckdb"
    c = connect(path)
    try:
        for name in ("suppliers", "contracts", "purchase_orders", "fx_rates", "invoices", "price_indices",
                     "category_index"):
            result = ingest_file(c, BASKET / f"{name}.csv")
            assert result.ok and result.rows_quarantined == 0, f"{name}: {result.outcome}"
    finally:
        c.close()
    return path


@pytest.fixture
def bcon(basket_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with reading(basket_db) as c:
        yield c


def _values(con: duckdb.DuckDBPyConnection, first: int, last: int, grain: str = "month", by: tuple[str, ...] = (),
            filters: dict[str, list[str]] | None = None) -> pl.DataFrame:
    sel = Selection(first, last, grain, by, filters or {})  # type: ignore[arg-type]
    return compute(con, registry(), sel, kpis=["price_change"]).values


def test_the_index_chains_monthly_links_over_items_bought_in_both_months(bcon: duckdb.DuckDBPyConnection) -> None:
    fin = _values(bcon, JAN, MAR).filter(view="finance")
    assert fin["period"].to_list() == ["2026-01", "2026-02", "2026-03"]
    jan, feb, mar = fin["value"].to_list()
    assert jan is None  # no link in the twelve months to January: not computable, never 0
    assert feb == pytest.approx(L_FEB - 1)  # 2.5 %
    assert mar == pytest.approx(L_FEB * L_MAR - 1)  # 1.025 × 1.147619 − 1 = 17.63 %
    assert mar == pytest.approx(0.1763095238)
    assert fin["unit"].unique().to_list() == ["ratio"] and fin["excluded"].sum() == 0
    # a quarter is the index at its last month against twelve months earlier: March's value
    q1 = _values(bcon, JAN, MAR, "quarter").filter(view="finance")
    assert q1["value"].to_list() == [pytest.approx(0.1763095238)]


def test_the_index_by_supplier_and_filtered(bcon: duckdb.DuckDBPyConnection) -> None:
    by = _values(bcon, MAR, MAR, by=("supplier_id",)).filter(view="finance")
    # S1 holds every link; S2's C is never bought two months running: no link, not computable
    assert dict(by.select("supplier_id", "value").rows()) == {"S1": pytest.approx(0.1763095238), "S2": None}
    s2 = _values(bcon, MAR, MAR, filters={"supplier_id": ["S2"]}).filter(view="finance")
    assert s2["value"].to_list() == [None]


def test_price_paid_against_contract_with_fx(bcon: duckdb.DuckDBPyConnection) -> None:
    pro = _values(bcon, JAN, MAR).filter(view="procurement")
    jan, feb, mar = pro["value"].to_list()
    # January: A on C1 (10.5 EUR): paid 100 vs 10 × 10.5 = 105; C on C2 (50 USD, 0.8): J3 paid 90 EUR vs
    # 2 × 50 × 0.8 = 80, J4 paid 60 USD × 0.8 = 48 vs 1 × 50 × 0.8 = 40. (238 − 225) ÷ 225 = 5.78 %
    assert jan == pytest.approx((100 + 90 + 48 - (105 + 80 + 40)) / (105 + 80 + 40))
    assert jan == pytest.approx(0.0577777778)
    assert feb == pytest.approx((110 - 105) / 105)  # F1 only: 4.76 %
    # March: M1 121 vs 105; M5 is on C2 in USD with no March rate: left out and counted; M3 is a credit note
    assert mar == pytest.approx(16 / 105)
    assert pro["excluded"].to_list() == [0, 0, 1]
    by = _values(bcon, JAN, JAN, by=("supplier_id",)).filter(view="procurement")
    assert dict(by.select("supplier_id", "value").rows()) == {"S1": pytest.approx(-5 / 105),
                                                             "S2": pytest.approx((138 - 120) / 120)}


def test_the_bridge_from_contract_variance_to_the_index(bcon: duckdb.DuckDBPyConnection) -> None:
    b = bridge(bcon, registry(), "price_change", MAR, MAR)
    assert (b.start_view, b.end_view) == ("procurement", "finance")
    assert b.start == pytest.approx(16 / 105) and b.end == pytest.approx(L_FEB * L_MAR - 1)
    steps = {s.name: s.value for s in b.steps}
    # link terms w × (r − 1): February A 100/200 × 0.1 = 0.05 (contracted), B 100/200 × −0.05 = −0.025;
    # March A 110/210 × 0.1 = 11/210 (contracted), D 100/210 × 0.2 = 20/210
    assert steps["contract_variance"] == pytest.approx(-16 / 105)
    assert steps["contracted_items"] == pytest.approx(0.05 + 11 / 210)
    assert steps["uncontracted_items"] == pytest.approx(-0.025 + 20 / 210)
    # 1.025 × 1.147619 − 1 − (0.025 + 0.147619) = 0.025 × 0.147619
    assert steps["compounding"] == pytest.approx(0.025 * (L_MAR - 1))
    assert b.total == pytest.approx(b.end)


def test_the_items_that_moved_each_view(bcon: duckdb.DuckDBPyConnection) -> None:
    items = lines(bcon, registry(), "price_change", "finance", MAR, MAR, {})
    got = {r["item_id"]: r for r in items.to_dicts()}
    assert items["item_id"].to_list() == ["A", "D", "B", "C"]  # by the size of their share of the links
    assert got["A"]["contribution"] == pytest.approx(0.05 + 11 / 210)
    assert got["D"]["contribution"] == pytest.approx(20 / 210) and got["B"]["contribution"] == pytest.approx(-0.025)
    assert got["C"]["contribution"] == 0 and got["C"]["months_compared"] == 0
    assert (got["A"]["first_price"], got["A"]["last_price"]) == (pytest.approx(10), pytest.approx(12.1))
    contract = lines(bcon, registry(), "price_change", "procurement", JAN, JAN, {})
    assert contract.select("item_id", "paid", "at_contract", "variance").rows() == [
        ("C", pytest.approx(138), pytest.approx(120), pytest.approx(18)),
        ("A", pytest.approx(100), pytest.approx(105), pytest.approx(-5))]


def test_our_index_against_the_market_both_100_in_the_first_month(bcon: duckdb.DuckDBPyConnection) -> None:
    c = prices.comparison(bcon, registry(), JAN, MAR, "IT")
    ours = c.filter(series=prices.OURS)["level"].to_list()
    assert ours == [pytest.approx(100), pytest.approx(102.5), pytest.approx(102.5 * 241 / 210)]  # 117.63
    market = c.filter(series="PPI-IT")["level"].to_list()
    assert market == [pytest.approx(100), pytest.approx(106 / 104 * 100), pytest.approx(110 / 104 * 100)]


def test_savings_net_of_the_market(bcon: duckdb.DuckDBPyConnection) -> None:
    net = prices.savings_net_of_market(bcon, registry(), JAN, MAR)
    row = net.filter(view="procurement", category="IT").row(0, named=True)
    # Spend on IT 2026-01..03: (100 + 100 + 90 + 48) + (110 + 95 + 100) + (121 + 120 − 30 + 50 + 100) = 1,004.
    # PPI-IT over the year to March: 110 / 100 − 1 = 10 %: market saving = −1,004 × 0.10 ÷ 1.10 = −91.27 (it rose).
    # Negotiated savings: P1 (11 − 10.5) × 30 = 15, P2 (55 − 50) USD × 0.8 × 5 = 20: 35; net 35 + 91.27 = 126.27
    assert row["market_change"] == pytest.approx(0.10)
    assert row["market_saving"] == pytest.approx(-1004 * 0.1 / 1.1)
    assert row["savings"] == pytest.approx(35) and row["net"] == pytest.approx(35 + 1004 * 0.1 / 1.1)
    fin = net.filter(view="finance", category="IT").row(0, named=True)
    assert fin["savings"] is None and fin["net"] is None  # nothing bought a year earlier: not computable


def test_the_outlook_of_contracts_ending_within_a_year(bcon: duckdb.DuckDBPyConnection) -> None:
    out = prices.outlook(bcon, registry(), MAR).row(0, named=True)
    # C1 and C2 end 2026-12-31. Their spend 2025-04..2026-03: C1 J1 100 + F1 110 + M1 121 = 331,
    # C2 J3 90 + J4 48 + M5 100 = 238. Both started 2025-01-01, before PPI-IT's first month 2025-03 (100):
    # the market moved 110 / 100 − 1 = 10 % since; exposure = 569 × 10 % = 56.9
    assert (out["category"], out["index_name"], out["contracts_ending"]) == ("IT", "PPI-IT", 2)
    assert out["spend_ending"] == pytest.approx(569)
    assert out["below_market"] == pytest.approx(0.10) and out["exposure"] == pytest.approx(56.9)
    assert out["our_change"] == pytest.approx(0.1763095238) and out["market_change"] == pytest.approx(0.10)
