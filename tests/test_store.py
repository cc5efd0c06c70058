"""Readers and a load in two real processes: readers never block a load, a load never breaks a reader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl

from store.db import read
from tandem.service import version
from tests.rows import VALID
from workspace.db import connect, ingest_file

READER = """
import json, sys
from pathlib import Path
from store.db import read
db, stop = Path(sys.argv[1]), Path(sys.argv[2])
counts, errors = [], []

def once():
    try:
        counts.append(int(read(db, "SELECT count(*) AS n FROM invoices")["n"][0]))
    except Exception as exc:  # the test asserts there are none
        errors.append(repr(exc))

once()
print("reading", flush=True)  # the first read is done: the test starts the loads now
while not stop.exists():  # opening and closing the file in a tight loop while the loads run
    once()
once()  # a read begun after the last load finished: the test makes `stop` only then
print(json.dumps({"counts": counts, "errors": errors}))
"""

def invoices(tmp_path: Path, name: str, n: int, start: int) -> Path:
    rows = [VALID["invoices"] | {"invoice_id": f"I{start + i}", "amount": "10"} for i in range(n)]
    path = tmp_path / name
    pl.DataFrame(rows).write_csv(path)
    return path


def test_cli_loads_while_another_process_keeps_reading(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    con = connect(db)
    ingest_file(con, invoices(tmp_path, "invoices_0.csv", 5, 0))
    con.close()
    before = version(db)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        # the reader has read once and is now opening and closing the file in a tight loop
        assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
        for i in (1, 2, 3):
            load = subprocess.run([sys.executable, "-m", "cli.main", "ingest", "--db", str(db),
                                   str(invoices(tmp_path, f"invoices_{i}.csv", 1000, i * 1000))],
                                  capture_output=True, text=True, timeout=120)
            assert load.returncode == 0, load.stderr
        stop.touch()
        out, _ = reader.communicate(timeout=60)
    finally:
        reader.kill()
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["errors"] == []
    assert seen["counts"][0] == 5 and seen["counts"][-1] == 3005  # it saw each load land, never a half
    assert set(seen["counts"]) <= {5, 1005, 2005, 3005}
    assert version(db) != before  # what tells the app's cache that the data changed
    assert int(read(db, "SELECT count(*) AS n FROM invoices")["n"][0]) == 3005


def test_a_damaged_file_sentence_drops_duckdbs_class_prefix() -> None:
    from store.db import problem
    err = problem(Exception("Serialization Error: Corrupt database file: checksum 1 does not match"), "/x.duckdb")
    assert str(err) == ("Database /x.duckdb is damaged or truncated (Corrupt database file: checksum 1 does not "
                        "match); restore it from a backup (docs/serving.md, Backups), or move it "
                        "aside and load the exports again.")


def test_a_frame_names_repeated_columns_apart_as_a_relation_does() -> None:
    import duckdb

    from store.db import frame

    con = duckdb.connect()
    got = frame(con, "SELECT 1 AS line, 2 AS line, 3 AS Line, $x AS x", {"x": 4})
    assert got.columns == ["line", "line_1", "Line_2", "x"] and got.row(0) == (1, 2, 3, 4)
    assert got.columns == con.sql("SELECT 1 AS line, 2 AS line, 3 AS Line, 4 AS x").pl().columns
