"""`tandem serve`: check the KPI declarations, choose a safe bind address and safe Streamlit settings, and start
the dashboard (tandem/asgi.py: app.py inside a Starlette app that blocks /_stcore/metrics and adds security
headers) so that app.py's st.navigation routes every URL, the very first deep link included."""

from __future__ import annotations

import ipaddress
import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from store.config import PROJECT_ROOT, Settings, settings

APP = PROJECT_ROOT / "app.py"
ASGI = Path(__file__).resolve().parent / "asgi.py"
LOOPBACK = "127.0.0.1"
NETWORK_FLAG = "--allow-no-login-on-network"

# Always passed (a later option on the command line still wins): nothing sent to Streamlit's usage statistics,
# error details and help links off for users (they see a short message with a reference; tandem/auth.py logs
# the detail), no developer menu or Deploy button, no static folder.
SAFE_FLAGS: tuple[str, ...] = (
    "--browser.gatherUsageStats", "false",
    "--client.showErrorDetails", "none",
    "--client.showErrorLinks", "false",
    "--client.toolbarMode", "viewer",
    # Streamlit's own table download writes raw cells (formulas included): Tandem's CSV/XLSX buttons are the safe ones
    "--client.disableDataExport", "true",
    "--server.enableStaticServing", "false",
)

# The headers every response gets (tandem/asgi.py). Streamlit needs inline styles and its websocket; the page
# loads nothing from another origin, and no other site may frame it.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
       "media-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
BLOCKED = ("/_stcore/metrics",)


class ServeRefused(Exception):
    pass


@dataclass(frozen=True)
class Plan:
    args: list[str]                      # for `streamlit run`
    address: str
    login: bool
    messages: list[str] = field(default_factory=list)


def _option(args: Sequence[str], name: str) -> str | None:
    """The value of a `--name value` or `--name=value` option (the last one wins, as in click)."""
    value = None
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def is_loopback(address: str) -> bool:
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost, or "" (every interface)


def secrets_files(cfg: Settings) -> list[Path]:
    """Where the login secrets are read from: TANDEM_AUTH_SECRETS, or Streamlit's usual places."""
    if cfg.auth_secrets is not None:
        return [cfg.auth_secrets]
    return [Path.home() / ".streamlit" / "secrets.toml", PROJECT_ROOT / ".streamlit" / "secrets.toml"]


def login_section(files: Sequence[Path]) -> dict | None:
    """The `[auth]` section of the secrets (later files win), if login is configured there."""
    auth: dict = {}
    for f in files:
        if f.is_file():
            try:
                auth |= tomllib.loads(f.read_text(encoding="utf-8")).get("auth") or {}
            except tomllib.TOMLDecodeError as exc:
                raise ServeRefused(f"{f} is not valid TOML ({exc}): fix it, or move it away to serve without login.") from None
    return auth or None


def plan(args: Sequence[str], cfg: Settings | None = None, env: Mapping[str, str] | None = None) -> Plan:
    """What to start: the arguments for `streamlit run` and what to say; ServeRefused when it is not safe."""
    cfg = cfg or settings()
    env = os.environ if env is None else env
    args = list(args)
    allow = NETWORK_FLAG in args
    args = [a for a in args if a != NETWORK_FLAG]
    files = secrets_files(cfg)
    if cfg.auth_secrets is not None and not cfg.auth_secrets.is_file():
        raise ServeRefused(f"TANDEM_AUTH_SECRETS names {cfg.auth_secrets}, which does not exist.")
    auth = login_section(files)
    if auth is not None:
        missing = [k for k in ("redirect_uri", "cookie_secret") if k not in auth]
        if missing:
            raise ServeRefused(f"The [auth] section of the secrets lacks {', '.join(missing)}: see the README, "
                               "\"Serving Tandem to a team\".")
    login = auth is not None
    requested = _option(args, "--server.address")
    if requested is None:
        requested = env.get("STREAMLIT_SERVER_ADDRESS")
    address = requested if requested is not None else LOOPBACK
    messages: list[str] = []
    if login:
        messages.append(f"Login is on: users sign in with the identity provider; roles from "
                        f"{'TANDEM_ROLES' if cfg.roles is not None else cfg.roles_file}.")
    if is_loopback(address):
        if requested is None and login:
            messages.append(f"Serving on {LOOPBACK} only (this machine): put a reverse proxy with TLS in front, or pass "
                            "--server.address to listen on the network (README: \"Serving Tandem to a team\").")
        elif requested is None:
            messages.append(f"Login is not configured: serving on {LOOPBACK} only (this machine). To serve a team, "
                            "configure login (README: \"Serving Tandem to a team\").")
    elif not login:
        shown = address or "every interface"
        if not allow:
            raise ServeRefused(f"Refusing to serve on {shown} without login: anyone who can reach it would read all "
                               f"spend and could upload files. Configure login (README: \"Serving Tandem to a "
                               f"team\"), or pass {NETWORK_FLAG} if this network is yours alone.")
        messages.append(f"WARNING: serving on {shown} WITHOUT LOGIN ({NETWORK_FLAG}): anyone who can reach this "
                        "address reads all spend, uploads files and changes review items.")
    else:
        messages.append(f"Serving on {address or 'every interface'}.")
    flags = [*SAFE_FLAGS, "--server.address", address]
    for f in files:
        flags += ["--secrets.files", str(f)]
    return Plan(args=[*flags, *args], address=address, login=login, messages=messages)


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
    try:
        chosen = plan(sys.argv[1:] if args is None else args)
    except ServeRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    for message in chosen.messages:
        print(message, file=sys.stderr)
    if said := upgrade():
        print(said, file=sys.stderr)
    # Streamlit treats a `pages/` folder next to the entry script as the legacy router until a session
    # has run st.navigation: a shared link opened first on a fresh server (say /savings?grain=quarter)
    # would run that page bare, without app.py's navigation. Our pages/ is st.navigation's, so say so.
    PagesManager.uses_pages_directory = False
    cli.main(["run", str(ASGI), *chosen.args], prog_name="streamlit")


def upgrade(cfg: Settings | None = None) -> str | None:
    """Before the first reader: rebuild facts an earlier version built (one writer, one transaction), so the
    pages do not each say "run `tandem refresh`" after an upgrade. What was done or why not, or None."""
    from kpi_definitions import facts
    from store.db import reading
    from store.errors import TandemError
    from workspace.db import connect

    cfg = cfg or settings()
    if not Path(cfg.db).is_file():
        return None
    try:
        with reading(cfg.db) as con:
            if not facts.outdated(con):
                return None
        con = connect(cfg.db, memory_limit=cfg.memory_limit, wait_s=cfg.lock_wait_s)  # rebuilds what is missing
        con.close()
    except TandemError as exc:  # busy or damaged: the pages say the same sentence, the server still starts
        return f"The KPI facts were built by an earlier version and could not be rebuilt now: {exc}"
    return f"The KPI facts of {cfg.db} were built by an earlier version of Tandem: rebuilt them for this one."


class SecurityHeaders:
    """ASGI middleware: 404 for Streamlit's metrics endpoint, and the security headers on every response."""

    def __init__(self, app) -> None:  # noqa: ANN001 - an ASGI app
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith(BLOCKED):
            from starlette.responses import PlainTextResponse

            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return

        async def send_with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


if __name__ == "__main__":
    main()
