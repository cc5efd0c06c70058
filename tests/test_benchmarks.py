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


def test_budgets_benchmark_builds_the_flow_and_renders_the_page(tmp_path: Path) -> None:
    db = tmp_path / "b.duckdb"
    out = _run("benchmarks/budgets.py", "--rows", "3000", "--requisitions", "2000", "--events", "10000", "--db",
               str(db))
    assert re.search(r"flow facts rebuilt in [\d.]+ s \(2,000 requisition lines, 10,000 approval events", out)
    assert re.search(r"by category \([\d,]+ rows\)\n  cold: [\d.]+ s   warm: [\d.]+ s", out)
    assert "warm caches" in out
    con = duckdb.connect(str(db), read_only=True)
    try:  # every event and requisition line is read into the facts
        assert con.sql("SELECT count(*) FROM fact_waits").fetchall() == [(10000,)]
        assert con.sql("SELECT count(*) FROM fact_documents WHERE document_type = 'requisition'").fetchall() == [(1000,)]
    finally:
        con.close()


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


def test_limits_benchmark_measures_uploads_before_and_after_login(tmp_path: Path) -> None:
    out = _run("benchmarks/limits.py", "uploads", "--files", "2", "--mb", "1", "--ttl", "2", "--dir", str(tmp_path))
    assert "(a) not signed in: HTTP [403]" in out and "(b) a signed-in editor: HTTP [204]" in out
    assert re.search(r"tabs closed: released \d+ s after .*uploads held 0 MB", out)
    assert "over the cap: HTTP 413" in out and "(d) Overview: first run" in out


def test_sign_in_benchmark_goes_through_the_real_flow() -> None:
    """benchmarks/signin.py: the provider, a fresh server, one sign-in; every step listed with wall and CPU time."""
    out = _run("benchmarks/signin.py", "--runs", "1", "--typing", "0")
    for step in ("Tandem's sign-in page", "the provider's form", "back at Tandem", "signed in",
                 "the Overview's first number", "the Overview complete", "waited (typing left out)"):
        assert re.search(rf"{re.escape(step)}\s+\d+\.\d\d s wall\s+Tandem\s+\d+\.\d\d s CPU", out), step
