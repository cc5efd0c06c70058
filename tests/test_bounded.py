"""Bounded loads: a workbook is inflated and counted (total, ratio, declared rows) before anything reads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from benchmarks.limits import zip_bomb
from store.errors import TandemError
from tests.rows import VALID

ROOT = Path(__file__).resolve().parents[1]


def _workbook(path: Path, rows: int) -> Path:
    pl.DataFrame([{**VALID["budgets"], "cost_center": f"C{i:06d}"} for i in range(rows)]).write_excel(path)
    return path


def _tandem(*args: str, **env: str) -> tuple[int, str, float]:
    """A `tandem` command in its own process: exit status, stderr (words) and the child's own peak memory in GB
    (wait4 on that one child: a maximum over all children would carry an earlier, bigger one)."""
    import os

    proc = subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin", **env})
    err = proc.stderr.read().decode() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), " ".join(err.split()), usage.ru_maxrss / (1 << 20)


def _ingest(f: Path, db: Path, **env: str) -> tuple[int, str, float]:
    """`tandem ingest` in its own process: exit status, stderr (words) and its peak memory in GB."""
    return _tandem("ingest", str(f), "--db", str(db), **env)


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


# The zip variants of issue 25: a sheet of 600 MB of rows (calamine takes several GB to read one) stored
# where the workbook names it, inside xl/ or outside it, and one whose zip declares the sheet 1 kB.
BOMBS = {"in xl/": {}, "outside xl/": {"outside": True}, "declared 1 kB": {"declared_kb": 1}}
REFUSED = ("error: budgets.xlsx: its part {part} inflates to over 100 times its packed size, as a zip bomb does; "
           "nothing was read: export the data as CSV instead.")


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    good = _workbook(folder / "good.xlsx", 3)
    out = {}
    for name, how in BOMBS.items():
        (folder / name.replace(" ", "_").replace("/", "")).mkdir()
        out[name] = zip_bomb(good, folder / name.replace(" ", "_").replace("/", "") / "budgets.xlsx", 600, **how)
    return out


# Every variant through `tandem ingest`; the other commands that read a workbook with the sneakiest one
# (they share the reader's stage 1, tandem/uploads.py too: the next test).
CASES = [(v, "ingest") for v in BOMBS] + [("declared 1 kB", "mapping check"), ("declared 1 kB", "mapping draft")]


@pytest.mark.parametrize(("variant", "command"), CASES)
def test_every_zip_bomb_is_refused_on_every_path_within_memory(bombs: dict[str, Path], tmp_path: Path, variant: str,
                                                               command: str) -> None:
    bomb = bombs[variant]
    assert bomb.stat().st_size < 3 << 20  # a few MB on disk
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: m\nexports:\n  budgets: {}\n", encoding="utf-8")
    args = {"ingest": ["ingest", str(bomb), "--db", str(tmp_path / "t.duckdb")],
            "mapping check": ["mapping", "check", str(bomb), "--mapping", str(mapping)],
            "mapping draft": ["mapping", "draft", str(bomb)]}[command]
    code, err, peak_gb = _tandem(*args)
    part = "data/sheet1.xml" if variant == "outside xl/" else "xl/worksheets/sheet1.xml"
    assert (code, err) == (3, REFUSED.format(part=part))
    assert peak_gb < 1.0  # nothing was unpacked: reading it takes several GB


def test_the_data_pages_loads_and_previews_refuse_a_bomb(bombs: dict[str, Path], tmp_path: Path) -> None:
    """The Data page loads through workspace.db.ingest_file and previews through check_file: the same stage 1."""
    from tandem import uploads
    from workspace.db import connect, ingest_file

    bomb = bombs["declared 1 kB"]
    con = connect(tmp_path / "t.duckdb")
    try:
        with pytest.raises(TandemError) as exc:
            ingest_file(con, bomb)
        assert exc.value.message == REFUSED.format(part="xl/worksheets/sheet1.xml").removeprefix("error: ")
        assert con.sql("SELECT file_name, outcome FROM load_log").fetchall() == [("budgets.xlsx", "rejected")]
        assert con.sql("SELECT count(*) FROM budgets").fetchall() == [(0,)]
    finally:
        con.close()
    shown = uploads.preview([("budgets.xlsx", bomb.read_bytes())], None, None, "utf-8")
    assert shown.errors == [REFUSED.format(part="xl/worksheets/sheet1.xml").removeprefix("error: ")]


def test_a_sheet_outside_xl_declaring_too_many_rows_is_refused(tmp_path: Path) -> None:
    bomb = zip_bomb(_workbook(tmp_path / "good.xlsx", 3), tmp_path / "budgets.xlsx", sheet_mb=1,
                    dimension_rows=2_000_001, outside=True)
    code, err, _ = _ingest(bomb, tmp_path / "t.duckdb")
    assert (code, err) == (3, "error: budgets.xlsx: the sheet sheet1.xml declares 2,000,000 rows, over the limit of "
                              "1,048,576 (TANDEM_MAX_XLSX_ROWS); export it as CSV instead.")
