"""Lake benchmark: export the KPI benchmark database to a lake, keep it current, read it back with DuckDB and Spark.

    uv run python benchmarks/lake.py                          # 1M invoice lines (benchmarks/kpis.py's generator)
    uv run python benchmarks/lake.py --rows 10000000 --db /tmp/b10m.duckdb
    uv run python benchmarks/lake.py --no-spark               # DuckDB only (no Java needed)

Times, on one machine: a full export and a second one with nothing changed (every month reused), a refresh after
one month's invoice lines changed, the lake's check against its manifest, all KPIs x both views x 24 months by
category read from the database and from the lake (warm: best of three), and on Spark in local mode: the session's
start, reading fact_invoices back (spend by month), the same KPIs through the Spark engine (kpi_definitions/
engine_spark.py: first run and warm) and the export contract's checks (pipelines/lake_check.py; --no-checks skips).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.kpis import build  # noqa: E402
from store import lake  # noqa: E402
from workspace.db import connect  # noqa: E402

SPARK = """
import sys, time
t0 = time.perf_counter()
from store.lake_spark import LOCAL, read_table, session
spark = session(LOCAL, driver_memory=sys.argv[2])
spark.range(1).count()
t1 = time.perf_counter()
from pyspark.sql import functions as F
by_month = read_table(spark, sys.argv[1], "fact_invoices").groupBy("m").agg(F.sum("amount_rep")).collect()
t2 = time.perf_counter()
from kpi_definitions.engine import Request
from kpi_definitions.engine_spark import SparkEngine, SparkLake
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import registry
engine = SparkEngine(SparkLake(spark, sys.argv[1]), registry())
req = Request(parse_month("2024-11"), parse_month("2026-10"), "month", by=("category",))
runs = []
for _ in range(3):  # the first run plans and reads cold; the others warm
    t = time.perf_counter()
    engine.values(req)
    runs.append(time.perf_counter() - t)
t3 = time.perf_counter()
issues = -1
if sys.argv[3] == "check":
    from pipelines.lake_check import check
    issues = len(check(sys.argv[1], spark=spark).issues)
t4 = time.perf_counter()
print(f"SPARK {t1 - t0:.2f} {t2 - t1:.2f} {t4 - t3:.2f} {len(by_month)} {issues} {runs[0]:.2f} {min(runs[1:]):.2f}")
"""


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _kpis(con: object) -> float:
    """All KPIs x both views x 24 months by category (as benchmarks/kpis.py), best of three warm runs."""
    from kpi_definitions.compute import Selection, compute
    from kpi_definitions.periods import parse_month
    from kpi_definitions.registry import registry

    reg, sel = registry(), Selection(parse_month("2024-11"), parse_month("2026-10"), "month", ("category",))
    runs = []
    for _ in range(4):
        t = time.perf_counter()
        compute(con, reg, sel)  # type: ignore[arg-type]
        runs.append(time.perf_counter() - t)
    return min(runs[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="invoice lines (POs: half as many)")
    ap.add_argument("--db", type=Path, help="reuse or keep the generated database here")
    ap.add_argument("--lake", type=Path, help="write the lake here (default: beside the database)")
    ap.add_argument("--no-spark", action="store_true", help="DuckDB only")
    ap.add_argument("--driver-memory", default="2g", help="Spark's driver memory in local mode")
    ap.add_argument("--no-checks", action="store_true", help="leave out the export contract's checks on Spark")
    args = ap.parse_args()
    db = args.db or Path(tempfile.mkdtemp()) / "bench.duckdb"
    if not db.exists():
        t = time.perf_counter()
        build(db, args.rows)
        print(f"built {db} ({args.rows:,} invoice lines) in {time.perf_counter() - t:.1f} s")
    out = args.lake or db.with_suffix(".lake")
    shutil.rmtree(out, ignore_errors=True)

    con = connect(db)
    try:
        first = lake.export(con, out)
        lines = first.manifest.rows()["fact_invoices"]
        files = sum(len(t.partitions) for t in first.manifest.tables.values())
        print(f"lake of {lines:,} invoice lines: {_du(out) / 1e6:,.0f} MB of Parquet (database "
              f"{db.stat().st_size / 1e6:,.0f} MB), {files} month files")
        print(f"  export, full:                          {first.seconds:6.2f} s")
        again = lake.export(con, out)
        print(f"  export, nothing changed:               {again.seconds:6.2f} s ({again.reused} month files reused, "
              f"{again.written} written)")
        last = max(p.month for p in first.manifest.tables["fact_invoices"].partitions if p.month)
        y, m = map(int, last.split("-"))
        con.execute("UPDATE fact_invoices SET amount = amount + 1 WHERE m = ?", [y * 12 + m - 1])  # a month reloaded
        one = lake.refresh_lake(con, out)
        print(f"  refresh after one month changed:       {one.seconds:6.2f} s ({one.written} written, "
              f"{one.reused} reused)")
        t = time.perf_counter()
        lake.verify(out)
        print(f"  check against its manifest:            {time.perf_counter() - t:6.2f} s")
        db_kpis = _kpis(con)
    finally:
        con.close()
    with lake.reading(out) as lk:
        lake_kpis = _kpis(lk)
    print("all KPIs x both views x 24 months by category, warm (best of three):")
    print(f"  DuckDB on the database file:           {db_kpis:6.2f} s")
    print(f"  DuckDB on the lake:                    {lake_kpis:6.2f} s")
    if args.no_spark:
        return
    proc = subprocess.run([sys.executable, "-c", SPARK, str(out), args.driver_memory,
                           "no-check" if args.no_checks else "check"], cwd=ROOT, capture_output=True, text=True)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("SPARK ")), None)
    if proc.returncode or line is None:
        raise SystemExit(f"Spark failed: {proc.stderr[-2000:]}")
    start, read, checked, months, issues, cold, warm = line.split()[1:]
    print("Spark, local mode (local[2]):")
    print(f"  session start (new process, first job): {float(start):6.2f} s")
    print(f"  spend by month from the lake:          {float(read):6.2f} s ({months} months)")
    print(f"  all KPIs x both views x 24 months by category, first run: {float(cold):6.2f} s")
    print(f"  the same, warm (best of two):          {float(warm):6.2f} s")
    if int(issues) >= 0:
        print(f"  export contract's checks (pandera):    {float(checked):6.2f} s ({issues} issues)")


if __name__ == "__main__":
    main()
