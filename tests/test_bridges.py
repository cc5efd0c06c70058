"""Bridges that explain, hand-computed on a small set of exports loaded through the real ingestion.

Savings, 2026-03 against 2025-03 (all EUR; no line but J3, J4 and J6 carries a quantity or an item of its own):
  a year earlier  J1 200 on A1/1 (LOG, no item, 10 at 20): S1's unit of LOG, quantity 200 ÷ 20 = 10
                  J2 20 on A2/1 (item K1, 4 at 5): K1, quantity 20 ÷ 5 = 4
  now             J3 270 on B1/1 (LOG, no item, 15 at 18): S1's unit of LOG, 270 ÷ 18 = 15
                  J4 45 on B2/1 (LOG, no item, 5 at 18, invoiced in part): S1's unit of LOG, 45 ÷ 18 = 2.5
                  J6 36 on B3/1 (item K1, 6 at 6): K1, 36 ÷ 6 = 6
                  J5 30 without a PO line, J8 10 on the cancelled B5/1: no quantity anywhere
  S1's unit of LOG: q0 10, s0 200 (p0 20); q1 17.5, s1 315 (p1 18)
                    price (20 − 18) × 17.5 = 35, volume (10 − 17.5) × 20 = −150   (35 − 150 = 200 − 315)
  K1:               q0 4, s0 20 (p0 5); q1 6, s1 36 (p1 6)
                    price (5 − 6) × 6 = −6, volume (4 − 6) × 5 = −10              (−6 − 10 = 20 − 36)
  Procurement: B1/1 and B2/1 are on C1 (baseline 20, price reduction): (20 − 18) × 15 + (20 − 18) × 5 = 40,
  both invoiced in March. S1's unit of LOG is bought under contract, K1 is not:
    contracted price 35 − 40 = −5; uncontracted price −6; volume −150 − 10 = −160; without quantities 0 − 30 − 10.
  Finance: 220 − (270 + 45 + 30 + 36 + 10) = −171 = 40 − 5 − 6 − 160 − 40.

Budget variance, 2026-04 (budget 200): committed = D1 100 + D2 50 (D4 is cancelled) + J12 25 without a PO = 175
→ −25; actual = J10 52 + J11 70 + J12 25 + J13 15 = 162 → −38. Steps:
  timing = orders not invoiced −100 (D1) + invoices on orders of other periods 70 (J11 on D3, ordered in
  February) = −30; invoice vs order 52 − 50 = 2 (J10 on D2); unknown orders 15 (J13 on the cancelled D4).
  −25 − 30 + 2 + 15 = −38.

Inventory days by category, 2026-03 (31 days; stock on 03-31, value = on hand × unit cost, above safety stock
for procurement; consumption value per day = value ÷ 31):
  K1 → PAC (its most recent PO line, B3/1 of 2026-03, beats A2/1's MRO of 2025-03): 10 × 3 = 30, above safety
       (10 − 4) × 3 = 18; 31 a month = 1 a day → 30 and 18 days
  K2 → MRO (D5/1 and D5/2 share their order date; D5/1's 20 beats D5/2's 10): 20 (no safety stock); 62 → 2 a day
       → 10 and 10 days
  K3 → RAW (no PO line; contract C2 names it): 5 × 2 = 10, none above safety; 1 a day → 10 and 0 days
  K4 → (no category) (neither): 31; 1 a day → 31 and 31 days
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from kpi_definitions import agreement
from kpi_definitions.compute import Selection, bridge, compute
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import check, registry
from tests.rows import VALID
from workspace.db import connect, ingest_file

# The rows of each export (the header is the contract's columns, tests/rows.py).
EXPORTS = {
    "suppliers": """S1,Acme,NL,yes,30
""",
    "contracts": """C1,S1,LOG,,2026-01-01,2026-12-31,20,18,EUR,price_reduction,30
C2,S1,RAW,K3,2025-01-01,2026-12-31,2,2,EUR,price_reduction,30
""",
    "purchase_orders": """A1,1,S1,,,LOG,CC1,2025-03-02,10,20,EUR,closed
A2,1,S1,,K1,MRO,CC1,2025-03-03,4,5,EUR,closed
B1,1,S1,C1,,LOG,CC1,2026-03-02,15,18,EUR,closed
B2,1,S1,C1,,LOG,CC1,2026-03-03,5,18,EUR,open
B3,1,S1,,K1,PAC,CC1,2026-03-04,6,6,EUR,closed
B5,1,S1,,,LOG,CC1,2026-03-05,1,10,EUR,cancelled
D1,1,S1,,,LOG,CC1,2026-04-02,10,10,EUR,open
D2,1,S1,,,LOG,CC1,2026-04-03,5,10,EUR,closed
D3,1,S1,,,LOG,CC1,2026-02-10,7,10,EUR,closed
D4,1,S1,,,LOG,CC1,2026-04-04,3,5,EUR,cancelled
D5,1,S1,,K2,MRO,CC1,2026-05-05,2,10,EUR,open
D5,2,S1,,K2,PAC,CC1,2026-05-05,1,10,EUR,open
""",
    "invoices": """J1,1,S1,A1,1,,LOG,CC1,6300,2025-03-10,2025-04-09,,,200,EUR
J2,1,S1,A2,1,,MRO,CC1,5200,2025-03-11,2025-04-10,,,20,EUR
J3,1,S1,B1,1,,LOG,CC1,6300,2026-03-10,2026-04-09,,,270,EUR
J4,1,S1,B2,1,,LOG,CC1,6300,2026-03-11,2026-04-10,,,45,EUR
J5,1,S1,,,,LOG,CC1,6300,2026-03-12,2026-04-11,,,30,EUR
J6,1,S1,B3,1,K1,PAC,CC1,5100,2026-03-13,2026-04-12,,,36,EUR
J8,1,S1,B5,1,,LOG,CC1,6300,2026-03-14,2026-04-13,,,10,EUR
J10,1,S1,D2,1,,LOG,CC1,6300,2026-04-20,2026-05-20,,,52,EUR
J11,1,S1,D3,1,,LOG,CC1,6300,2026-04-15,2026-05-15,,,70,EUR
J12,1,S1,,,,LOG,CC1,6300,2026-04-16,2026-05-16,,,25,EUR
J13,1,S1,D4,1,,LOG,CC1,6300,2026-04-17,2026-05-17,,,15,EUR
""",
    "budgets": """2026-04,CC1,LOG,200,EUR
""",
    "inventory": """2026-03-31,K1,L1,10,4,3,EUR
2026-03-31,K2,L1,20,0,1,EUR
2026-03-31,K3,L1,5,5,2,EUR
2026-03-31,K4,L1,1,0,31,EUR
""",
    "consumption": """2026-03,K1,L1,10,31,EUR
2026-03,K2,L1,62,62,EUR
2026-03,K3,L1,15,31,EUR
2026-03,K4,L1,1,31,EUR
""",
}


@pytest.fixture(scope="module")
def bdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The exports above, loaded through the real ingestion into a DuckDB file."""
    folder = tmp_path_factory.mktemp("bridges")
    db = folder / "bridges.duckdb"
    c = connect(db)
    try:
        for name, text in EXPORTS.items():
            path = folder / f"{name}.csv"
            path.write_text(",".join(VALID[name]) + "\n" + text, encoding="utf-8")
            result = ingest_file(c, path)
            assert result.ok and result.rows_quarantined == 0, f"{name}: {result.outcome}"
    finally:
        c.close()
    return db


@pytest.fixture(scope="module")
def bcon(bdb: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(bdb, read_only=True)
    yield c
    c.close()


def _steps(con: duckdb.DuckDBPyConnection, kpi: str, month: str, **filters: str) -> tuple[float, float, dict]:
    b = bridge(con, registry(), kpi, parse_month(month), parse_month(month), {k: [v] for k, v in filters.items()})
    assert b.reason is None, b.reason
    assert b.total is not None and round(b.total, 2) == round(b.end, 2)  # the steps add up, to the cent
    return b.start, b.end, {s.name: s.value for s in b.steps}


def test_lines_without_quantities_take_volume_and_price_from_their_po_lines(bcon: duckdb.DuckDBPyConnection) -> None:
    start, end, steps = _steps(bcon, "savings", "2026-03")
    assert (start, end) == (pytest.approx(40), pytest.approx(-171))
    assert steps == pytest.approx({"cost_avoidance": 0, "not_yet_invoiced": 0, "contracted_price": 35 - 40,
                                   "uncontracted_price": -6, "volume": -150 - 10, "mix": 0,
                                   "without_quantities": -30 - 10})


def test_only_lines_with_no_po_quantity_stay_without_quantities(bcon: duckdb.DuckDBPyConnection) -> None:
    # LOG alone: J1 200 a year ago; J3 270, J4 45 (quantities from B1/1, B2/1), J5 30 (no PO line) and J8 10
    # (cancelled PO line) now: 200 − 355 = −155 = 40 − 5 − 150 − 40
    start, end, steps = _steps(bcon, "savings", "2026-03", category="LOG")
    assert (start, end) == (pytest.approx(40), pytest.approx(-155))
    assert steps == pytest.approx({"cost_avoidance": 0, "not_yet_invoiced": 0, "contracted_price": 35 - 40,
                                   "uncontracted_price": 0, "volume": -150, "mix": 0, "without_quantities": -40})


def test_budget_timing_is_one_net_step_with_its_parts(bcon: duckdb.DuckDBPyConnection) -> None:
    start, end, steps = _steps(bcon, "budget_variance", "2026-04")
    assert (start, end) == (pytest.approx(175 - 200), pytest.approx(162 - 200))
    assert steps == pytest.approx({"timing": -100 + 70, "invoice_vs_order": 52 - 50, "unknown_orders": 15})
    b = bridge(bcon, registry(), "budget_variance", parse_month("2026-04"), parse_month("2026-04"))
    timing = b.steps[0]
    assert (timing.label, [(p.name, p.value) for p in timing.parts]) == (
        "Timing (net)", [("orders_not_invoiced", -100), ("earlier_orders", 70)])


def test_an_agreement_can_count_the_net_step_or_one_of_its_parts(bcon: duckdb.DuckDBPyConnection) -> None:
    april = [parse_month("2026-04")]
    assert agreement.value(bcon, registry(), "budget_variance", ["timing"], april) == pytest.approx(-25 - 30)
    assert agreement.value(bcon, registry(), "budget_variance", ["orders_not_invoiced"], april) == pytest.approx(-125)


def test_a_netted_step_has_two_parts_or_more_one_level_deep() -> None:
    kpi = registry()["budget_variance"]
    timing, *rest = kpi.bridge.steps
    one = timing.model_copy(update={"parts": timing.parts[:1]})
    nested = timing.model_copy(update={"parts": (timing.parts[0].model_copy(update={"parts": timing.parts}),
                                                 timing.parts[1])})
    for step, message in [(one, "nets a single part"), (nested, "has parts of its own")]:
        bad = kpi.model_copy(update={"bridge": kpi.bridge.model_copy(update={"steps": (step, *rest)})})
        assert [i.message for i in check(bad) if message in i.message], check(bad)
    assert check(kpi) == []


def test_inventory_days_by_category_through_the_items_po_and_contract_category(bcon: duckdb.DuckDBPyConnection) -> None:
    march = parse_month("2026-03")
    out = compute(bcon, registry(), Selection(march, march, "month", ("category",)), kpis=["inventory_days"])
    got = {(r["view"], r["category"]): r["value"] for r in out.values.iter_rows(named=True)}
    assert got == pytest.approx({("finance", "PAC"): 30, ("procurement", "PAC"): 18, ("finance", "MRO"): 10,
                                 ("procurement", "MRO"): 10, ("finance", "RAW"): 10, ("procurement", "RAW"): 0,
                                 ("finance", "(no category)"): 31, ("procurement", "(no category)"): 31})
    assert not [n for n in out.notes if "inventory_days" in n]


def test_the_category_filter_applies_to_inventory_days_and_its_bridge(bcon: duckdb.DuckDBPyConnection) -> None:
    march = parse_month("2026-03")
    two = compute(bcon, registry(), Selection(march, march, filters={"category": ["MRO", "RAW"]}))
    assert {r["view"]: r["value"] for r in two.values.filter(kpi="inventory_days").iter_rows(named=True)} == \
        pytest.approx({"finance": (20 + 10) / ((62 + 31) / 31), "procurement": 20 / 3})
    assert not [n for n in two.notes if "inventory_days" in n]  # no "shown for all of them": it is filtered
    start, end, steps = _steps(bcon, "inventory_days", "2026-03", category="PAC")
    assert (start, end, steps) == (pytest.approx(18), pytest.approx(30), {"safety_stock": pytest.approx(4 * 3 / 1)})


def test_facts_from_before_the_item_categories_ask_for_a_refresh(bdb: Path,
                                                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    import shutil

    from kpi_definitions.facts import FactsOutdated

    db = tmp_path_factory.mktemp("old") / "old.duckdb"
    shutil.copy(bdb, db)
    old = duckdb.connect(str(db))
    old.execute("DROP TABLE fact_items")  # as an earlier version left the database
    old.close()
    march = parse_month("2026-03")
    with connect(db, read_only=True) as c, pytest.raises(FactsOutdated, match="run `tandem refresh`"):
        compute(c, registry(), Selection(march, march), kpis=["inventory_days"])
    connect(db).close()  # a writer rebuilds what is missing
    with connect(db, read_only=True) as c:
        assert compute(c, registry(), Selection(march, march), kpis=["inventory_days"]).values.height == 2


def test_the_budget_page_draws_one_timing_step_and_lists_its_parts(bdb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_app import app

    at = app(bdb, monkeypatch, "budget_variance", period="2026-04")
    steps = at.dataframe[0].value
    assert list(steps["Step"]) == ["Timing (net)", "↳ Orders not yet invoiced", "↳ Invoices on orders of other periods",
                                   "Invoice vs order price and quantity", "Invoices on cancelled or unknown orders"]
    assert list(steps["Change"]) == [-30, -100, 70, 2, 15]
    # on screen each step carries its sign: it moves the number from one view towards the other
    display = pa.ipc.open_stream(io.BytesIO(at.dataframe[0].proto.arrow_data.styler.display_values)).read_all()
    assert display.to_pydict()["Change"] == ["−EUR 30", "−EUR 100", "+EUR 70", "+EUR 2", "+EUR 15"]


def test_the_inventory_page_honours_the_category_filter(bdb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_app import app, metrics

    at = app(bdb, monkeypatch, "inventory_days", period="2026-03", category=["PAC"])
    assert [v for _, v in metrics(at)] == ["30.0 days", "18.0 days"]  # K1 alone (see the module's docstring)
    assert not [t.value for t in [*at.caption, *at.markdown, *at.info, *at.warning] if "inventory_days" in str(t.value)]
    assert "category" in at.dataframe[1].value.columns  # the breakdown splits by category first
