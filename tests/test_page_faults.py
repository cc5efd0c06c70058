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
