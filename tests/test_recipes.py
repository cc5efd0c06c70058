"""docs/architecture.md's recipes, run: a new export type and a new KPI are declarations (plus the KPI's SQL),
loaded through the real ingestion and computed by the one engine, with nothing else in the code changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kpi_definitions.engine import Engine, Request
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.registry import PACKAGE, SQL_DIR, parse
from store.exports import above, dated, declared, export_type, one_of
from tests.conftest import write
from workspace.db import connect, ingest_file

pytestmark = pytest.mark.unit

# Recipe "a new export type": goods deliveries, declared here and nowhere else.
DELIVERIES = export_type(
    "deliveries", "delivery_id str, line int, supplier_id str, delivered_on date, quantity dec, state str",
    ("delivery_id", "line"),
    rules=(above("quantity", 0), dated("delivered_on"), one_of("state", ("complete", "partial"))),
    dated="delivered_on",
    example={"delivery_id": "D1", "line": "1", "supplier_id": "S1", "delivered_on": "2026-03-02",
             "quantity": "5", "state": "complete"},
)

# Recipe "a new KPI": delivered value (EUR, as goods are valued at delivery), two teams' views of one SQL
# file (finance counts every delivery, procurement only the complete ones), with a bridge of one step.
KPI = """\
name: delivered_quantity
position: 99
label: Delivered value
icon: ":material/local_shipping:"
description: The value delivered in the period (EUR), by the delivery date.
unit: currency
better: higher
dimensions: [supplier_id]
views:
  finance:
    colour: blue
    definition: Everything delivered in the period, complete or partial deliveries alike.
    sql: delivered_quantity
    bind: {counted: every_delivery}
    owner: Finance (Controlling)
    version: "1.0"
    effective_date: 2026-01-01
  procurement:
    colour: orange
    definition: "Only the value of deliveries marked complete: a partial delivery is still open."
    sql: delivered_quantity
    bind: {counted: complete}
    owner: Procurement (Operations)
    version: "1.0"
    effective_date: 2026-01-01
bridge:
  sql: delivered_quantity_bridge
  from: procurement
  to: finance
  steps:
    - name: partial
      label: Partial deliveries
      description: The value of deliveries not marked complete.
"""

VIEW_SQL = """\
-- The value delivered per period and slice: the deliveries the view counts ({counted}).
WITH d AS (
    SELECT supplier_id, @month_ix(delivered_on) AS m, quantity AS every_delivery,
           CASE WHEN state = 'complete' THEN quantity ELSE 0 END AS complete
    FROM deliveries
    WHERE @picked($supplier_id, supplier_id)
)
SELECT b.period{dims:d}, coalesce(sum(d.{counted}), 0) AS value, 0 AS excluded
FROM buckets b
LEFT JOIN d ON d.m = b.m
GROUP BY ALL
"""

BRIDGE_SQL = """\
-- From complete deliveries (procurement) to every delivery (finance): the partial ones.
SELECT b.period{dims:d}, coalesce(sum(d.quantity) FILTER (WHERE d.state <> 'complete'), 0) AS partial
FROM buckets b
LEFT JOIN deliveries d ON @month_ix(d.delivered_on) = b.m AND @picked($supplier_id, d.supplier_id)
GROUP BY ALL
"""

FILE = ("delivery_id,line,supplier_id,delivered_on,quantity,state\n"
        "D1,1,S1,2026-03-02,5,complete\n"
        "D1,2,S1,2026-03-03,2.5,partial\n"
        "D2,1,S2,2026-03-04,4,complete\n"
        "D3,1,S2,2026-03-05,0,complete\n")  # quantity > 0 fails: quarantined, never counted


def test_a_new_export_type_and_a_new_kpi_are_declarations(golden_db: Path, tmp_path: Path) -> None:
    kpis, sql = tmp_path / "kpis", tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    kpis.mkdir()
    for bundled in PACKAGE.glob("*.yaml"):
        shutil.copy(bundled, kpis)
    (kpis / "delivered_quantity.yaml").write_text(KPI)
    (sql / "delivered_quantity.sql").write_text(VIEW_SQL)
    (sql / "delivered_quantity_bridge.sql").write_text(BRIDGE_SQL)
    db = tmp_path / "t.duckdb"
    shutil.copy(golden_db, db)

    with declared(DELIVERIES):
        con = connect(db)  # a writer creates the declared type's table
        try:
            r = ingest_file(con, write(tmp_path / "deliveries.csv", FILE), allow_partial=True)
            assert (r.export_type, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("deliveries", 4, 3, 1)
            reg, issues = parse(kpis, sql)
            assert issues == [] and reg.names[-1] == "delivered_quantity"
            e = Engine(con, reg, currency="EUR", calendar=FiscalCalendar())
            req = e.request(period="2026-03", kpis=["delivered_quantity"])
            got = {row["view"]: row["value"] for row in e.values(req).frame.iter_rows(named=True)}
            # finance: 5 + 2.5 + 4 = 11.5; procurement: the complete ones, 5 + 4 = 9 (D3 was quarantined)
            assert got == {"finance": 11.5, "procurement": 9.0}
            b = e.bridge(req, "delivered_quantity")
            assert (b.start, [(s.name, s.value) for s in b.steps], b.end) == (9.0, [("partial", 2.5)], 11.5)
            # split by supplier: S1 5 + 2.5 / 5, S2 4 / 4
            split = e.values(req.but(by=("supplier_id",))).frame
            assert sorted((r["supplier_id"], r["view"], r["value"]) for r in split.iter_rows(named=True)) == [
                ("S1", "finance", 7.5), ("S1", "procurement", 5.0), ("S2", "finance", 4.0), ("S2", "procurement", 4.0)]
            assert Request.of(kpis=["delivered_quantity"], period="2026-03", calendar=FiscalCalendar()).kpis == (
                "delivered_quantity",)
        finally:
            con.close()
