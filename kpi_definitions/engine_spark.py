"""The KPI engine on Spark: the same `Engine` (requests, values, bridges, agreed views, lines, options), its
queries rendered with Spark's SQL function library (kpi_definitions/dialects/spark.py) and run by PySpark over a
lake's Parquet (store/lake.py), each table a temporary view under the store's name.

Only `run` (where SQL meets Spark) and the few questions the DuckDB engine asks its catalog differ; every query
is the registry's own, rendered, never a copy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from kpi_definitions import dimensions, facts, running
from kpi_definitions.engine import Engine
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.query import Query
from kpi_definitions.registry import Registry
from store import lake

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

NAME = "spark"


class SparkLake:
    """A lake opened on Spark: checked against its manifest, each table (and view) a temporary view under the
    store's name in a session of its own, so engines on two lakes in one process never read each other's."""

    def __init__(self, spark: SparkSession, dir: Path | str) -> None:
        from store.lake_spark import read_table

        self.dir = Path(dir).absolute()
        self.manifest = lake.verify(self.dir)
        self.spark = _own_session(spark)
        # ANSI mode, as tested (a cluster may default to the legacy mode), where "name" is an identifier as in DuckDB
        # and the SQL standard (dimensions.options_sql quotes names so)
        self.spark.conf.set("spark.sql.ansi.enabled", "true")
        self.spark.conf.set("spark.sql.ansi.doubleQuotedIdentifiers", "true")
        # the library's epoch seconds read DuckDB's timestamps (no time zone) as UTC; a Spark Connect session of its
        # own starts from the server's defaults, not the builder's
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")
        for name in [*self.manifest.tables, *self.manifest.views]:
            read_table(self.spark, self.dir, name, self.manifest).createOrReplaceTempView(name)
        self._coverage: running.Coverage | None = None  # the lake does not change under an open one: asked once

    @classmethod
    def open(cls, dir: Path | str, remote: str | None = None) -> SparkLake:
        """The lake in `dir` on a Spark session on `remote` (store.lake_spark.session: $TANDEM_SPARK_REMOTE, else
        local mode); a lake or an endpoint that cannot serve is a LakeError (one sentence)."""
        from store.lake_spark import session

        lake.verify(dir)  # a damaged lake is said before Spark is started
        return cls(session(remote), dir)

    @classmethod
    def shared(cls, dir: Path | str, remote: str | None = None) -> SparkLake:
        """The lake in `dir` opened once per process and export (a server asks many times: its tables are
        registered once); a new export of the lake, found by its manifest, is opened anew."""
        manifest = lake.verify(dir)  # the footers only: 0.06 s at 10M lines
        key = (str(Path(dir).absolute()), remote, manifest.exported_at)
        if key not in _OPEN:
            _OPEN.clear()  # one lake open at a time: an older export's views are dropped with their session
            _OPEN[key] = cls.open(dir, remote)
        return _OPEN[key]


_OPEN: dict[tuple[str, str | None, str], SparkLake] = {}


class SparkEngine(Engine):
    """An Engine whose queries run on Spark, over a lake opened on it (`SparkLake`)."""

    def __init__(self, lake_: SparkLake, reg: Registry, *, currency: str = "EUR",
                 calendar: FiscalCalendar | None = None) -> None:
        super().__init__(None, reg, currency=currency, calendar=calendar, dialect=NAME)  # type: ignore[arg-type]
        self.lake = lake_
        self.spark, self.dir, self.manifest = lake_.spark, lake_.dir, lake_.manifest

    @classmethod
    @contextmanager
    def on_lake(cls, dir: Path | str, reg: Registry | None = None, *, remote: str | None = None,
                currency: str = "EUR", calendar: FiscalCalendar | None = None) -> Iterator[SparkEngine]:
        """An engine on the lake in `dir` (`SparkLake.open`); the Spark session is the process's, left running."""
        from kpi_definitions.registry import registry

        yield cls(SparkLake.open(dir, remote), reg or registry(), currency=currency, calendar=calendar)

    def run(self, query: Query | str, params: Mapping[str, object] | None = None) -> pl.DataFrame:
        """Run one query on Spark and return its rows (through Arrow)."""
        if isinstance(query, Query):
            query, params = query.sql, query.params
        df = self.spark.sql(query, args=_args(params)) if params else self.spark.sql(query)
        return pl.from_arrow(df.toArrow())  # type: ignore[return-value]

    def run_all(self, queries: Sequence[Query]) -> list[pl.DataFrame]:
        """Each query on its own: Spark plans a statement in the driver, where one statement per query costs
        nothing next to running it (and its SQL has no UNION BY NAME before 4.0's)."""
        return [self.run(q) for q in queries]

    def coverage(self) -> running.Coverage:
        if self.lake._coverage is None:
            self.lake._coverage = super().coverage()
        return self.lake._coverage

    # -- what the DuckDB engine asks its catalog ------------------------------------------------------------
    def _ready(self) -> None:
        """The lake holds the KPI facts, in the reporting currency asked for."""
        missing = [t for t in facts.FACT_TABLES if t not in self.manifest.tables]
        if missing:
            raise facts.FactsOutdated(f"The lake at {self.dir} has no {', '.join(missing)}: it was exported from a "
                                      "database whose facts an earlier Tandem built; run `tandem refresh` on it and "
                                      f"export the lake again (`tandem lake export {self.dir}`).")
        have = self.manifest.reporting_currency
        if have != self.currency:
            raise facts.CurrencyMismatch(f"The KPI facts of the lake at {self.dir} are in {have}, not {self.currency}: "
                                         "export the lake from a database refreshed in that currency.")

    def data_months(self) -> tuple[int, int] | None:
        first, last = self.run(self.sql("data_months_facts")).row(0)
        return None if last is None else (int(first), int(last))

    def options(self) -> dict[str, list[tuple[str, str]]]:
        small = {"invoices": "fact_invoice_months", "purchase_orders": "fact_po_months"}
        out: dict[str, list[tuple[str, str]]] = {}
        for dim, value, label in self.run(dimensions.options_sql(tables=small)).iter_rows():
            out.setdefault(dim, []).append((value, label))
        return out


def _own_session(spark: SparkSession) -> SparkSession:
    """A session of its own on the same Spark (its temporary views and settings apart from other engines'), where
    the client can make one (Spark Connect may not: then the one given)."""
    try:
        own = spark.newSession()
    except Exception:  # noqa: BLE001 - a client without sessions of its own: share the one given
        return spark
    if type(own).__module__.startswith("pyspark.sql.connect"):
        from store.lake_spark import close_at_exit

        close_at_exit(own)  # its own gRPC channel: closed while the interpreter still runs, or the exit hangs
    return own


def _args(params: Mapping[str, object]) -> dict[str, object]:
    """Parameter values as Spark binds them: a list as an array literal, NULL as a typed-later NULL."""
    from pyspark.sql import functions as F

    out: dict[str, object] = {}
    for k, v in params.items():
        if isinstance(v, list | tuple):
            out[k] = F.array(*(F.lit(x) for x in v)) if v else F.array()
        else:
            out[k] = F.lit(v)
    return out
