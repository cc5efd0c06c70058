"""The drill-down's line queries, in the KPI layer (kpi_definitions/lines.py), and the app's thin reader of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_definitions.engine import Request
from kpi_definitions.lines import LINE_LIMIT, lines, lines_query
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import registry
from store.db import reading
from tandem import service

JAN = parse_month("2026-01")


def test_lines_behind_negotiated_savings_narrowed_by_a_split_that_is_no_filter(golden_db: Path) -> None:
    reg = registry()
    with reading(golden_db) as con:
        every = lines(con, reg, "savings", "procurement", JAN, JAN, {})
        avoided = lines(con, reg, "savings", "procurement", JAN, JAN, {}, {"savings_type": "cost_avoidance"})
        logistics = lines(con, reg, "savings", "procurement", JAN, JAN, {"category": ["LOG"]})
    assert sorted(every["po_id"]) == ["P1", "P2"]
    assert avoided[["po_id", "savings_type", "category"]].rows() == [("P2", "cost_avoidance", "LOG")]
    assert logistics["po_id"].to_list() == ["P2"]


def test_the_query_carries_the_narrowing_the_limit_and_the_span() -> None:
    q = lines_query(registry(), "savings", "procurement", JAN, JAN + 2, {"category": ["IT"]},
                    {"savings_type": "price_reduction", "supplier_id": "S1"}, limit=10, currency="USD")
    assert q is not None and q.label == "savings (procurement) lines"
    assert q.sql.endswith("WHERE CAST(savings_type AS VARCHAR) = $narrow0\nLIMIT 10")
    assert q.params["narrow0"] == "price_reduction"
    assert q.params["supplier_id"] == ["S1"] and q.params["category"] == ["IT"]  # a filterable split filters
    assert q.params["months"] == [JAN, JAN + 1, JAN + 2] and q.params["labels"] == ["span"] * 3
    assert "ccy" not in q.params  # PO lines were converted at load: the query names no currency
    assert "LIMIT" not in lines_query(registry(), "savings", "procurement", JAN, JAN, {}, limit=None).sql
    assert LINE_LIMIT == 5_000


def test_a_split_the_view_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match=r"inventory_days \(finance\) is not split by supplier_id"):
        lines_query(registry(), "inventory_days", "finance", JAN, JAN, {}, {"supplier_id": "S1"})


def test_the_app_reads_the_same_lines(golden_db: Path) -> None:
    with reading(golden_db) as con:
        direct = lines(con, registry(), "payment_days", "finance", JAN, JAN + 2, {})
    assert direct.height > 0
    req = Request(JAN, JAN + 2, kpis=("payment_days",))
    assert service.lines(str(golden_db), "", req, "payment_days", "finance").equals(direct)
