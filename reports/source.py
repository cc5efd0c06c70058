"""Where reports read their numbers: every KPI value, bridge, line and filter option comes from the KPI engine
(kpi_definitions/engine.py), asked with one `Request` on a short-lived reader of the database. The face
(tandem/service.py) offers the same functions cached per data version and request; `reports.scope.Scope` reads
through either, so a pack from the command line, a page and an export show one number."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import polars as pl

from decisions import targets
from decisions.agreement import registry_for
from kpi_definitions import facts, weak_data
from kpi_definitions.compute import BridgeResult
from kpi_definitions.engine import Engine, Filters, Request, canonical
from kpi_definitions.lines import LINE_LIMIT
from kpi_definitions.periods import FiscalCalendar, Grain, month_label
from kpi_definitions.registry import Registry
from reports.preview import MONTHS, Preview
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
    actuals are asked of the engine `e`, as every other number (Spark's reads the lake; without a database file
    there is no target: an empty frame)."""
    if e.con is not None:
        return targets.evaluate(e.con, e.reg, e.calendar, e.currency)
    if not Path(db).exists():
        return pl.DataFrame(schema=targets.SCHEMA)
    with reading(Path(db)) as con:
        return targets.evaluate(con, e.reg, e.calendar, e.currency, engine=e)


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


def agreed_preview(db: str, ver: str, kpi: str, counts: tuple[str, ...], first: int, last: int, filters: Filters
                   ) -> Preview:
    """What an agreed definition of `kpi` including the bridge steps `counts` makes of months first..last (one
    slice): the bridge, the agreed value (kpi_definitions.agreement.value, from the bridge's own SQL), and the
    agreed value over the MONTHS months up to `last` beside both teams' (compute() under the registry holding
    the proposed version alone, from the first month on). Refusals (an unknown step, a step and its part) are
    AgreementError sentences. `ver` keys the cached twin in tandem/service.py."""
    from kpi_definitions.agreement import VIEW, Version, check_steps, value, with_agreed

    registry = reg(db)
    check_steps(registry, kpi, counts)
    months = list(range(first, last + 1))
    proposed = Version(kpi, 1, date.min, tuple(counts), "The proposal being previewed, not yet approved.")
    # the proposal replaces any approved agreed view of the KPI: the preview shows the proposal, not version n
    bare = Registry({k.name: k if k.name != kpi else k.model_copy(update={"views": {
        n: v for n, v in k.views.items() if n != VIEW}}) for k in registry}, registry.sql_dir)
    previewed = with_agreed(bare, [proposed])
    currency = cfg().reporting_currency
    with reading(Path(db)) as con:
        e = Engine(con, registry, currency=currency, calendar=calendar())
        b = e.bridge(Request.of(first, last, grain="month", kpis=[kpi], filters=filters), kpi)
        agreed = value(con, registry, kpi, counts, months, dict(filters), currency=currency)
        span = e.data_months()
        history = pl.DataFrame(schema={"kpi": pl.String, "view": pl.String, "period": pl.String, "value": pl.Float64,
                                       "warnings": pl.List(weak_data.WARNING)})
        if span is not None:
            end = min(last, span[1])
            start = max(span[0], end - MONTHS + 1)
            if end >= start:  # with each point's weak-data warnings: a partial base is drawn, not setting the scale
                found = Engine(con, previewed, currency=currency, calendar=calendar()).values(
                    Request.of(start, end, grain="month", kpis=[kpi], filters=filters)).frame
                history = found.select("kpi", "view", "period", "value", "warnings")
    return Preview(previewed[kpi], _label(first, last), tuple(counts), b, agreed, history)


def grain_of(label: str) -> Grain:
    """The grain a period label names: 2026-10 a month, 2026-Q3 a quarter, 2026 (or FY2026) a year."""
    text = label.strip().upper()
    return "quarter" if "-Q" in text else "month" if len(text) == 7 and text[4] == "-" else "year"


def period_span(db: str, ver: str, label: str | None) -> tuple[int, int]:
    """The months a period label covers, cut to the data's last month (a period still running is shown to
    date); None: the latest month with data. A label that names no period is a ValueError sentence."""
    from kpi_definitions.periods import resolve

    data = months(db, ver)
    if label is None:
        if data is None:
            raise ValueError("there is no data yet: load exports first")
        return data[1], data[1]
    span = resolve(calendar(), grain_of(label), data, label.strip(), clamp=True)
    return span.first, span.last


def _label(first: int, last: int) -> str:
    """A span's label: the month, fiscal quarter or year it is (one still running says how far), else first to last."""
    cal = calendar()
    for grain in ("month", "quarter", "year"):
        start, end = cal.span(first, grain)
        if start == first and last <= end:
            return cal.label(first, grain) + ("" if last == end else f" (to {month_label(last)})")
    return f"{month_label(first)} to {month_label(last)}"


def pending(db: str, ver: str, kpi: str | None = None, team: str | None = None) -> pl.DataFrame:
    """Pending proposals and targets (of one KPI, or all); with `team`, those awaiting that team's approval
    (decisions/inbox.py). An empty frame before anything was proposed, or on a missing file."""
    from decisions import inbox

    if not Path(db).exists():
        return pl.DataFrame(schema=inbox.SCHEMA)
    with reading(Path(db)) as con:
        return inbox.pending(con, kpi, team)


def targets_evaluated(db: str, ver: str) -> pl.DataFrame:
    """Every approved joint target with its actual, forecast and status (decisions/targets.py), the actuals from
    the engine of the settings (the pack's and the pages' targets: on Spark, the lake's numbers)."""
    with engine(db) as e:
        return targets_of(e, db)


# -- the forms the face used before requests (kept while its callers move to requests) --------------------------

def kpi_values(db: str, ver: str, first: int, last: int, grain: Grain, by: tuple[str, ...], filters: Filters,
               kpis: tuple[str, ...] | None = None) -> tuple[pl.DataFrame, list[str]]:
    return values(db, ver, Request(first, last, grain, kpis, None, by, canonical(filters)))


def bridge_of(db: str, ver: str, kpi: str, first: int, last: int, filters: Filters) -> BridgeResult:
    return bridge(db, ver, Request(first, last, kpis=(kpi,), filters=canonical(filters)), kpi)


# --- budgets and approval flows (kpi_definitions/budgets.py, kpi_definitions/approvals.py) ----------------------


def funds(db: str, ver: str, first: int, last: int, filters: Filters,
          by: tuple[str, ...] = ("cost_center", "category")) -> pl.DataFrame:
    """Per slice of `by` over months first..last: budget, each view's use, the pending requisitions, and what is
    available under each view."""
    from kpi_definitions import budgets

    with reading(Path(db)) as con:
        return budgets.funds(con, reg(db), first, last, dict(filters), by, cfg().reporting_currency)


def funds_buckets(db: str, ver: str, first: int, last: int, filters: Filters) -> pl.DataFrame:
    """Where the budget of months first..last goes, per bucket, under each view (and the budget)."""
    from kpi_definitions import budgets

    with reading(Path(db)) as con:
        return budgets.buckets(con, reg(db), first, last, dict(filters), (), cfg().reporting_currency)


def budget_check(db: str, ver: str, cost_center: str, category: str, amount: float, month: int,
                 horizon: str = "year"):  # noqa: ANN201 - kpi_definitions.budgets.Check (imported lazily)
    """Whether a request of `amount` fits the budget of a cost center and category (kpi_definitions.budgets.check)."""
    from kpi_definitions import budgets

    with reading(Path(db)) as con:
        return budgets.check(con, reg(db), cost_center, category, amount, month, calendar(),
                             cfg().reporting_currency, horizon)  # type: ignore[arg-type]


def approval_cycles(db: str, ver: str, first: int, last: int, grain: Grain, by: tuple[str, ...],
                    filters: Filters) -> pl.DataFrame:
    """Cycle time per stage, period and slice: documents, median and P90 days."""
    from kpi_definitions import approvals

    with reading(Path(db)) as con:
        return approvals.cycle_times(con, reg(db), _selection(first, last, grain, by, dict(filters)), calendar(),
                                     cfg().reporting_currency)


def approval_queues(db: str, ver: str, first: int, last: int, filters: Filters) -> pl.DataFrame:
    """Queue time per document type, approval step and role over months first..last."""
    from kpi_definitions import approvals

    with reading(Path(db)) as con:
        return approvals.queue_times(con, reg(db), _selection(first, last, "month", (), dict(filters)), calendar(),
                                     cfg().reporting_currency)


def approval_first_pass(db: str, ver: str, first: int, last: int, grain: Grain, filters: Filters) -> pl.DataFrame:
    """First-pass approval rate per period and document type."""
    from kpi_definitions import approvals

    with reading(Path(db)) as con:
        return approvals.first_pass(con, reg(db), _selection(first, last, grain, (), dict(filters)), calendar(),
                                    cfg().reporting_currency)


def approval_waiting(db: str, ver: str, filters: Filters, limit: int = 20) -> pl.DataFrame:
    """The documents waiting now, longest first."""
    from kpi_definitions import approvals

    with reading(Path(db)) as con:
        return approvals.waiting(con, reg(db), dict(filters), limit, cfg().reporting_currency)


def document_timeline(db: str, ver: str, document_type: str, document_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A document's lines and its approval events in time order."""
    from kpi_definitions import approvals

    with reading(Path(db)) as con:
        r, ccy = reg(db), cfg().reporting_currency
        return (approvals.document(con, r, document_type, document_id, ccy),
                approvals.timeline(con, r, document_type, document_id, ccy))


def counted_differently(db: str, ver: str, kpi: str, first: int, last: int, filters: Filters) -> pl.DataFrame:
    """The invoices the two views of a contested KPI count differently, with why."""
    from kpi_definitions import approvals

    with reading(Path(db)) as con:
        return approvals.counted_differently(con, reg(db), kpi, first, last, dict(filters), cfg().reporting_currency)


def _selection(first: int, last: int, grain: Grain, by: tuple[str, ...], filters: dict):  # noqa: ANN202
    """The KPI layer's selection of months, grain, split and filters (what the flow figures are asked with)."""
    from kpi_definitions.query import Selection

    return Selection(first, last, grain, by, filters)


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


# --- prices against the market (kpi_definitions/prices.py) -------------------------------------------------------


def price_categories(db: str, ver: str) -> list[str]:
    """The categories mapped to a market index."""
    from kpi_definitions import prices

    with reading(Path(db)) as con:
        return prices.mapped_categories(con)


def price_comparison(db: str, ver: str, first: int, last: int, category: str | None, filters: Filters
                     ) -> pl.DataFrame:
    """Our price index against the market's, month by month, for one category (None: every mapped one)."""
    from kpi_definitions import prices

    with reading(Path(db)) as con:
        return prices.comparison(con, reg(db), first, last, category, dict(filters), cfg().reporting_currency)


def price_outlook(db: str, ver: str, last: int, filters: Filters) -> pl.DataFrame:
    """The price outlook from month `last` on."""
    from kpi_definitions import prices

    with reading(Path(db)) as con:
        return prices.outlook(con, reg(db), last, dict(filters), cfg().reporting_currency)


def savings_net_of_market(db: str, ver: str, first: int, last: int, filters: Filters) -> pl.DataFrame:
    """Savings with the market's movement taken out, over months first..last."""
    from kpi_definitions import prices

    with reading(Path(db)) as con:
        return prices.savings_net_of_market(con, reg(db), first, last, dict(filters), cfg().reporting_currency)
