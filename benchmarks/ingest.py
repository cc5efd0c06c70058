"""Ingestion benchmark: DuckDB's own read_csv vs `tandem ingest` on N generated invoice lines.

    uv run python benchmarks/ingest.py            # 1M lines
    uv run python benchmarks/ingest.py --rows 10000000
    uv run python benchmarks/ingest.py --phases       # then the same load in this process, phase by phase

Prints rows/s of both, their ratio and the peak memory (max RSS) of the `tandem ingest` process, with the CPU time
of each and the load average (the machine is shared: the wall time also says how busy the neighbours were).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl


def generate(n: int, path: Path, seed: int = 1) -> None:
    """n canonical invoice lines, written as CSV; vectorised, about 2 s per million lines.

    As in real exports, a line's item is one of the three its supplier sells and its category is the
    item's (benchmarks/kpis.py draws them the same way): the price facts a load builds have items bought
    month after month, not one item-month per line.
    """
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 730, n)
    supplier = rng.integers(1, 5000, n)
    item = (supplier * 3 + rng.integers(0, 3, n)) % 2000
    po = rng.random(n) < 0.8
    pl.select(**{
        "invoice_id": pl.format("INV{}", pl.int_range(0, n, eager=True) // 3),
        "invoice_line": pl.Series((np.arange(n) % 3) + 1),
        "supplier_id": pl.format("S{}", pl.Series(supplier)),
        "po_id": pl.when(pl.Series(po)).then(pl.format("PO{}", pl.int_range(0, n, eager=True) // 2)),
        "po_line": pl.when(pl.Series(po)).then(pl.Series(rng.integers(1, 5, n))),
        "item_id": pl.format("IT-{}", pl.Series(item)),
        "category": pl.Series(np.array(["IT", "Logistics", "Facilities", "MRO", "Packaging"])[item % 5]),
        "cost_center": pl.Series(np.array(["OPS", "SALES", "IT", "FIN", "RND"])[rng.integers(0, 5, n)]),
        "gl_account": pl.lit("6000"),
        "invoice_date": pl.lit(date(2024, 11, 1)) + pl.duration(days=pl.Series(days)),
        "due_date": pl.lit(date(2024, 11, 1)) + pl.duration(days=pl.Series(days + 30)),
        "paid_date": pl.lit(date(2024, 11, 1)) + pl.duration(days=pl.Series(days + rng.integers(10, 60, n))),
        "quantity": pl.Series(np.round(rng.lognormal(2, 1, n), 2)),
        "amount": pl.Series(np.round(rng.lognormal(6, 1.2, n), 2)),
        "currency": pl.Series(np.array(["EUR", "USD", "GBP"])[rng.integers(0, 3, n)]),
    }).write_csv(path)


def duckdb_read_csv(path: Path, db: Path) -> tuple[float, float]:
    """(wall time, CPU time) of DuckDB reading the file into a table, in this process."""
    t, c = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE invoices AS SELECT * FROM read_csv('{path}')")
    con.close()
    return time.perf_counter() - t, time.process_time() - c


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tandem_ingest(path: Path, db: Path) -> tuple[float, float, float]:
    """(wall time, CPU time, peak memory in GB) of `tandem ingest` of the file, in a new process."""
    t, c = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-m", "cli.main", "ingest", str(path), "--db", str(db)], check=True,
                   stdout=subprocess.DEVNULL)
    elapsed, cpu = time.perf_counter() - t, _children_cpu() - c
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, cpu, peak_kib / 1024 / 1024


def phases(path: Path, db: Path) -> None:
    """The same load in this process (`workspace.db.ingest_file`), with the time of each phase it goes through."""
    from kpi_definitions import facts, flow
    from pipelines import findings, load
    from workspace.db import connect, ingest_file

    spent: dict[str, float] = {}

    def timed(name: str, owner: object, attr: str) -> None:
        fn = getattr(owner, attr)

        def run(*a, **k):  # noqa: ANN002, ANN003, ANN202 - any phase's arguments
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
        setattr(owner, attr, run)

    timed("content hash", load, "fingerprint")
    timed("lines stored with their facts (read, map, type, join, write)", facts, "add_invoices")
    timed("pandera check and key hashes", load, "clean_rows")
    timed("staged validation (a file with rows to quarantine)", load, "validate")
    timed("data-quality findings", findings, "refresh")
    timed("monthly sums of the months it changed", facts, "update_months")
    timed("approval-flow facts rebuilt", flow, "rebuild")
    con = connect(db)
    t = time.perf_counter()
    result = ingest_file(con, path)
    total = time.perf_counter() - t
    con.close()
    assert result.ok, result.message
    print(f"the same load in this process: {total:.1f} s")
    for name, secs in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name}: {secs:.2f} s ({secs / total:.0%})")
    print(f"  the rest (opening, the load log, the transaction): {total - sum(spent.values()):.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=None, help="working folder (default: a temp folder)")
    ap.add_argument("--phases", action="store_true", help="then time the load's phases in this process")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        csv = work / "invoices.csv"
        t = time.perf_counter()
        generate(args.rows, csv)
        print(f"generated {args.rows:,} invoice lines ({csv.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.1f} s")
        load = os.getloadavg()[0]
        a, a_cpu = duckdb_read_csv(csv, work / "a.duckdb")
        b, b_cpu, peak_gb = tandem_ingest(csv, work / "b.duckdb")
        print(f"(a) DuckDB read_csv : {a:7.1f} s  {args.rows / a:12,.0f} rows/s  CPU {a_cpu:.1f} s")
        print(f"(b) tandem ingest   : {b:7.1f} s  {args.rows / b:12,.0f} rows/s  peak memory {peak_gb:.2f} GB  "
              f"CPU {b_cpu:.1f} s")
        print(f"ratio (b)/(a)       : {b / a:7.2f}x  (target: within 2x at 10M lines, peak under 3 GB); CPU time "
              f"ratio {b_cpu / a_cpu:.2f}x; load average {load:.1f} before, {os.getloadavg()[0]:.1f} after, on "
              f"{os.cpu_count()} cores")
        if args.phases:
            phases(csv, work / "c.duckdb")


if __name__ == "__main__":
    main()
