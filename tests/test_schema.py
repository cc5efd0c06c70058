"""One owner of the schema (store/schema.py): numbered migrations per layer, run by writers at open; an older
database upgrades with nothing lost, a newer one is refused with a sentence, a failed migration changes nothing."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from decisions.agreement import registry_for
from kpi_definitions.compute import Selection, compute
from store import schema
from store.db import reading
from store.schema import Migration, Schema, SchemaTooNew
from workspace.db import SCHEMAS, connect

FIXTURE = Path(__file__).parent / "fixtures" / "release-2026-11.duckdb.gz"
# What the fixture holds (tests/fixtures/README.md: built by the release before schema_version, from the golden
# exports, with one approved agreed definition, one approved target, a review with an action, a saved scenario).
KEPT = {"invoices": 14, "purchase_orders": 8, "agreement_proposals": 1, "agreement_decisions": 1, "targets": 1,
        "reviews": 1, "review_items": 1, "terms_scenarios": 1, "audit_log": 5, "load_log": 8}


def counts(db: Path) -> dict[str, int]:
    with reading(db) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in KEPT}


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    db = tmp_path / "old.duckdb"
    with gzip.open(FIXTURE, "rb") as src, db.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return db


def test_a_database_of_the_previous_release_upgrades_with_nothing_lost(old_db: Path) -> None:
    before = counts(old_db)
    assert before == KEPT
    with reading(old_db) as con:
        assert schema.versions(con) == {}  # written before schema_version existed
    con = connect(old_db)  # a writer: the migrations run
    try:
        assert schema.versions(con) == {"store": 1, "decisions": 1}
        applied = con.execute("SELECT count(*) FROM schema_version").fetchall()[0][0]
    finally:
        con.close()
    assert applied == 2 and counts(old_db) == before
    # the agreed definition still counts: agreed = procurement + cost avoidance steps (golden 2026-01: 60, of
    # which P2's 40 is cost avoidance, counted as −40 by the bridge step) and the target and the action are there
    reg = registry_for(old_db)
    assert "agreed" in reg["savings"].views
    with reading(old_db) as con:
        values = compute(con, reg, Selection(24312, 24312), kpis=["savings"]).values
        item = con.execute("SELECT text, owner, created_by FROM review_items").fetchall()[0]
    agreed = values.filter(values["view"] == "agreed")["value"].to_list()
    assert agreed == [pytest.approx(20.0)]
    assert item == ("Ask why spend rose", "Ana", "ana@corp.example")


def test_opening_twice_runs_nothing_more(old_db: Path) -> None:
    connect(old_db).close()
    con = connect(old_db)
    try:
        assert schema.migrate(con, SCHEMAS) == []
    finally:
        con.close()


def test_a_database_of_a_newer_tandem_is_refused_and_left_alone(old_db: Path) -> None:
    connect(old_db).close()
    raw = duckdb.connect(str(old_db))
    raw.execute("UPDATE schema_version SET version = 7 WHERE layer = 'decisions'")
    raw.close()
    with pytest.raises(SchemaTooNew, match=r"newer Tandem: its decisions tables are at version 7, and this "
                                           r"Tandem knows up to 1\. Upgrade Tandem"):
        connect(old_db)
    with reading(old_db) as con:
        assert schema.versions(con) == {"store": 1, "decisions": 7}


def test_a_migration_that_fails_part_way_changes_nothing(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    ok = Schema("demo", (Migration(1, "a table", "CREATE TABLE a (x INTEGER)"),))
    assert schema.migrate(con, [ok]) == ["demo 1: a table"]
    broken = Schema("demo", (*ok.migrations,
                             Migration(2, "b, then a typo", "CREATE TABLE b (x INTEGER); CREATE TABLEE c (x INTEGER)")))
    with pytest.raises(duckdb.ParserException):
        schema.migrate(con, [broken])
    assert schema.versions(con) == {"demo": 1}
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'b'").fetchall() == [(0,)]
    con.close()


def test_migrations_are_numbered_without_gaps() -> None:
    with pytest.raises(ValueError, match=r"numbered 1\.\.n in order, not \[1, 3\]"):
        Schema("demo", (Migration(1, "a", "SELECT 1"), Migration(3, "c", "SELECT 1")))
    for s in SCHEMAS:
        assert [m.version for m in s.migrations] == list(range(1, s.version + 1))


def test_a_new_database_starts_at_the_latest_version(tmp_path: Path) -> None:
    con = connect(tmp_path / "new.duckdb")
    try:
        assert schema.versions(con) == {s.layer: s.version for s in SCHEMAS}
    finally:
        con.close()
