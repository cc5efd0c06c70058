"""KPI benchmark: every KPI under both views, 24 months, split by category, on a generated database.

    uv run python benchmarks/kpis.py                  # 1M invoice lines
    uv run python benchmarks/kpis.py --rows 10000000  # 10M, plus POs and stock in proportion
    uv run python benchmarks/kpis.py --db /work/bench/kpis-10m.duckdb --code /tmp/before   # another version

Builds the database with DuckDB SQL (not through ingestion: that has its own benchmark), then times
a cold run (a fresh process: open the file, first query) and warm runs (the same process again).
`--code DIR` times another checkout of Tandem (the version before a change) on the same database: its
process runs from DIR with DIR on PYTHONPATH (a database built by a later version carries every table an
earlier one reads).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kpi_definitions import facts  # noqa: E402
from workspace.db import connect  # noqa: E402

# Deterministic pseudo-random columns from the row number: hash(i, salt) spread over a range. As in real
# exports, an invoice line's item is one of the three its supplier sells (15,000 supplier-items over 2,000
# items) and its category is the item's: the price index has items bought month after month to compare.
BUILD = """
CREATE OR REPLACE TEMP MACRO pick(i, salt, n) AS ((hash(i, salt) % n)::BIGINT);
INSERT INTO suppliers SELECT 'S' || i, 'Supplier ' || i, 'NL', i % 3 = 0, [30, 45, 60, 90][1 + pick(i, 1, 4)], 0
FROM range(5000) t(i);
INSERT INTO contracts SELECT 'C' || i, 'S' || i, ['IT', 'Logistics', 'Facilities', 'MRO', 'Packaging'][1 + pick(i, 2, 5)],
    NULL, DATE '2024-07-01' + pick(i, 3, 300)::INT, DATE '2025-06-01' + pick(i, 4, 600)::INT,
    10 + pick(i, 5, 50), 9 + pick(i, 5, 50) * 0.9, ['EUR', 'EUR', 'USD'][1 + pick(i, 6, 3)],
    ['price_reduction', 'cost_avoidance'][1 + pick(i, 7, 2)], [30, 60, 90][1 + pick(i, 8, 3)], 0
FROM range(3000) t(i);
INSERT INTO purchase_orders SELECT 'PO' || (i // 2), i % 2 + 1, 'S' || pick(i, 11, 5000),
    CASE WHEN pick(i, 12, 10) < 6 THEN 'C' || pick(i, 11, 5000) END, 'IT-' || pick(i, 13, 2000),
    ['IT', 'Logistics', 'Facilities', 'MRO', 'Packaging'][1 + pick(i, 14, 5)],
    ['OPS', 'SALES', 'IT', 'FIN', 'RND'][1 + pick(i, 15, 5)], DATE '2024-11-01' + pick(i, 16, 730)::INT,
    1 + pick(i, 17, 40), 5 + pick(i, 18, 200) / 4, ['EUR', 'EUR', 'USD', 'GBP'][1 + pick(i, 19, 4)],
    ['open', 'closed', 'closed', 'closed', 'cancelled'][1 + pick(i, 20, 5)], 0
FROM range($po) t(i);
INSERT INTO fact_invoices ($lines_columns) SELECT 'INV' || (i // 3), i % 3 + 1, 'S' || pick(i, 21, 5000),
    CASE WHEN pick(i, 22, 10) < 8 THEN 'PO' || pick(i, 23, $po // 2) END,
    CASE WHEN pick(i, 22, 10) < 8 THEN 1 + pick(i, 24, 2) END, 'IT-' || (pick(i, 21, 5000) * 3 + pick(i, 25, 3)) % 2000,
    ['IT', 'Logistics', 'Facilities', 'MRO', 'Packaging'][1 + (pick(i, 21, 5000) * 3 + pick(i, 25, 3)) % 2000 % 5],
    ['OPS', 'SALES', 'IT', 'FIN', 'RND'][1 + pick(i, 27, 5)], '6000',
    DATE '2024-11-01' + pick(i, 28, 730)::INT AS d, d + 30,
    CASE WHEN pick(i, 29, 10) < 9 THEN d + pick(i, 30, 70)::INT END, 1 + pick(i, 31, 40),
    (pick(i, 32, 100000) / 10.0) - 500, ['EUR', 'EUR', 'USD', 'GBP'][1 + pick(i, 33, 4)], 0
FROM range($inv) t(i);
INSERT INTO budgets SELECT DATE '2024-11-01' + INTERVAL (m) MONTH, cc, cat, 1e6, 'EUR', 0
FROM range(24) a(m), (VALUES ('OPS'), ('SALES'), ('IT'), ('FIN'), ('RND')) b(cc),
     (VALUES ('IT'), ('Logistics'), ('Facilities'), ('MRO'), ('Packaging')) c(cat);
INSERT INTO inventory SELECT last_day(DATE '2024-11-01' + INTERVAL (m) MONTH), 'IT-' || (i % 2000), 'L' || (i // 2000),
    pick(i * 31 + m, 41, 500), pick(i, 42, 200), 1 + pick(i, 43, 50), 'EUR', 0
FROM range(24) a(m), range($stock) b(i);
INSERT INTO consumption SELECT DATE '2024-11-01' + INTERVAL (m) MONTH, 'IT-' || (i % 2000), 'L' || (i // 2000),
    pick(i * 31 + m, 44, 300), pick(i * 31 + m, 45, 3000), 'EUR', 0
FROM range(24) a(m), range($stock) b(i);
INSERT INTO fx_rates SELECT DATE '2024-11-01' + INTERVAL (m) MONTH, c, r, 0
FROM range(24) a(m), (VALUES ('USD', 0.92), ('GBP', 1.17)) b(c, r);
"""

RUN = """
import json, sys, time
t0 = time.perf_counter()
from kpi_definitions.compute import Selection, compute
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import registry
from workspace.db import connect
reg = registry()
t1 = time.perf_counter()
con = connect(sys.argv[1], read_only=True)
sel = Selection(parse_month("2024-11"), parse_month("2026-10"), "month", ("category",))
stock = Selection(parse_month("2024-11"), parse_month("2026-10"), "month", ("location",))
times = []
for run in range(4):
    t = time.perf_counter()
    rows = compute(con, reg, sel).values.height + compute(con, reg, stock, kpis=["inventory_days"]).values.height
    times.append(time.perf_counter() - t)
price = []  # the price KPI alone (both views, by category) and its bridge over the last quarter
from kpi_definitions.compute import bridge
for run in range(4):
    t = time.perf_counter()
    compute(con, reg, sel, kpis=["price_change"])
    bridge(con, reg, "price_change", parse_month("2026-08"), parse_month("2026-10"))
    price.append(time.perf_counter() - t)
open(sys.argv[2], "w").write(json.dumps({"imports": t1 - t0, "runs": times, "rows": rows, "price": price}))
"""


def build(path: Path, invoices: int) -> None:
    con = connect(path)
    # invoice lines go to their facts table (the full rebuild below fills in the facts)
    sql = BUILD.replace("$po", str(invoices // 2)).replace("$inv", str(invoices)).replace(
        "$stock", str(max(2000, invoices // 500))).replace("$lines_columns", ", ".join(facts.INVOICE_COLUMNS))
    con.execute(sql)
    t = time.perf_counter()
    facts.refresh(con, "EUR")  # a full rebuild: what a load of POs, contracts, suppliers or rates does
    print(f"KPI facts built in {time.perf_counter() - t:.1f} s (a full rebuild, as after a load of POs, contracts, "
          "suppliers or FX rates)")
    con.execute("CHECKPOINT")
    con.close()


def arguments(doc: str | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="invoice lines (POs: half as many)")
    ap.add_argument("--db", type=Path, help="reuse or keep the generated database here")
    ap.add_argument("--code", type=Path, help="time this checkout of Tandem instead of this one (on the same database)")
    return ap.parse_args()


def database(doc: str | None, args: argparse.Namespace | None = None) -> Path:
    """The benchmark database named by --db (built with --rows invoice lines when it does not exist yet)."""
    args = args or arguments(doc)
    db = args.db or Path(tempfile.mkdtemp()) / "bench.duckdb"
    if not db.exists():
        t = time.perf_counter()
        build(db, args.rows)
        print(f"built {db} ({args.rows:,} invoice lines, {args.rows // 2:,} PO lines) in {time.perf_counter() - t:.1f} s")
    return db


def main() -> None:
    args = arguments(__doc__)
    db = database(__doc__, args)
    # Cold: a new process, so the file is opened and every query planned for the first time.
    result = db.with_suffix(".json")
    code = (args.code or Path(__file__).resolve().parents[1]).resolve()
    env = {**os.environ, "PYTHONPATH": str(code)}
    subprocess.run([sys.executable, "-c", RUN, str(db), str(result)], check=True, cwd=code, env=env)
    r = json.loads(result.read_text())
    cold, warm = r["runs"][0], min(r["runs"][1:])
    print(f"code: {code}")
    print(f"all KPIs x both views x 24 months by category ({r['rows']:,} result rows)")
    print(f"  cold (first run in a new process, file just opened): {cold:.2f} s")
    print(f"  warm (best of the next three runs):                   {warm:.2f} s")
    print(f"  (module imports before the first run: {r['imports']:.2f} s)")
    print(f"price change alone, both views by category + its bridge over a quarter: cold {r['price'][0]:.2f} s, "
          f"warm {min(r['price'][1:]):.2f} s (after the run above)")
    print("json: " + json.dumps({"db": str(db), "code": str(code), "cold": cold, "warm": warm,
                                 "price_cold": r["price"][0], "price_warm": min(r["price"][1:]), "rows": r["rows"]}))


if __name__ == "__main__":
    main()
