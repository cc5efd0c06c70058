"""Every page on a faulty database: a truncated file, a damaged file, and a file another process holds for
writing. Each page says one sentence (the store's sentence, or the loading notice) and raises nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import ROOT, go

PAGES = ["overview", "review", "savings", "drilldown", "definitions", "data", "terms", "agreement"]
WRONG = ("Traceback", "Error", "Exception", "duckdb", "IOException")


def _run(db: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    monkeypatch.setenv("TANDEM_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    go(at, page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _said(at: AppTest) -> tuple[list[str], list[str]]:
    return [e.value for e in at.error], [i.value for i in at.info]


def _no_raw_words(at: AppTest) -> None:
    """Nothing but the one sentence quotes DuckDB (the store's sentence names DuckDB's first line, in brackets)."""
    shown = [*(i.value for i in at.info), *(t.value for t in at.text),
             *(m.value for m in at.markdown)]
    assert not [s for s in shown if any(w in s for w in WRONG)], shown


@pytest.fixture(scope="module")
def truncated(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("faults") / "truncated.duckdb"
    data = demo_db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    return db


@pytest.fixture(scope="module")
def damaged(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every block after the headers overwritten with a pattern: the checksums fail wherever a query reads."""
    db = tmp_path_factory.mktemp("faults") / "damaged.duckdb"
    data = bytearray(demo_db.read_bytes())
    for start in range(3 * 4096, len(data), 1 << 16):
        data[start + 8: start + 4096] = b"\xa5" * (4096 - 8)
    db.write_bytes(bytes(data))
    return db


@pytest.fixture(scope="module")
def held(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo database held open for writing by another process (a long `tandem ingest`, or a stale one)."""
    db = tmp_path_factory.mktemp("faults") / "held.duckdb"
    shutil.copy(demo_db, db)
    proc = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                             "print('holding', flush=True); time.sleep(900)", str(db)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout and proc.stdout.readline().strip() == "holding"
    yield db
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("page", PAGES)
def test_a_truncated_database_is_one_sentence_on_every_page(truncated: Path, monkeypatch: pytest.MonkeyPatch,
                                                             page: str) -> None:
    at = _run(truncated, monkeypatch, page)
    errors, _ = _said(at)
    # the definitions come from the registry; the agreements page reads only the small audit and proposal
    # tables, which lie in the blocks the truncation kept: each shows what it could read
    if page not in ("definitions", "agreement"):
        assert len(errors) == 1 and errors[0].startswith(f"Database {truncated} is damaged or truncated"), errors
        assert "restore it from a backup" in errors[0]
    _no_raw_words(at)


@pytest.mark.parametrize("page", PAGES)
def test_a_damaged_database_is_one_sentence_on_every_page(damaged: Path, monkeypatch: pytest.MonkeyPatch,
                                                           page: str) -> None:
    at = _run(damaged, monkeypatch, page)
    errors, _ = _said(at)
    if page != "definitions":
        assert len(errors) == 1, errors
        assert errors[0].startswith(f"Database {damaged} is ") and "move it aside" in errors[0] or \
            "not a DuckDB database file" in errors[0], errors
    _no_raw_words(at)


@pytest.mark.parametrize("page", PAGES)
def test_a_database_held_by_another_process_is_the_loading_notice_on_every_page(
        held: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    at = _run(held, monkeypatch, page)
    errors, infos = _said(at)
    assert errors == []
    if page != "definitions":
        assert [i for i in infos if i.startswith("A load is running; ")] and len(infos) == 1, infos
        assert infos[0].endswith("this page refreshes when it is done.")
    _no_raw_words(at)


# --- faults while the app writes (issue 25, finding 7): real faults, not mocks --------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 16 MB file system (tmpfs), which the tests fill or make read-only."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _budgets(rows: int) -> bytes:
    """A budgets export of `rows` distinct rows that do not compress (~70 bytes a row)."""
    import polars as pl

    noise = [pl.int_range(rows).hash(seed).cast(pl.String) for seed in (1, 2, 3)]
    return pl.select(fiscal_period=pl.lit("2026-01"), cost_center=noise[0], category=noise[1] + noise[2],
                     budget_amount=pl.lit(1.5), currency=pl.lit("EUR")).write_csv().encode()


def _upload(db: Path, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes) -> AppTest:
    at = _run(db, monkeypatch, "data")
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    next(b for b in at.button if b.label == "Validate and load").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _budget_rows(db: Path) -> int:
    from store.db import reading

    with reading(db) as con:
        return con.execute("SELECT count(*) FROM budgets").fetchall()[0][0]


def test_a_full_disk_during_an_upload_ends_the_status_with_the_sentence(golden_db: Path, small_disk: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    db = small_disk / "tandem.duckdb"
    shutil.copy(golden_db, db)
    before = _budget_rows(db)
    at = _upload(db, monkeypatch, "budgets_big.csv", _budgets(1_000_000))  # ~70 MB: more than the disk holds
    assert [s.label for s in at.status] == ["Nothing loaded"]  # not "Loading 1 file(s)…"
    said = [t.value for t in at.text]
    assert f"The disk holding {db} is full; nothing was changed: free some space and try again." in said or (
        "The disk holding the database is full; nothing was changed: free some space and try again." in said), said
    assert not [e for e in at.error if e.value.startswith("Something went wrong")]
    (small_disk / "tandem.duckdb.wal").unlink(missing_ok=True)  # room again, as the sentence asks
    assert _budget_rows(db) == before


def test_a_full_temporary_folder_and_a_read_only_database_are_sentences_too(golden_db: Path, small_disk: Path,
                                                                           tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    db = tmp_path / "tandem.duckdb"
    shutil.copy(golden_db, db)
    small = _budgets(10)
    # the uploads' temporary folder on a disk that is full
    with (small_disk / "filler").open("wb") as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * (1 << 20))
    monkeypatch.setattr(tempfile, "tempdir", str(small_disk))
    at = _upload(db, monkeypatch, "budgets.csv", small)
    assert [s.label for s in at.status] == ["Nothing loaded"]
    assert [t.value for t in at.text if t.value.startswith("The upload could not be stored")] == [
        f"The upload could not be stored in the temporary folder {small_disk} (No space left on device); nothing was "
        "loaded: free some space there (or set TMPDIR to a folder with room for the uploads) and try again."]
    monkeypatch.setattr(tempfile, "tempdir", None)
    (small_disk / "filler").unlink()
    # the database on a file system mounted read-only (root ignores file permissions, not a read-only mount)
    ro = small_disk.parent / "ro"
    ro.mkdir()
    shutil.copy(golden_db, small_disk / "ro.duckdb")
    subprocess.run(["mount", "--bind", str(small_disk), str(ro)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
        at = _upload(ro / "ro.duckdb", monkeypatch, "budgets.csv", small)
        assert [s.label for s in at.status] == ["Nothing loaded"]
        said = " ".join(t.value for t in at.text)
        assert (f"Database {ro / 'ro.duckdb'} cannot be written by this user (permission denied or a read-only "
                "folder); the file itself is not damaged") in said, said
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)


def test_a_review_note_is_kept_until_it_is_saved(golden_db: Path, small_disk: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The note form was cleared before the write failed: the text was lost. A read-only database refuses the
    note in one sentence and the text stays; once writable, the same text is saved and the form is empty."""
    shutil.copy(golden_db, small_disk / "tandem.duckdb")
    db = small_disk / "tandem.duckdb"
    note = "Credit notes from Northwind are late; Pia to chase by Friday"
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    at = _run(db, monkeypatch, "review")
    form = lambda: at.get("form")[0]  # noqa: E731 - the note form, read afresh after each run
    form().radio[0].set_value("note")
    form().text_area[0].input(note)
    form().button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert [e.value for e in at.error if "cannot be written" in e.value], [e.value for e in at.error]
    assert form().text_area[0].value == note  # still there, to try again
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    form().button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert [s.value for s in at.success] == ["Saved as a note on Savings."]  # the form's first KPI
    assert form().text_area[0].value == ""  # saved: a fresh form
    from store.db import reading

    with reading(db) as con:
        assert con.execute("SELECT text FROM review_items").fetchall() == [(note,)]
