"""`tandem pack`: the review pack as a PDF handout, a PowerPoint deck or one HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from cli.common import DbOption, EngineOption, LakeOption, app, engine_settings, errors, out, parse_where
from kpi_definitions.periods import Grain
from reports import safe_text
from store.errors import USAGE, TandemError

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
    engine: EngineOption = None,
    lake: LakeOption = None,
) -> None:
    """The review pack (overview, every KPI with its bridge and breakdown, open actions) as a PDF handout,
    a PowerPoint deck or one HTML file: the same pack as the dashboard's, for a scheduled job."""
    from store.config import settings

    with errors(), engine_settings(engine, lake):
        filters = parse_where(where)
        path = db or settings().db
        if not path.exists():
            raise TandemError(f"No database at {path}: run `tandem demo` or `tandem ingest` first.", USAGE)
        from reports import deck
        from reports import pack as review_pack

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
