"""`tandem lake export DIR` (the store as Parquet by month, with its manifest: store/lake.py) and `tandem lake check
DIR` (the export contract's row rules on the lake's tables, on Spark: pipelines/lake_check.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import ENGINES, DbOption, app, err, errors, out
from reports import safe_text
from store.errors import REJECTED, USAGE, TandemError

lake_app = typer.Typer(no_args_is_help=True, help="The lake: the store as Parquet files with a manifest, for Spark "
                                                  "and other readers (docs/spark.md).")
app.add_typer(lake_app, name="lake")


@lake_app.command("export")
def export(
    dir: Annotated[Path, typer.Argument(help="the lake folder (a new or empty one, or a lake to bring up to date)")],
    db: DbOption = None,
) -> None:
    """Write the database's canonical tables and KPI facts to DIR as Parquet by month, with a manifest; months whose
    rows did not change are linked from the lake already there. The previous lake stays whole until the new one
    is complete."""
    from store import lake
    from store.config import settings
    from store.db import reading

    with errors():
        path = db or settings().db
        if not path.exists():
            raise TandemError(f"No database at {path}: run `tandem demo` or `tandem ingest` first.", USAGE)
        with reading(path) as con:
            done = lake.export(con, dir)
        rows = sum(done.manifest.rows().values())
        out.print(safe_text.visible(f"wrote the lake at {done.dir}: {len(done.manifest.tables)} tables, {rows:,} rows "
                                    f"({done.written} month files written, {done.reused} reused) in "
                                    f"{done.seconds:.1f} s"), highlight=False, markup=False)


@lake_app.command("check")
def check(
    dir: Annotated[Path, typer.Argument(help="the lake folder")],
    engine: Annotated[str | None, typer.Option("--engine", help="spark (the row rules, the default) or duckdb (the "
                                               "manifest alone)")] = None,
) -> None:
    """Check the lake against its manifest, then (--engine spark, the default) every row rule of the export
    contract on its tables through pandera's PySpark backend, on $TANDEM_SPARK_REMOTE or local mode. Broken rules
    are listed by table, column, rule, rows and key (exit status 3)."""
    from store import lake

    with errors():
        kind = engine or "spark"
        if kind not in ENGINES:
            raise TandemError(f"--engine {kind!r}: use {' or '.join(ENGINES)}.", USAGE)
        manifest = lake.verify(dir)
        if kind == "duckdb":
            rows = sum(manifest.rows().values())
            out.print(safe_text.visible(f"The lake at {Path(dir).absolute()} matches its manifest ({rows:,} rows in "
                                        f"{len(manifest.tables)} tables); its row rules are checked with "
                                        "--engine spark."), highlight=False, markup=False)
            return
        from pipelines.lake_check import check as check_lake
        from store.config import settings

        found = check_lake(dir, remote=settings().spark_remote)
        for sentence in found.sentences():
            (out if found.ok else err).print(safe_text.visible(sentence), highlight=False, markup=False)
        if not found.ok:
            raise typer.Exit(REJECTED)
