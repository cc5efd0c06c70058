"""The benchmark scripts run end to end on small sizes (their figures are read by people, not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_ingest_benchmark_loads_the_generated_file(tmp_path: Path) -> None:
    out = _run("benchmarks/ingest.py", "--rows", "3000", "--dir", str(tmp_path))
    assert "generated 3,000 invoice lines" in out
    ratio = re.search(r"ratio \(b\)/\(a\)\s*:\s*([\d.]+)x", out)
    assert ratio and float(ratio.group(1)) > 0
    assert re.search(r"peak memory \d+\.\d\d GB", out)


def test_kpi_and_overview_benchmarks_build_and_read_their_database(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    out = _run("benchmarks/kpis.py", "--rows", "3000", "--db", str(db))
    rows = re.search(r"\(([\d,]+) result rows\)", out)
    assert rows and int(rows.group(1).replace(",", "")) > 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        lines, converted = con.sql("SELECT count(*), count(amount_rep) FROM fact_invoices").fetchall()[0]
        assert (lines, con.sql("SELECT count(*) FROM invoices").fetchall()[0][0]) == (3000, 3000)
        assert converted == lines  # every line has a rate: the benchmark's FX rates cover its months
    finally:
        con.close()
    assert "warm caches" in _run("benchmarks/overview.py", "--db", str(db))


def test_limits_benchmark_measures_the_bombs_the_expressions_and_the_load_into_a_non_empty_database(tmp_path: Path) -> None:
    # 40 MB of sheet XML: over the 32 MB after which the ratio is judged, so each variant is refused as a bomb
    out = _run("benchmarks/limits.py", "--bomb-mb", "40", "--rows", "3000", "--dir", str(tmp_path))
    assert "TANDEM_MEMORY_LIMIT=" in out
    for variant in ("sheet in xl/", "sheet outside xl/", "sheet declared 1 kB"):  # each through every command
        for command in ("ingest", "mapping check", "mapping draft"):
            assert re.search(rf"{variant} \([\d.]+ MB on disk\), {command}: exit 3, [\d.]+ s, peak memory \d+\.\d\d GB",
                             out), (variant, command)
    assert re.search(r"\(c\) a mapping expression nested 5,000 deep: refused in [\d.]+ ms", out)
    assert re.search(r"\(b\) 3,000 invoice lines .* exit 0, [\d.]+ s .* peak memory \d+\.\d\d GB", out)
