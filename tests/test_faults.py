"""Faults of files and of the database: each is one clear sentence on the CLI, the right exit status, and a
load log row for a refused file; the files that can be read still load."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = (ROOT / "tests" / "golden" / "exports" / "budgets.csv").read_bytes()  # header + 5 rows, LF line ends
runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, " ".join(r.stderr.split())  # Rich wraps long sentences: compare words


def _put(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _log(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as c:
        return c.sql("SELECT file_name, outcome, rows_loaded, message FROM load_log ORDER BY load_id").fetchall()


def _budget_total(db: Path) -> float:
    with duckdb.connect(str(db), read_only=True) as c:
        return c.sql("SELECT sum(budget_amount) FROM budgets").fetchall()[0][0]


GOLDEN_BUDGET_TOTAL = sum(float(r.split(b",")[3]) for r in BUDGETS.splitlines()[1:])


def test_old_mac_line_ends_load_like_any_file(tmp_path: Path) -> None:
    f = _put(tmp_path / "budgets.csv", BUDGETS.replace(b"\n", b"\r"))
    code, out, err = _run("ingest", str(f), "--db", str(tmp_path / "t.duckdb"))
    assert (code, err) == (0, "")
    assert _log(tmp_path / "t.duckdb") == [("budgets.csv", "loaded", 5, "")]
    assert _budget_total(tmp_path / "t.duckdb") == pytest.approx(GOLDEN_BUDGET_TOTAL)


def test_a_bare_cr_in_a_field_is_one_sentence_exit_3_logged_and_the_next_file_still_loads(tmp_path: Path) -> None:
    lines = BUDGETS.split(b"\n")
    lines[2] = lines[2].replace(b",", b"\rX,", 1)  # line 3 of the file
    bad = _put(tmp_path / "budgets_a.csv", b"\n".join(lines))
    good = _put(tmp_path / "budgets_b.csv", BUDGETS)
    code, out, err = _run("ingest", str(bad), str(good), "--type", "budgets", "--db", str(tmp_path / "t.duckdb"))
    assert code == 3
    assert ("error: budgets_a.csv, line 3: a carriage return (CR) inside an unquoted field; quote that field or "
            "remove the CR, then load the file again.") in err
    assert "Traceback" not in err + out
    log = _log(tmp_path / "t.duckdb")
    assert [(r[0], r[1], r[2]) for r in log] == [("budgets_a.csv", "rejected", 0), ("budgets_b.csv", "loaded", 5)]
    assert "line 3: a carriage return" in log[0][3]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_named_with_the_encoding_to_use(tmp_path: Path, codec: str) -> None:
    """Issue 25: it was called binary data ("a NUL byte") without naming the encoding."""
    f = _put(tmp_path / "budgets.csv", BUDGETS.decode().encode(codec))  # no byte-order mark
    code, _, err = _run("ingest", str(f), "--db", str(tmp_path / "t.duckdb"))
    assert (code, err) == (3, f"error: budgets.csv: the file is {codec.upper()} text without a byte-order mark; "
                              f"load it with --encoding {codec}.")
    code, _, err = _run("ingest", str(f), "--db", str(tmp_path / "t.duckdb"), "--encoding", codec)
    assert (code, err) == (0, "")
    assert _budget_total(tmp_path / "t.duckdb") == pytest.approx(GOLDEN_BUDGET_TOTAL)


def test_utf16_gets_the_right_hint_and_loads_with_it(tmp_path: Path) -> None:
    f = _put(tmp_path / "budgets.csv", BUDGETS.decode().encode("utf-16"))
    code, _, err = _run("ingest", str(f), "--db", str(tmp_path / "t.duckdb"))
    assert code == 3
    assert ("error: budgets.csv: the file is UTF-16 text (it starts with a UTF-16 byte-order mark); load it with "
            "--encoding utf-16.") in err
    code, _, err = _run("ingest", str(f), "--db", str(tmp_path / "t.duckdb"), "--encoding", "utf-16")
    assert (code, err) == (0, "")
    assert _budget_total(tmp_path / "t.duckdb") == pytest.approx(GOLDEN_BUDGET_TOTAL)


def test_a_bytes_codec_is_not_an_encoding(tmp_path: Path) -> None:
    f = _put(tmp_path / "budgets.csv", BUDGETS)
    code, _, err = _run("ingest", str(f), "--db", str(tmp_path / "t.duckdb"), "--encoding", "base64")
    assert code == 2
    assert ("error: --encoding base64 is not a text encoding (it turns bytes into bytes); try utf-8, cp1252, "
            "latin-1 or utf-16.") in err


def test_a_nul_byte_after_the_first_64_kb_is_found_with_its_line(tmp_path: Path) -> None:
    header = BUDGETS.split(b"\n")[0]
    # 4,000 rows of distinct keys (~90 KB); a NUL in the category of data row 3,900 (file line 3,901)
    body = [f"2026-01,C{i:05d},IT,150,EUR".encode() for i in range(4000)]
    body[3899] = body[3899].replace(b",IT,", b",I\x00T,")
    f = _put(tmp_path / "budgets.csv", header + b"\n" + b"\n".join(body) + b"\n")
    assert f.read_bytes().index(b"\x00") > 65536
    code, _, err = _run("ingest", str(f), "--db", str(tmp_path / "t.duckdb"))
    assert code == 3
    assert ("error: budgets.csv, line 3901: a NUL byte (binary data) in the text; re-export the file as plain CSV "
            "text and load it again.") in err
    with duckdb.connect(str(tmp_path / "t.duckdb"), read_only=True) as c:
        assert c.sql("SELECT count(*) FROM budgets").fetchall()[0][0] == 0


def test_a_parquet_file_with_nested_columns(tmp_path: Path) -> None:
    f = tmp_path / "fx_rates.parquet"
    pl.DataFrame({"period": ["2026-01"], "currency": ["USD"], "rate_to_reporting": [[0.9, 0.91]]}).write_parquet(f)
    code, _, err = _run("ingest", str(f), "--db", str(tmp_path / "t.duckdb"))
    assert code == 3
    assert ("error: fx_rates.parquet: column rate_to_reporting holds nested values (List(Float64)); Tandem reads "
            "flat columns only: flatten it in the export (one value per cell) and load the file again.") in err


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(demo_db, tmp_path / "tandem.duckdb"))


def test_a_truncated_database_says_so_and_what_to_do(demo_copy: Path) -> None:
    data = demo_copy.read_bytes()
    demo_copy.write_bytes(data[: len(data) // 3])
    code, out, err = _run("kpis", "--db", str(demo_copy))
    assert code == 1
    assert err.startswith(f"error: Database {demo_copy} is damaged or truncated (")
    assert err.endswith("restore it from a backup (docs/serving.md, Backups), or move it aside and "
                        "load the exports again.")


def test_a_corrupted_database_says_so_and_what_to_do(demo_copy: Path) -> None:
    with demo_copy.open("r+b") as fh:  # overwrite a 4 KB run in every 256 KB block past the header
        for offset in range(300_000, demo_copy.stat().st_size, 262_144):
            fh.seek(offset)
            fh.write(b"\x13" * 4096)
    code, _, err = _run("kpis", "--db", str(demo_copy))
    assert code == 1
    assert f"error: Database {demo_copy} is damaged or truncated (" in err and "restore it from a backup" in err


def _without_root_overrides(*cmd: str) -> subprocess.CompletedProcess[str]:
    """Run a command as this user without the capabilities that let root ignore file permissions."""
    caps = "-dac_override,-dac_read_search"
    return subprocess.run(["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", "--", *cmd],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_a_read_only_folder_is_not_called_a_damaged_file(demo_copy: Path, tmp_path: Path) -> None:
    folder = demo_copy.parent
    f = _put(tmp_path / "budgets.csv", BUDGETS)
    os.chmod(demo_copy, 0o444)
    os.chmod(folder, 0o555)
    try:
        proc = _without_root_overrides(str(ROOT / ".venv" / "bin" / "tandem"), "ingest", str(f), "--db", str(demo_copy))
    finally:
        os.chmod(folder, 0o755)
        os.chmod(demo_copy, 0o644)
    err = " ".join(proc.stderr.split())
    assert proc.returncode == 1, proc.stderr
    assert err == (f"error: Database {demo_copy} cannot be written by this user (permission denied or a read-only "
                   "folder); the file itself is not damaged: fix the permissions of the file and its folder, or set "
                   "TANDEM_DB (or --db) to a writable place.")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB file system (tmpfs), so a write runs out of space."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_during_a_load_changes_nothing_and_says_so(tiny_disk: Path, tmp_path: Path) -> None:
    db = tiny_disk / "t.duckdb"
    code, _, err = _run("ingest", str(_put(tmp_path / "budgets.csv", BUDGETS)), "--db", str(db))
    assert (code, err) == (0, "")
    big = tmp_path / "budgets_big.csv"  # ~70 MB of distinct rows that do not compress: more than the disk holds
    n = 1_000_000
    noise = [pl.int_range(n).hash(seed).cast(pl.String) for seed in (1, 2, 3)]
    pl.select(fiscal_period=pl.lit("2026-01"), cost_center=noise[0], category=noise[1] + noise[2],
              budget_amount=pl.lit(1.5), currency=pl.lit("EUR")).write_csv(big)
    code, out, err = _run("ingest", str(big), "--type", "budgets", "--db", str(db))
    assert code == 1
    assert f"error: The disk holding {db} is full; nothing was changed: free some space and try again." in err or (
        "error: The disk holding the database is full; nothing was changed: free some space and try again." in err)
    (tiny_disk / "t.duckdb.wal").unlink(missing_ok=True)
    assert _budget_total(db) == pytest.approx(GOLDEN_BUDGET_TOTAL)


def test_a_load_over_the_memory_limit_says_which_limit_to_raise(tmp_path: Path) -> None:
    n = 300_000
    noise = pl.int_range(n).hash(7).cast(pl.String)
    f = tmp_path / "budgets.csv"
    pl.select(fiscal_period=pl.lit("2026-01"), cost_center=noise, category=noise + noise + noise,
              budget_amount=pl.lit(1.5), currency=pl.lit("EUR")).write_csv(f)
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "tandem"), "ingest", str(f), "--db", str(tmp_path / "t.duckdb")],
                          capture_output=True, text=True, env={**os.environ, "TANDEM_MEMORY_LIMIT": "20MB"}, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert " ".join(proc.stderr.split()) == (
        "error: The load needs more memory than DuckDB may use here (TANDEM_MEMORY_LIMIT); nothing was changed: raise "
        "the limit (e.g. TANDEM_MEMORY_LIMIT=4GB) if the machine has the memory, or load the export in smaller files.")
