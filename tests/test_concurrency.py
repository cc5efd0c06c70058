"""Readers and writers in one server: the app's writes take turns (store/gate.py), readers never meet DuckDB's
"different configuration" or a conflict, and are told a load is running instead."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import duckdb
import pytest

from benchmarks.ingest import generate
from store import gate
from store.errors import Busy
from tandem import service, uploads
from workspace.db import named


@pytest.fixture
def db(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tandem.duckdb"
    shutil.copy(demo_db, path)
    monkeypatch.setenv("TANDEM_DB", str(path))
    return path


def _upload(db: Path, f: Path, out: dict, key: str, waited: list[str]) -> None:
    try:
        out[key] = uploads.load(db, [(f.name, f.read_bytes())], None, None, False, "utf-8",
                                waiting=lambda: waited.append(key))
    except BaseException as exc:  # noqa: BLE001 - the test reports what a thread met
        out[key] = exc


def test_two_uploads_at_once_both_load_in_turn(db: Path, tmp_path: Path) -> None:
    big, small = tmp_path / "invoices_big.csv", tmp_path / "invoices_small.csv"
    generate(150_000, big, seed=1)
    generate(2_000, small, seed=2)
    out: dict = {}
    waited: list[str] = []
    first = threading.Thread(target=_upload, args=(db, big, out, "big", waited))
    first.start()
    while not gate.writing():  # the first upload holds the write turn
        time.sleep(0.01)
    second = threading.Thread(target=_upload, args=(db, small, out, "small", waited))
    second.start()
    first.join(300)
    second.join(300)
    assert waited == ["small"]  # the page said "waiting for another upload to finish"
    for key in ("big", "small"):
        assert isinstance(out[key], uploads.Outcome), out[key]
        assert not out[key].errors and [r.outcome for r in out[key].results] == ["loaded"], out[key].results
    log = named(db, "load_log")
    assert log["file_name"].to_list()[:2] == ["invoices_small.csv", "invoices_big.csv"]  # newest first: in turn


def test_readers_during_an_upload_read_or_are_told_a_load_is_running(db: Path, tmp_path: Path) -> None:
    big = tmp_path / "invoices_big.csv"
    generate(150_000, big, seed=3)
    ver = service.version(db)
    as_of = service.data_as_of(str(db), ver)
    out: dict = {}
    upload = threading.Thread(target=_upload, args=(db, big, out, "big", []))
    upload.start()
    while not gate.writing():
        time.sleep(0.01)
    seen: list[str] = []
    while upload.is_alive():
        assert service.version(db) == ver  # the pages keep their cached data meanwhile
        try:
            named(db, "load_log")
            seen.append("read")
        except Busy as exc:
            seen.append("busy")
            assert "A load is running on this server" in exc.message
        except duckdb.Error as exc:  # what the probe saw: "different configuration", conflicts
            pytest.fail(f"a reader met DuckDB's words: {exc}")
        time.sleep(0.05)
    upload.join()
    assert "busy" in seen
    assert isinstance(out["big"], uploads.Outcome) and out["big"].results[0].outcome == "loaded"
    notice = service.loading_notice(db)
    assert notice == (f"A load is running; the data shown is as of {as_of:%Y-%m-%d %H:%M}; this page refreshes "
                      "when it is done.")
    assert service.version(db) != ver  # the load committed: the pages rerun with the new data
    assert named(db, "load_log")["file_name"][0] == "invoices_big.csv"


def test_a_write_waits_for_the_readers_already_reading(db: Path) -> None:
    order: list[str] = []
    from store.db import reading

    def reader() -> None:
        with reading(db) as con:
            order.append("read start")
            time.sleep(0.5)
            con.sql("SELECT count(*) FROM invoices").fetchall()
            order.append("read end")

    t = threading.Thread(target=reader)
    t.start()
    while not order:
        time.sleep(0.01)
    service.run_write(db, lambda con: order.append("write") or con.sql("SELECT 1").fetchall())
    t.join()
    assert order == ["read start", "read end", "write"]
