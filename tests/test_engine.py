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
