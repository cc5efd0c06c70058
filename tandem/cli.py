"""The `tandem` command line (contract section 4): ingest, kpis and demo."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpi_definitions.periods import Grain
from store.errors import FAILURE, REJECTED, USAGE, TandemError
from tandem import safe_text

if TYPE_CHECKING:  # the commands import what they use: `tandem --help` imports no DuckDB, polars or pydantic
    import polars as pl

    from kpi_definitions.compute import Query
    from kpi_definitions.terms import Result, Scenario
    from pipelines.load import LoadResult

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
out = Console()
err = Console(stderr=True, soft_wrap=True)  # one error, one line: scripts grep them
_debug = False

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB file (default data/tandem.duckdb or $TANDEM_DB)")]


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False) -> None:
    global _debug
    _debug = debug


@contextmanager
def _errors() -> Iterator[None]:
    """One sentence on stderr and the contract's exit status; a traceback only with --debug. The sentence
    carries file names and data: it is printed as text (never Rich markup) and visible."""
    try:
        yield
    except TandemError as exc:
        if _debug:
            raise
        err.print(Text("error: ", style="red") + safe_text.rich(exc.message), highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except typer.Exit:
        raise
    except Exception as exc:
        if _debug:
            raise
        from store.db import problem

        known = problem(exc)  # the disk, the file's permissions or a damaged file: say what to do
        if known is not None:
            err.print(Text("error: ", style="red") + safe_text.rich(known.message), highlight=False)
            raise typer.Exit(known.exit_code) from None
        first = str(exc).splitlines()[0] if str(exc) else ""
        err.print(Text("error: ", style="red") + safe_text.rich(f"{type(exc).__name__}: {first}"), highlight=False)
        raise typer.Exit(FAILURE) from None


def _files(paths: list[Path]) -> list[Path]:
    from pipelines.read import FORMATS

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in FORMATS)
            if not found:
                raise TandemError(f"{p}: the folder holds no CSV, XLSX or Parquet files.", USAGE)
            files += found
        elif not p.exists():
            raise TandemError(f"{p}: no such file.", USAGE)
        else:
            files.append(p)
    return files


def _summary(results: list[LoadResult]) -> None:
    """One row per file. Nothing is cut: the table is as wide as its widest cells (file names included),
    wider than the terminal if need be."""
    counts = ["read", "loaded", "replaced", "quarantined"]
    if any(r.rows_filtered for r in results):
        counts.append("filtered")
    table = Table(title="Load summary", title_justify="left")
    for col in ("file", "type", "outcome", *counts):
        table.add_column(col, justify="right" if col in counts else "left", no_wrap=True)
    for r in results:
        colour = {"loaded": "green", "unchanged": "cyan", "partial": "yellow"}.get(r.outcome, "red")
        outcome = safe_text.rich(r.outcome)
        outcome.stylize(colour)
        table.add_row(safe_text.rich(r.file), safe_text.rich(r.export_type), outcome,
                      *(f"{getattr(r, 'rows_' + c):,}" for c in counts))
    _wide(table)


def _where(items: list[str] | None) -> dict[str, list[str]]:
    """`--where DIM=VALUE` options as filters {dim: [values]}; a clear sentence for anything else."""
    from kpi_definitions.registry import FILTERABLE

    filters: dict[str, list[str]] = {}
    for item in items or []:
        dim, sep, value = item.partition("=")
        if not sep or dim.strip() not in FILTERABLE:
            raise TandemError(f"--where {item!r}: use DIM=VALUE with DIM one of {', '.join(FILTERABLE)}.", USAGE)
        filters.setdefault(dim.strip(), []).append(value.strip())
    return filters


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="export files or folders of them")],
    db: DbOption = None,
    type_: Annotated[str | None, typer.Option("--type", help="export type, when the file name does not say")] = None,
    allow_partial: Annotated[bool, typer.Option("--allow-partial", help="load the valid rows of a file")] = False,
    encoding: Annotated[str, typer.Option("--encoding", help="text encoding of CSV files")] = "utf-8",
    mapping: Annotated[str | None, typer.Option("--mapping", help="source mapping YAML (path or bundled name)")] = None,
) -> None:
    """Validate and load exports; a file with an invalid row loads nothing unless --allow-partial."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from pipelines.mappings import IDENTITY, load_mapping
    from pipelines.quarantine import failure_sentence
    from tandem.config import settings
    from tandem.db import connect, ingest_file

    cfg = settings()
    with _errors():
        m = load_mapping(mapping) if mapping else IDENTITY
        files = _files(paths)
        con = connect(db or cfg.db, memory_limit=cfg.memory_limit, wait_s=cfg.lock_wait_s)
        results: list[LoadResult] = []
        worst = 0
        try:
            with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                          TimeElapsedColumn(), console=err, transient=True) as bar:
                for f in files:
                    task = bar.add_task(f"validating {f.name}", total=None)
                    try:
                        r = ingest_file(con, f, type_, m, allow_partial, encoding, cfg.reporting_currency,
                                        progress=lambda done, total, t=task: bar.update(t, completed=done,
                                                                                         total=total))
                    except TandemError as exc:
                        if exc.exit_code == USAGE:
                            raise
                        err.print(Text("error: ", style="red") + safe_text.rich(exc.message), highlight=False)
                        worst = max(worst, exc.exit_code)
                        continue
                    finally:
                        bar.remove_task(task)
                    results.append(r)
                    if r.message:
                        out.print(safe_text.rich(f"{r.file}: {r.message}"), highlight=False)
                    if r.failures is not None and r.failures.height:
                        for row in r.failures.head(10).iter_rows(named=True):
                            err.print("  " + safe_text.visible(failure_sentence(r.file, row)), highlight=False, markup=False)
                        more = r.rows_quarantined - min(10, r.failures.height)
                        if r.outcome != "rejected" and more > 0:
                            err.print(f"  … and more: see the quarantine ({r.rows_quarantined:,} rows).")
                    if r.outcome == "rejected":
                        worst = max(worst, REJECTED)
        finally:
            con.close()
        if results:
            _summary(results)
        if worst:
            raise typer.Exit(worst)


@app.command()
def refresh(db: DbOption = None) -> None:
    """Rebuild the KPI facts (every load does it; needed by hand only after changing the reporting currency)."""
    from kpi_definitions import facts
    from store.db import transaction
    from tandem.config import settings
    from tandem.db import connect

    cfg = settings()
    with _errors():
        con = connect(db or cfg.db, memory_limit=cfg.memory_limit, wait_s=cfg.lock_wait_s)
        try:
            with transaction(con):  # one rebuild, all or nothing: a kill leaves the facts and their currency as they were
                facts.refresh(con, cfg.reporting_currency)
        finally:
            con.close()
        out.print(f"KPI facts rebuilt in {cfg.reporting_currency}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve(ctx: typer.Context) -> None:
    """Start the dashboard (extra options go to `streamlit run`, e.g. --server.port 8502)."""
    from tandem.serve import main

    main(list(ctx.args))


mapping_app = typer.Typer(no_args_is_help=True, help="Source mappings: draft one from a file, check one on a file.")
app.add_typer(mapping_app, name="mapping")


def _wide(table: Table) -> None:
    """Print a table as wide as its cells, wider than the terminal if need be: nothing is cut."""
    need = out.measure(table, options=out.options.update_width(10_000)).maximum
    fixed = out._width  # None: the terminal's width, read at each print  # noqa: SLF001
    out.width = max(out.width, need)
    try:
        out.print(table, highlight=False)
    finally:
        out._width = fixed  # noqa: SLF001


@mapping_app.command("draft")
def mapping_draft(
    file: Annotated[Path, typer.Argument(help="a CSV export")],
    type_: Annotated[str | None, typer.Option("--type", help="export type (default: guessed)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the YAML here (default: stdout)")] = None,
    delimiter: Annotated[str | None, typer.Option("--delimiter", help="the CSV delimiter (default: sniffed)")] = None,
) -> None:
    """Write a starting mapping from the file's header and a sample of its values, every guess commented."""
    from pipelines.draft import draft

    with _errors():
        text = draft(file, type_, delimiter)
        if output is None:
            sys.stdout.write(text)
            return
        if output.exists():
            raise TandemError(f"{output} exists; give another --output or remove it first.", USAGE)
        output.write_text(text, encoding="utf-8")
        err.print(safe_text.rich(f"wrote {output}: check each commented guess, then "
                                 f"`tandem mapping check {file} --mapping {output}`"), highlight=False)


@mapping_app.command("check")
def mapping_check(
    file: Annotated[Path, typer.Argument(help="an export file")],
    mapping: Annotated[str, typer.Option("--mapping", help="source mapping YAML (path or bundled name)")],
    type_: Annotated[str | None, typer.Option("--type", help="export type, when the file name does not say")] = None,
    rows: Annotated[int, typer.Option("--rows", help="rows to preview")] = 10,
    encoding: Annotated[str, typer.Option("--encoding", help="text encoding of CSV files")] = "utf-8",
) -> None:
    """Preview the first rows as mapped and every rule they break, without loading anything.
    Exit 3 when some row of the file would be quarantined."""
    from pipelines.load import check_file
    from pipelines.mappings import load_mapping
    from pipelines.quarantine import failure_sentence

    with _errors():
        r = check_file(file, load_mapping(mapping), type_, encoding, rows)
        table = Table(title=f"{r.file} as {r.export_type} (first {r.preview.height} rows)", title_justify="left")
        for col in r.preview.columns:
            table.add_column(col, no_wrap=True)
        for row in r.preview.iter_rows():
            table.add_row(*(Text("") if v is None else safe_text.rich(str(v)) for v in row))
        _wide(table)
        for row in r.failures.iter_rows(named=True):
            out.print("  " + safe_text.visible(failure_sentence(r.file, row)), highlight=False, markup=False,
                      soft_wrap=True)
        out.print(f"{r.rows_read:,} rows read: {r.rows_valid:,} would load, {r.rows_invalid:,} would be "
                  f"quarantined, {r.rows_filtered:,} filtered out", highlight=False, markup=False, soft_wrap=True)
        if r.filter_note:
            out.print(safe_text.rich(r.filter_note), highlight=False, soft_wrap=True)
        if r.rows_invalid:
            raise typer.Exit(REJECTED)


Format = Literal["table", "json", "csv"]


@app.command()
def kpis(
    db: DbOption = None,
    period: Annotated[str | None, typer.Option("--period", help="YYYY-MM (or a quarter/year label)")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first month YYYY-MM of a range")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last month YYYY-MM of a range")] = None,
    grain: Annotated[Grain, typer.Option("--grain", help="month, quarter or year (fiscal)")] = "month",
    kpi: Annotated[list[str] | None, typer.Option("--kpi", help="a KPI name; repeat for several")] = None,
    by: Annotated[list[str] | None, typer.Option("--by", help="a dimension to split by; repeat")] = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="a filter DIM=VALUE; repeat")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, json or csv")] = "table",
    explain: Annotated[bool, typer.Option("--explain", help="print the SQL each view and bridge would run, "
                                          "with its parameter values, instead of computing")] = False,
    as_defined_today: Annotated[bool, typer.Option("--as-defined-today", help="every period under the agreed "
                                                   "definition in effect today (default: the version effective "
                                                   "then)")] = False,
) -> None:
    """Every KPI under both definitions, one row per KPI, view, period and combination of --by values, with the
    approved joint target of the row's period and slice, its run-rate forecast and status (null without one)."""
    import polars as pl

    from kpi_definitions import compute as kpi_compute
    from kpi_definitions import weak_data
    from kpi_definitions.compute import Selection, compute, data_months, resolve_range
    from kpi_definitions.periods import FiscalCalendar
    from kpi_definitions.registry import DIMENSIONS
    from store.db import reading
    from tandem.config import settings

    cfg = settings()
    with _errors():
        from tandem.agreement import registry_for

        reg = registry_for(db or cfg.db)  # the declarations with the agreed views in the database
        if as_defined_today:
            from datetime import date

            from kpi_definitions.agreement import as_defined_today as today_s

            reg = today_s(reg, date.today())
        wanted = list(dict.fromkeys(reg.kpi_of(k) or k for k in kpi or []))
        for name in wanted:
            if name not in reg.names:
                known = reg.names + [c.name for k in reg for c in k.companions]
                raise TandemError(f"Unknown KPI {name!r}; known: {', '.join(known)}.", USAGE)
        dims = tuple(dict.fromkeys(by or []))
        for dim in dims:
            if dim not in DIMENSIONS:
                raise TandemError(f"Unknown dimension {dim!r}; known: {', '.join(DIMENSIONS)}.", USAGE)
        filters = _where(where)
        cal = FiscalCalendar(cfg.fiscal_year_start_month)
        with reading(db or cfg.db) as con:
            span = data_months(con, reg)
            try:
                first, last = resolve_range(cal, grain, span[1] if span else None, period, from_, to)
            except ValueError as exc:
                raise TandemError(f"{exc}.", USAGE if span else FAILURE) from None
            sel = Selection(first, last, grain, dims, filters)
            if explain:
                _print_explain(kpi_compute.explain(reg, sel, currency=cfg.reporting_currency, cal=cal,
                                                   kpis=wanted or None), fmt)
                return
            result = compute(con, reg, sel, currency=cfg.reporting_currency, cal=cal, kpis=wanted or None)
            values = weak_data.warnings(con, reg, sel, result.values, cal)  # excluded rows, partial bases, filters
            from tandem import targets

            values = targets.attach(values, targets.evaluate(con, reg, cal, cfg.reporting_currency), grain,
                                    dims, filters)
        if kpi:  # `--kpi budget_variance_pct` asks for the companion alone, `--kpi budget_variance` for both
            asked = set(kpi) | {c.name for k in reg for c in k.companions if k.name in kpi}
            values = values.filter(pl.col("kpi").is_in(sorted(asked)))
        for note in result.notes:
            err.print(safe_text.visible(f"note: {note}"), highlight=False, markup=False)
        _print_kpis(values, dims, fmt, cfg.reporting_currency)


def _print_explain(queries: list[Query], fmt: str) -> None:
    """The queries `kpis` would run: SQL text after the macros they use, or (json) label, sql and params."""
    from kpi_definitions import macros

    if fmt == "json":
        doc = {"macros": macros.text(), "queries": [{"label": q.label, "sql": q.sql, "params": q.params}
                                                    for q in queries]}
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
        return
    sys.stdout.write("-- The macros every KPI query uses (created on the connection first)\n" + macros.text() + "\n")
    for q in queries:
        sys.stdout.write("\n" + q.text())


def _print_kpis(values: pl.DataFrame, dims: tuple[str, ...], fmt: str, currency: str) -> None:
    """The KPI rows as JSON (numbers or null, never NaN/Infinity), CSV (text that cannot run in a
    spreadsheet, CR/LF quoted) or a table (data printed as text, never as Rich markup)."""
    import polars as pl

    from tandem import formats

    rows = values.to_dicts()
    unreal = sum(1 for r in rows if r["value"] is not None and formats.json_number(r["value"]) is None)
    if unreal:
        err.print(f"note: {unreal} value(s) are not finite numbers (data that bypassed ingestion's ranges?); "
                  "shown as null / n/a.", highlight=False, markup=False)
    if fmt == "json":
        doc = [{"kpi": r["kpi"], "view": r["view"], "period": r["period"], "dimensions": {d: r[d] for d in dims},
                "value": formats.json_number(r["value"]), "unit": r["unit"],
                "excluded": _weak(r)["excluded"], "warnings": _weak(r)["warnings"]}
               | {c: formats.json_number(r[c]) if c != "status" else r[c] for c in TARGET_COLUMNS if c in r}
               for r in rows]
        sys.stdout.write(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    elif fmt == "csv":
        # polars quotes a field with a separator, quote, LF or a bare CR; the csv module with lineterminator
        # "\n" leaves a bare CR unquoted, which splits the row in a spreadsheet.
        extra = [c for c in TARGET_COLUMNS if c in values.columns]
        header = ["kpi", "view", "period", *dims, "value", "unit", "excluded", "warnings", *extra]
        cols: list[list[object]] = [[r["kpi"] for r in rows], [r["view"] for r in rows], [r["period"] for r in rows],
                                    *([r[d] for r in rows] for d in dims)]
        text = [[_csv_text(None if v is None else str(v)) for v in col] for col in cols]
        numbers = [None if (v := formats.json_number(r["value"])) is None else repr(v) for r in rows]
        targets = [[None if (v := formats.json_number(r[c]) if c != "status" else r[c]) is None else
                    (v if c == "status" else repr(v)) for r in rows] for c in extra]
        doc = pl.DataFrame([pl.Series(f"c{i}", col, dtype=pl.String) for i, col in
                            enumerate([*text, numbers, [_csv_text(r["unit"]) for r in rows],
                                       [str(r.get("excluded") or 0) for r in rows],
                                       [_csv_text(_weak(r)["warnings_text"]) for r in rows], *targets])])
        sys.stdout.write(doc.rename(dict(zip(doc.columns, map(str, map(_csv_text, header)), strict=True)))
                         .write_csv(line_terminator="\n"))
    else:
        table = Table(title="KPIs", title_justify="left")
        for col in ("kpi", "view", "period", *dims):
            table.add_column(safe_text.rich(col))
        table.add_column("value", justify="right")
        targeted = "target" in values.columns and values["target"].null_count() < values.height
        if targeted:  # only when a row has an approved target: the table stays as narrow as it was
            table.add_column("target", justify="right")
            table.add_column("forecast", justify="right")
            table.add_column("status")
        table.add_column("warnings")
        for r in rows:
            more = [formats.value(r["target"], r["unit"], currency) if r["target"] is not None else "",
                    formats.value(r["forecast"], r["unit"], currency) if r["forecast"] is not None else "",
                    r["status"] or ""] if targeted else []
            table.add_row(*map(safe_text.rich, (r["kpi"], r["view"], r["period"], *(r[d] for d in dims))),
                          safe_text.rich(formats.value(r["value"], r["unit"], currency)), *map(safe_text.rich, more),
                          safe_text.rich(", ".join(w["code"] for w in r.get("warnings") or [])))
        _wide(table)
        said = dict.fromkeys(f"{w['code']}: {w['message']}" for r in rows for w in r.get("warnings") or [])
        for line in said:
            err.print(safe_text.visible(f"warning: {line}"), highlight=False, markup=False)


def _weak(row: dict) -> dict:
    """A row's `excluded` count and `warnings` ({code, message} each) for JSON; `warnings_text` for a CSV cell."""
    found = [{"code": w["code"], "message": w["message"]} for w in row.get("warnings") or []]
    return {"excluded": int(row.get("excluded") or 0), "warnings": found,
            "warnings_text": " | ".join(f"{w['code']}: {w['message']}" for w in found)}


TARGET_COLUMNS = ("target", "forecast", "status")  # tandem/targets.py attach(): the approved joint target's


def _csv_text(v: object) -> object:
    """A CSV cell of `tandem kpis`: text visible and inert in a spreadsheet (numbers as they are)."""
    return safe_text.cell(safe_text.visible(v))


@app.command()
def scenario(
    terms: Annotated[int, typer.Option("--terms", help="the new payment terms, in days")],
    db: DbOption = None,
    supplier: Annotated[list[str] | None, typer.Option("--supplier", help="a supplier id; repeat")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="a category; repeat")] = None,
    min_spend: Annotated[float | None, typer.Option("--min-spend", help="annual spend band: from")] = None,
    max_spend: Annotated[float | None, typer.Option("--max-spend", help="annual spend band: below")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first payment month YYYY-MM (default: 12 months "
                                                             "up to the latest)")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last payment month YYYY-MM")] = None,
    cost_of_capital: Annotated[float | None, typer.Option("--cost-of-capital", help="a share a year, e.g. 0.08 "
                                                          "(default TANDEM_COST_OF_CAPITAL)")] = None,
    discount: Annotated[str | None, typer.Option("--discount", help="an early-payment discount RATE/DAYS/NET, "
                                                 "e.g. 2/10/30 for 2 %% within 10 days, net 30")] = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
) -> None:
    """A payment-terms scenario: chosen suppliers moved to new terms, for finance and for procurement."""
    from kpi_definitions.compute import data_months
    from kpi_definitions.periods import FiscalCalendar
    from kpi_definitions.registry import registry
    from kpi_definitions.terms import Discount, Scenario, run
    from store.db import reading
    from tandem.config import settings

    cfg = settings()
    with _errors():
        cal = FiscalCalendar(cfg.fiscal_year_start_month)
        try:
            d = None
            if discount:
                rate, within, net = discount.split("/")
                d = Discount(float(rate) / 100, int(within), int(net))
        except ValueError:
            raise TandemError(f"--discount {discount!r}: give RATE/DAYS/NET, e.g. 2/10/30.", USAGE) from None
        with reading(db or cfg.db) as con:
            span = data_months(con, registry())
            if span is None:
                raise TandemError("The database holds no payments yet: load exports or run `tandem demo`.", FAILURE)
            try:
                last = cal.parse(to, "month")[1] if to else span[1]
                first = cal.parse(from_, "month")[0] if from_ else last - 11
            except ValueError as exc:
                raise TandemError(f"{exc}.", USAGE) from None
            s = Scenario(terms, first, last, cfg.cost_of_capital if cost_of_capital is None else cost_of_capital,
                         tuple(supplier or ()), tuple(category or ()), min_spend, max_spend, d)
            result = run(con, s, cfg.reporting_currency)
        _print_scenario(result, s, cfg.reporting_currency, fmt)


def _print_scenario(r: Result, s: Scenario, currency: str, fmt: str) -> None:
    from tandem import formats

    doc = r.as_dict()
    if fmt == "json":
        doc["assumptions"] = {"new_terms": s.new_terms, "cost_of_capital": s.cost_of_capital,
                              "currency": currency}
        sys.stdout.write(json.dumps(doc, indent=1, default=str, allow_nan=False) + "\n")
        return
    money = lambda v: formats.value(v, "currency", currency)  # noqa: E731
    days = lambda v: formats.value(v, "days", currency)  # noqa: E731
    table = Table(title=f"Payment terms to {s.new_terms} days ({r.months} months of payments, annualised)",
                  title_justify="left")
    table.add_column("side")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [("finance", "DPO before", days(r.dpo_before)), ("finance", "DPO after", days(r.dpo_after)),
            ("finance", "cash released", money(r.cash_released)),
            ("finance", f"financing value a year at {s.cost_of_capital:.1%}", money(r.financing_value)),
            ("procurement", "suppliers affected", f"{r.suppliers_affected:,}"),
            ("procurement", "spend affected a year", money(r.spend_affected)),
            ("procurement", "suppliers pushed beyond agreed terms", f"{r.suppliers_beyond_terms:,}"),
            ("procurement", "price increase at which it stops paying off",
             formats.value(r.break_even_price_increase, "ratio", currency)),
            ("both", "cash given away today by paying before terms", money(r.cash_given_away))]
    if r.discount_annualised is not None:
        rows.append(("both", "early-payment discount, annualised", formats.value(r.discount_annualised, "ratio", currency)))
    for row in rows:
        table.add_row(*row)
    out.print(table, highlight=False)


@app.command()
def demo(
    db: DbOption = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="where to write the demo exports")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    suppliers: Annotated[int, typer.Option(help="number of suppliers")] = 300,
) -> None:
    """Write the bundled demo exports (two years, all eight types) and load them."""
    from tandem.config import settings
    from tandem.db import connect, ingest_file
    from tandem.demo import write_demo

    cfg = settings()
    with _errors():
        target = out_dir or (cfg.db.parent / "demo")
        files = write_demo(target, seed=seed, n_suppliers=suppliers)
        out.print(f"wrote {len(files)} demo exports to {target}")
        con = connect(db or cfg.db, memory_limit=cfg.memory_limit, wait_s=cfg.lock_wait_s)
        try:
            results = [ingest_file(con, f, reporting_currency=cfg.reporting_currency) for f in files]
        finally:
            con.close()
        _summary(results)
        if any(not r.ok for r in results):
            raise typer.Exit(REJECTED)


PackFormat = Literal["pdf", "pptx", "html"]


@app.command()
def pack(
    out_file: Annotated[Path, typer.Option("-o", "--out", help="the file to write")],
    db: DbOption = None,
    period: Annotated[str | None, typer.Option("--period", help="YYYY-MM or a quarter/year label (default: "
                                               "the latest)")] = None,
    grain: Annotated[Grain, typer.Option("--grain", help="month, quarter or year (fiscal)")] = "month",
    where: Annotated[list[str] | None, typer.Option("--where", help="a filter DIM=VALUE; repeat")] = None,
    fmt: Annotated[PackFormat, typer.Option("--format", help="pdf, pptx or html")] = "pdf",
) -> None:
    """The review pack (overview, every KPI with its bridge and breakdown, open actions) as a PDF handout,
    a PowerPoint deck or one HTML file: the same pack as the dashboard's, for a scheduled job."""
    import os

    from tandem.config import settings

    with _errors():
        filters = _where(where)
        path = db or settings().db
        if not path.exists():
            raise TandemError(f"No database at {path}: run `tandem demo` or `tandem ingest` first.", USAGE)
        os.environ["TANDEM_DB"] = str(path)  # the dashboard's services read the same file
        import logging

        # This is no app: Streamlit's caches say "No runtime found" on every first call; a scheduled job's
        # output stays one line (a filter, which Streamlit's own log-level resets leave in place).
        logging.getLogger("streamlit.runtime.caching.cache_data_api").addFilter(
            lambda record: "No runtime found" not in record.getMessage())
        from tandem import deck
        from tandem import pack as review_pack

        sel = review_pack.selected(path, period, grain, filters)
        if fmt == "pdf":
            data = review_pack.pdf(sel)
        elif fmt == "pptx":
            data = deck.pptx(sel)
        else:
            data = review_pack.build(sel).encode("utf-8")
        out_file.write_bytes(data)
        out.print(safe_text.visible(f"wrote the {fmt} review pack for {sel.span.label} to {out_file}"),
                  highlight=False, markup=False)


definitions_app = typer.Typer(no_args_is_help=True, help="The agreed definitions both teams approved.")
app.add_typer(definitions_app, name="definitions")


@definitions_app.command("export")
def definitions_export(
    db: DbOption = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="write one <kpi>.agreed.yaml per KPI into this "
                                                 "folder instead of printing")] = None,
) -> None:
    """Write the approved agreed definitions as YAML declarations (the `agreed` view, every version) for the repo."""
    import yaml

    from kpi_definitions.registry import registry
    from store.db import reading
    from tandem import agreement
    from tandem.config import settings

    cfg = settings()
    with _errors():
        with reading(db or cfg.db) as con:
            found = agreement.versions(con)
        decls = agreement.yaml_declarations(registry(), found)
        if not decls:
            err.print("no agreed definition has been approved yet", highlight=False, markup=False)
            return
        for name, decl in decls.items():
            text = ("# The agreed view of " + name + " (tandem definitions export): add it under `views:` of "
                    f"kpi_definitions/{name}.yaml.\n" + yaml.safe_dump(decl, sort_keys=False, allow_unicode=True))
            if out_dir is None:
                out.print(text, highlight=False, markup=False, soft_wrap=True)
            else:
                out_dir.mkdir(parents=True, exist_ok=True)
                (out_dir / f"{name}.agreed.yaml").write_text(text, encoding="utf-8")
                out.print(f"wrote {out_dir / f'{name}.agreed.yaml'}", highlight=False, markup=False)


@app.command()
def outlook(
    db: DbOption = None,
    period: Annotated[str | None, typer.Option("--period", help="as of this month YYYY-MM (default: the latest)")] = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Price outlook per category: our and the market's price change over a year, and the contracts ending
    in the next twelve months with their spend and how far the market moved since they started."""
    from tandem.prices_cli import outlook as show

    with _errors():
        show(db, period, fmt, _wide)


def run() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
