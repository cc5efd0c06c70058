"""The README's limits, measured: (a) `tandem ingest` of an XLSX zip bomb (refused from its zip directory) and
(b) an N-line invoice load into a non-empty (demo) database, each in its own process under the configured
TANDEM_MEMORY_LIMIT (default 2GB).

    uv run python benchmarks/limits.py                  # 600 MB bomb, 3M invoice lines
    uv run python benchmarks/limits.py --bomb-mb 8 --rows 3000

Prints the exit status, wall time and peak memory (max RSS of the `tandem ingest` process) of each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import generate  # noqa: E402

BUDGET = {"fiscal_period": "2026-01", "cost_center": "CC1", "category": "IT", "budget_amount": "1000",
          "currency": "EUR"}


def zip_bomb(good: Path, path: Path, sheet_mb: int, dimension_rows: int | None = None) -> Path:
    """`good` with its first sheet replaced by `sheet_mb` MB of rows that compress ~1000:1 (a zip bomb); a
    `dimension_rows` declares that many rows in the sheet's <dimension> (the tests' row-limit case)."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, src.read(info))
                continue
            with out.open(info.filename, "w", force_zip64=True) as fh:
                dim = f'<dimension ref="A1:E{dimension_rows}"/>' if dimension_rows else ""
                fh.write(f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                         f'spreadsheetml/2006/main">{dim}<sheetData>'.encode())
                block = row * (1 << 14)
                for _ in range(max(1, (sheet_mb << 20) // len(block))):
                    fh.write(block)
                fh.write(b"</sheetData></worksheet>")
    return path


def bomb(path: Path, sheet_mb: int) -> Path:
    """A budgets workbook whose first sheet is `sheet_mb` MB of rows that compress ~1000:1."""
    good = path.with_name("good.xlsx")
    pl.DataFrame([{**BUDGET, "cost_center": f"C{i:06d}"} for i in range(3)]).write_excel(good)
    zip_bomb(good, path, sheet_mb)
    good.unlink()
    return path


def measured(*args: str) -> tuple[int, float, float, str]:
    """A `tandem` command in its own process: exit status, wall seconds, its own peak memory in GB (wait4 on
    the one child, not the maximum over all children) and its last stderr line."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - t
    lines = [" ".join(ln.split()) for ln in err.splitlines() if ln.strip()]
    return proc.returncode, elapsed, usage.ru_maxrss / (1 << 20), lines[-1] if lines else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bomb-mb", type=int, default=600, help="sheet XML of the zip bomb, in MB (default 600)")
    ap.add_argument("--rows", type=int, default=3_000_000, help="invoice lines loaded into the demo database")
    ap.add_argument("--dir", type=Path, default=None, help="working folder (default: a temp folder)")
    args = ap.parse_args()
    limit = os.environ.get("TANDEM_MEMORY_LIMIT", "2GB")
    print(f"TANDEM_MEMORY_LIMIT={limit}  TANDEM_MAX_XLSX_UNPACKED_MB={os.environ.get('TANDEM_MAX_XLSX_UNPACKED_MB', '512')}"
          f"  TANDEM_MAX_XLSX_ROWS={os.environ.get('TANDEM_MAX_XLSX_ROWS', '1048576')}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        f = bomb(work / "budgets.xlsx", args.bomb_mb)
        code, s, gb, err = measured("ingest", str(f), "--db", str(work / "bomb.duckdb"))
        print(f"(a) zip bomb ({f.stat().st_size / 1e6:.1f} MB on disk, {args.bomb_mb} MB of sheet XML): exit {code}, "
              f"{s:.1f} s, peak memory {gb:.2f} GB")
        print(f"    {err}")

        db = work / "demo.duckdb"
        subprocess.run([sys.executable, "-m", "cli.main", "demo", "--db", str(db)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        csv = work / "invoices.csv"
        generate(args.rows, csv)
        code, s, gb, err = measured("ingest", str(csv), "--db", str(db))
        print(f"(b) {args.rows:,} invoice lines ({csv.stat().st_size / 1e6:,.0f} MB) into the demo database: exit "
              f"{code}, {s:.1f} s ({args.rows / s:,.0f} rows/s), peak memory {gb:.2f} GB")
        if err:
            print(f"    {err}")


if __name__ == "__main__":
    main()
