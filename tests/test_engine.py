"""The KPI engine's request and API (kpi_definitions/engine.py): one canonical request, and every answer a face
needs from one object, on the hand-built exports of tests/golden."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from kpi_definitions import dimensions
from kpi_definitions.engine import Engine, Request, canonical
from kpi_definitions.periods import FiscalCalendar, parse_month
from kpi_definitions.registry import DIMENSIONS, FILTERABLE

JAN, MAR = parse_month("2026-01"), parse_month("2026-03")


@pytest.fixture
def engine(golden_db: Path) -> Iterator[Engine]:
    with Engine.reading(golden_db) as e:
        yield e


def test_a_filter_has_one_form_whatever_it_was_given_as() -> None:
    a = Request.of(JAN, MAR, filters={"category": ["LOG", "IT", "IT"], "supplier_id": ("S2",), "cost_center": []})
    b = Request(JAN, MAR, filters=(("supplier_id", ("S2",)), ("category", ("IT", "LOG"))))  # type: ignore[arg-type]
    assert a.filters == b.filters == (("category", ("IT", "LOG")), ("supplier_id", ("S2",)))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1  # a cache key
    assert canonical({"category": "IT"}) == (("category", ("IT",)),)  # a bare value is one value
    assert a.filter_map() == {"category": ["IT", "LOG"], "supplier_id": ["S2"]}
    assert a.but(filters={"category": ["OTH"]}).filters == (("category", ("OTH",)),)


def test_a_request_resolves_a_period_or_the_latest_one_with_the_fiscal_calendar() -> None:
    july = FiscalCalendar(7)
    fy = Request.of(grain="year", period="FY2026", calendar=july)
    assert (fy.first, fy.last) == (parse_month("2025-07"), parse_month("2026-06"))
    q = Request.of(grain="quarter", start="2026-Q1", end="2026-Q2")
    assert (q.first, q.last) == (JAN, parse_month("2026-06"))
    latest = Request.of(grain="quarter", data=(parse_month("2025-01"), parse_month("2026-02")))
    assert (latest.first, latest.last) == (JAN, parse_month("2026-02"))  # the quarter to date
    with pytest.raises(ValueError, match="unknown dimension"):
        Request.of(JAN, JAN, by=["colour"])
    with pytest.raises(ValueError, match="not both"):
        Request.of(JAN, JAN, period="2026-01")
    assert Request.of(JAN, JAN, as_defined_today=date(2026, 5, 1)).as_defined_today == date(2026, 5, 1)


def test_dimensions_are_declared_once() -> None:
    assert DIMENSIONS == ("supplier_id", "category", "cost_center", "item_id", "location", "savings_type")
    assert FILTERABLE == ("supplier_id", "category", "cost_center", "item_id", "location")
    # what the filter bar's URL parameters and labels were (tandem/selection.py)
    assert dimensions.filter_params() == {"supplier": "supplier_id", "category": "category",
                                          "cost_center": "cost_center"}
    assert dimensions.filter_labels() == {"supplier": "Supplier", "category": "Category", "cost_center": "Cost center"}


def test_options_name_suppliers_from_the_supplier_master(engine: Engine) -> None:
    opts = engine.options()
    # invoices and POs name S1, S2 and S9; S9 is missing from the supplier master (tests/golden/exports)
    assert opts["supplier_id"] == [("S1", "S1 · Acme"), ("S2", "S2 · Beta"), ("S9", "S9 · (not in supplier master)")]
    assert [v for v, _ in opts["category"]] == ["IT", "LOG", "OTH"]
    assert [v for v, _ in opts["cost_center"]] == ["CC1", "CC2", "CC3"]


def test_values_bridge_and_lines_answer_one_request(engine: Engine) -> None:
    req = engine.request(period="2026-01", kpis=["savings"])
    v = engine.values(req).frame
    assert {(r["view"], r["value"]) for r in v.iter_rows(named=True)} == {("finance", -200.0), ("procurement", 60.0)}
    # 2025-01 holds 2 lines on 2 days against a normal month's 4 on 4 (tests/golden): finance's base is partial
    assert [[w["code"] for w in ws] for ws in v.sort("view")["warnings"].to_list()] == [["partial_base"], []]
    b = engine.bridge(req)
    assert (b.start, b.end) == (60, -200)  # tests/golden/bridges.yaml
    steps = engine.bridges(req)
    assert steps.filter(kind="step")["value"].sum() == pytest.approx(-260)
    assert steps["kind"].to_list() == ["start", *["step"] * 7, "end"]
    assert engine.lines(req, "savings", "procurement")["po_id"].sort().to_list() == ["P1", "P2"]
    assert engine.data_months() == (parse_month("2025-01"), MAR)


def test_a_request_without_suppliers_reads_the_sums_rolled_up_over_them(engine: Engine) -> None:
    by_category = engine.request(grain="quarter", period="2026-Q1", by=["category"], kpis=["spend_under_management"])
    [finance, procurement, bridge] = engine.explain(by_category)
    assert "fact_invoice_rollup" in finance.sql and "fact_invoice_months" not in finance.sql
    assert "fact_invoice_rollup" in bridge.sql
    for asked in (by_category.but(by=("supplier_id",)), by_category.but(filters={"supplier_id": ["S1"]})):
        assert all("fact_invoice_months" in q.sql and "fact_invoice_rollup" not in q.sql for q in engine.explain(asked))
    # the same numbers either way: filtered to every supplier the data has, the sums per supplier are read
    everyone = by_category.but(filters={"supplier_id": ["S1", "S2", "S9"]})
    rolled = engine.values(by_category).frame.select("view", "category", "value").sort("view", "category")
    per_supplier = engine.values(everyone).frame.select("view", "category", "value").sort("view", "category")
    assert rolled.rows() == per_supplier.rows()
    # finance, IT, 2026-Q1: on a PO I11 80, I13 50, I21 33, I23 40 of spend 80 + 50 − 20 (I14) + 33 + 40
    assert rolled.filter(view="finance", category="IT")["value"][0] == pytest.approx(203 / 183)


def test_stock_is_read_rolled_up_over_items_unless_items_are_asked_for(engine: Engine) -> None:
    by_location = engine.request(period="2026-01", by=["location"], kpis=["inventory_days"])
    assert all("fact_stock_rollup" in q.sql and "fact_consumption_rollup" in q.sql
               for q in engine.explain(by_location, bridges=False))
    x2 = by_location.but(filters={"item_id": ["X2"]})
    assert all("fact_stock_rollup" not in q.sql for q in engine.explain(x2, bridges=False))
    # tests/golden/cases.yaml: 41 days for the one location, 28.18 for X2 alone (50 / (55 / 31))
    assert engine.values(by_location).frame.filter(view="finance")["value"].to_list() == [pytest.approx(41.0)]
    assert engine.values(x2).frame.filter(view="finance")["value"].to_list() == [pytest.approx(50 / (55 / 31))]


def test_a_requests_views_run_as_one_statement_with_the_numbers_of_each_alone(engine: Engine) -> None:
    req = engine.request(grain="quarter", period="2026-Q1", by=["category"])
    queries = [q for q in engine.explain(req, bridges=False)]
    alone = [engine.run(q) for q in queries]
    engine.parallel = False
    together = engine.run_all(queries)
    halves = engine._two_at_once(queries)  # a read-only connection with two cores: half on a cursor, at once
    assert len(together) == len(halves) == len(queries) > 10
    for q, one, united, halved in zip(queries, alone, together, halves, strict=True):
        # the same rows, each view's own columns; the others' columns come along as NULL
        for rows in (united, halved):
            assert rows.select(one.columns).sort(one.columns, nulls_last=True).rows() == \
                one.sort(one.columns, nulls_last=True).rows(), q.label
    # two views that look back differently ($m_lo a year before the span, or the span's first month) in one
    # statement: each keeps its own parameters
    lookbacks = {q.params.get("m_lo") for q in queries if "m_lo" in q.params}
    assert len(lookbacks) == 2


def test_views_whose_columns_do_not_unite_run_one_by_one(engine: Engine) -> None:
    from kpi_definitions.query import Query

    listed = Query("a list", "SELECT [1, 2] AS value, $ccy AS c", {"ccy": "EUR"})
    number = Query("a number", "SELECT 1.5 AS value, $ccy AS c", {"ccy": "USD"})
    # DuckDB cannot unite a list and a number in one column: each query runs alone, with its own types
    assert [f.rows() for f in engine.run_all([listed, number])] == [[([1, 2], "EUR")], [(1.5, "USD")]]
    assert [f.rows() for f in engine.run_all([number, number.__class__("again", number.sql, {"ccy": "GBP"})])] == \
        [[(1.5, "USD")], [(1.5, "GBP")]]
    # a parameter's name inside a literal or a comment is text, left as it is when the parameters are renamed
    quoted = Query("quoted", "SELECT 1.5 AS value, '$ccy' || $ccy AS c -- costs in $ccy", {"ccy": "NOK"})
    assert [f.rows() for f in engine.run_all([number, quoted])] == [[(1.5, "USD")], [(1.5, "$ccyNOK")]]
