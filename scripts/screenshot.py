"""Screenshots of the running app's pages with Debian's chromium (for docs/ and for looking at it), at
1440×900 (docs/<page>-page.png) and at 1024×768 (docs/<page>-page-1024.png).

    uv run python scripts/screenshot.py http://localhost:8501 overview data [other pages...] [--full]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


SIZES = {"": (1440, 900), "-1024": (1024, 768)}  # a laptop, and the smallest screen Tandem is made for


def main(base: str, pages: list[str], out: Path = Path("docs"), full: bool = False) -> None:
    out.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for suffix, (width, height) in SIZES.items():
            page = browser.new_page(viewport={"width": width, "height": 3600 if full else height})
            for name in pages:
                page.goto(f"{base}/{name}")
                page.wait_for_selector("h1", timeout=30_000)
                page.wait_for_timeout(8000)  # let tables and charts finish drawing
                path = out / f"{name}-page{suffix}.png"
                page.screenshot(path=str(path), full_page=full, timeout=120_000)
                print(path)
            page.close()
        browser.close()


if __name__ == "__main__":
    args = [a for a in sys.argv[2:] if a != "--full"]
    main(sys.argv[1], args, out=Path("/tmp/shots") if "--full" in sys.argv else Path("docs"), full="--full" in sys.argv)
