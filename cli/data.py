"""Commands that load data: `tandem ingest`, `refresh`, `demo` and `mapping draft|check`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from cli.common import DbOption, app, err, errors, out, wide
from reports import safe_text
from store.errors import REJECTED, USAGE, TandemError

if TYPE_CHECKING:  # ingestion (pandera, pandas) is imported only by the commands that load
    from pipelines.load import LoadResult


def export_files(paths: list[Path]) -> list[Path]:
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


def summary(results: list[LoadResult]) -> None:
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
    wide(table)


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
    from store.config import settings
    from workspace.db import connect, ingest_file

    cfg = settings()
    with errors():
        m = load_mapping(mapping) if mapping else IDENTITY
        files = export_files(paths)
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
            summary(results)
        if worst:
            raise typer.Exit(worst)


@app.command()
def refresh(db: DbOption = None) -> None:
    """Rebuild the KPI facts (every load does it; needed by hand only after changing the reporting currency)."""
    from kpi_definitions import facts
    from store.config import settings
    from store.db import transaction
    from workspace.db import connect

    cfg = settings()
    with errors():
        con = connect(db or cfg.db, memory_limit=cfg.memory_limit, wait_s=cfg.lock_wait_s)
        try:
            with transaction(con):  # one rebuild, all or nothing: a kill leaves the facts and their currency as they were
                facts.refresh(con, cfg.reporting_currency)
        finally:
            con.close()
        out.print(f"KPI facts rebuilt in {cfg.reporting_currency}")


@app.command()
def demo(
    db: DbOption = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="where to write the demo exports")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    suppliers: Annotated[int, typer.Option(help="number of suppliers")] = 300,
) -> None:
    """Write the bundled demo exports (two years, all eight types) and load them."""
    from store.config import settings
    from workspace.db import connect, ingest_file
    from workspace.demo import write_demo

    cfg = settings()
    with errors():
        target = out_dir or (cfg.db.parent / "demo")
        files = write_demo(target, seed=seed, n_suppliers=suppliers)
        out.print(f"wrote {len(files)} demo exports to {target}")
        con = connect(db or cfg.db, memory_limit=cfg.memory_limit, wait_s=cfg.lock_wait_s)
        try:
            results = [ingest_file(con, f, reporting_currency=cfg.reporting_currency) for f in files]
        finally:
            con.close()
        summary(results)
        if any(not r.ok for r in results):
            raise typer.Exit(REJECTED)


mapping_app = typer.Typer(no_args_is_help=True, help="Source mappings: draft one from a file, check one on a file.")
app.add_typer(mapping_app, name="mapping")


@mapping_app.command("draft")
def mapping_draft(
    file: Annotated[Path, typer.Argument(help="a CSV export")],
    type_: Annotated[str | None, typer.Option("--type", help="export type (default: guessed)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the YAML here (default: stdout)")] = None,
    delimiter: Annotated[str | None, typer.Option("--delimiter", help="the CSV delimiter (default: sniffed)")] = None,
) -> None:
    """Write a starting mapping from the file's header and a sample of its values, every guess commented."""
    from pipelines.draft import draft

    with errors():
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

    with errors():
        r = check_file(file, load_mapping(mapping), type_, encoding, rows)
        table = Table(title=f"{r.file} as {r.export_type} (first {r.preview.height} rows)", title_justify="left")
        for col in r.preview.columns:
            table.add_column(col, no_wrap=True)
        for row in r.preview.iter_rows():
            table.add_row(*(Text("") if v is None else safe_text.rich(str(v)) for v in row))
        wide(table)
        for row in r.failures.iter_rows(named=True):
            out.print("  " + safe_text.visible(failure_sentence(r.file, row)), highlight=False, markup=False,
                      soft_wrap=True)
        out.print(f"{r.rows_read:,} rows read: {r.rows_valid:,} would load, {r.rows_invalid:,} would be "
                  f"quarantined, {r.rows_filtered:,} filtered out", highlight=False, markup=False, soft_wrap=True)
        if r.filter_note:
            out.print(safe_text.rich(r.filter_note), highlight=False, soft_wrap=True)
        if r.rows_invalid:
            raise typer.Exit(REJECTED)
