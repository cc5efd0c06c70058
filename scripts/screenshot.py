"""Screenshots of the running app's pages with Debian's chromium (for the README and for looking at it).

    uv run python scripts/screenshot.py http://localhost:8501 overview data [other pages...] [--full]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def main(base: str, pages: list[str], out: Path = Path("docs"), full: bool = False) -> None:
    out.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 3600 if full else 1000})
        page.goto(base)
        page.wait_for_selector("h1", timeout=30_000)
        for name in pages:
            page.goto(f"{base}/{'' if name == 'overview' else name}")  # the default page lives at /
            page.wait_for_selector("h1", timeout=30_000)
            page.wait_for_timeout(2500)  # let tables and charts finish drawing
            page.screenshot(path=str(out / f"{name}-page.png"), full_page=full)
            print(out / f"{name}-page.png")
        browser.close()


if __name__ == "__main__":
    args = [a for a in sys.argv[2:] if a != "--full"]
    main(sys.argv[1], args, out=Path("/tmp/shots") if "--full" in sys.argv else Path("docs"), full="--full" in sys.argv)
