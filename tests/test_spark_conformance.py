"""Conformance of the Spark engine (kpi_definitions/engine_spark.py) with DuckDB's: the golden cases, the agreed
view and the command line give the same numbers on both, and the seven constructs that silently give another
number on Spark when DuckDB's words are transpiled are explicit regression cases.

The golden cases run on Spark grouped by request (one request per grain, calendar, split and filter, covering
every case's period): each Spark query costs about a second in local mode here, and a request per case would take
the suite's time for the same numbers. DuckDB runs each case alone in tests/test_compute.py, and the grouped
requests here too, so a difference between a grouped and a single request would show on DuckDB as well.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from decisions.identity import Identity
from kpi_definitions import agreement
from kpi_definitions.agreement import Version
from kpi_definitions.dialects import dialect, expand
from kpi_definitions.engine import Request
from kpi_definitions.periods import FiscalCalendar, parse_month
from kpi_definitions.registry import registry
from store import lake
from tests.conftest import GOLDEN
from tests.engines import ENGINES, Make, engine_on, spark_of
from workspace.db import connect

CASES = yaml.safe_load((GOLDEN / "cases.yaml").read_text())
TOL = 1e-9
JAN, FEB, MAR = parse_month("2026-01"), parse_month("2026-02"), parse_month("2026-03")


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, golden_db: Path) -> Iterator[Make]:
    with engine_on(request.param, golden_db, spark_of(request)) as make:
        yield make


@pytest.fixture(scope="module", params=ENGINES)
def engines(request: pytest.FixtureRequest, golden_db: Path, golden_budgets_db: Path) -> Iterator[dict[str, Make]]:
    """An engine of each kind on each golden database: tests/golden/exports (""), tests/golden/budgets (the cases
    marked `db: budgets`)."""
    with engine_on(request.param, golden_db, spark_of(request)) as make, \
            engine_on(request.param, golden_budgets_db, spark_of(request)) as budgets:
        yield {"": make, "budgets": budgets}


# --- the golden cases, grouped by request ------------------------------------------------------------------------

def _span(case: dict, cal: FiscalCalendar) -> tuple[int, int]:
    from kpi_definitions.compute import resolve_range

    return resolve_range(cal, case.get("grain", "month"), None, str(case["period"]) if "period" in case else None,
                         str(case.get("from", "")) or None, str(case.get("to", "")) or None)


def _shape(case: dict) -> tuple:
    where = tuple(sorted((k, str(v)) for k, v in (case.get("where") or {}).items()))
    return case.get("grain", "month"), case.get("fiscal_start", 1), case.get("by", ""), where, case.get("db", "")


GROUPS: dict[tuple, list[dict]] = {}
for _case in CASES:
    GROUPS.setdefault(_shape(_case), []).append(_case)


def _approx(actual: float | None, expected: float | None) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return abs(actual - expected) <= TOL * max(1.0, abs(expected))


@pytest.mark.parametrize("shape", list(GROUPS),
                         ids=[f"{g}-fy{f}-{b or 'all'}-{dict(w) or ''}{d}" for g, f, b, w, d in GROUPS])
def test_golden_cases_grouped_by_request(engines: dict[str, Make], shape: tuple) -> None:
    grain, fiscal_start, by, where, db = shape
    engine = engines[db]  # the cases of tests/golden/budgets run on their own database, on each engine
    cases = GROUPS[shape]
    cal = FiscalCalendar(fiscal_start)
    spans = [_span(c, cal) for c in cases]
    req = Request.of(min(f for f, _ in spans), max(last for _, last in spans), grain=grain, by=(by,) if by else (),
                     filters={k: [v] for k, v in where}, kpis=sorted({registry().kpi_of(c["kpi"]) for c in cases}))
    rows = engine(registry(), cal).values(req).frame
    for case in cases:
        label = str(case.get("label", case.get("period")))
        found = rows.filter(kpi=case["kpi"], view=case["view"], period=label)
        why = f"{case['kpi']} ({case['view']}) {label} {dict(where)} by {by or '-'}: {case['why']}"
        if by:
            got = {r[by]: r["value"] for r in found.iter_rows(named=True)}
            assert set(got) == set(case["expected"]), (got, why)
            for key, expected in case["expected"].items():
                assert _approx(got[key], expected), f"{key}: {got[key]} != {expected} ({why})"
        else:
            assert found.height == 1, why
            assert _approx(found["value"][0], case["expected"]), f"{found['value'][0]} != {case['expected']} ({why})"
            assert found["excluded"][0] == case.get("excluded", 0), why


# --- the agreed view (tests/test_engine_agreed.py computes the same numbers by hand) ------------------------------

DROPS = ("cost_avoidance", "not_yet_invoiced")


def _v(kpi: str, version: int, effective: str, counts: tuple[str, ...]) -> Version:
    return Version(kpi, version, date.fromisoformat(effective), counts, "What both teams count, in plain words.")


def _agreed(make: Make, versions: list[Version], req: Request) -> list[tuple]:
    frame = make(agreement.with_agreed(registry(), versions)).values(
        req.but(kpis=(versions[0].kpi,), views=("agreed",))).frame
    return frame.select("period", *req.by, "value").rows()


def test_the_agreed_view_adds_the_steps_chosen(engine: Make) -> None:
    # mix and spend without quantities only: procurement 60 − 410 + 190 = −160 (tests/test_engine_agreed.py)
    assert _agreed(engine, [_v("savings", 1, "2025-01-01", ("mix", "without_quantities"))], Request(JAN, JAN)) == [
        ("2026-01", pytest.approx(-160))]
    # by cost center: CC1 holds P1 (20, invoiced) → 20; CC2 holds P2 (40 cost avoidance) → 0
    assert _agreed(engine, [_v("savings", 1, "2025-01-01", DROPS)], Request(JAN, JAN, by=("cost_center",))) == [
        ("2026-01", "CC1", pytest.approx(20)), ("2026-01", "CC2", pytest.approx(0))]


def test_the_agreed_view_changes_version_mid_quarter(engine: Make) -> None:
    # v1 (cost avoidance and orders not invoiced dropped) from January, v2 (no step) from February: 75 − 40 = 35
    versions = [_v("savings", 1, "2026-01-01", DROPS), _v("savings", 2, "2026-02-01", ())]
    q1 = Request(JAN, MAR, "quarter")
    assert _agreed(engine, versions, q1) == [("2026-Q1", pytest.approx(35))]
    assert _agreed(engine, versions, q1.but(by=("category",))) == [("2026-Q1", "IT", pytest.approx(35)),
                                                                   ("2026-Q1", "LOG", pytest.approx(0))]
    # a ratio takes the version of its last month for the whole quarter: (17370 + 1800) / 538
    days = [_v("payment_days", 1, "2026-01-01", ("no_terms",)), _v("payment_days", 2, "2026-02-01", ("paid_late",))]
    assert _agreed(engine, days, q1) == [("2026-Q1", pytest.approx(19170 / 538))]


# --- the seven constructs that differ silently (issue 29) ---------------------------------------------------------

# (what, DuckDB's own words, the words a transpiler writes for Spark, what each gives, the library's call, what the
# library gives on both). The first pair proves the trap is real; the library must step around it.
NULLS_LAST = "FROM (VALUES (4, 1), (5, 2), (NULL, 3)) t(x, k)"
NULLS_FIRST = "FROM (VALUES (NULL, 1), (5, 2), (7, 3)) t(x, k)"
LETTERS = "FROM (VALUES ('b'), ('c'), ('a')) t(x)"
SEVEN = [
    ("date_diff by day: boundaries crossed against whole days",
     "date_diff('day', TIMESTAMP '2026-01-01 23:59:00', TIMESTAMP '2026-01-02 00:01:00')",
     "timestampdiff(DAY, TIMESTAMP '2026-01-01 23:59:00', TIMESTAMP '2026-01-02 00:01:00')", (1, 0),
     "@seconds_between(TIMESTAMP '2026-01-01 23:59:00', TIMESTAMP '2026-01-02 00:01:00')", "", 120),
    ("date_diff by hour",
     "date_diff('hour', TIMESTAMP '2026-01-01 00:59:00', TIMESTAMP '2026-01-01 01:01:00')",
     "timestampdiff(HOUR, TIMESTAMP '2026-01-01 00:59:00', TIMESTAMP '2026-01-01 01:01:00')", (1, 0),
     "@seconds_between(TIMESTAMP '2026-01-01 00:59:00', TIMESTAMP '2026-01-01 01:01:00')", "", 120),
    ("date_diff by month: a month boundary is what a month index counts",
     "date_diff('month', DATE '2026-01-31', DATE '2026-02-01')",
     "timestampdiff(MONTH, DATE '2026-01-31', DATE '2026-02-01')", (1, 0),
     "@month_ix(DATE '2026-02-01') - @month_ix(DATE '2026-01-31')", "", 1),
    ("day of week of a Sunday", "dayofweek(DATE '2026-03-01')", "dayofweek(DATE '2026-03-01')", (0, 1),
     "@iso_dow(DATE '2026-03-01')", "", 7),
    ("isodow of a Monday", "isodow(DATE '2026-03-02')", "dayofweek(DATE '2026-03-02')", (1, 2),
     "@iso_dow(DATE '2026-03-02')", "", 1),
    ("arg_max with a NULL value last", f"arg_max(x, k) {NULLS_LAST}", f"max_by(x, k) {NULLS_LAST}", (5, None),
     "@last_by(x, k)", NULLS_LAST, 5),
    ("arg_min with a NULL value first", f"arg_min(x, k) {NULLS_FIRST}", f"min_by(x, k) {NULLS_FIRST}", (5, None),
     "@first_by(x, k)", NULLS_FIRST, 5),
    ("an ordered list()", f"array_to_string(list(x ORDER BY x), ', ') {LETTERS}",
     f"array_join(collect_list(x), ', ') {LETTERS}", ("a, b, c", "b, c, a"), "@join_sorted(x, ', ')", LETTERS,
     "a, b, c"),
]


@pytest.mark.spark
@pytest.mark.parametrize(("what", "duck_words", "spark_words", "naive", "call", "source", "expected"), SEVEN,
                         ids=[s[0] for s in SEVEN])
def test_a_construct_that_differs_silently_means_one_thing_through_the_library(
        spark: SparkSession, what: str, duck_words: str, spark_words: str, naive: tuple, call: str, source: str,
        expected: object) -> None:
    duck = duckdb.connect()
    try:
        assert (duck.execute(f"SELECT {duck_words}").fetchone()[0],
                spark.sql(f"SELECT {spark_words}").first()[0]) == naive, what
        on_duckdb = duck.execute(expand(f"SELECT {call} AS v {source}", dialect("duckdb"))).fetchone()[0]
    finally:
        duck.close()
    on_spark = spark.sql(expand(f"SELECT {call} AS v {source}", dialect("spark"))).first()[0]
    assert on_duckdb == on_spark == expected, what


# --- the command line: `tandem kpis --engine spark --lake DIR` equals `tandem kpis` -----------------------------

runner = CliRunner()


def _kpis(args: list[str], env: dict[str, str]) -> list[dict]:
    from cli.main import app

    result = runner.invoke(app, ["kpis", "--format", "json", *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _cents(rows: list[dict]) -> list[dict]:
    """Every number to the cent (the engines may add in another order: the last bits of a double differ)."""
    return [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


@pytest.mark.spark
def test_the_command_line_gives_the_same_kpis_on_spark_as_on_the_database(
        spark: SparkSession, golden_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "golden.duckdb"
    shutil.copy(golden_db, db)
    con = connect(db)
    try:
        lake.export(con, tmp_path / "lake")
    finally:
        con.close()
    monkeypatch.delenv("TANDEM_SPARK_REMOTE", raising=False)  # the test session's local Spark, whatever is set
    monkeypatch.delenv("TANDEM_ENGINE", raising=False)
    spark_args = ["--engine", "spark", "--lake", str(tmp_path / "lake")]
    asked = [({}, ["--period", "2026-02"]),  # a month
             ({}, ["--period", "2026-Q1", "--grain", "quarter"]),  # a quarter
             ({"TANDEM_FISCAL_YEAR_START_MONTH": "4"}, ["--period", "FY2026", "--grain", "year"]),  # an April year
             ({}, ["--from", "2026-01", "--to", "2026-03", "--by", "category"])]  # a split
    for extra, args in asked:
        env = {"TANDEM_DB": str(db), **extra}
        on_duckdb = _kpis(args, env)
        assert on_duckdb and any(r["value"] is not None for r in on_duckdb), args
        assert _cents(_kpis([*args, *spark_args], env)) == _cents(on_duckdb), args


def test_the_spark_engine_without_a_lake_or_with_a_damaged_one_is_one_sentence(
        golden_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.main import app

    monkeypatch.delenv("TANDEM_LAKE", raising=False)
    env = {"TANDEM_DB": str(golden_db)}
    result = runner.invoke(app, ["kpis", "--engine", "spark"], env=env)
    assert result.exit_code == 2
    assert "The spark engine reads a lake: pass --lake DIR or set TANDEM_LAKE" in result.stderr
    con = connect(golden_db, read_only=True)
    try:
        lake.export(con, tmp_path / "lake")
    finally:
        con.close()
    shutil.rmtree(tmp_path / "lake" / "fact_invoices" / "month=2026-01")
    result = runner.invoke(app, ["kpis", "--engine", "spark", "--lake", str(tmp_path / "lake")], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is missing month 2026-01 of fact_invoices" in result.stderr
    result = runner.invoke(app, ["kpis", "--engine", "oracle"], env=env)
    assert result.exit_code == 2 and "--engine 'oracle': use duckdb or spark." in result.stderr


# --- the drill-down's lines and the filter options come from the same engine --------------------------------------

@pytest.mark.spark
def test_every_views_lines_and_the_filter_options_are_the_same_on_spark(spark: SparkSession, golden_db: Path) -> None:
    from polars.testing import assert_frame_equal

    req = Request(JAN, MAR, "quarter")
    with engine_on("duckdb", golden_db) as duck, engine_on("spark", golden_db, spark) as on_spark:
        d, s = duck(), on_spark()
        assert s.options() == d.options() and s.data_months() == d.data_months() == (24300, 24314)
        with_lines = set()
        for kpi in registry():
            for view in kpi.views:
                want = d.lines(req, kpi.name, view)
                if want.height:  # the ledger's lines are on no initiative here: both engines list none
                    with_lines.add(kpi.name)
                try:
                    assert_frame_equal(s.lines(req, kpi.name, view), want, check_dtypes=False, abs_tol=1e-9)
                except AssertionError as exc:
                    raise AssertionError(f"{kpi.name} ({view}): {exc}") from None
        # the golden exports have lines behind every KPI but the savings ledger (no initiatives in them)
        assert with_lines == set(registry().names) - {"savings_ledger"}, with_lines


# --- the demo with its agreed views and joint targets, through the command line -----------------------------------

PIA = Identity("pia@corp.example", "Pia", "procurement", "editor", True)
ANA = Identity("ana@corp.example", "Ana", "finance", "editor", True)
AGREED_TEXT = "What both teams count as this KPI, written down in the weekly meeting."
# (KPI, the bridge steps each version counts, effective from). savings (an amount) takes its version month by month
# (the version in effect on the month's first day): May 2026 is still under v1, June under v2, so 2026-Q2, the April
# fiscal year FY2027 and each category's Q2 change version part-way. payment_days (days) takes the version of its
# period's last month. budget_variance counts one part of its netted step.
DEMO_AGREED = [("savings", ["cost_avoidance", "not_yet_invoiced"], "2024-11-01"),
               ("savings", ["cost_avoidance"], "2026-05-15"),
               ("payment_days", ["no_terms"], "2024-11-01"),
               ("payment_days", ["paid_late"], "2026-05-01"),
               ("budget_variance", ["orders_not_invoiced"], "2025-06-01")]


def _demo_agreed(demo_db: Path, tmp_path: Path) -> Path:
    """A copy of the demo database with DEMO_AGREED proposed by procurement and approved by finance through the
    decisions API, and two approved joint targets for 2026-06 (the agreed savings, finance's payment days)."""
    from decisions import agreement as decisions_agreement
    from decisions import targets

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    con = connect(db)
    try:
        for kpi, counts, effective in DEMO_AGREED:
            pid = decisions_agreement.propose(con, kpi, counts, AGREED_TEXT, effective, "the weekly meeting", PIA)
            assert decisions_agreement.approve(con, pid, ANA)["status"] == "approved"
        reg = agreement.with_agreed(registry(), decisions_agreement.versions(con))
        for kpi, view, grain, period, value, by, by_other in (
                ("savings", "agreed", "month", "2026-06", "50k", PIA, ANA),
                ("payment_days", "finance", "month", "2026-06", "30", ANA, PIA)):
            # months: a quarter's label names other months once the fiscal year starts in April (asked below)
            tid = targets.propose(con, reg, kpi, view, grain, period, value, "the month's aim", by)
            assert targets.decide(con, tid, True, "agreed", by_other)["status"] == "approved"
    finally:
        con.close()
    return db


@pytest.mark.spark
def test_the_command_line_gives_the_demos_agreed_views_and_targets_on_spark_as_on_the_database(
        spark: SparkSession, demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.main import app

    db = _demo_agreed(demo_db, tmp_path)
    exported = runner.invoke(app, ["lake", "export", str(tmp_path / "lake"), "--db", str(db)])
    assert exported.exit_code == 0, exported.output
    monkeypatch.delenv("TANDEM_SPARK_REMOTE", raising=False)  # the test session's local Spark, whatever is set
    monkeypatch.delenv("TANDEM_ENGINE", raising=False)
    spark_args = ["--engine", "spark", "--lake", str(tmp_path / "lake")]
    april = {"TANDEM_FISCAL_YEAR_START_MONTH": "4"}
    asked = [({}, ["--period", "2026-06"]),  # a month, the first under savings v2
             ({}, ["--period", "2026-Q2", "--grain", "quarter"]),  # a quarter with a version change in May
             (april, ["--from", "2025-04", "--to", "2026-10", "--grain", "year"]),  # FY2026 whole, FY2027 running
             ({}, ["--period", "2026-Q2", "--grain", "quarter", "--by", "category"])]  # a split
    for extra, args in asked:
        env = {"TANDEM_DB": str(db), **extra}
        on_duckdb = _kpis(args, env)
        agreed = {(r["kpi"], r["period"], *r["dimensions"].values()): r["value"] for r in on_duckdb
                  if r["view"] == "agreed"}
        # every agreed view is there, with a value for every period and slice
        assert {k[0] for k in agreed} == {"savings", "payment_days", "budget_variance"}, args
        assert all(v is not None for v in agreed.values()), args
        on_spark = _kpis([*args, *spark_args], env)
        assert [(r["kpi"], r["view"], r["period"], r["dimensions"]) for r in on_spark] == \
            [(r["kpi"], r["view"], r["period"], r["dimensions"]) for r in on_duckdb], args
        assert _cents(on_spark) == _cents(on_duckdb), args
        for s, d in zip(on_spark, on_duckdb, strict=True):  # and closer than cents: a ratio's 0.004 is no cent
            for k in ("value", "target", "forecast"):
                assert s.get(k) == (d.get(k) if d.get(k) is None else pytest.approx(d[k], rel=1e-9, abs=1e-9)), \
                    (args, d)
        if args[1] == "2026-06":
            # the agreed savings is neither team's (it counts a step), and carries its approved target, whose
            # forecast over a whole month is its actual
            row = {(r["kpi"], r["view"]): r for r in on_spark}
            agreed = row["savings", "agreed"]
            assert agreed["value"] not in (row["savings", "procurement"]["value"], row["savings", "finance"]["value"])
            assert (agreed["target"], agreed["status"]) == (50_000, "on track")
            assert agreed["forecast"] == pytest.approx(agreed["value"], rel=1e-9)
            assert row["payment_days", "finance"]["target"] == 30


@pytest.mark.spark
def test_a_targets_actual_comes_from_the_engine_that_computes_its_row(
        spark: SparkSession, golden_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the lake was exported, one more 2026-01 invoice line of EUR 1,000 (no order, no budget) is loaded into
    the database: finance's budget variance of 2026-01 moves from −50 (tests/golden/cases.yaml) to −50 + 1,000 =
    950 there. On Spark the row and its approved target both read the lake: −50, not the file's 950."""
    from cli.main import app
    from decisions import targets
    from reports import source
    from workspace.db import ingest_file

    db = tmp_path / "golden.duckdb"
    shutil.copy(golden_db, db)
    con = connect(db)
    try:
        tid = targets.propose(con, registry(), "budget_variance", "finance", "month", "2026-01", "100", "the aim", PIA)
        targets.decide(con, tid, True, "agreed", ANA)
    finally:
        con.close()
    exported = runner.invoke(app, ["lake", "export", str(tmp_path / "lake"), "--db", str(db)])
    assert exported.exit_code == 0, exported.output
    extra = tmp_path / "invoices.csv"
    extra.write_text("invoice_id,invoice_line,supplier_id,po_id,po_line,item_id,category,cost_center,gl_account,"
                     "invoice_date,due_date,paid_date,quantity,amount,currency\n"
                     "I99,1,S1,,,,IT,CC1,6000,2026-01-20,2026-02-19,2026-02-10,,1000,EUR\n")
    con = connect(db)
    try:
        assert ingest_file(con, extra).ok
    finally:
        con.close()
    monkeypatch.delenv("TANDEM_SPARK_REMOTE", raising=False)
    monkeypatch.delenv("TANDEM_ENGINE", raising=False)
    env = {"TANDEM_DB": str(db)}
    args = ["--period", "2026-01", "--kpi", "budget_variance"]

    def finance(rows: list[dict]) -> tuple:
        row = next(r for r in rows if (r["kpi"], r["view"]) == ("budget_variance", "finance"))
        return row["value"], row["target"], row["forecast"]  # a whole month's forecast is its actual

    assert finance(_kpis(args, env)) == (pytest.approx(950), 100, pytest.approx(950))
    on_spark = _kpis([*args, "--engine", "spark", "--lake", str(tmp_path / "lake")], env)
    assert finance(on_spark) == (pytest.approx(-50), 100, pytest.approx(-50))
    # the pack's and the pages' targets (reports/source.targets_evaluated) ask the engine of the settings too
    monkeypatch.setenv("TANDEM_ENGINE", "spark")
    monkeypatch.setenv("TANDEM_LAKE", str(tmp_path / "lake"))
    found = source.targets_evaluated(str(db), source.version(db))
    assert found.select("kpi", "view", "actual", "forecast").rows() == [
        ("budget_variance", "finance", pytest.approx(-50), pytest.approx(-50))]
    monkeypatch.setenv("TANDEM_ENGINE", "duckdb")
    assert source.targets_evaluated(str(db), source.version(db))["actual"].to_list() == [pytest.approx(950)]
