"""Budgets and approvals benchmark: 1M requisition lines and 5M approval events on top of the KPI benchmark's
database (benchmarks/kpis.py: N invoice lines, N/2 PO lines), with goods receipts for the PO lines.

    uv run python benchmarks/budgets.py                       # 1M invoice lines, 1M requisition lines, 5M events
    uv run python benchmarks/budgets.py --db /tmp/bb.duckdb   # keep (or reuse) the database

Times the flow facts' rebuild (what a load of requisitions, approval events, receipts, POs or invoices adds),
`tandem kpis` for the three new KPIs (both views, 24 months by category) cold and warm, the funds, the before-I-buy
check and the approval figures, and the Budgets and approvals page with Streamlit's AppTest (empty and warm caches).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REQUISITION_LINES = 1_000_000
EVENTS = 5_000_000

# Requisitions: two lines each, nine in ten ordered on a PO line, the rest approved, pending, rejected, drafts.
# Events: 3M on requisitions (six each), 0.5M on POs (two each), 1.5M on invoices (four each), hours apart.
FLOW = """
CREATE OR REPLACE TEMP MACRO pick(i, salt, n) AS ((hash(i, salt) % n)::BIGINT);
INSERT INTO requisitions SELECT 'R' || (i // 2), i % 2 + 1, 'u' || pick(i // 2, 51, 500),
    ['OPS', 'SALES', 'IT', 'FIN', 'RND'][1 + pick(i // 2, 52, 5)],
    ['IT', 'Logistics', 'Facilities', 'MRO', 'Packaging'][1 + pick(i // 2, 53, 5)],
    NULL, 10 + pick(i, 54, 5000), 'EUR', s,
    TIMESTAMPTZ '2024-11-01 09:00:00+00' + INTERVAL (pick(i // 2, 55, 730 * 24)) HOUR AS t,
    CASE WHEN s IN ('approved', 'ordered') THEN t + INTERVAL (1 + pick(i // 2, 56, 200)) HOUR END,
    CASE WHEN s = 'ordered' THEN 'PO' || (pick(i, 57, $po) // 2) END,
    CASE WHEN s = 'ordered' THEN 1 + pick(i, 57, $po) % 2 END, 0
FROM (SELECT i, CASE WHEN pick(i // 2, 58, 100) < 90 THEN 'ordered' WHEN pick(i // 2, 58, 100) < 94 THEN 'approved'
                     WHEN pick(i // 2, 58, 100) < 97 THEN 'pending' WHEN pick(i // 2, 58, 100) < 99 THEN 'rejected'
                     ELSE 'draft' END AS s FROM range($reqs) t(i));
INSERT INTO approval_events
SELECT 'requisition', 'R' || (i // 6), i % 6 + 1, ['manager', 'manager', 'manager', 'it_review', 'finance', 'finance'][1 + i % 6],
       ['submitted', 'approved', 'returned', 'approved', 'escalated', 'approved'][1 + i % 6], 'a' || pick(i, 61, 300),
       ['requester', 'manager', 'manager', 'it_architect', 'finance_controller', 'finance_controller'][1 + i % 6], NULL,
       TIMESTAMPTZ '2024-11-01 09:00:00+00' + INTERVAL (pick(i // 6, 55, 730 * 24) + (i % 6) * (1 + pick(i, 62, 48))) HOUR,
       NULL, 0
FROM range($n_req_events) t(i)
UNION ALL
SELECT 'purchase_order', 'PO' || (i // 2), i % 2 + 1, 'purchasing', ['submitted', 'approved'][1 + i % 2], 'b1',
       ['buyer', 'purchasing_manager'][1 + i % 2], NULL,
       TIMESTAMPTZ '2024-11-01 09:00:00+00' + INTERVAL (pick(i // 2, 63, 730 * 24) + (i % 2) * 5) HOUR, NULL, 0
FROM range($n_po_events) t(i)
UNION ALL
SELECT 'invoice', 'INV' || (i // 4), i % 4 + 1, ['capture', 'match', 'ap_review', 'budget_owner'][1 + i % 4],
       ['submitted', 'escalated', 'returned', 'approved'][1 + i % 4], 'c' || pick(i, 64, 50),
       ['system', CASE WHEN pick(i // 4, 65, 10) < 7 THEN 'system' ELSE 'ap_clerk' END, 'ap_clerk', 'budget_owner'][1 + i % 4],
       NULL, TIMESTAMPTZ '2024-11-01 09:00:00+00' + INTERVAL (pick(i // 4, 66, 730 * 24) + (i % 4) * 3) HOUR, NULL, 0
FROM range($n_invoice_events) t(i);
INSERT INTO receipts SELECT 'G' || i, 1, 'PO' || (i // 2), i % 2 + 1,
    DATE '2024-11-01' + pick(i, 16, 730)::INT + pick(i, 67, 20)::INT, 1 + pick(i, 68, 40), 0
FROM range($po) t(i);
"""

RUN = """
import json, sys, time
t0 = time.perf_counter()
from kpi_definitions import approvals, budgets
from kpi_definitions.compute import Selection, compute
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import registry
from workspace.db import connect
reg = registry()
con = connect(sys.argv[1], read_only=True)
kpis = ["funds_available", "touchless_rate", "first_time_match"]
sel = Selection(parse_month("2024-11"), parse_month("2026-10"), "month", ("category",))
month = Selection(parse_month("2026-10"), parse_month("2026-10"), "month")
out = {"imports": time.perf_counter() - t0, "kpis": [], "figures": []}
for run in range(4):
    t = time.perf_counter()
    rows = compute(con, reg, sel, kpis=kpis).values.height
    out["kpis"].append(time.perf_counter() - t)
    t = time.perf_counter()
    budgets.funds(con, reg, month.first, month.last)
    budgets.funds(con, reg, parse_month("2026-01"), parse_month("2026-12"))
    budgets.buckets(con, reg, month.first, month.last)
    budgets.check(con, reg, "RND", "IT", 25000, month.last)
    approvals.cycle_times(con, reg, month)
    approvals.queue_times(con, reg, month)
    approvals.first_pass(con, reg, month)
    approvals.waiting(con, reg)
    out["figures"].append(time.perf_counter() - t)
out["rows"] = rows
open(sys.argv[2], "w").write(json.dumps(out))
"""


def build_flow(db: Path, requisitions: int, events: int) -> None:
    from kpi_definitions import facts, flow
    from workspace.db import connect

    con = connect(db)
    po = int(con.execute("SELECT count(*) FROM purchase_orders").fetchall()[0][0])
    on_reqs, on_pos = events * 3 // 5, events // 10  # 60 % on requisitions, 10 % on POs, 30 % on invoices
    sql = (FLOW.replace("$n_req_events", str(on_reqs)).replace("$n_po_events", str(on_pos))
           .replace("$n_invoice_events", str(events - on_reqs - on_pos))
           .replace("$reqs", str(requisitions)).replace("$po", str(po)))
    con.execute(sql)
    t = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    flow.rebuild(con, "EUR")
    con.execute("COMMIT")
    print(f"flow facts rebuilt in {time.perf_counter() - t:.1f} s ({requisitions:,} requisition lines, "
          f"{events:,} approval events, {po:,} PO lines and receipts): what a load of any of their sources adds")
    facts.check(con, "EUR")
    con.execute("CHECKPOINT")
    con.close()


def rebuilds(db: Path) -> None:
    """The other KPI facts' rebuild and the flow facts' rebuild, one after the other (twice, the best of each): on a
    shared machine their ratio is the figure to compare."""
    from kpi_definitions import facts, flow, macros
    from workspace.db import connect

    con = connect(db)
    macros.ensure(con)
    times: dict[str, list[float]] = {"kpi": [], "flow": []}
    for _ in range(2):
        for name, run in (("kpi", lambda: facts._run(con, facts.REBUILD, {"ccy": "EUR"})),  # noqa: SLF001
                          ("flow", lambda: flow.rebuild(con, "EUR"))):
            con.execute("BEGIN TRANSACTION")
            t = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t)
            con.execute("ROLLBACK")
    con.close()
    kpi, fl = min(times["kpi"]), min(times["flow"])
    print(f"rebuild: the other KPI facts {kpi:.1f} s, the flow facts {fl:.1f} s ({fl / kpi:.2f}x)")


def main() -> None:
    from benchmarks.kpis import build

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="invoice lines (POs: half as many)")
    ap.add_argument("--requisitions", type=int, default=REQUISITION_LINES, help="requisition lines")
    ap.add_argument("--events", type=int, default=EVENTS, help="approval events")
    ap.add_argument("--db", type=Path, help="reuse or keep the generated database here")
    args = ap.parse_args()
    db = args.db or Path(tempfile.mkdtemp()) / "bench.duckdb"
    if not db.exists():
        t = time.perf_counter()
        build(db, args.rows)
        build_flow(db, args.requisitions, args.events)
        print(f"built {db} in {time.perf_counter() - t:.1f} s")
    rebuilds(db)
    result = db.with_suffix(".budgets.json")
    subprocess.run([sys.executable, "-c", RUN, str(db), str(result)], check=True, cwd=ROOT)
    r = json.loads(result.read_text())
    print(f"funds available, touchless rate, first-time match x both views x 24 months by category ({r['rows']:,} rows)")
    print(f"  cold: {r['kpis'][0]:.2f} s   warm: {min(r['kpis'][1:]):.2f} s")
    print("funds (month, year), buckets, a before-I-buy check, cycle and queue times, first-pass, the waiting list")
    print(f"  cold: {r['figures'][0]:.2f} s   warm: {min(r['figures'][1:]):.2f} s")
    page(db)


def page(db: Path) -> None:
    """The Budgets and approvals page with AppTest: a first run (imports), empty caches, warm caches."""
    os.environ["TANDEM_DB"] = str(db)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from benchmarks.overview import as_served

    as_served()
    def render(empty: bool) -> float:
        """The page's own run, as someone opening its link: the app's entry (the Overview) first, then, with
        every cache emptied when `empty`, the page; the time is the page's run alone."""
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
        if empty:
            st.cache_data.clear()
        t = time.perf_counter()
        at.switch_page("pages/budgets.py").run()
        elapsed = time.perf_counter() - t
        if at.exception or at.error or not at.metric:
            raise SystemExit(f"the page did not render: {[e.message for e in at.exception]} {[e.value for e in at.error]}")
        return elapsed

    render(False)  # imports
    runs = [render(True) for _ in range(3)]
    cold = sorted(runs)[1]
    warm = min(render(False) for _ in range(3))
    print(f"Budgets and approvals page on {db}, its own run (after the app's entry), median of 3 (load average "
          f"{os.getloadavg()[0]:.1f}, 2 cores)")
    print(f"  empty caches: {cold:.2f} s ({', '.join(f'{r:.2f}' for r in runs)})   warm caches: {warm:.2f} s")

if __name__ == "__main__":
    main()
