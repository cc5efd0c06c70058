"""What every browser test shares: the app served on a free port, Debian's Chromium driven by Playwright, and
waiting for the app to settle — never for a fixed time.

The app marks the end of each run (tandem/widgets.py `settled`): `settled(page)` waits until Streamlit says the
script is not running, no element is stale, and the app has finished a run after the one given, so a test
acts on what the page shows once it has shown everything."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync"]
SETTLED = """(after) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const mark = document.querySelector('[data-tandem-settled]');
    if (!app || !mark || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stElementContainer"][data-stale="true"]')) return false;
    return Number(mark.getAttribute('data-tandem-settled')) > after;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def up(url: str, timeout_s: float = 90) -> None:
    """Wait until an HTTP endpoint answers 200 (a server starting: there is no page to wait on yet)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if urllib.request.urlopen(url, timeout=1).status == 200:
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s") from None
            time.sleep(0.2)


@contextmanager
def serving(db: Path, env: dict[str, str] | None = None, args: list[str] | None = None) -> Iterator[str]:
    """`tandem serve` on `db` at a free port on 127.0.0.1, until the block ends; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tandem.serve", "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", *(args or [])],
        cwd=ROOT, env=os.environ | {"TANDEM_DB": str(db)} | (env or {}), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        up(f"{base}/_stcore/health")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


OIDC = ROOT / "tests" / "oidc"  # the OpenID Connect provider the login tests sign in with (npm's oidc-provider)


@contextmanager
def login_serving(db: Path, folder: Path, roles: str) -> Iterator[str]:
    """The test identity provider and `tandem serve` with login on `db`, roles from the TOML `roles`, until the
    block ends; yields the app's base URL (on `localhost`, a host name other than the provider's: own cookies)."""
    import shutil

    node = shutil.which("node")
    assert node, "the login tests need node (Debian: apt-get install nodejs)"
    assert (OIDC / "node_modules" / "oidc-provider").is_dir(), "run `npm ci` in tests/oidc (scripts/test.sh does)"
    provider_port, app_port = free_port(), free_port()
    redirect = f"http://localhost:{app_port}/oauth2callback"
    (folder / "secrets.toml").write_text(f"""
[auth]
redirect_uri = "{redirect}"
cookie_secret = "test-only-cookie-secret-0123456789"
client_id = "tandem"
client_secret = "test-only-client-secret"
server_metadata_url = "http://127.0.0.1:{provider_port}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid email profile groups", prompt = "login" }}
""")
    (folder / "roles.toml").write_text(roles)
    provider = subprocess.Popen([node, "provider.mjs", str(provider_port), "tandem", "test-only-client-secret", redirect],
                                cwd=OIDC, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env = os.environ | {"TANDEM_DB": str(db), "TANDEM_AUTH_SECRETS": str(folder / "secrets.toml"),
                        "TANDEM_ROLES_FILE": str(folder / "roles.toml")}
    env.pop("TANDEM_ROLES", None)
    with (folder / "serve.log").open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "tandem.serve", "--server.headless", "true",
                                   "--server.port", str(app_port)], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            assert provider.stdout is not None and provider.stdout.readline().startswith("ready http://127.0.0.1:")
            up(f"http://127.0.0.1:{app_port}/_stcore/health")
            yield f"http://localhost:{app_port}"
        finally:
            server.terminate()
            provider.terminate()
            server.wait(timeout=20)
            provider.wait(timeout=20)


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator:
    """A headless Chromium (Debian's, which scripts/test.sh installs) and one page of that size."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "the browser tests drive Debian's chromium, which scripts/test.sh installs"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
            yield context.new_page()
        finally:
            browser.close()


def runs(page) -> int:  # noqa: ANN001 - a Playwright page
    """How many runs the page's session has finished (0 before the first)."""
    mark = page.locator("[data-tandem-settled]")
    return int(mark.first.get_attribute("data-tandem-settled") or 0) if mark.count() else 0


def settled(page, after: int = 0, timeout_s: float = 120) -> int:  # noqa: ANN001
    """Wait until the app has finished a run after its `after`-th and shows no stale element; return the count.

    Call it after `goto`, or with `after=runs(page)` taken before a click or a choice that reruns the page."""
    page.wait_for_function(SETTLED, arg=after, timeout=timeout_s * 1000)
    return runs(page)


# Resolves at the first animation frame in which nothing scrolled: a scroll's event is dispatched at the next
# frame, before that frame's animation-frame callbacks, so once one frame passes with none, scrolling is over.
SCROLLED = """() => new Promise(done => {
    let scrolled = true;  // wait at least one whole frame
    const mark = () => { scrolled = true; };
    addEventListener('scroll', mark, true);
    const frame = () => {
        if (!scrolled) { removeEventListener('scroll', mark, true); done(); return; }
        scrolled = false;
        requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
})"""


def open_list(page, widget) -> None:  # noqa: ANN001 - Playwright objects
    """Open the list of a Streamlit selectbox or multiselect (`widget`), once its scrolling into view is over.

    A scroll of any box around the widget closes its open list (react-aria closes a popover when its trigger's
    scroll parent scrolls): a click on a widget below the sidebar's fold scrolls the sidebar first, and the
    browser dispatches that scroll a frame later, after the list has opened. So the widget is brought into view
    and the page left to finish scrolling before the click."""
    widget.scroll_into_view_if_needed()
    page.evaluate(SCROLLED)
    widget.locator("input").first.click()


def choose(page, label: str, option: str, rerun: bool = True) -> None:  # noqa: ANN001
    """Pick an option of a Streamlit selectbox or multiselect found by its label, and wait for the rerun.

    Inside an `st.form` a choice does not rerun the page: pass `rerun=False`."""
    before = runs(page)
    widget = page.locator('[data-testid="stSelectbox"], [data-testid="stMultiSelect"]').filter(has_text=label).first
    open_list(page, widget)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    if rerun:
        settled(page, before)


def metric_values(page) -> list[str]:  # noqa: ANN001
    """The values of every metric on the page, in order."""
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()
