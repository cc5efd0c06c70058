"""Bounded loads: a workbook is inflated and counted (total, ratio, declared rows) before anything reads it."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from benchmarks.limits import zip_bomb
from tests.rows import VALID

ROOT = Path(__file__).resolve().parents[1]


def _workbook(path: Path, rows: int) -> Path:
    pl.DataFrame([{**VALID["budgets"], "cost_center": f"C{i:06d}"} for i in range(rows)]).write_excel(path)
    return path


def _ingest(f: Path, db: Path, **env: str) -> tuple[int, str, float]:
    """`tandem ingest` in its own process: exit status, stderr (words) and the child's peak memory in GB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-m", "tandem.cli", "ingest", str(f), "--db", str(db)],
                          capture_output=True, text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin", **env}, timeout=300)
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / (1 << 20)
    return proc.returncode, " ".join(proc.stderr.split()), peak


def test_a_zip_bomb_is_refused_while_inflating_without_unpacking_it(tmp_path: Path) -> None:
    bomb = zip_bomb(_workbook(tmp_path / "good.xlsx", 3), tmp_path / "budgets.xlsx", sheet_mb=600)
    assert bomb.stat().st_size < 3 << 20  # a few MB on disk, 599 MB of sheet XML unpacked (the rows fill 600 MB less a block)
    code, err, peak_gb = _ingest(bomb, tmp_path / "t.duckdb")
    assert code == 3
    assert err == ("error: budgets.xlsx: its part xl/worksheets/sheet1.xml inflates to over 100 times its packed "
                   "size, as a zip bomb does; nothing was read: export the data as CSV instead.")
    assert peak_gb < 1.0  # nothing was unpacked (unpacking this one takes several GB)


def test_the_unpacked_limit_is_configuration(tmp_path: Path) -> None:
    f = _workbook(tmp_path / "budgets.xlsx", 20_000)
    code, err, _ = _ingest(f, tmp_path / "t.duckdb", TANDEM_MAX_XLSX_UNPACKED_MB="1")
    assert code == 3 and "the workbook unpacks to over 1 MB, the limit (TANDEM_MAX_XLSX_UNPACKED_MB)" in err
    code, err, _ = _ingest(f, tmp_path / "t.duckdb")
    assert (code, err) == (0, "")


def test_a_sheet_declaring_too_many_rows_is_refused(tmp_path: Path) -> None:
    bomb = zip_bomb(_workbook(tmp_path / "good.xlsx", 3), tmp_path / "budgets.xlsx", sheet_mb=1, dimension_rows=2_000_001)
    code, err, _ = _ingest(bomb, tmp_path / "t.duckdb")
    assert code == 3
    assert ("error: budgets.xlsx: the sheet sheet1.xml declares 2,000,000 rows, over the limit of 1,048,576 "
            "(TANDEM_MAX_XLSX_ROWS); export it as CSV instead.") in err


@pytest.mark.parametrize("rows", [10])
def test_a_plain_workbook_still_loads(tmp_path: Path, rows: int) -> None:
    code, err, _ = _ingest(_workbook(tmp_path / "budgets.xlsx", rows), tmp_path / "t.duckdb")
    assert (code, err) == (0, "")
