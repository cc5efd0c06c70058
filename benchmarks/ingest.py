"""Ingestion benchmark: DuckDB's own read_csv vs `tandem ingest` on N generated invoice lines.

    uv run python benchmarks/ingest.py            # 1M lines
    uv run python benchmarks/ingest.py --rows 10000000

Prints rows/s of both, their ratio and the peak memory (max RSS) of the `tandem ingest` process.
"""

from __future__ import annotations

import argparse
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


def duckdb_read_csv(path: Path, db: Path) -> float:
    t = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE invoices AS SELECT * FROM read_csv('{path}')")
    con.close()
    return time.perf_counter() - t


def tandem_ingest(path: Path, db: Path) -> tuple[float, float]:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli.main", "ingest", str(path), "--db", str(db)], check=True,
                   stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak_kib / 1024 / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=None, help="working folder (default: a temp folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        csv = work / "invoices.csv"
        t = time.perf_counter()
        generate(args.rows, csv)
        print(f"generated {args.rows:,} invoice lines ({csv.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.1f} s")
        a = duckdb_read_csv(csv, work / "a.duckdb")
        b, peak_gb = tandem_ingest(csv, work / "b.duckdb")
        print(f"(a) DuckDB read_csv : {a:7.1f} s  {args.rows / a:12,.0f} rows/s")
        print(f"(b) tandem ingest   : {b:7.1f} s  {args.rows / b:12,.0f} rows/s  peak memory {peak_gb:.2f} GB")
        print(f"ratio (b)/(a)       : {b / a:7.2f}x  (target: within 2x at 10M lines, peak under 3 GB)")


if __name__ == "__main__":
    main()
