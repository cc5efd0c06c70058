"""What every command shares: the `tandem` app, one-sentence errors with the contract's exit status, wide tables,
the --db and --where options."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reports import safe_text
from store.errors import FAILURE, USAGE, TandemError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Tandem: finance and procurement on one set of numbers.")
out = Console()
err = Console(stderr=True, soft_wrap=True)  # one error, one line: scripts grep them
DEBUG = {"on": False}  # --debug: show tracebacks

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB file (default data/tandem.duckdb or $TANDEM_DB)")]
EngineOption = Annotated[str | None, typer.Option("--engine", help="duckdb (the database file) or spark (the lake; "
                                                  "default $TANDEM_ENGINE or duckdb)")]
LakeOption = Annotated[Path | None, typer.Option("--lake", help="the lake folder the spark engine reads (default "
                                                 "$TANDEM_LAKE)")]
ENGINES = ("duckdb", "spark")


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False) -> None:
    DEBUG["on"] = debug


@contextmanager
def errors() -> Iterator[None]:
    """One sentence on stderr and the contract's exit status; a traceback only with --debug. The sentence
    carries file names and data: it is printed as text (never Rich markup) and visible."""
    try:
        yield
    except TandemError as exc:
        if DEBUG["on"]:
            raise
        err.print(Text("error: ", style="red") + safe_text.rich(exc.message), highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except typer.Exit:
        raise
    except Exception as exc:
        if DEBUG["on"]:
            raise
        from store.db import problem

        known = problem(exc)  # the disk, the file's permissions or a damaged file: say what to do
        if known is not None:
            err.print(Text("error: ", style="red") + safe_text.rich(known.message), highlight=False)
            raise typer.Exit(known.exit_code) from None
        first = str(exc).splitlines()[0] if str(exc) else ""
        err.print(Text("error: ", style="red") + safe_text.rich(f"{type(exc).__name__}: {first}"), highlight=False)
        raise typer.Exit(FAILURE) from None


@contextmanager
def engine_settings(engine: str | None, lake: Path | None) -> Iterator[None]:
    """`--engine` and `--lake` as the settings (TANDEM_ENGINE, TANDEM_LAKE) while the command runs: every read of
    the command, a pack's too, goes through reports/source.py, which reads them; put back as they were after. A
    sentence for an engine Tandem has not."""
    import os

    if engine is not None and engine not in ENGINES:
        raise TandemError(f"--engine {engine!r}: use {' or '.join(ENGINES)}.", USAGE)
    given = {k: v for k, v in (("TANDEM_ENGINE", engine), ("TANDEM_LAKE", None if lake is None else str(lake)))
             if v is not None}
    before = {k: os.environ.get(k) for k in given}
    os.environ.update(given)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def wide(table: Table) -> None:
    """Print a table as wide as its cells, wider than the terminal if need be: nothing is cut."""
    need = out.measure(table, options=out.options.update_width(10_000)).maximum
    fixed = out._width  # None: the terminal's width, read at each print  # noqa: SLF001
    out.width = max(out.width, need)
    try:
        out.print(table, highlight=False)
    finally:
        out._width = fixed  # noqa: SLF001


def parse_where(items: list[str] | None) -> dict[str, list[str]]:
    """`--where DIM=VALUE` options as filters {dim: [values]}; a clear sentence for anything else."""
    from kpi_definitions.registry import FILTERABLE

    filters: dict[str, list[str]] = {}
    for item in items or []:
        dim, sep, value = item.partition("=")
        if not sep or dim.strip() not in FILTERABLE:
            raise TandemError(f"--where {item!r}: use DIM=VALUE with DIM one of {', '.join(FILTERABLE)}.", USAGE)
        filters.setdefault(dim.strip(), []).append(value.strip())
    return filters
