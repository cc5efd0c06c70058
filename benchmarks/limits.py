"""The limits of docs/benchmarks.md, measured: (a) XLSX zip bombs (a sheet in xl/, one outside it named by the workbook's
relationships, one whose zip declares it 1 kB) through `tandem ingest`, `tandem mapping check` and `tandem
mapping draft`, each refused while its parts are inflated and counted; (b) an N-line invoice load into a
non-empty (demo) database, each in its own process under the configured TANDEM_MEMORY_LIMIT (default 2GB);
(c) a deeply nested and a very long mapping expression, refused.

    uv run python benchmarks/limits.py                  # 600 MB bomb, 3M invoice lines
    uv run python benchmarks/limits.py --bomb-mb 8 --rows 3000

Prints the exit status, wall time and peak memory (max RSS of the `tandem ingest` process) of each.
"""

from __future__ import annotations

import argparse
import os
import struct
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


ROW = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
SHEET = "xl/worksheets/sheet1.xml"
OUTSIDE = "data/sheet1.xml"  # a sheet outside xl/, named by the workbook's relationships


def _write_sheet(fh, sheet_mb: int, dimension_rows: int | None) -> None:  # noqa: ANN001 - a writable zip entry
    dim = f'<dimension ref="A1:E{dimension_rows}"/>' if dimension_rows else ""
    fh.write(f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main">{dim}<sheetData>'.encode())
    block = ROW * (1 << 14)
    for _ in range(max(1, (sheet_mb << 20) // len(block))):
        fh.write(block)
    fh.write(b"</sheetData></worksheet>")


def zip_bomb(good: Path, path: Path, sheet_mb: int, dimension_rows: int | None = None, outside: bool = False,
             declared_kb: int | None = None) -> Path:
    """`good` with its first sheet replaced by `sheet_mb` MB of rows that compress ~1000:1 (a zip bomb).

    `dimension_rows` declares that many rows in the sheet's <dimension> (the row-limit case); `outside`
    stores the sheet as `data/sheet1.xml`, outside `xl/`, with the workbook's relationships and content
    types pointing there; `declared_kb` makes the zip's local header and directory declare the sheet that
    small while its deflate stream still inflates to `sheet_mb` MB."""
    name = OUTSIDE if outside else SHEET
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == SHEET:
                with out.open(name, "w", force_zip64=declared_kb is None) as fh:  # deflated, at level 9
                    _write_sheet(fh, sheet_mb, dimension_rows)
                continue
            if outside and info.filename == "xl/worksheets/_rels/sheet1.xml.rels":
                continue  # the sheet's own links (its table) stay behind
            if outside and info.filename in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                data = data.replace(b'Target="worksheets/sheet1.xml"', b'Target="/data/sheet1.xml"')
                data = data.replace(b'PartName="/xl/worksheets/sheet1.xml"', b'PartName="/data/sheet1.xml"')
            out.writestr(info, data)
    if declared_kb is not None:
        _declare_size(path, name, declared_kb << 10)
    return path


def _declare_size(path: Path, name: str, size: int) -> None:
    """Make the zip's local header and central directory say entry `name` inflates to `size` bytes."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
        directory = z.start_dir  # type: ignore[attr-defined]
    raw = bytearray(path.read_bytes())
    struct.pack_into("<I", raw, info.header_offset + 22, size)  # local header: uncompressed size
    at = raw.index(b"PK\x01\x02", directory)
    while True:  # the central directory entry of `name`: uncompressed size at +24
        n, m, k = struct.unpack_from("<HHH", raw, at + 28)
        if raw[at + 46 : at + 46 + n] == name.encode():
            struct.pack_into("<I", raw, at + 24, size)
            break
        at += 46 + n + m + k
    path.write_bytes(bytes(raw))


def bomb(path: Path, sheet_mb: int, **how: object) -> Path:
    """A budgets workbook whose first sheet is `sheet_mb` MB of rows that compress ~1000:1 (`how`: see zip_bomb)."""
    good = path.with_name("good.xlsx")
    pl.DataFrame([{**BUDGET, "cost_center": f"C{i:06d}"} for i in range(3)]).write_excel(good)
    zip_bomb(good, path, sheet_mb, **how)  # type: ignore[arg-type]
    good.unlink()
    return path


VARIANTS = {"sheet in xl/": {}, "sheet outside xl/": {"outside": True}, "sheet declared 1 kB": {"declared_kb": 1}}


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
        mapping = work / "m.yaml"
        mapping.write_text("name: m\nexports:\n  budgets: {}\n", encoding="utf-8")
        print(f"(a) zip bombs of {args.bomb_mb} MB of sheet XML, on every path that reads a workbook:")
        for n, (variant, how) in enumerate(VARIANTS.items()):
            (work / str(n)).mkdir()
            f = bomb(work / str(n) / "budgets.xlsx", args.bomb_mb, **how)
            for label, cmd in (("ingest", ["ingest", str(f), "--db", str(work / "bomb.duckdb")]),
                               ("mapping check", ["mapping", "check", str(f), "--mapping", str(mapping)]),
                               ("mapping draft", ["mapping", "draft", str(f)])):
                code, s, gb, err = measured(*cmd)
                print(f"    {variant} ({f.stat().st_size / 1e6:.1f} MB on disk), {label}: exit {code}, {s:.1f} s, "
                      f"peak memory {gb:.2f} GB")
            print(f"      {err}")
        from pipelines.expr import compile_expr

        for label, expr in (("nested 5,000 deep", "(" * 5000 + "a" + ")" * 5000), ("240,000 characters",
                                                                                   "a" + "+a" * 120_000)):
            t = time.perf_counter()
            try:
                compile_expr(expr, lambda name: (name, name))
            except Exception as exc:  # noqa: BLE001 - what is measured is the refusal
                said = str(exc)[:90]
            print(f"(c) a mapping expression {label}: refused in {1000 * (time.perf_counter() - t):.1f} ms: {said}…")

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
