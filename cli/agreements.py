"""Agreed definitions on the command line: `tandem definitions export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import DbOption, app, err, errors, out

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

    from decisions import agreement
    from kpi_definitions.registry import registry
    from store.config import settings
    from store.db import reading

    cfg = settings()
    with errors():
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


agreements_app = typer.Typer(no_args_is_help=True, help="Agreeing a KPI's definition from its bridge.")
app.add_typer(agreements_app, name="agreements")


@agreements_app.command("preview")
def agreements_preview(
    kpi: Annotated[str, typer.Option("--kpi", help="the KPI (its name, e.g. savings)")],
    include: Annotated[str, typer.Option("--include", help="the bridge steps the agreed number includes, comma "
                                         "separated names (e.g. cost_avoidance,volume); empty: none")] = "",
    period: Annotated[str | None, typer.Option("--period", help="a month YYYY-MM, a quarter YYYY-Qn or a year "
                                               "(default: the latest month with data)")] = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="a filter DIM=VALUE; repeat")] = None,
    db: DbOption = None,
) -> None:
    """The agreed number a proposal would make, before anyone signs: each bridge step with its signed amount,
    included or left out, the agreed value in words, and the last 12 months beside both teams' values."""
    from rich.table import Table

    from cli.common import parse_where, wide
    from kpi_definitions.agreement import AgreementError
    from reports import preview, source
    from store.config import settings
    from store.errors import USAGE, TandemError

    cfg = settings()
    path = str(db or cfg.db)
    with errors():
        counts = tuple(c.strip() for c in include.split(",") if c.strip())
        ver = source.version(Path(path))
        try:
            first, last = source.period_span(path, ver, period)
            p = source.agreed_preview(path, ver, kpi, counts, first, last, tuple(sorted(
                (d, tuple(sorted(v))) for d, v in parse_where(where).items())))
        except AgreementError as exc:
            raise TandemError(exc.message, USAGE) from None
        except ValueError as exc:
            raise TandemError(f"--period {period!r}: {exc}.", USAGE) from None
        unit, currency = p.kpi.unit, cfg.reporting_currency
        from reports import formats

        out.print(f"{p.kpi.label} · the agreed number a proposal makes · {p.period}", highlight=False, markup=False)
        if p.reason:
            out.print(f"No bridge for {p.period}: {p.reason}.", highlight=False, markup=False)
            return
        out.print(f"{preview.meaning(p)}\n{p.start_label.capitalize()}'s value: "
                  f"{formats.value(p.bridge.start, unit, currency)} · {p.end_label}'s value: "
                  f"{formats.value(p.bridge.end, unit, currency)}", highlight=False, markup=False)
        steps = preview.step_table(p, currency)
        table = Table(*steps.columns, show_edge=False)
        for row in steps.iter_rows():
            table.add_row(*row)
        wide(table)
        out.print(f"Agreed value: {formats.value(p.agreed, unit, currency)}\n{preview.formula(p, currency)}",
                  highlight=False, markup=False)
        history = preview.history_table(p, currency)
        if history.height:
            table = Table(*history.columns, show_edge=False, title=f"The last {history.height} months")
            for row in history.iter_rows():
                table.add_row(*row)
            wide(table)
