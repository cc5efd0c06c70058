"""`tandem budget`: before I buy (`check`: does a request of an amount fit a cost center's and category's budget),
what is left per cost center and category (`funds`), and where requests wait (`flow`: cycle and queue times and
the first-pass rate; `waiting`; `timeline` of one document). Each asks the KPI layer through reports.source."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from cli.common import DbOption, app, err, errors, out, parse_where, wide
from reports import formats, safe_text
from store.errors import FAILURE, USAGE, TandemError

if TYPE_CHECKING:
    import polars as pl

budget_app = typer.Typer(no_args_is_help=True, help="Budgets and approvals: before I buy, funds left, where "
                                                    "requests wait.")
app.add_typer(budget_app, name="budget")

Format = Literal["table", "json", "csv"]
EXIT = {"fits": 0, "fits_with_pending": 0, "does_not_fit": 1}  # a script can test the verdict


def _db(db: Path | None) -> Path:
    from store.config import settings

    path = db or settings().db
    if not path.exists():
        raise TandemError(f"No database at {path}: run `tandem demo` or `tandem ingest` first.", USAGE)
    return path


def _span(path: Path, period: str | None, grain: str = "month") -> tuple[int, int, str]:
    """The months of `period` (default: the latest period of the grain with data), and its label."""
    from kpi_definitions.periods import resolve
    from reports import source

    rng = source.months(str(path), source.version(path))
    try:
        s = resolve(source.calendar(), grain, rng, period, clamp=True)  # type: ignore[arg-type]
    except ValueError as exc:
        raise TandemError(f"{exc}.", USAGE if rng else FAILURE) from None
    return s.first, s.last, s.label


@budget_app.command("check")
def check(
    cost_center: Annotated[str, typer.Option("--cost-center", help="the budget's cost center")],
    category: Annotated[str, typer.Option("--category", help="the budget's category (the start of its name will do)")],
    amount: Annotated[float, typer.Option("--amount", help="the request, in the reporting currency")],
    db: DbOption = None,
    period: Annotated[str | None, typer.Option("--period", help="the month YYYY-MM (default: the latest with "
                                               "data)")] = None,
    horizon: Annotated[Literal["year", "period"], typer.Option(
        "--horizon", help="judge against the rest of the fiscal year (year) or this month alone (period)")] = "year",
    fmt: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Before I buy: whether a request fits the budget of a cost center and category (fits; fits only while the
    pending requests wait; does not fit, by how much), with what is available this month and to year end. Exit
    status 1 when it does not fit."""
    from kpi_definitions.periods import month_label
    from reports import source
    from reports.budgets import verdict

    with errors():
        path = _db(db)
        first, _, _ = _span(path, period)
        c = source.budget_check(str(path), source.version(path), cost_center, category, amount, first, horizon)
        ccy = source.cfg().reporting_currency
        if fmt == "json":
            def funds(f) -> dict:  # noqa: ANN001 - kpi_definitions.budgets.Funds
                return {k: formats.json_number(getattr(f, k)) if k != "label" else f.label
                        for k in ("label", "budget", "used_finance", "used_procurement", "pending",
                                  "available_finance", "available_procurement")}

            doc = {"cost_center": c.cost_center, "category": c.category, "amount": c.amount, "currency": ccy,
                   "month": month_label(first), "horizon": c.horizon, "verdict": c.verdict,
                   "short_by": c.short_by, "short_once_pending": c.short_once_pending,
                   "sentence": verdict(c, ccy), "this_period": funds(c.period), "to_year_end": funds(c.year)}
            sys.stdout.write(json.dumps(doc, indent=1, allow_nan=False) + "\n")
        else:
            out.print(safe_text.visible(verdict(c, ccy)), highlight=False, markup=False, soft_wrap=True)
            table = Table(title=f"{c.cost_center} × {c.category}", title_justify="left")
            for col in ("", "budget", "used (finance)", "pending requests", "available (finance)",
                        "available (procurement)"):
                table.add_column(col, justify="left" if not col else "right")
            for f, said in ((c.period, f"this month ({c.period.label})"), (c.year, f"to year end ({c.year.label})")):
                table.add_row(said, *(safe_text.rich(formats.money(v, ccy)) for v in (
                    f.budget, f.used_finance, f.pending, f.available_finance, f.available_procurement)))
            wide(table)
        raise typer.Exit(EXIT[c.verdict])


@budget_app.command("funds")
def funds(
    db: DbOption = None,
    period: Annotated[str | None, typer.Option("--period", help="YYYY-MM (or a quarter/year label)")] = None,
    grain: Annotated[Literal["month", "quarter", "year"], typer.Option("--grain", help="month, quarter or year")
                     ] = "month",
    where: Annotated[list[str] | None, typer.Option("--where", help="a filter DIM=VALUE (cost_center, category); "
                                                    "repeat")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, json or csv")] = "table",
) -> None:
    """What is available per cost center and category, this period and to year end, under both views, with what
    is pending (tightest first)."""
    from reports import budgets as budget_report
    from reports import source
    from reports.scope import resolved

    with errors():
        path = _db(db)
        sel = resolved(path, period, grain, parse_where(where))  # type: ignore[arg-type]
        table, _, _ = budget_report.funds_table(source, sel)
        _print(table, fmt, {c: "currency" for c, t in table.schema.items() if t.is_numeric()},
               source.cfg().reporting_currency, "Funds available")


@budget_app.command("flow")
def flow(
    db: DbOption = None,
    period: Annotated[str | None, typer.Option("--period", help="YYYY-MM (or a quarter/year label)")] = None,
    grain: Annotated[Literal["month", "quarter", "year"], typer.Option("--grain", help="month, quarter or year")
                     ] = "month",
    by: Annotated[list[str] | None, typer.Option("--by", help="split cycle times by category, cost_center or "
                                                 "supplier_id; repeat")] = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="a filter DIM=VALUE; repeat")] = None,
    what: Annotated[Literal["cycles", "queues", "first-pass"], typer.Option(
        "--show", help="cycle times per stage, queue time per step and role, or the first-pass rate")] = "cycles",
    fmt: Annotated[Format, typer.Option("--format", help="table, json or csv")] = "table",
) -> None:
    """The approval flow over a period: cycle time per stage (median and P90 per document, in days), queue time per
    approval step and role, or the first-pass approval rate."""
    from kpi_definitions.approvals import FLOW_DIMENSIONS
    from reports import budgets as budget_report
    from reports import source

    with errors():
        path = _db(db)
        dims = tuple(dict.fromkeys(by or []))
        for d in dims:
            if d not in FLOW_DIMENSIONS:
                raise TandemError(f"--by {d!r}: split by one of {', '.join(FLOW_DIMENSIONS)}.", USAGE)
        first, last, label = _span(path, period, grain)
        key = tuple(sorted((k, tuple(sorted(v))) for k, v in parse_where(where).items()))
        ver = source.version(path)
        if what == "cycles":
            frame = source.approval_cycles(str(path), ver, first, last, "year", dims, key)
            table = budget_report.cycles_table(frame, dims)
        elif what == "queues":
            table = budget_report.queues_table(source.approval_queues(str(path), ver, first, last, key))
        else:
            table = budget_report.first_pass_table(source.approval_first_pass(str(path), ver, first, last, "year",
                                                                              key))
        units = {c: "days" for c in budget_report.DAYS_COLUMNS} | {"First-pass rate": "ratio"}
        _print(table, fmt, units, source.cfg().reporting_currency, f"Approval flow, {label}")


@budget_app.command("waiting")
def waiting(
    db: DbOption = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="a filter DIM=VALUE; repeat")] = None,
    limit: Annotated[int, typer.Option("--limit", help="how many")] = 20,
    fmt: Annotated[Format, typer.Option("--format", help="table, json or csv")] = "table",
) -> None:
    """The requests and invoices waiting now, longest first (now: the latest approval event in the data)."""
    from reports import budgets as budget_report
    from reports import source

    with errors():
        if limit < 1:  # a negative one reached DuckDB ("Binder Error: LIMIT/OFFSET cannot be negative")
            raise TandemError(f"--limit {limit}: say how many to show, 1 or more.", USAGE)
        path = _db(db)
        key = tuple(sorted((k, tuple(sorted(v))) for k, v in parse_where(where).items()))
        table = budget_report.waiting_table(source.approval_waiting(str(path), source.version(path), key, limit))
        _print(table, fmt, {"Amount": "currency", "Waiting": "days"}, source.cfg().reporting_currency, "Waiting now")


@budget_app.command("timeline")
def timeline(
    document_type: Annotated[str, typer.Argument(help="requisition, purchase_order or invoice")],
    document_id: Annotated[str, typer.Argument(help="the document's id")],
    db: DbOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, json or csv")] = "table",
) -> None:
    """One document's lines and its approval events in time order, with the wait before each."""
    from kpi_definitions.approvals import DOCUMENT_TYPES
    from reports import source

    with errors():
        if document_type not in DOCUMENT_TYPES:
            raise TandemError(f"{document_type!r}: a document type is one of {', '.join(DOCUMENT_TYPES)}.", USAGE)
        path = _db(db)
        lines, events = source.document_timeline(str(path), source.version(path), document_type, document_id)
        if not lines.height and not events.height:
            raise TandemError(f"No {document_type} {document_id!r} in the data.", USAGE)
        ccy = source.cfg().reporting_currency
        if fmt == "table":
            _print(lines, fmt, {}, ccy, f"{DOCUMENT_TYPES[document_type]} {document_id}")
        _print(events.with_columns(events["event_at"].dt.strftime("%Y-%m-%d %H:%M UTC")), fmt, {}, ccy, "Events")


def _print(frame: pl.DataFrame, fmt: str, units: dict[str, str], currency: str, title: str) -> None:
    """A table as text (numbers as everywhere else), JSON (numbers or null) or CSV (text made safe for a sheet)."""
    if fmt == "json":
        doc = [{k: formats.json_number(v) if isinstance(v, float) else v for k, v in r.items()}
               for r in frame.to_dicts()]
        sys.stdout.write(json.dumps(doc, indent=1, allow_nan=False, default=str) + "\n")
        return
    if fmt == "csv":
        import polars as pl

        safe = [pl.col(c).map_elements(lambda v: str(safe_text.cell(safe_text.visible(v))), return_dtype=pl.String)
                for c, t in frame.schema.items() if t == pl.String]
        sys.stdout.write(frame.with_columns(safe).write_csv(line_terminator="\n"))
        return
    if not frame.height:
        err.print(safe_text.visible(f"{title}: nothing for this selection."), highlight=False, markup=False)
        return
    table = Table(title=safe_text.rich(title), title_justify="left")
    for c, t in frame.schema.items():
        table.add_column(safe_text.rich(c), justify="right" if t.is_numeric() else "left")
    for r in frame.iter_rows(named=True):
        table.add_row(*(safe_text.rich(_cell(v, units.get(c), currency)) for c, v in r.items()))
    wide(table)


def _cell(v: object, unit: str | None, currency: str) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return formats.value(v, unit, currency) if unit else formats.number(v, 2)
    return str(v)
