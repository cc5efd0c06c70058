"""`tandem serve`: the dashboard (tandem/serve.py checks the declarations and starts Streamlit)."""

from __future__ import annotations

import typer

from cli.common import app


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve(ctx: typer.Context) -> None:
    """Start the dashboard (extra options go to `streamlit run`, e.g. --server.port 8502)."""
    from tandem.serve import main

    main(list(ctx.args))
