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
