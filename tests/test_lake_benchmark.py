"""benchmarks/lake.py runs end to end on a small database (its figures are read by people, not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from store import lake

ROOT = Path(__file__).resolve().parents[1]


def test_the_lake_benchmark_exports_refreshes_and_reads_back(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "benchmarks/lake.py", "--rows", "3000", "--db", str(tmp_path / "b.duckdb"),
                           "--no-spark"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "lake of 3,000 invoice lines" in out
    # nothing changed: every month file reused, only the empty tables' schema files written (the benchmark has
    # no price indices, flow exports, ledger or invoice on a PO line: eleven of them, fact_po_invoiced among them)
    assert re.search(r"export, nothing changed: +[\d.]+ s \(\d+ month files reused, 11 written\)", out)
    # one month of invoice lines changed: that month of the lines and the empty tables written
    assert re.search(r"refresh after one month changed: +[\d.]+ s \(12 written, \d+ reused\)", out)
    assert re.search(r"DuckDB on the lake: +[\d.]+ s", out)
    assert lake.verify(tmp_path / "b.lake").rows()["invoices"] == 3000
