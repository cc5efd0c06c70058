"""The market-price exports, `price_indices` and `category_index`: loaded like any export, and bad input
(an unknown index in the mapping, a month missing, a zero or negative level) refused in one sentence per
failure with nothing changed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.series import GAP, UNKNOWN
from tests.conftest import write
from workspace.db import ingest_file

GOOD = "period,index_name,value\n2026-01,PPI-IT,100\n2026-02,PPI-IT,101.5\n2026-01,PPI-LOG,100\n2026-02,PPI-LOG,97\n"


def _stored(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    return con.execute("SELECT (SELECT count(*) FROM price_indices), (SELECT count(*) FROM category_index), "
                       "(SELECT count(*) FROM load_log WHERE outcome IN ('loaded', 'partial'))").fetchall()[0]


@pytest.fixture
def loaded(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    assert ingest_file(con, write(tmp_path / "price_indices.csv", GOOD)).outcome == "loaded"
    r = ingest_file(con, write(tmp_path / "category_index.csv", "category,index_name\nIT,PPI-IT\nLOG,PPI-LOG\n"))
    assert r.outcome == "loaded"
    return con


def test_a_series_and_its_mapping_load_and_a_later_month_extends_it(loaded: duckdb.DuckDBPyConnection,
                                                                      tmp_path: Path) -> None:
    r = ingest_file(loaded, write(tmp_path / "price_indices-03.csv", "period,index_name,value\n2026-03,PPI-IT,102\n"))
    assert (r.outcome, r.rows_loaded) == ("loaded", 1)
    assert loaded.sql("SELECT strftime(period, '%Y-%m'), value FROM price_indices WHERE index_name = 'PPI-IT' "
                      "ORDER BY period").fetchall() == [("2026-01", 100.0), ("2026-02", 101.5), ("2026-03", 102.0)]
    assert loaded.sql("SELECT * EXCLUDE (_load_id) FROM category_index ORDER BY category").fetchall() == [
        ("IT", "PPI-IT"), ("LOG", "PPI-LOG")]


@pytest.mark.parametrize(("name", "text", "line", "column", "rule", "value"), [
    ("category_index-x.csv", "category,index_name\nIT,PPI-IT\nMRO,PPI-MRO\n", 3, "index_name", UNKNOWN, "PPI-MRO"),
    # stored 2026-01..02, the file 2026-05: March and April are missing
    ("price_indices-gap.csv", "period,index_name,value\n2026-05,PPI-IT,104\n", 2, "period", GAP,
     "2026-03 to 2026-04 missing in PPI-IT"),
    # a gap inside the file itself, for a new index
    ("price_indices-new.csv", "period,index_name,value\n2026-01,PPI-X,100\n2026-03,PPI-X,99\n", 2, "period", GAP,
     "2026-02 missing in PPI-X"),
    ("price_indices-zero.csv", "period,index_name,value\n2026-03,PPI-IT,0\n", 2, "value", "value > 0", "0"),
    ("price_indices-neg.csv", "period,index_name,value\n2026-03,PPI-IT,-101\n", 2, "value", "value > 0", "-101"),
])
def test_bad_input_is_one_sentence_and_changes_nothing(loaded: duckdb.DuckDBPyConnection, tmp_path: Path, name: str,
                                                       text: str, line: int, column: str, rule: str,
                                                       value: str) -> None:
    before = _stored(loaded)
    r = ingest_file(loaded, write(tmp_path / name, text))
    assert r.outcome == "rejected" and r.rows_loaded == 0
    assert r.message.startswith("1 invalid row(s); nothing loaded")
    assert r.failures is not None
    assert r.failures.select("line", "column", "rule", "value").rows() == [(line, column, rule, value)]
    assert _stored(loaded) == before  # nothing changed


def test_the_mapping_before_any_index_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    r = ingest_file(con, write(tmp_path / "category_index.csv", "category,index_name\nIT,PPI-IT\n"))
    assert r.outcome == "rejected"
    assert r.failures is not None and r.failures["rule"].to_list() == [UNKNOWN]
