"""The savings ledger's numbers on hand-computed data (kpi_definitions/ledger.py, savings_ledger.yaml, sql/base.sql),
loaded through the real ingestion, with stages and bookings recorded through decisions/ledger.py.

Rates: USD 2025-12 0.9, 2026-01 0.8, 2026-02 0.85 (none for March). PPI-IT 2025-12 100, 2026-01 98, 2026-02 97;
IT follows PPI-IT, LOG follows nothing. Every initiative is at stage negotiated or later.

SI-A  S1, IT, contract C1, baseline 10, new price 8 (2 a unit), 620 units over 2025-12-01..2026-01-31 (62 days:
      10 a day), EUR (r = r0 = 1). Negotiated: 2 × 620 × 31/62 = 620 in December and in January.
      December: I1 100 on C1 at 800 (8 a unit): realised 10 × 100 − 800 = 200, price 8 × 100 − 800 = 0;
                I2 50 off contract (P2 names none): off contract −2 × 50 = −100;
                I3 on C1 with no quantity, 80: it bought 80 ÷ 8 = 10 at the new price: scope −2 × 10 = −20;
                units bought 2 × (100 + 50 + 10) = 320 → volume 320 − 620 = −300.
                620 − 300 − 100 − 20 + 0 = 200 = realised.
      January:  I4 200 on C1 at 1,700 (8.50 a unit): realised 2,000 − 1,700 = 300, price 1,600 − 1,700 = −100;
                I5 a credit note of −50 stating 10 units (a price credit: no units): realised +50, price +50;
                volume 2 × 200 − 620 = −220.  620 − 220 − 50 = 350 = realised.
      Index-adjusted (its method is last_price; the column beside it): baseline × index ÷ index of 2025-12:
                December 10 × 100/100 → 200; January 9.8 × 200 − 1,700 + 50 = 310. Nominal 550, adjusted 510.
SI-B  S2, LOG, C2, USD, baseline 20, new 15 (5 a unit), 90 units over 2025-12-01..2026-02-28 (90 days: 1 a day),
      r0 = 0.9 (December's rate). Negotiated: 5 × 31 × 0.9 = 139.5 (Dec), 139.5 (Jan), 5 × 28 × 0.9 = 126 (Feb).
      December: no line: volume −139.5.
      January:  I6 30 at 450 USD (× 0.8 = 360): realised 20 × 0.8 × 30 − 360 = 120; price 15 × 0.8 × 30 − 360 = 0;
                FX 5 × (0.8 − 0.9) × 30 = −15; volume 5 × 0.9 × 30 − 139.5 = −4.5.  139.5 − 4.5 − 15 = 120.
      February: I7 28 at 420 USD (× 0.85 = 357): realised 476 − 357 = 119; FX 5 × (0.85 − 0.9) × 28 = −7;
                volume 126 − 126 = 0.  126 − 7 = 119.  I9 (March) is after the window.
SI-C  S3, IT, C3, baseline 100, new 99 (1 %), index_adjusted, 10 units over 2025-12-01..2026-01-31 (5 a month).
      The index fell 2 % (100 → 98) and the price 1 %: January's I8 10 at 990: baseline moved to 98, realised
      (98 − 99) × 10 = −10: no saving in the adjusted column; nominal (100 − 99) × 10 = +10; the index step
      (98 − 100) × 10 = −20. December: volume −5; January: volume 10 − 5 = +5. 5 + 5 − 5 + 5 − 20 = −10.
SI-D  S1, OTH, no contract, 2 → 1, 730 units over 2026-01-01..2027-12-31 (730 days, 1 a day): only the first 365
      days count (2026-01-01..2026-12-31): 31 in January, 28 in February, 365 in 2026, nothing in 2027. No line.

Negotiated: 2025-12 620 + 139.5 + 5 = 764.5; 2026-01 620 + 139.5 + 5 + 31 = 795.5; 2026-02 126 + 28 = 154.
Realised:   2025-12 200; 2026-01 350 + 120 − 10 = 460; 2026-02 119.
Booked:     SI-A's December (200) and SI-B's January (120).
Bridge 2025-12..2026-02: 1,714 − 50 (price) − 723 (volume: −520 − 144 + 0 − 59) − 100 (off contract)
            − 62 (FX −22, index −20, scope −20) = 779 realised; − 459 not booked = 320 booked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from decisions import ledger
from decisions.agreement import local_identity
from kpi_definitions import ledger as kpi_ledger
from kpi_definitions.compute import Selection, bridge, compute
from kpi_definitions.periods import FiscalCalendar, parse_month
from kpi_definitions.registry import registry
from store.config import Settings
from tests.rows import VALID
from workspace.db import connect, ingest_file

EXPORTS = {
    "suppliers": "S1,Acme,NL,yes,30\nS2,Bolt,US,no,30\nS3,Core,NL,no,30\n",
    "contracts": """C1,S1,IT,,2025-10-01,2026-12-31,10,8,EUR,price_reduction,30
C2,S2,LOG,,2025-01-01,2026-12-31,20,15,USD,price_reduction,30
C3,S3,IT,,2025-01-01,2026-12-31,100,99,EUR,price_reduction,30
""",
    "fx_rates": "2025-12,USD,0.9\n2026-01,USD,0.8\n2026-02,USD,0.85\n",
    "price_indices": "2025-12,PPI-IT,100\n2026-01,PPI-IT,98\n2026-02,PPI-IT,97\n",
    "category_index": "IT,PPI-IT\n",
    "purchase_orders": """P1,1,S1,C1,,IT,CC1,2025-12-02,100,8,EUR,closed
P2,1,S1,,,IT,CC1,2025-12-03,50,10,EUR,closed
P3,1,S1,C1,,IT,CC1,2025-12-04,10,8,EUR,closed
P4,1,S1,C1,,IT,CC1,2026-01-05,200,8,EUR,closed
P6,1,S2,C2,,LOG,CC1,2026-01-06,30,15,USD,closed
P7,1,S2,C2,,LOG,CC1,2026-02-06,28,15,USD,closed
P8,1,S3,C3,,IT,CC1,2026-01-07,10,99,EUR,closed
""",
    "invoices": """I1,1,S1,P1,1,,IT,CC1,6000,2025-12-10,2026-01-09,,100,800,EUR
I2,1,S1,P2,1,,IT,CC1,6000,2025-12-11,2026-01-10,,50,500,EUR
I3,1,S1,P3,1,,IT,CC1,6000,2025-12-12,2026-01-11,,,80,EUR
I4,1,S1,P4,1,,IT,CC1,6000,2026-01-10,2026-02-09,,200,1700,EUR
I5,1,S1,P4,1,,IT,CC1,6000,2026-01-20,2026-02-19,,10,-50,EUR
I6,1,S2,P6,1,,LOG,CC1,6000,2026-01-12,2026-02-11,,30,450,USD
I7,1,S2,P7,1,,LOG,CC1,6000,2026-02-12,2026-03-14,,28,420,USD
I8,1,S3,P8,1,,IT,CC1,6000,2026-01-15,2026-02-14,,10,990,EUR
I9,1,S2,P7,1,,LOG,CC1,6000,2026-03-12,2026-04-11,,5,75,USD
""",
    "savings_initiatives": """SI-A,Laptops,IT,S1,C1,,reduction,last_price,10,8,620,EUR,2025-12-01,2026-01-31,owner@corp.example
SI-B,Freight lanes,LOG,S2,C2,,reduction,last_price,20,15,90,USD,2025-12-01,2026-02-28,owner@corp.example
SI-C,Index-linked,IT,S3,C3,,reduction,index_adjusted,100,99,10,EUR,2025-12-01,2026-01-31,owner@corp.example
SI-D,Two years,OTH,S1,,,reduction,last_price,2,1,730,EUR,2026-01-01,2027-12-31,owner@corp.example
""",
}
PAT, FRAN = local_identity("Pat", "procurement"), local_identity("Fran", "finance")
CFG = Settings(savings_evidence_months=2)  # SI-A and SI-B have lines under their contract in two months
M = parse_month


def load(folder: Path, db: Path, exports: dict[str, str] = EXPORTS) -> None:
    """The exports above through the real ingestion (each header is the contract's)."""
    c = connect(db)
    try:
        for name, text in exports.items():
            path = folder / f"{name}.csv"
            path.write_text(",".join(VALID[name]) + "\n" + text, encoding="utf-8")
            result = ingest_file(c, path)
            assert result.ok and result.rows_quarantined == 0, f"{name}: {result.outcome} {result.failures}"
    finally:
        c.close()


def decide(db: Path) -> None:
    """Every initiative negotiated or later; SI-A and SI-B realised; SI-A's December and SI-B's January booked."""
    reg = registry()
    c = connect(db)
    try:
        for iid, stages in {"SI-A": ("negotiated", "contracted", "realised"), "SI-B": ("contracted", "realised"),
                            "SI-C": ("contracted",), "SI-D": ("negotiated",)}.items():
            for stage in stages:
                ledger.move(c, reg, iid, stage, f"to {stage}", PAT, cfg=CFG)
        ledger.book(c, reg, "SI-A", "2025-12", FRAN, cfg=CFG)
        ledger.book(c, reg, "SI-B", "2026-01", FRAN, cfg=CFG)
    finally:
        c.close()


@pytest.fixture(scope="module")
def ldb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ledger")
    db = folder / "ledger.duckdb"
    load(folder, db)
    decide(db)
    return db


@pytest.fixture(scope="module")
def lcon(ldb: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(ldb, read_only=True)
    yield c
    c.close()


def values(con: duckdb.DuckDBPyConnection, first: str, last: str, grain: str = "month", by: tuple[str, ...] = (),
           filters: dict | None = None, cal: FiscalCalendar | None = None) -> dict:
    """The KPI's two views (procurement: negotiated, finance: booked) and realised, the bridge's subtotal."""
    got = compute(con, registry(), Selection(M(first), M(last), grain, by, filters or {}), cal=cal,
                  kpis=["savings_ledger"]).values
    out = {(r["view"], r["period"], *(r[d] for d in by)): r["value"] for r in got.iter_rows(named=True)}
    done = kpi_ledger.realised(con, registry(), M(first), M(last), grain, by, filters, cal=cal)  # type: ignore[arg-type]
    return out | {("realised", r["period"], *(r[d] for d in by)): r["value"] for r in done.iter_rows(named=True)}


CASES = [  # view, month, expected (the docstring's arithmetic)
    ("procurement", "2025-12", 764.5), ("procurement", "2026-01", 795.5), ("procurement", "2026-02", 154.0),
    ("realised", "2025-12", 200.0), ("realised", "2026-01", 460.0), ("realised", "2026-02", 119.0),
    ("finance", "2025-12", 200.0), ("finance", "2026-01", 120.0), ("finance", "2026-02", 0.0),
]


@pytest.mark.parametrize(("view", "month", "expected"), CASES)
def test_each_view_by_month(lcon: duckdb.DuckDBPyConnection, view: str, month: str, expected: float) -> None:
    assert values(lcon, "2025-12", "2026-02")[(view, month)] == pytest.approx(expected, abs=1e-9)


def test_proration_over_a_window_that_crosses_a_fiscal_year_and_the_365_day_cap(lcon: duckdb.DuckDBPyConnection) -> None:
    # FY2025 holds December 2025 only: 764.5. FY2026 runs past the data (the last invoice is of 2026-03): the engine
    # computes it over January..March (a running period): SI-A's January 620, SI-B's 139.5 + 126, SI-C's 5 and
    # SI-D's 31 + 28 + 31 days = 980.5.
    by_year = values(lcon, "2025-01", "2026-12", "year")
    assert by_year[("procurement", "2025")] == pytest.approx(764.5)
    assert by_year[("procurement", "2026")] == pytest.approx(980.5)
    # With fiscal years starting in July, FY2026 (2025-07..2026-06, to March) holds SI-A, SI-B and SI-C whole and
    # SI-D's first 90 days: 1,240 + 405 + 10 + 90 = 1,745.
    fy = values(lcon, "2025-07", "2026-06", "year", cal=FiscalCalendar(7))
    assert fy[("procurement", "FY2026")] == pytest.approx(1745.0)
    # The pipeline by month (the forecast's rows, not cut to the data): SI-D counts 365 days of 2026, one a day,
    # and nothing of 2027 (beyond its first 365 days)
    months = kpi_ledger.pipeline_months(lcon, registry(), M("2026-01"), M("2027-12")).filter(
        pl.col("initiative_id") == "SI-D")
    assert months["prorated"].sum() == pytest.approx(365.0)
    assert months["period"].to_list() == [f"2026-{m:02d}" for m in range(1, 13)]
    assert months.filter(pl.col("period") == "2026-02")["prorated"].item() == pytest.approx(28.0)


def test_the_bridge_steps_by_hand_and_to_the_cent(lcon: duckdb.DuckDBPyConnection) -> None:
    b = bridge(lcon, registry(), "savings_ledger", M("2025-12"), M("2026-02"))
    assert (b.start, b.end) == (pytest.approx(1714.0), pytest.approx(320.0))
    got = {s.name: s.value for s in b.steps}
    assert list(got) == ["price_not_applied", "volume", "off_contract", "fx_scope", "not_booked"]
    assert got == pytest.approx({"price_not_applied": -50.0, "volume": -723.0, "off_contract": -100.0,
                                 "fx_scope": -62.0, "not_booked": -459.0})
    parts = {p.name: p.value for s in b.steps for p in s.parts}
    assert parts == pytest.approx({"fx": -22.0, "market_index": -20.0, "scope": -20.0})
    assert round(b.total, 2) == round(b.end, 2)


def test_each_leakage_step_by_initiative(lcon: duckdb.DuckDBPyConnection) -> None:
    rows = {r["initiative_id"]: r for r in kpi_ledger.by_initiative(lcon, registry(), M("2025-12"), M("2026-02"))
            .iter_rows(named=True)}
    expected = {  # negotiated, price, volume, off contract, fx, index, scope, realised, booked
        "SI-A": (1240, -50, -520, -100, 0, 0, -20, 550, 200),
        "SI-B": (405, 0, -144, 0, -22, 0, 0, 239, 120),
        "SI-C": (10, 0, 0, 0, 0, -20, 0, -10, 0),
        "SI-D": (59, 0, -59, 0, 0, 0, 0, 0, 0),
    }
    cols = ("negotiated", "price_not_applied", "volume", "off_contract", "fx", "market_index", "scope", "realised",
            "booked")
    for iid, want in expected.items():
        assert tuple(rows[iid][c] for c in cols) == pytest.approx(want, abs=1e-9), iid
        steps = sum(rows[iid][c] for c in ("price_not_applied", "volume", "off_contract", "fx_scope", "not_booked"))
        assert round(rows[iid]["negotiated"] + steps, 2) == round(rows[iid]["booked"], 2), iid


def test_index_adjusted_beside_nominal(lcon: duckdb.DuckDBPyConnection) -> None:
    rows = {r["initiative_id"]: r for r in kpi_ledger.by_initiative(lcon, registry(), M("2025-12"), M("2026-02"))
            .iter_rows(named=True)}
    # SI-C: the index fell 2 % and the price 1 %: +10 nominal, −10 adjusted (no saving recognised)
    assert rows["SI-C"]["realised"] - rows["SI-C"]["market_index"] == pytest.approx(10.0)
    assert rows["SI-C"]["realised_indexed"] == pytest.approx(-10.0)
    # SI-A (last price) keeps its nominal 550 as realised; beside it, 510 against the index-moved baseline
    assert (rows["SI-A"]["realised"], rows["SI-A"]["realised_indexed"]) == (pytest.approx(550.0), pytest.approx(510.0))
    # LOG follows no index: adjusted is nominal
    assert rows["SI-B"]["realised_indexed"] == pytest.approx(rows["SI-B"]["realised"])


def test_realised_comes_from_the_lines_and_a_booking_froze_them(lcon: duckdb.DuckDBPyConnection) -> None:
    jan = kpi_ledger.month_evidence(lcon, registry(), "SI-A", M("2026-01"))
    assert jan.amount == pytest.approx(350.0)
    assert sorted(zip(jan.lines["invoice_id"], jan.lines["saving"], strict=True)) == [("I4", pytest.approx(300.0)),
                                                                                       ("I5", pytest.approx(50.0))]
    frozen = lcon.sql("SELECT l.invoice_id, l.saving, b.amount FROM savings_booking_lines l JOIN savings_bookings b "
                      "USING (entry_id) WHERE b.initiative_id = 'SI-A'").fetchall()
    assert frozen == [("I1", pytest.approx(200.0), pytest.approx(200.0))]  # December: I1 alone (I2 off, I3 no qty)


def test_the_lines_behind_each_step_add_up_to_it(lcon: duckdb.DuckDBPyConnection) -> None:
    reg = registry()
    b = {s.name: s.value for s in bridge(lcon, reg, "savings_ledger", M("2025-12"), M("2026-02")).steps}
    for step in ("price_not_applied", "off_contract", "fx_scope"):
        lines = kpi_ledger.step_lines(lcon, reg, M("2025-12"), M("2026-02"), step=step)
        column = {"fx_scope": pl.col("fx") + pl.col("market_index") + pl.col("scope")}.get(step, pl.col(step))
        assert lines.select(column.sum()).item() == pytest.approx(b[step]), step
    off = kpi_ledger.step_lines(lcon, reg, M("2025-12"), M("2026-02"), step="off_contract")
    assert off["invoice_id"].to_list() == ["I2"]


def test_a_filter_and_a_split(lcon: duckdb.DuckDBPyConnection) -> None:
    log = values(lcon, "2025-12", "2026-02", "quarter", filters={"category": ["LOG"]})
    assert [log[(v, p)] for v, p in (("procurement", "2025-Q4"), ("procurement", "2026-Q1"), ("realised", "2026-Q1"))] \
        == pytest.approx([139.5, 265.5, 239.0])
    split = values(lcon, "2026-01", "2026-01", by=("supplier_id",))
    assert split[("realised", "2026-01", "S1")] == pytest.approx(350.0)  # SI-A 350 and SI-D (no line) 0
    assert split[("realised", "2026-01", "S3")] == pytest.approx(-10.0)


def test_the_forecast_by_month_with_rates_and_risk(lcon: duckdb.DuckDBPyConnection) -> None:
    # Data until 2026-03 (I9). SI-D (negotiated, no contract) has 365 − 59 − 31 = 275 to come after March: at risk
    # whole ("not contracted yet"). SI-A, SI-B and SI-C are over by then.
    reg = registry()
    plan = {r["initiative_id"]: r for r in kpi_ledger.initiatives(lcon, reg, M("2025-12"), M("2027-12"), M("2026-03"))
            .iter_rows(named=True)}
    assert plan["SI-A"]["rate"] == pytest.approx(550 / 1240)
    assert plan["SI-D"]["prorated_after"] == pytest.approx(275.0)
    assert (plan["SI-D"]["at_risk"], plan["SI-D"]["risk"]) == (pytest.approx(275.0), "not contracted yet")
    fc = kpi_ledger.forecast(lcon, reg, M("2025-12"), M("2026-06"), M("2026-03"))
    row = {r["period"]: r for r in fc.iter_rows(named=True)}
    assert row["2026-01"]["realised"] == pytest.approx(460.0) and row["2026-01"]["actual"]
    assert row["2026-03"]["negotiated"] == pytest.approx(31.0)  # SI-D, negotiated: 31 days of March
    assert row["2026-04"]["realised"] is None and row["2026-04"]["at_risk"] == pytest.approx(30.0)
    assert row["2026-01"]["booked"] == pytest.approx(120.0)
