"""Where reports read their numbers: every KPI value, bridge, line and filter option comes from the KPI engine
(kpi_definitions/engine.py), asked with one `Request` on a short-lived reader of the database. The face
(tandem/service.py) offers the same functions cached per data version and request; `reports.scope.Scope` reads
through either, so a pack from the command line, a page and an export show one number."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import polars as pl

from decisions import targets
from decisions.agreement import registry_for
from kpi_definitions import facts
from kpi_definitions.compute import BridgeResult
from kpi_definitions.engine import Engine, Filters, Request, canonical
from kpi_definitions.lines import LINE_LIMIT
from kpi_definitions.periods import FiscalCalendar, Grain
from kpi_definitions.registry import Registry
from store.config import Settings, settings
from store.db import reading
from store.errors import USAGE, TandemError
from workspace.db import named

__all__ = ["Filters", "Request", "bridge", "bridges", "calendar", "cfg", "data_as_of", "engine", "facts_problem",
           "lines", "months", "options", "reg", "targets_evaluated", "targets_of", "values", "version"]


def cfg() -> Settings:
    return settings()


def calendar() -> FiscalCalendar:
    return FiscalCalendar(cfg().fiscal_year_start_month)


def version(db: Path) -> str:
    """Changes whenever a load commits (the file's and its WAL's times and size): what keys a cache."""
    try:
        stat = os.stat(db)
    except FileNotFoundError:
        return "missing"
    wal = Path(f"{db}.wal")
    found = f"{stat.st_mtime_ns}:{stat.st_size}:{wal.stat().st_mtime_ns if wal.exists() else 0}"
    c = cfg()
    if c.engine == "spark" and c.lake is not None:  # the numbers come from the lake: a new export is a new version
        manifest = Path(c.lake) / "manifest.json"
        found += f":{manifest.stat().st_mtime_ns if manifest.exists() else 0}"
    return found


def reg(db: Path | str) -> Registry:
    """The registry with the agreed views of the approved definitions in the database."""
    return registry_for(db)


@contextmanager
def engine(db: Path | str, *, kind: str | None = None, lake: Path | str | None = None) -> Iterator[Engine]:
    """The KPI engine of the settings (TANDEM_ENGINE, or `kind`), with the agreed views of `db`, the reporting
    currency and the fiscal calendar: DuckDB on a short-lived reader of `db`, or Spark on the lake in `lake`
    (TANDEM_LAKE) on TANDEM_SPARK_REMOTE (docs/spark.md). The agreements stay in the database file: without one,
    Spark computes the declared views alone."""
    c = cfg()
    if (kind or c.engine) == "spark":
        from kpi_definitions.engine_spark import SparkEngine, SparkLake
        from kpi_definitions.registry import registry

        folder = lake or c.lake
        if folder is None:
            raise TandemError("The spark engine reads a lake: pass --lake DIR or set TANDEM_LAKE (write one with "
                              "`tandem lake export DIR`).", USAGE)
        declared = reg(db) if Path(db).exists() else registry()
        yield SparkEngine(SparkLake.shared(folder, c.spark_remote), declared, currency=c.reporting_currency,
                          calendar=calendar())
        return
    with Engine.reading(db, reg(db), currency=c.reporting_currency, calendar=calendar()) as e:
        yield e


def targets_of(e: Engine, db: Path | str) -> pl.DataFrame:
    """The approved joint targets evaluated (decisions/targets.py): they live in the database file, and their
    actuals are computed there (on Spark's engine too: an empty frame without a database)."""
    if e.con is not None:
        return targets.evaluate(e.con, e.reg, e.calendar, e.currency)
    if not Path(db).exists():
        return pl.DataFrame(schema=targets.SCHEMA)
    with reading(Path(db)) as con:
        return targets.evaluate(con, e.reg, e.calendar, e.currency)


def values(db: str, ver: str, req: Request) -> tuple[pl.DataFrame, list[str]]:
    """KPI values for a request, each row with its warnings, and the notes of what was left out; `ver` keys caches."""
    with engine(db) as e:
        answer = e.values(req)
    return answer.frame, answer.notes


def bridge(db: str, ver: str, req: Request, kpi: str) -> BridgeResult:
    """One KPI's bridge over the request's span and slice."""
    with engine(db) as e:
        return e.bridge(req, kpi)


def bridges(db: str, ver: str, req: Request) -> pl.DataFrame:
    """Each requested KPI's bridge as data, per period and slice of `req.by` (`tandem bridge`)."""
    with engine(db) as e:
        return e.bridges(req)


def lines(db: str, ver: str, req: Request, kpi: str, view: str, narrow: Mapping[str, str] | None = None,
          limit: int | None = LINE_LIMIT) -> pl.DataFrame:
    """The rows behind a KPI view for the request's span and slice, as the view counts them."""
    with engine(db) as e:
        return e.lines(req, kpi, view, narrow, limit)


def months(db: str, ver: str) -> tuple[int, int] | None:
    """The first and last month with data; None on an empty database."""
    with engine(db) as e:
        return e.data_months()


def options(db: str, ver: str) -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers, with a readable label (supplier names from the supplier master)."""
    with engine(db) as e:
        return e.options()


def facts_problem(db: str, ver: str) -> str | None:
    """Why KPIs cannot be computed from this database as configured (None when they can)."""
    if cfg().engine == "spark":
        with engine(db) as e:
            try:
                e._ready()  # noqa: SLF001 - the engine's own check of its facts
            except (facts.CurrencyMismatch, facts.FactsOutdated) as exc:
                return exc.message
        return None
    with reading(Path(db)) as con:
        try:
            facts.check(con, cfg().reporting_currency)
        except facts.CurrencyMismatch as exc:
            return exc.message
    return None


def data_as_of(db: str, ver: str) -> datetime | None:
    c = cfg()
    if c.engine == "spark" and c.lake is not None:  # when the last load the lake holds finished
        from store import lake

        said = lake.verify(c.lake).data_as_of
        return datetime.fromisoformat(said) if said else None
    frame = named(Path(db), "data_as_of")
    return frame["as_of"][0] if frame.height else None


def targets_evaluated(db: str, ver: str) -> pl.DataFrame:
    """Every approved joint target with its actual, forecast and status (decisions/targets.py)."""
    with reading(Path(db)) as con:
        return targets.evaluate(con, reg(db), calendar(), cfg().reporting_currency)


# -- the forms the face used before requests (kept while its callers move to requests) --------------------------

def kpi_values(db: str, ver: str, first: int, last: int, grain: Grain, by: tuple[str, ...], filters: Filters,
               kpis: tuple[str, ...] | None = None) -> tuple[pl.DataFrame, list[str]]:
    return values(db, ver, Request(first, last, grain, kpis, None, by, canonical(filters)))


def bridge_of(db: str, ver: str, kpi: str, first: int, last: int, filters: Filters) -> BridgeResult:
    return bridge(db, ver, Request(first, last, kpis=(kpi,), filters=canonical(filters)), kpi)
