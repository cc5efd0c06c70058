"""`tandem savings`: the savings ledger on the command line (docs/savings-ledger.md): list the initiatives, record
one, move it through the stages, book (refuse, correct) a month of it, and the evaporation bridge and the monthly
forecast as a table, JSON or CSV."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from cli.common import DbOption, app, errors, out, parse_where, wide
from reports import safe_text
from store.errors import FAILURE, USAGE, TandemError

if TYPE_CHECKING:  # `tandem --help` imports no DuckDB, polars or pydantic
    import polars as pl

    from decisions.identity import Identity

savings_app = typer.Typer(no_args_is_help=True, help="The savings ledger: initiatives from the deal to the books.")
app.add_typer(savings_app, name="savings")

Format = Literal["table", "json", "csv"]
FormatOption = Annotated[Format, typer.Option("--format", help="table, json or csv")]
AsOption = Annotated[str | None, typer.Option("--as", help="your name (default: this machine's user); what you record "
                                              "is marked unverified")]
TeamOption = Annotated[str, typer.Option("--team", help="your team: finance or procurement")]
ReasonOption = Annotated[str, typer.Option("--reason", help="why (kept with the record in the audit log)")]
By = Literal["initiative", "category", "supplier"]


def _me(name: str | None, team: str) -> Identity:
    """The command line's user, as the Savings pipeline page's local mode names them (name@localhost, unverified)."""
    import getpass

    from decisions.agreement import local_identity
    from kpi_definitions.agreement import AgreementError

    try:
        return local_identity(name or getpass.getuser(), team)
    except AgreementError as exc:
        raise TandemError(exc.message.replace("before proposing or approving", "with --as and --team"), USAGE) from None


def _write(db: Path | None, fn) -> object:  # noqa: ANN001 - a function of the connection
    from store.config import settings
    from workspace.db import connect

    cfg = settings()
    con = connect(db or cfg.db, memory_limit=cfg.memory_limit, wait_s=cfg.lock_wait_s)
    try:
        return fn(con)
    finally:
        con.close()


def _reg(db: Path | None):  # noqa: ANN202 - a Registry
    from decisions.agreement import registry_for
    from store.config import settings

    return registry_for(db or settings().db)


def _print(frame: pl.DataFrame, fmt: str, title: str, currency: str, money: tuple[str, ...] = ()) -> None:
    """A frame as JSON (numbers or null), CSV (text inert in a spreadsheet) or a table (text never read as markup)."""
    import polars as pl

    from reports import exports, formats

    frame = frame.with_columns(pl.col(c).round(2) for c in money if c in frame.columns)  # money to the cent
    if fmt == "json":
        rows = [{k: (formats.json_number(v) if isinstance(v, float) else v.isoformat() if isinstance(v, date) else v)
                 for k, v in r.items()} for r in frame.to_dicts()]
        sys.stdout.write(json.dumps(rows, indent=1, allow_nan=False, default=str) + "\n")
    elif fmt == "csv":
        sys.stdout.write(exports.to_csv(frame).decode("utf-8"))
    else:
        table = Table(title=title, title_justify="left")
        for c in frame.columns:
            table.add_column(safe_text.rich(formats.header(c)), justify="right" if frame.schema[c].is_numeric() else "left")
        for r in frame.iter_rows(named=True):
            table.add_row(*(safe_text.rich("" if v is None else formats.value(v, "currency", currency) if c in money
                            else formats.number(v, 2) if isinstance(v, float) else str(v)) for c, v in r.items()))
        wide(table)


def _span(db: Path | None, period: str | None, from_: str | None, to: str | None) -> tuple[int, int, int]:
    """The months asked for (default: the data's last twelve months) and the last month with data."""
    from kpi_definitions.compute import data_months
    from kpi_definitions.periods import FiscalCalendar, resolve
    from store.config import settings
    from store.db import reading

    cfg = settings()
    with reading(db or cfg.db) as con:
        span = data_months(con, _reg(db))
    if span is None:
        raise TandemError("The database holds no orders, invoices or stock yet: load exports or run `tandem demo`.",
                          FAILURE)
    if not (period or from_ or to):
        return span[1] - 11, span[1], span[1]
    try:
        s = resolve(FiscalCalendar(cfg.fiscal_year_start_month), "month", span, period, from_, to)
    except ValueError as exc:
        raise TandemError(f"{exc}.", USAGE) from None
    return s.first, s.last, span[1]


@savings_app.command("list")
def savings_list(
    db: DbOption = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="a filter DIM=VALUE (supplier_id, category)")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Every initiative: its stage, what it negotiated, realised and booked over its window up to the data's last
    month, its realisation rate and what is at risk."""
    import polars as pl

    from reports import source
    from store.config import settings

    cfg = settings()
    with errors():
        db_ = str(db or cfg.db)
        ver = source.version(Path(db_))
        months = source.months(db_, ver)
        if months is None:
            raise TandemError("The database holds no data yet: load exports or run `tandem demo`.", FAILURE)
        terms = source.ledger_initiatives(db_, ver)
        if not terms.height:
            out.print("no savings initiative recorded yet: `tandem savings record`, or load a savings_initiatives "
                      "export", highlight=False, markup=False)
            return
        first = min(m.year * 12 + m.month - 1 for m in terms["window_start"])
        last = max(months[1], max(m.year * 12 + m.month - 1 for m in terms["window_end"]))
        filters = tuple(sorted((k, tuple(v)) for k, v in parse_where(where).items()))
        plan = source.ledger_pipeline(db_, ver, first, last, months[1], filters)
        frame = terms.select("initiative_id", "name", "supplier_id", "category", "stage", "baseline_method",
                             "window_start", "window_end").join(
            plan.select("initiative_id", pl.col("prorated_to_date").alias("negotiated_to_date"), "realised", "booked",
                        "rate", "expected", "at_risk", "risk"), on="initiative_id", how="inner")
        _print(frame, fmt, "Savings initiatives", cfg.reporting_currency,
               ("negotiated_to_date", "realised", "booked", "expected", "at_risk"))


@savings_app.command("record")
def savings_record(
    initiative_id: Annotated[str, typer.Option("--id", help="the initiative's id")],
    name: Annotated[str, typer.Option("--name", help="what the initiative is, in words")],
    category: Annotated[str, typer.Option("--category", help="the category of spend")],
    supplier: Annotated[str, typer.Option("--supplier", help="the supplier id")],
    baseline_method: Annotated[str, typer.Option("--baseline-method", help="last_price, contract, bid or "
                                                 "index_adjusted")],
    baseline_price: Annotated[str, typer.Option("--baseline-price", help="per unit, in the initiative's currency")],
    new_price: Annotated[str, typer.Option("--new-price", help="per unit, in the initiative's currency")],
    forecast_quantity: Annotated[str, typer.Option("--forecast-quantity", help="units over the whole savings window")],
    window_start: Annotated[str, typer.Option("--from", help="the savings window's first day, YYYY-MM-DD")],
    window_end: Annotated[str, typer.Option("--to", help="its last day, YYYY-MM-DD")],
    owner: Annotated[str, typer.Option("--owner", help="who owns it (an e-mail address)")],
    team: TeamOption,
    contract: Annotated[str, typer.Option("--contract", help="the contract id, once signed")] = "",
    item: Annotated[str, typer.Option("--item", help="an item id, when the initiative is one item's")] = "",
    type_: Annotated[str, typer.Option("--type", help="reduction, avoidance or process")] = "reduction",
    currency: Annotated[str, typer.Option("--currency", help="the currency of its prices")] = "EUR",
    reason: ReasonOption = "",
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """Record a savings initiative, or a new version of its terms (every version is kept), checked with the rules
    of the savings_initiatives export. It starts at "identified"."""
    from workspace import ledger as workspace_ledger

    fields = {"initiative_id": initiative_id, "name": name, "category": category, "supplier_id": supplier,
              "contract_id": contract, "item_id": item, "type": type_, "baseline_method": baseline_method,
              "baseline_price": baseline_price, "new_price": new_price, "forecast_quantity": forecast_quantity,
              "currency": currency, "window_start": window_start, "window_end": window_end, "owner": owner}
    with errors():
        me = _me(as_, team)
        version = _write(db, lambda con: workspace_ledger.record(con, fields, me, reason))
        out.print(safe_text.rich(f"recorded {initiative_id}, version {version}, by {me.name} ({me.team}, unverified)"),
                  highlight=False)


@savings_app.command("move")
def savings_move(
    initiative_id: Annotated[str, typer.Argument(help="the initiative's id")],
    stage: Annotated[str, typer.Argument(help="identified, negotiated, contracted or realised")],
    reason: Annotated[str, typer.Option("--reason", help="why it moves (required)")],
    team: TeamOption,
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """Move an initiative to another stage (who, when and why go to the audit log). "booked" is reached by booking."""
    from decisions import ledger

    with errors():
        me = _me(as_, team)
        reg = _reg(db)
        _write(db, lambda con: ledger.move(con, reg, initiative_id, stage, reason, me))
        out.print(safe_text.rich(f"{initiative_id} is {stage}"), highlight=False)


@savings_app.command("book")
def savings_book(
    initiative_id: Annotated[str, typer.Argument(help="the initiative's id")],
    month: Annotated[str, typer.Argument(help="the month to book, YYYY-MM")],
    team: TeamOption,
    reason: ReasonOption = "",
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """Finance books a month of a realised initiative at its realised amount; its lines are frozen with it.
    Never by someone who recorded the initiative."""
    from decisions import ledger
    from store.config import settings

    with errors():
        me = _me(as_, team)
        reg = _reg(db)

        def go(con):  # noqa: ANN001, ANN202
            entry = ledger.book(con, reg, initiative_id, month, me, reason)
            return con.execute("SELECT amount, lines FROM savings_bookings WHERE entry_id = ?", [entry]).fetchall()[0]

        amount, lines = _write(db, go)  # type: ignore[misc]
        out.print(safe_text.rich(f"booked {month} of {initiative_id}: {amount:,.2f} {settings().reporting_currency} "
                                 f"on {lines} invoice line(s), frozen"), highlight=False)


@savings_app.command("refuse")
def savings_refuse(
    initiative_id: Annotated[str, typer.Argument(help="the initiative's id")],
    month: Annotated[str, typer.Argument(help="the month refused, YYYY-MM")],
    reason: Annotated[str, typer.Option("--reason", help="why finance will not book it (required)")],
    team: TeamOption,
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """Finance refuses to book a month, saying why: an entry of 0, with the lines it refused."""
    from decisions import ledger

    with errors():
        me = _me(as_, team)
        reg = _reg(db)
        _write(db, lambda con: ledger.refuse(con, reg, initiative_id, month, reason, me))
        out.print(safe_text.rich(f"refused {month} of {initiative_id}"), highlight=False)


@savings_app.command("correct")
def savings_correct(
    initiative_id: Annotated[str, typer.Argument(help="the initiative's id")],
    month: Annotated[str, typer.Argument(help="the month to correct, YYYY-MM")],
    amount: Annotated[str, typer.Argument(help="the month's corrected booked total, in the reporting currency")],
    reason: Annotated[str, typer.Option("--reason", help="why (required)")],
    team: TeamOption,
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """Finance corrects a booked month: a new entry of the difference, never an edit of the booking."""
    from decisions import ledger

    with errors():
        me = _me(as_, team)
        reg = _reg(db)
        _write(db, lambda con: ledger.correct(con, reg, initiative_id, month, amount, reason, me))
        out.print(safe_text.rich(f"corrected {month} of {initiative_id} to {amount}"), highlight=False)


@savings_app.command("bridge")
def savings_bridge(
    db: DbOption = None,
    period: Annotated[str | None, typer.Option("--period", help="YYYY-MM, or a quarter or year label")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first month YYYY-MM")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last month YYYY-MM")] = None,
    by: Annotated[By | None, typer.Option("--by", help="one bridge per initiative, category or supplier")] = None,
    initiative: Annotated[str | None, typer.Option("--initiative", help="one initiative's bridge")] = None,
    lines: Annotated[str | None, typer.Option("--lines", help="instead: the invoice lines behind a step "
                                              "(price_not_applied, volume, off_contract, fx_scope, fx, "
                                              "market_index, scope, realised)")] = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="a filter DIM=VALUE (supplier_id, category)")] = None,
    fmt: FormatOption = "table",
) -> None:
    """The evaporation bridge, to the cent: negotiated → price not applied → volume → bought off contract → FX and
    scope → realised → booked (default: the data's last twelve months)."""
    import polars as pl

    from kpi_definitions import ledger as kpi_ledger
    from store.config import settings
    from store.db import reading

    cfg = settings()
    with errors():
        first, last, _ = _span(db, period, from_, to)
        filters = parse_where(where)
        reg = _reg(db)
        with reading(db or cfg.db) as con:
            if lines is not None:
                try:
                    found = kpi_ledger.step_lines(con, reg, first, last, filters, initiative, lines,
                                                  cfg.reporting_currency, limit=None)
                except ValueError as exc:
                    raise TandemError(f"--lines: {exc}.", USAGE) from None
                _print(found, fmt, f"Lines behind {lines}", cfg.reporting_currency)
                return
            rows = kpi_ledger.by_initiative(con, reg, first, last, filters, cfg.reporting_currency)
        if initiative is not None:
            rows = rows.filter(pl.col("initiative_id") == initiative)
            if not rows.height:
                raise TandemError(f"No counted initiative {initiative!r} in this span (an initiative counts from "
                                  "stage negotiated on, in the months of its window).", USAGE)
        key = {"initiative": ["initiative_id", "name"], "category": ["category"], "supplier": ["supplier_id"]}
        group = key[by] if by else []
        measures = ["negotiated", *kpi_ledger.STEPS[:4], "fx", "market_index", "scope", "realised", "not_booked",
                    "booked", "realised_indexed"]
        frame = (rows.group_by(group, maintain_order=True).agg(pl.col(measures).sum()) if group
                 else rows.select(pl.col(measures).sum()))
        label = f"{first // 12}-{first % 12 + 1:02d}..{last // 12}-{last % 12 + 1:02d}"
        frame = frame.select(pl.lit(label).alias("span"), *group, pl.col(measures).round(2))  # to the cent
        _print(frame, fmt, f"Savings ledger bridge, {label}", cfg.reporting_currency, tuple(measures))


@savings_app.command("forecast")
def savings_forecast(
    db: DbOption = None,
    months: Annotated[int, typer.Option("--months", help="months after the data's last one", min=0, max=36)] = 12,
    fmt: FormatOption = "table",
) -> None:
    """The monthly savings forecast: the pipeline prorated by month and stage, realised, booked, expected, at risk,
    the spend budget of the categories and the joint targets set on the ledger by month."""
    from reports import source
    from store.config import settings

    cfg = settings()
    with errors():
        db_ = str(db or cfg.db)
        ver = source.version(Path(db_))
        span = source.months(db_, ver)
        if span is None:
            raise TandemError("The database holds no data yet: load exports or run `tandem demo`.", FAILURE)
        frame = source.ledger_forecast(db_, ver, span[1] - 11, span[1] + months, span[1], ())
        money = tuple(c for c in frame.columns if c not in ("period", "m", "actual"))
        _print(frame.drop("m"), fmt, "Savings forecast by month", cfg.reporting_currency, money)
