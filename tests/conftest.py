"""Shared fixtures (a fresh DuckDB file per test, the golden and demo databases, writers for small export
files) and the marker every test carries by what it runs: spark, e2e, apptest or unit (docs/development.md)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.spark_fixtures import spark  # noqa: F401  (the session's one local Spark, for tests marked spark)
from workspace.db import connect

KINDS = ("spark", "e2e", "apptest", "unit")
# What a test's code (its function, the module's helpers it calls and the fixtures it asks for) says it runs.
E2E_SIGNS = ("playwright", "sync_playwright", "chromium(", "Popen(", "subprocess.run(", "serving(", "print_pdf(",
             "kaleido", "exports.image(", "soffice")
APPTEST_SIGNS = ("AppTest",)


def _code(fn: Callable, module: object, depth: int = 1) -> str:
    """The source of `fn` and of the module-level functions it names (`depth` levels down)."""
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        return ""
    if depth:
        for name in getattr(getattr(fn, "__code__", None), "co_names", ()):
            helper = getattr(module, name, None)
            if inspect.isfunction(helper) and helper is not fn:
                text += _code(helper, inspect.getmodule(helper), depth - 1)
    return text


def kind_of(item: pytest.Item) -> str:
    """spark, e2e, apptest or unit: what the test needs running (a marker given by hand wins)."""
    for kind in KINDS:
        if item.get_closest_marker(kind):
            return kind
    if "spark" in getattr(item, "fixturenames", ()):
        return "spark"
    fn = getattr(item, "function", None)
    text = _code(fn, item.module) if fn else ""
    for defs in getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).values():
        for d in defs:
            if inspect.getmodule(d.func) is not None and "tests" in (inspect.getmodule(d.func).__name__ or ""):
                text += _code(d.func, inspect.getmodule(d.func))
    if any(sign in text for sign in E2E_SIGNS):
        return "e2e"
    if any(sign in text for sign in APPTEST_SIGNS):
        return "apptest"
    return "unit"


# The tests a full run measured at 0.4 s or more (scripts/slow.py writes the list from `--durations=0`)
SLOW = frozenset(line.strip() for line in (Path(__file__).parent / "slow.txt").read_text().splitlines()
                 if line.strip() and not line.startswith("#"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by what it runs, so `-m unit` (the default run) needs no server, browser or Streamlit, and
    the ones measured slow as slow (the default run leaves them out; CI runs everything)."""
    for item in items:
        kind = kind_of(item)
        if not item.get_closest_marker(kind):
            item.add_marker(getattr(pytest.mark, kind))
        if item.nodeid in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tandem.duckdb"


@pytest.fixture
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(db_path)
    yield c
    c.close()


def write(path: Path, text: str) -> Path:
    """Write a CSV exactly as given (no trailing-newline or quoting fix-ups)."""
    path.write_text(text, encoding="utf-8", newline="")
    return path


def table(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    return con.sql(f"SELECT * EXCLUDE (_load_id) FROM {name}").pl()


GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def golden_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built exports of tests/golden, loaded through the real ingestion into a DuckDB file."""
    from workspace.db import ingest_file

    path = tmp_path_factory.mktemp("golden") / "golden.duckdb"
    c = connect(path)
    try:
        for f in sorted((GOLDEN / "exports").iterdir()):
            result = ingest_file(c, f)
            assert result.ok and result.rows_quarantined == 0, f"{f.name}: {result.outcome}"
    finally:
        c.close()
    return path


@pytest.fixture(scope="session")
def golden_budgets_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built budget and approval-flow exports of tests/golden/budgets, loaded through the real ingestion."""
    from workspace.db import ingest_file

    path = tmp_path_factory.mktemp("golden_budgets") / "golden.duckdb"
    c = connect(path)
    try:
        for f in sorted((GOLDEN / "budgets").glob("*.csv")):
            result = ingest_file(c, f)
            assert result.ok and result.rows_quarantined == 0, f"{f.name}: {result.outcome} {result.message}"
    finally:
        c.close()
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo exports (`tandem demo`), loaded into a DuckDB file; copy it before writing to it."""
    from workspace.db import ingest_file
    from workspace.demo import write_demo

    folder = tmp_path_factory.mktemp("demo")
    db = folder / "tandem.duckdb"
    c = connect(db)
    try:
        for f in write_demo(folder / "exports"):
            ingest_file(c, f)
    finally:
        c.close()
    return db
