"""The lake (store/lake.py): what an export writes, KPIs read back through DuckDB equal to the database's to the
cent, exports that reuse unchanged months and never leave a half-written lake, and one sentence for a lake that
cannot be read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from kpi_definitions.compute import BridgeResult, Selection, bridge, compute, data_months, resolve_range
from kpi_definitions.periods import FiscalCalendar, parse_month
from kpi_definitions.registry import registry
from store import lake
from store.errors import LakeError
from tests.conftest import GOLDEN, write
from workspace.db import connect, ingest_file

ROOT = Path(__file__).resolve().parents[1]
CASES = yaml.safe_load((GOLDEN / "cases.yaml").read_text())
BRIDGES = yaml.safe_load((GOLDEN / "bridges.yaml").read_text())


@pytest.fixture(scope="module")
def golden_lake(golden_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden-lake") / "lake"
    con = connect(golden_db, read_only=True)
    try:
        lake.export(con, out)
    finally:
        con.close()
    return out


@pytest.fixture(scope="module")
def both(golden_db: Path, golden_lake: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]]:
    db, lk = connect(golden_db, read_only=True), lake.open_duckdb(golden_lake)
    yield db, lk
    db.close()
    lk.close()


def _copy(db: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy.duckdb"
    shutil.copy(db, out)
    return out


# --- what an export writes ---------------------------------------------------------------------------------------

def test_the_manifest_counts_every_table_and_month_and_names_the_load(golden_lake: Path, golden_db: Path) -> None:
    doc = json.loads((golden_lake / lake.MANIFEST).read_text())
    assert (doc["format"], doc["schema_version"]) == ("tandem-lake", lake.SCHEMA_VERSION)
    assert doc["tandem_version"] and doc["exported_at"] and doc["reporting_currency"] == "EUR"
    # tests/golden/exports load in name order: suppliers.csv is the last load, and the data is as of its end
    assert (doc["load"]["load_id"], doc["load"]["file_name"]) == (8, "suppliers.csv")
    assert doc["data_as_of"] == doc["load"]["finished_at"]
    # Every export table the store holds (empty ones too), the ledger's tables the savings ledger's SQL reads,
    # every fact_* table and facts_meta; invoices is a view of fact_invoices
    assert list(doc["tables"]) == [
        "suppliers", "contracts", "purchase_orders", "budgets", "inventory", "consumption", "fx_rates", "price_indices",
        "category_index", "requisitions", "approval_events", "receipts", "savings_initiatives", "savings_moves",
        "savings_bookings", "fact_consumption", "fact_consumption_rollup", "fact_cycles", "fact_documents",
        "fact_funds_lines", "fact_funds_months", "fact_invoice_months", "fact_invoice_rollup", "fact_invoices",
        "fact_items", "fact_months", "fact_paid_months", "fact_paid_rollup", "fact_po", "fact_po_invoiced",
        "fact_po_months", "fact_po_rollup", "fact_po_savings", "fact_price_links", "fact_prices", "fact_stock",
        "fact_stock_rollup", "fact_waits", "facts_meta"]
    assert doc["views"]["invoices"]["table"] == "fact_invoices"
    con = connect(golden_db, read_only=True)
    try:
        for name, table in doc["tables"].items():
            assert table["rows"] == con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0], name
            assert list(table["columns"]) == [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [name]).fetchall()]
    finally:
        con.close()
    # Invoice lines by invoice month (tests/golden/cases.yaml): 2 + 2 in 2025, 5 + 4 + 1 in 2026
    fact = doc["tables"]["fact_invoices"]
    assert fact["partition_by"] == "m"
    assert {p["month"]: p["rows"] for p in fact["partitions"]} == {
        "2025-01": 2, "2025-02": 2, "2026-01": 5, "2026-02": 4, "2026-03": 1}
    assert doc["tables"]["purchase_orders"]["partition_by"] == "order_date"
    assert doc["tables"]["suppliers"]["partition_by"] is None
    assert sorted(p.name for p in (golden_lake / "fact_invoices").iterdir()) == [
        "month=2025-01", "month=2025-02", "month=2026-01", "month=2026-02", "month=2026-03"]
    # An empty table keeps its columns in a file of no rows
    assert doc["tables"]["price_indices"]["rows"] == 0 and (golden_lake / "price_indices" / "data_0.parquet").is_file()


def test_the_lake_reads_back_with_the_databases_columns_types_and_rows(both: tuple) -> None:
    db, lk = both
    for name in ["invoices", "fact_invoices", "fact_po", "fact_prices", "facts_meta", "suppliers", "budgets"]:
        assert lk.sql(f"DESCRIBE {name}").fetchall() == db.sql(f"DESCRIBE {name}").fetchall(), name
        order = ", ".join(str(i + 1) for i in range(len(db.sql(f"DESCRIBE {name}").fetchall())))
        assert_frame_equal(lk.sql(f"SELECT * FROM {name} ORDER BY {order}").pl(),
                           db.sql(f"SELECT * FROM {name} ORDER BY {order}").pl(), check_exact=True)


def test_fact_tables_are_listed_from_the_database_not_a_list(golden_db: Path, tmp_path: Path) -> None:
    db = _copy(golden_db, tmp_path)
    con = connect(db)
    try:
        # a monthly-sum fact of the kind the KPI layer adds: 2 months of invoice sums
        con.execute("CREATE TABLE fact_monthly_spend AS SELECT m, sum(amount) AS spend FROM fact_invoices "
                    "WHERE m >= 2026 * 12 GROUP BY m")
        out = lake.export(con, tmp_path / "lake")
    finally:
        con.close()
    table = out.manifest.tables["fact_monthly_spend"]
    assert table.partition_by == "m"
    # 2026-01's amounts in their own currencies (tests/golden/exports/invoices.csv): 80 + 450 + 50 − 20 + 30 = 590
    assert {p.month: p.rows for p in table.partitions} == {"2026-01": 1, "2026-02": 1, "2026-03": 1}
    with lake.reading(tmp_path / "lake") as lk:
        assert lk.sql("SELECT spend FROM fact_monthly_spend WHERE m = 2026 * 12").fetchall() == [(590.0,)]


# --- KPIs read back: equal to the database's, row for row --------------------------------------------------------

def _same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    """Row for row: the same periods, slices and units, values equal to the cent (they are equal to the bit
    here: the same SQL over the same doubles)."""
    assert_frame_equal(a, b, check_exact=False, abs_tol=0.005, rel_tol=0)


def _same_bridge(a: BridgeResult, b: BridgeResult) -> None:
    """The same steps in the same order, every amount equal to the cent."""
    def cents(x: float | None) -> int | None:
        return None if x is None else round(x * 100)

    def flat(r: BridgeResult) -> list[tuple[str, int | None]]:
        return [("start", cents(r.start)), ("end", cents(r.end)),
                *((s.name, cents(s.value)) for s in r.steps), *((p.name, cents(p.value)) for s in r.steps for p in s.parts)]

    assert (a.kpi, a.start_view, a.end_view, a.reason) == (b.kpi, b.start_view, b.end_view, b.reason)
    assert flat(a) == flat(b)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['kpi']}-{c['view']}-{i}" for i, c in enumerate(CASES)])
def test_every_golden_case_is_the_same_on_the_lake(both: tuple, case: dict) -> None:
    db, lk = both
    grain = case.get("grain", "month")
    cal = FiscalCalendar(case.get("fiscal_start", 1))
    first, last = resolve_range(cal, grain, None, str(case["period"]) if "period" in case else None,
                                str(case.get("from", "")) or None, str(case.get("to", "")) or None)
    sel = Selection(first, last, grain, (case["by"],) if "by" in case else (),
                    {k: [v] for k, v in (case.get("where") or {}).items()})
    reg = registry()
    kpis = [reg.kpi_of(case["kpi"])]
    a, b = compute(db, reg, sel, cal=cal, kpis=kpis), compute(lk, reg, sel, cal=cal, kpis=kpis)
    _same(a.values, b.values)
    assert a.notes == b.notes


@pytest.mark.parametrize("case", BRIDGES, ids=[f"{b['kpi']}-{b['from']}" for b in BRIDGES])
def test_every_golden_bridge_is_the_same_on_the_lake(both: tuple, case: dict) -> None:
    db, lk = both
    args = (registry(), case["kpi"], parse_month(case["from"]), parse_month(case["to"]))
    _same_bridge(bridge(db, *args), bridge(lk, *args))


def _all_requests(con: duckdb.DuckDBPyConnection, dims: tuple[str, ...]) -> Iterator[tuple[Selection, FiscalCalendar]]:
    first, last = data_months(con, registry())
    for cal in (FiscalCalendar(), FiscalCalendar(4)):  # calendar and April fiscal years
        for grain in ("month", "quarter", "year"):
            for by in ((), *((d,) for d in dims)):
                yield Selection(first, last, grain, by), cal


def test_every_kpi_by_every_grain_and_split_is_the_same_on_the_golden_lake(both: tuple) -> None:
    db, lk = both
    reg = registry()
    for sel, cal in _all_requests(db, ("category", "supplier_id", "cost_center")):
        a, b = compute(db, reg, sel, cal=cal), compute(lk, reg, sel, cal=cal)
        assert a.values.height and a.values["value"].is_not_null().sum() > 0
        _same(a.values, b.values)
        assert a.notes == b.notes


def test_every_kpi_and_bridge_is_the_same_on_the_demos_lake(demo_db: Path, tmp_path: Path) -> None:
    con = connect(demo_db, read_only=True)
    try:
        lake.export(con, tmp_path / "lake")
        lk = lake.open_duckdb(tmp_path / "lake")
        reg = registry()
        for sel, cal in _all_requests(con, ("category",)):
            a, b = compute(con, reg, sel, cal=cal), compute(lk, reg, sel, cal=cal)
            _same(a.values, b.values)
        _, last = data_months(con, reg)
        for kpi in reg:
            if kpi.bridge is not None:
                _same_bridge(bridge(con, reg, kpi.name, last - 2, last), bridge(lk, reg, kpi.name, last - 2, last))
        lk.close()
    finally:
        con.close()


# --- keeping it current ------------------------------------------------------------------------------------------

APRIL = (GOLDEN / "exports" / "invoices.csv").read_text().splitlines()[0] + """
I41,1,S1,,,X1,IT,CC1,6000,2026-04-10,2026-05-10,,2,25,EUR
I42,1,S2,,,X3,LOG,CC2,6100,2026-04-12,2026-05-27,,1,12.5,EUR
"""


def test_a_refresh_after_a_load_writes_the_changed_months_and_reuses_the_others(golden_db: Path, tmp_path: Path) -> None:
    db, out = _copy(golden_db, tmp_path), tmp_path / "lake"
    con = connect(db)
    try:
        lake.export(con, out)
        january = out / "fact_invoices" / "month=2026-01" / "data_0.parquet"
        inode = january.stat().st_ino
        assert ingest_file(con, write(tmp_path / "april.csv", APRIL), "invoices").rows_loaded == 2
        again = lake.refresh_lake(con, out)
        # April's invoice lines, their monthly sums, months, price facts and price links, the rollups and the flow
        # facts a load of invoices rebuilds; the empty tables are always written (no rows to compare)
        empty = sum(1 for t in again.manifest.tables.values() if t.rows == 0)
        assert empty == 9 and again.written == empty + 7 and again.reused > 20
        assert january.stat().st_ino == inode  # the same file, linked from the lake it replaced
        months = {p.month: p.rows for p in again.manifest.tables["fact_invoices"].partitions}
        assert months["2026-04"] == 2 and months["2026-01"] == 5
        assert again.manifest.load is not None and again.manifest.load["file_name"] == "april.csv"
        with lake.reading(out) as lk:
            reg, sel = registry(), Selection(parse_month("2026-01"), parse_month("2026-04"), "month", ("category",))
            _same(compute(con, reg, sel).values, compute(lk, reg, sel).values)
            # April: 25 + 12.5 = 37.5 of spend
            assert lk.sql("SELECT sum(amount) FROM invoices WHERE invoice_date >= DATE '2026-04-01'").fetchall() == [(37.5,)]
    finally:
        con.close()


def test_an_unchanged_database_rewrites_nothing_but_its_empty_tables(golden_lake: Path, golden_db: Path,
                                                                    tmp_path: Path) -> None:
    out = tmp_path / "lake"
    shutil.copytree(golden_lake, out)
    con = connect(golden_db, read_only=True)
    try:
        again = lake.export(con, out)
    finally:
        con.close()
    # the tables with no rows here (price_indices, category_index, the flow and ledger exports): their schema file
    assert again.written == sum(1 for t in again.manifest.tables.values() if t.rows == 0) == 9
    assert again.reused == sum(len(t.partitions) for t in again.manifest.tables.values())


# --- never half-written ------------------------------------------------------------------------------------------

def _export_killed(db: Path, out: Path, where: str) -> subprocess.CompletedProcess:
    """Export in a new process that is killed (SIGKILL: no cleanup runs) at `where`."""
    script = textwrap.dedent(f"""
        import os, signal, duckdb
        from store import lake
        real_write, real_rename = lake._write_table, os.rename
        renames = []
        def write_table(con, name, *args):
            if {where!r} == "mid-write" and name == "fact_invoices":
                os.kill(os.getpid(), signal.SIGKILL)
            return real_write(con, name, *args)
        def rename(src, dst):
            renames.append(src)
            if {where!r} == "mid-swap" and len(renames) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_rename(src, dst)
        lake._write_table, lake.os.rename = write_table, rename
        lake.export(duckdb.connect({str(db)!r}, read_only=True), {str(out)!r})
    """)
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("where", ["mid-write", "mid-swap"])
def test_a_killed_export_leaves_the_previous_lake_whole(golden_lake: Path, golden_db: Path, tmp_path: Path,
                                                        where: str) -> None:
    out = tmp_path / "lake"
    shutil.copytree(golden_lake, out)
    before = (out / lake.MANIFEST).read_text()
    proc = _export_killed(golden_db, out, where)
    assert proc.returncode == -9, proc.stderr
    left = sorted(p.name.split("-")[0] for p in tmp_path.iterdir())
    # mid-write: the new lake's temporary folder beside the old lake; mid-swap: the old lake set aside as well
    assert left == ([".lake.tmp", "lake"] if where == "mid-write" else [".lake.old", ".lake.tmp"])
    # A reader finds the previous lake, whole (put back from beside it after a kill mid-swap)
    manifest = lake.verify(out)
    assert (out / lake.MANIFEST).read_text() == before and manifest.rows()["invoices"] == 14
    # The next export cleans up what the killed one left
    con = connect(golden_db, read_only=True)
    try:
        lake.export(con, out)
    finally:
        con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake"]


def test_an_export_that_fails_leaves_the_previous_lake_and_no_temporary_folder(golden_lake: Path, golden_db: Path,
                                                                              tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "lake"
    shutil.copytree(golden_lake, out)
    before = (out / lake.MANIFEST).read_text()
    real = lake._write_table

    def full_disk(con: duckdb.DuckDBPyConnection, name: str, *args: object) -> object:
        if name == "fact_po":
            raise OSError(28, "No space left on device")
        return real(con, name, *args)

    monkeypatch.setattr(lake, "_write_table", full_disk)
    con = connect(golden_db, read_only=True)
    try:
        with pytest.raises(LakeError, match=r"could not be written .*No space left on device.*previous lake there is "
                                            r"unchanged"):
            lake.export(con, out)
        # the connection is usable afterwards: the export's snapshot transaction was closed
        assert con.execute("SELECT count(*) FROM suppliers").fetchall() == [(2,)]
    finally:
        con.close()
    assert (out / lake.MANIFEST).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake"]


def test_an_export_never_replaces_a_folder_that_is_not_a_lake(golden_db: Path, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "report.txt").write_text("keep me")
    con = connect(golden_db, read_only=True)
    try:
        with pytest.raises(LakeError, match=r"docs exists and is not a Tandem lake .*choose a new or empty folder"):
            lake.export(con, tmp_path / "docs")
    finally:
        con.close()
    assert (tmp_path / "docs" / "report.txt").read_text() == "keep me"


# --- a lake that cannot be read: one sentence --------------------------------------------------------------------

@pytest.fixture
def damaged(golden_lake: Path, tmp_path: Path) -> Path:
    out = tmp_path / "lake"
    shutil.copytree(golden_lake, out)
    return out


def _says(dir: Path, pattern: str) -> None:
    """Reading the lake fails with one sentence that matches, through verify and through open_duckdb."""
    for read in (lake.verify, lake.open_duckdb):
        with pytest.raises(LakeError, match=pattern) as err:
            read(dir)
        assert "\n" not in err.value.message and err.value.exit_code == 1
        # no chained error under it: the CLI shows the sentence, and a traceback would show one exception only
        assert err.value.__cause__ is None and (err.value.__context__ is None or err.value.__suppress_context__)


def test_a_missing_month_is_named_with_its_table_and_rows(damaged: Path) -> None:
    shutil.rmtree(damaged / "fact_invoices" / "month=2026-01")
    _says(damaged, r"is missing month 2026-01 of fact_invoices \(the manifest counts 5 rows there\); export it again "
                   r"\(`tandem lake export .*lake`\)\.$")


def test_a_month_with_other_rows_than_counted_is_named(damaged: Path) -> None:
    # 2026-02's file replaced by 2026-03's one line: 1 row where the manifest counts 4
    shutil.copy(damaged / "fact_invoices" / "month=2026-03" / "data_0.parquet",
                damaged / "fact_invoices" / "month=2026-02" / "data_0.parquet")
    _says(damaged, r"holds 1 rows in month 2026-02 of fact_invoices where the manifest counts 4")


def test_a_lost_table_is_named(damaged: Path) -> None:
    shutil.rmtree(damaged / "fact_po")
    _says(damaged, r"has lost table fact_po \(its folder is gone; the manifest counts 7 rows\)")


def test_a_file_that_is_not_parquet_is_named(damaged: Path) -> None:
    (damaged / "fact_invoices" / "month=2026-01" / "data_0.parquet").write_bytes(b"not parquet at all")
    _says(damaged, r"has a damaged Parquet file \(.*month=2026-01/data_0.parquet\)")


def test_a_month_the_manifest_does_not_list_is_named(damaged: Path) -> None:
    shutil.copytree(damaged / "fact_invoices" / "month=2026-03", damaged / "fact_invoices" / "month=2027-01")
    _says(damaged, r"holds 1 rows of fact_invoices in month 2027-01, which its manifest does not list")


def test_a_schema_version_it_does_not_know_is_named(damaged: Path) -> None:
    doc = json.loads((damaged / lake.MANIFEST).read_text())
    doc["schema_version"] = 99
    (damaged / lake.MANIFEST).write_text(json.dumps(doc))
    _says(damaged, r"has schema version 99 \(written by Tandem .*\); this Tandem \(.*\) reads version 1: export it "
                   r"again .* with this version, or use the Tandem that wrote it\.$")


def test_a_missing_or_damaged_manifest_is_named(damaged: Path, tmp_path: Path) -> None:
    text = (damaged / lake.MANIFEST).read_text()
    (damaged / lake.MANIFEST).write_text(text[: len(text) // 2])  # cut off half-way
    _says(damaged, r"The lake manifest .*manifest.json is damaged \(line \d+: .*\); export it again")
    doc = json.loads(text)
    del doc["tables"]["fact_po"]["partitions"]
    (damaged / lake.MANIFEST).write_text(json.dumps(doc))
    _says(damaged, r"manifest.json is damaged \(a field is missing or wrong: 'partitions'\)")
    (damaged / lake.MANIFEST).unlink()
    _says(damaged, r"is not a Tandem lake: it has no manifest.json; export it again")
    _says(tmp_path / "nowhere", r"There is no lake at .*nowhere: export one \(`tandem lake export")


def test_an_export_to_a_folder_it_may_not_write_is_one_sentence(golden_db: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes anywhere: a file where the lake's parent folder should be does the same
        (tmp_path / "blocked").write_text("a file, not a folder")
        target = tmp_path / "blocked" / "lake"
    else:
        (tmp_path / "ro").mkdir(mode=0o555)
        target = tmp_path / "ro" / "lake"
    con = connect(golden_db, read_only=True)
    try:
        with pytest.raises(LakeError, match=r"^The lake could not be written to .*lake \(.+\); the previous lake there is "
                                            r"unchanged: free some space or fix the folder's permissions"):
            lake.export(con, target)
    finally:
        con.close()
