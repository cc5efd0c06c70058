"""What the pages ask of the data: reports/source.py's reads cached per data version, lines, and the app's writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb
import polars as pl
import streamlit as st

from kpi_definitions.compute import BridgeResult
from kpi_definitions.engine import Request, canonical
from kpi_definitions.periods import Grain
from kpi_definitions.registry import Registry
from reports import source
from store import gate
from store.db import reading
from store.errors import TandemError
from workspace.db import connect

if TYPE_CHECKING:
    from kpi_definitions.terms import Result as TermsResult
    from kpi_definitions.terms import Scenario as TermsScenario

T = TypeVar("T")
Filters = source.Filters
cfg, calendar = source.cfg, source.calendar

_last: dict[str, object] = {}  # this process's last committed version and data-as-of, per database


def version(db: Path) -> str:
    """Changes whenever a load commits: the cache key that makes the app show new data after a CLI load.

    While this server writes, it stays what it was before the write, so pages keep their cached data."""
    if gate.writing() and f"ver:{db}" in _last:
        return str(_last[f"ver:{db}"])
    ver = source.version(db)
    _last[f"ver:{db}"] = ver
    return ver


def as_filters(filters: Mapping[str, Sequence[str]]) -> Filters:
    return canonical(filters)


# reports.source's reads, cached per data version and request (`ver` is part of every key): small results only,
# never raw frames of lines.
values = st.cache_data(show_spinner=False, max_entries=512)(source.values)
bridge = st.cache_data(show_spinner=False, max_entries=256)(source.bridge)
bridges = st.cache_data(show_spinner=False, max_entries=64)(source.bridges)
months = st.cache_data(show_spinner=False, max_entries=64)(source.months)
facts_problem = st.cache_data(show_spinner=False, max_entries=16)(source.facts_problem)
options = st.cache_data(show_spinner=False, max_entries=16)(source.options)
targets_evaluated = st.cache_data(show_spinner=False, max_entries=16)(source.targets_evaluated)
_data_as_of = st.cache_data(show_spinner=False, max_entries=16)(source.data_as_of)
lines = source.lines  # the rows behind a value: read when asked, never cached (they can be thousands)


def kpi_values(db: str, ver: str, first: int, last: int, grain: Grain, by: tuple[str, ...], filters: Filters,
               kpis: tuple[str, ...] | None = None) -> tuple[pl.DataFrame, list[str]]:
    """`values` for months first..last (the form some pages still use)."""
    return values(db, ver, Request(first, last, grain, kpis, None, by, canonical(filters)))


def bridge_of(db: str, ver: str, kpi: str, first: int, last: int, filters: Filters) -> BridgeResult:
    """`bridge` for months first..last (the form some pages still use)."""
    return bridge(db, ver, Request(first, last, kpis=(kpi,), filters=canonical(filters)), kpi)


def data_as_of(db: str, ver: str) -> datetime | None:
    as_of = _data_as_of(db, ver)
    _last[f"as_of:{db}"] = as_of
    return as_of




def loading_notice(db: Path) -> str:
    """What a reader is told while a load holds the file (this server's upload, or a long CLI load)."""
    as_of = _last.get(f"as_of:{db}")
    if isinstance(as_of, datetime):
        return f"A load is running; the data shown is as of {as_of:%Y-%m-%d %H:%M}; this page refreshes when it is done."
    return "A load is running; no data could be read yet; this page refreshes when it is done."


def reg(db: Path | str | None = None) -> Registry:
    """The registry with the agreed views of the approved definitions in the database (decisions/agreement.py)."""
    return source.reg(db if db is not None else cfg().db)


def _reg(db: Path | str) -> Registry:
    return source.reg(db)


@contextmanager
def writing(db: Path, wait_s: float = 15.0, waiting: Callable[[], None] | None = None
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection for the app's own writes (uploads, review notes), one at a time in this server
    (store/gate.py: `waiting` is called when another write goes first, and this server's readers are told a
    load is running meanwhile); it waits a little for a load from the command line to finish, then says who
    holds the file."""
    ver = version(db)  # remember the version before the write: pages keep showing it meanwhile
    if ver != "missing":
        try:
            data_as_of(str(db), ver)  # and its time, for the loading notice
        except TandemError:
            pass  # a write of this server holds the file already: the notice has the time from then
    with gate.write_turn(waiting):
        con = connect(db, memory_limit=cfg().memory_limit, wait_s=wait_s)
        try:
            yield con
        finally:
            con.close()


def run_write(db: Path, fn: Callable[[duckdb.DuckDBPyConnection], T], waiting: Callable[[], None] | None = None) -> T:
    with writing(db, waiting=waiting) as con:
        result = fn(con)
    st.cache_data.clear()  # the data changed: every cached KPI is stale
    return result


def today() -> date:
    return date.today()


def terms_scenario(first: int, last: int, new_terms: int, cost_of_capital: float, suppliers: tuple[str, ...],
                   categories: tuple[str, ...], band: str, discount: str) -> TermsScenario:
    """The scenario the Payment terms page's inputs describe; a sentence when the band or discount is malformed."""
    from kpi_definitions.terms import Discount, Scenario
    from store.errors import USAGE, TandemError

    try:
        lo, _, hi = band.replace(",", "").replace(" ", "").partition("-")
        spend = (float(lo) if lo else None, float(hi) if hi else None)
    except ValueError:
        raise TandemError(f"Spend band {band!r}: give FROM-TO in the reporting currency, e.g. 100000-1000000.",
                          USAGE) from None
    d = None
    if discount.strip():
        try:
            rate, within, net = discount.split("/")
            d = Discount(float(rate) / 100, int(within), int(net))
        except ValueError:
            raise TandemError(f"Discount {discount!r}: give RATE/DAYS/NET, e.g. 2/10/30.", USAGE) from None
    return Scenario(new_terms, first, last, cost_of_capital, suppliers, categories, spend[0], spend[1], d)


@st.cache_data(show_spinner=False, max_entries=64)
def terms(db: str, ver: str, first: int, last: int, new_terms: int, cost_of_capital: float,
          suppliers: tuple[str, ...], categories: tuple[str, ...], band: str, discount: str) -> TermsResult:
    """A payment-terms scenario over months first..last (kpi_definitions/terms.py); `ver` only keys the cache."""
    from kpi_definitions.terms import run

    scenario = terms_scenario(first, last, new_terms, cost_of_capital, suppliers, categories, band, discount)
    with reading(Path(db)) as con:
        return run(con, scenario, cfg().reporting_currency)


def terms_table(result: TermsResult, currency: str) -> pl.DataFrame:
    """Per supplier, largest first: the cash paid out before terms, with what the scenario changes."""
    return (result.by_supplier.sort("cash_given_away", descending=True, nulls_last=True)
            .select(pl.col("supplier_id").alias("Supplier"), pl.col("supplier_name").alias("Name"),
                    pl.col("cash_given_away").round(0).alias(f"Cash given away ({currency})"),
                    pl.col("annual_spend").round(0).alias(f"Spend a year ({currency})"),
                    pl.col("days_now").round(1).alias("Days taken"), pl.col("agreed_days").round(1).alias("Agreed days"),
                    pl.col("chosen").alias("In the scenario")))


