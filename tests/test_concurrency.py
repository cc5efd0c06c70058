"""Readers and writers in one server: the app's writes take turns (store/gate.py), readers never meet DuckDB's
"different configuration" or a conflict, and are told a load is running instead."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
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


WAIT_S = 120  # how long a step may take on a shared, loaded machine before the test fails (never reached)


def _upload(db: Path, f: Path, out: dict, key: str, waited: list[str], arrived: threading.Event | None = None,
            progress: Callable[[str, int, int], None] | None = None) -> None:
    """Upload `f` as the Data page does; `waited` gets `key` (and `arrived` is set) when it waits its turn."""
    def waiting() -> None:
        waited.append(key)
        if arrived is not None:
            arrived.set()

    try:
        out[key] = uploads.load(db, [(f.name, f.read_bytes())], None, None, False, "utf-8", progress=progress,
                                waiting=waiting)
    except BaseException as exc:  # noqa: BLE001 - the test reports what a thread met
        out[key] = exc


def _held_until(go_on: threading.Event, inside: threading.Event) -> Callable[[str, int, int], None]:
    """An upload's progress callback, which runs inside its write turn: it says so (`inside`), then holds the
    turn until the test lets it go on, so what the test does meanwhile happens while the write runs."""
    def progress(_name: str, _done: int, _total: int) -> None:
        inside.set()
        go_on.wait(WAIT_S)

    return progress


def test_two_uploads_at_once_both_load_in_turn(db: Path, tmp_path: Path) -> None:
    big, small = tmp_path / "invoices_big.csv", tmp_path / "invoices_small.csv"
    generate(20_000, big, seed=1)
    generate(2_000, small, seed=2)
    out: dict = {}
    waited: list[str] = []
    inside, arrived = threading.Event(), threading.Event()
    # the first upload holds the write turn (loading: its progress callback) until the second has come and waits
    first = threading.Thread(target=_upload, args=(db, big, out, "big", waited, None, _held_until(arrived, inside)))
    first.start()
    assert inside.wait(WAIT_S), out
    second = threading.Thread(target=_upload, args=(db, small, out, "small", waited, arrived))
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
    inside, go_on = threading.Event(), threading.Event()
    upload = threading.Thread(target=_upload, args=(db, big, out, "big", [], None, _held_until(go_on, inside)))
    upload.start()
    try:
        assert inside.wait(WAIT_S), out  # the upload is loading, inside its write turn, and holds it
        assert service.version(db) == ver  # the pages keep their cached data meanwhile
        with pytest.raises(Busy) as busy:  # a reader waits briefly (store/gate.py READER_WAIT_S), then is told
            named(db, "load_log")
        assert "A load is running on this server" in busy.value.message
    finally:
        go_on.set()
    while upload.is_alive():  # the rest of the load: every read either reads or is told, never DuckDB's words
        try:
            named(db, "load_log")
        except Busy as exc:
            assert "A load is running on this server" in exc.message
        except duckdb.Error as exc:  # what the probe saw: "different configuration", conflicts
            pytest.fail(f"a reader met DuckDB's words: {exc}")
        time.sleep(0.05)  # not a wait for anything: how often the probe reads while the thread runs
    upload.join()
    assert isinstance(out["big"], uploads.Outcome) and out["big"].results[0].outcome == "loaded"
    notice = service.loading_notice(db)
    assert notice == (f"A load is running; the data shown is as of {as_of:%Y-%m-%d %H:%M}; this page refreshes "
                      "when it is done.")
    assert service.version(db) != ver  # the load committed: the pages rerun with the new data
    assert named(db, "load_log")["file_name"][0] == "invoices_big.csv"


def test_a_write_waits_for_the_readers_already_reading(db: Path) -> None:
    order: list[str] = []
    started = threading.Event()
    from store.db import reading

    def reader() -> None:
        with reading(db) as con:
            order.append("read start")
            started.set()
            _until_a_write_waits()  # the read goes on until the write waits for this reader
            con.sql("SELECT count(*) FROM invoices").fetchall()
            order.append("read end")

    _write_while(reader, started, db, order)
    assert order == ["read start", "read end", "write"]


def _until_a_write_waits() -> None:
    """Until a write has taken its turn (gate.writing()) and so waits for the readers: nothing signals it, so the
    test polls the condition with a deadline."""
    deadline = time.monotonic() + WAIT_S
    while not gate.writing() and time.monotonic() < deadline:
        time.sleep(0.01)


def _write_while(reader: Callable[[], None], ready: threading.Event, db: Path, order: list[str]) -> None:
    """Run `reader` in a thread and, once it is `ready`, a write of the server (which appends "write" to `order`)."""
    t = threading.Thread(target=reader)
    t.start()
    assert ready.wait(WAIT_S)
    service.run_write(db, lambda con: order.append("write") or con.sql("SELECT 1").fetchall())
    t.join()


def test_one_reader_shares_a_connection_for_a_run_and_lets_go_before_its_own_write(db: Path) -> None:
    from store.db import one_reader, reading

    with reading(db) as a, reading(db) as b:  # outside a run: each read opens the file
        assert a is not b
    with one_reader():
        with reading(db) as first:
            before = first.sql("SELECT count(*) FROM review_items").fetchall()[0][0]
        with reading(str(db)) as again:  # the same file named another way: the same connection
            assert again is first
        # a write of this thread inside the run: the held reader is closed first (else the write would wait for
        # it for ever), and the next read opens the file again and sees the write
        service.run_write(db, lambda con: con.sql(
            "INSERT INTO review_items (item_id, review_id, kind, text, status, created_at) "
            "VALUES (987654, 1, 'note', 'one reader', 'open', now())").fetchall())
        with reading(db) as after:
            assert after is not first
            assert after.sql("SELECT count(*) FROM review_items").fetchall()[0][0] == before + 1
    with reading(db) as c:  # the run is over: its reader is closed, a read opens its own again
        assert c is not after


def test_a_write_of_another_thread_waits_for_a_run_holding_its_reader(db: Path) -> None:
    from store.db import one_reader, reading

    order: list[str] = []
    read = threading.Event()

    def run() -> None:  # a page's run: reads, then (while a write waits) reads again on the same connection
        with one_reader():
            with reading(db) as con:
                con.sql("SELECT count(*) FROM invoices").fetchall()
                order.append("first read")
            read.set()
            _until_a_write_waits()
            with reading(db) as con:  # held: no new turn to wait for, so no Busy while the write waits
                con.sql("SELECT count(*) FROM invoices").fetchall()
                order.append("second read")

    _write_while(run, read, db, order)
    assert order == ["first read", "second read", "write"]
