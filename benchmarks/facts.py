"""What keeping the monthly sums current costs a monthly load: a month of invoice lines (a twenty-fourth of the
database's) loaded through the real ingestion into a copy of a benchmarks/kpis.py database, timing the whole
load and the parts that keep the facts current (kpi_definitions/facts.py): the monthly sums re-summed for the months
it changed, and the approval-flow facts of the documents it touched (kpi_definitions/flow.py `update_invoices`; no
requisitions or approval events here, as the KPI benchmark's database has none: see benchmarks/budgets.py).

    uv run python benchmarks/facts.py --db /work/bench/kpis-10m.duckdb

The copy is deleted afterwards; the database itself is left as it was.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kpi_definitions import facts, flow  # noqa: E402
from kpi_definitions.registry import sql_code  # noqa: E402
from workspace.db import connect, ingest_file  # noqa: E402

# One month (2026-11, the month after the database's last) of lines drawn as benchmarks/kpis.py draws them.
MONTH = """
CREATE OR REPLACE TEMP MACRO pick(i, salt, n) AS ((hash(i, salt) % n)::BIGINT);
COPY (
    SELECT 'NEW' || (i // 3) AS invoice_id, i % 3 + 1 AS invoice_line, 'S' || pick(i, 21, 5000) AS supplier_id,
        CASE WHEN pick(i, 22, 10) < 8 THEN 'PO' || pick(i, 23, $po // 2) END AS po_id,
        CASE WHEN pick(i, 22, 10) < 8 THEN 1 + pick(i, 24, 2) END AS po_line,
        'IT-' || (pick(i, 21, 5000) * 3 + pick(i, 25, 3)) % 2000 AS item_id,
        ['IT', 'Logistics', 'Facilities', 'MRO', 'Packaging'][1 + (pick(i, 21, 5000) * 3 + pick(i, 25, 3)) % 2000 % 5]
            AS category,
        ['OPS', 'SALES', 'IT', 'FIN', 'RND'][1 + pick(i, 27, 5)] AS cost_center, '6000' AS gl_account,
        DATE '2026-11-01' + pick(i, 28, 30)::INT AS invoice_date, invoice_date + 30 AS due_date,
        CASE WHEN pick(i, 29, 10) < 9 THEN invoice_date + pick(i, 30, 20)::INT END AS paid_date,
        1 + pick(i, 31, 40) AS quantity, (pick(i, 32, 100000) / 10.0) - 500 AS amount,
        ['EUR', 'EUR', 'USD', 'GBP'][1 + pick(i, 33, 4)] AS currency
    FROM range($n) t(i)
) TO '$file' (HEADER);
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True, help="a database built by benchmarks/kpis.py")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.db.parent))
    db = work / "copy.duckdb"
    try:
        shutil.copy(args.db, db)
        con = connect(db)
        lines = con.execute("SELECT count(*) FROM fact_invoices").fetchall()[0][0]
        pos = con.execute("SELECT count(*) FROM purchase_orders").fetchall()[0][0]
        n = lines // 24
        csv = work / "invoices_2026_11.csv"
        con.execute(MONTH.replace("$po", str(pos)).replace("$n", str(n)).replace("$file", str(csv)))
        spent: dict[str, float] = {"update_months": 0.0, "add_invoices": 0.0, "flow": 0.0}

        def timed(name: str, fn):  # noqa: ANN001, ANN202 - wraps a facts function
            def run(*a, **k):  # noqa: ANN002, ANN003, ANN202
                t = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    spent[name] += time.perf_counter() - t
            return run

        facts.update_months = timed("update_months", facts.update_months)
        facts.add_invoices = timed("add_invoices", facts.add_invoices)
        statements: list[tuple[float, str]] = []  # the flow facts' statements, timed one by one
        run_flow = flow._run

        def timed_statements(con, currency: str, sqls: list[str]) -> None:  # noqa: ANN001 - flow._run, one by one
            for statement in sqls:
                t = time.perf_counter()
                run_flow(con, currency, [statement])
                code = [w for w in sql_code(statement).split()]
                made = [w for w in code if w.startswith(("fact_", "_"))][:1]
                statements.append((time.perf_counter() - t, f"{code[0].lower()} {made[0] if made else ''}".strip()))

        flow._run = timed_statements
        whole: list[bool] = []  # whether the flow facts were rebuilt whole (a replaced line left an untouched order)
        update = flow.update_invoices
        flow.update_invoices = timed("flow", lambda *a: whole.append(not update(*a)))
        load = os.getloadavg()[0]
        t, c = time.perf_counter(), time.process_time()
        result = ingest_file(con, csv)
        total, cpu = time.perf_counter() - t, time.process_time() - c
        con.close()
        assert result.ok, result.message
        kept = spent["update_months"] + spent["flow"]
        print(f"a monthly load of {n:,} invoice lines into {lines:,}: {total:.1f} s in all, CPU {cpu:.1f} s "
              f"(load average {load:.1f} before, {os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores)")
        print(f"  facts kept current: {kept:.2f} s ({kept / total:.1%} of the load), of which")
        print(f"    monthly sums re-summed for the months it changed: {spent['update_months']:.2f} s "
              f"({spent['update_months'] / total:.1%})")
        print(f"    approval-flow facts of the documents it touched{' (rebuilt whole)' if any(whole) else ''}: "
              f"{spent['flow']:.2f} s ({spent['flow'] / total:.1%}): "
              + ", ".join(f"{name} {secs:.1f} s" for secs, name in sorted(statements, reverse=True)[:8]))
        print(f"  lines stored with their facts (joins to PO, contract, supplier, FX): {spent['add_invoices']:.2f} s "
              f"({spent['add_invoices'] / total:.1%}; the line facts are columns of the stored line)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
