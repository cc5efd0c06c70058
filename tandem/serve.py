"""Start the dashboard so that app.py's st.navigation routes every URL, the very first deep link included."""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"


def main(args: list[str] | None = None) -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    from kpi_definitions import registry

    # The start-up check (read afresh, not the cached registry): every invalid KPI declaration, with file,
    # KPI, field and why, before anyone opens a page.
    _, issues = registry.parse(registry.HERE, registry.SQL_DIR)
    if issues:
        print(registry.RegistryError(issues), file=sys.stderr)
        raise SystemExit(1)
    # Streamlit treats a `pages/` folder next to the entry script as the legacy router until a session
    # has run st.navigation: a shared link opened first on a fresh server (say /savings?grain=quarter)
    # would run that page bare, without app.py's navigation. Our pages/ is st.navigation's, so say so.
    PagesManager.uses_pages_directory = False
    cli.main(["run", str(APP), *(sys.argv[1:] if args is None else args)], prog_name="streamlit")


if __name__ == "__main__":
    main()
