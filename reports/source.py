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
from workspace.db import named

__all__ = ["Filters", "Request", "bridge", "bridges", "calendar", "cfg", "data_as_of", "engine", "facts_problem",
           "lines", "months", "options", "reg", "targets_evaluated", "values", "version"]


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
    return f"{stat.st_mtime_ns}:{stat.st_size}:{wal.stat().st_mtime_ns if wal.exists() else 0}"


def reg(db: Path | str) -> Registry:
    """The registry with the agreed views of the approved definitions in the database."""
    return registry_for(db)


@contextmanager
def engine(db: Path | str) -> Iterator[Engine]:
    """The KPI engine on a short-lived reader of `db`, with its agreed views, currency and fiscal calendar."""
    with Engine.reading(db, reg(db), currency=cfg().reporting_currency, calendar=calendar()) as e:
        yield e


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
    with reading(Path(db)) as con:
        try:
            facts.check(con, cfg().reporting_currency)
        except facts.CurrencyMismatch as exc:
            return exc.message
    return None


def data_as_of(db: str, ver: str) -> datetime | None:
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


# --- the savings ledger (docs/savings-ledger.md) ------------------------------------------------------------------

LEDGER_KPI = "savings_ledger"


def _ledger_reg(db: str):  # noqa: ANN202 - a Registry
    return reg(db)


def ledger_initiatives(db: str, ver: str) -> pl.DataFrame:
    """Every savings initiative with its terms, stage, version and who recorded it (decisions/ledger.py)."""
    from decisions import ledger

    with reading(Path(db)) as con:
        return ledger.every(con)


def ledger_realised(db: str, ver: str, first: int, last: int, grain: Grain, filters: Filters) -> pl.DataFrame:
    """Realised savings by period over months first..last, computed from invoice lines (period, value, excluded)."""
    from kpi_definitions import ledger as kpi_ledger

    with reading(Path(db)) as con:
        return kpi_ledger.realised(con, _ledger_reg(db), first, last, grain, (), dict(filters), cfg().reporting_currency,
                                   calendar())


def ledger_by_initiative(db: str, ver: str, first: int, last: int, filters: Filters) -> pl.DataFrame:
    """The evaporation bridge by initiative over months first..last: negotiated, every step, realised (nominal and
    index-adjusted), booked (kpi_definitions/ledger.py)."""
    from kpi_definitions import ledger as kpi_ledger

    with reading(Path(db)) as con:
        return kpi_ledger.by_initiative(con, _ledger_reg(db), first, last, dict(filters), cfg().reporting_currency)


def ledger_lines(db: str, ver: str, first: int, last: int, filters: Filters, initiative: str | None = None,
                 step: str | None = None) -> pl.DataFrame:
    """The invoice lines behind the bridge (one initiative's, or all; those moving one step), each with what it adds
    to every step."""
    from kpi_definitions import ledger as kpi_ledger

    with reading(Path(db)) as con:
        return kpi_ledger.step_lines(con, _ledger_reg(db), first, last, dict(filters), initiative, step,
                                     cfg().reporting_currency)


def ledger_pipeline(db: str, ver: str, first: int, last: int, data_last: int, filters: Filters) -> pl.DataFrame:
    """Each initiative over months first..last: prorated saving to date and after, realised, booked, realisation
    rate, expected and at risk with the reason."""
    from kpi_definitions import ledger as kpi_ledger

    with reading(Path(db)) as con:
        return kpi_ledger.initiatives(con, _ledger_reg(db), first, last, data_last, dict(filters),
                                      cfg().reporting_currency)


def ledger_forecast(db: str, ver: str, first: int, last: int, data_last: int, filters: Filters) -> pl.DataFrame:
    """The monthly savings forecast (kpi_definitions/ledger.py FORECAST_SCHEMA) with the approved joint targets on
    the ledger set by month for the whole selection beside it: a `target_<view>` column per view with one."""
    from kpi_definitions import ledger as kpi_ledger

    with reading(Path(db)) as con:
        out = kpi_ledger.forecast(con, _ledger_reg(db), first, last, data_last, dict(filters),
                                  cfg().reporting_currency)
        found = targets.evaluate(con, reg(db), calendar(), cfg().reporting_currency) if not filters else None
    if found is not None and found.height:
        monthly = found.filter((pl.col("kpi") == LEDGER_KPI) & (pl.col("grain") == "month")
                               & pl.col("slice_dim").is_null())
        if monthly.height:
            wide = monthly.select("period", pl.concat_str(pl.lit("target_"), "view").alias("col"), "target").pivot(
                on="col", index="period", values="target")
            out = out.join(wide, on="period", how="left")
    return out


def ledger_targets(db: str, ver: str) -> pl.DataFrame:
    """The approved joint targets on the savings ledger (any grain, any slice), with actual, forecast and status."""
    with reading(Path(db)) as con:
        found = targets.evaluate(con, reg(db), calendar(), cfg().reporting_currency)
    return found.filter(pl.col("kpi") == LEDGER_KPI)


def ledger_history(db: str, ver: str, initiative_id: str) -> dict[str, pl.DataFrame]:
    """One initiative's versions of its terms, stage moves and booking entries, oldest first."""
    from decisions import ledger

    with reading(Path(db)) as con:
        return {"versions": ledger.versions(con, initiative_id), "moves": ledger.moves(con, initiative_id),
                "bookings": ledger.bookings(con, initiative_id)}


def ledger_moved_since(db: str, ver: str, since: datetime) -> pl.DataFrame:
    """Initiatives that changed stage since `since` (the review's "moved this week")."""
    from decisions import ledger

    with reading(Path(db)) as con:
        return ledger.moved_since(con, since)
