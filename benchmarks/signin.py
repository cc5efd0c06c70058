"""Sign-in benchmark: where the seconds of a sign-in go, with the local OpenID Connect provider of the tests.

    uv run python benchmarks/signin.py                 # the demo data, three sign-ins on one fresh server
    uv run python benchmarks/signin.py --runs 5 --typing 4 --db data/tandem.duckdb

Starts tests/oidc/provider.mjs (run `npm ci` in tests/oidc first) and `tandem serve` with login, then drives
Debian's chromium through the whole flow: Tandem's sign-in page, the provider's form (--typing seconds spent
typing there, as a person does), back to Tandem, signed in, the Overview's first number, the Overview complete.
Each step is shown with its wall time and the CPU seconds Tandem's server and the provider spent on it: on a
shared machine the wall time grows with the load, the CPU seconds are what the step costs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OIDC = ROOT / "tests" / "oidc"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="a Tandem database (default: the demo, built here)")
    parser.add_argument("--runs", type=int, default=3, help="sign-ins, one after the other, on one fresh server")
    parser.add_argument("--typing", type=float, default=3.0, help="seconds spent at the provider's form")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tandem-signin-"))
    db = folder / "tandem.duckdb"
    if args.db:
        shutil.copy(args.db, db)
    else:
        subprocess.run([sys.executable, "-m", "cli.main", "demo", "--db", str(db), "--out", str(folder / "exports")],
                       cwd=ROOT, check=True, capture_output=True)
    provider_port, app_port = _port(), _port()
    redirect = f"http://localhost:{app_port}/oauth2callback"
    (folder / "secrets.toml").write_text(f"""[auth]
redirect_uri = "{redirect}"
cookie_secret = "benchmark-only-cookie-secret-0123456789"
client_id = "tandem"
client_secret = "benchmark-only-client-secret"
server_metadata_url = "http://127.0.0.1:{provider_port}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid email profile groups", prompt = "login" }}
""")
    (folder / "roles.toml").write_text('[users]\n"finance@example.com" = { team = "finance", role = "editor" }\n')
    provider = subprocess.Popen(["node", "provider.mjs", str(provider_port), "tandem", "benchmark-only-client-secret",
                                 redirect], cwd=OIDC, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env = os.environ | {"TANDEM_DB": str(db), "TANDEM_AUTH_SECRETS": str(folder / "secrets.toml"),
                        "TANDEM_ROLES_FILE": str(folder / "roles.toml")}
    env.pop("TANDEM_ROLES", None)
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "tandem.serve", "--server.headless", "true", "--server.port",
                               str(app_port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert provider.stdout is not None and provider.stdout.readline().startswith("ready")
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{app_port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        print(f"server started: {time.monotonic() - started:.1f} s wall, {_cpu(server.pid):.2f} s CPU "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        _sign_ins(f"http://localhost:{app_port}", args.runs, args.typing, server.pid, provider.pid)
    finally:
        server.terminate()
        provider.terminate()
        server.wait(timeout=30)
        provider.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def _sign_ins(base: str, runs: int, typing: float, server: int, provider: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "chromium",
                                    args=["--no-sandbox", "--disable-gpu"])
        for run in range(1, runs + 1):
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            marks: list[tuple[str, float, float, float]] = []

            def mark(step: str, marks: list = marks) -> None:
                marks.append((step, time.monotonic(), _cpu(server), _cpu(provider)))

            mark("start")
            page.goto(base)
            page.get_by_role("button", name="Sign in").wait_for(timeout=300_000)
            mark("Tandem's sign-in page")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("http://127.0.0.1:*/interaction/**", timeout=300_000)
            mark("the provider's form")
            page.fill("input[name=login]", "finance@example.com")
            page.fill("input[name=password]", "any")
            time.sleep(typing)  # a person at the provider's form: Tandem imports its pages meanwhile (app.py)
            mark("typing at the provider")
            page.locator("button[type=submit]").click()
            page.wait_for_url(f"{base}/**", timeout=300_000)
            mark("back at Tandem")
            page.get_by_text("Fiona Finance · finance · editor").wait_for(timeout=300_000)
            mark("signed in")
            page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=300_000)
            mark("the Overview's first number")
            page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                   timeout=300_000)
            mark("the Overview complete")
            print(f"sign-in {run} (load average {os.getloadavg()[0]:.1f}):")
            waited = cpu = 0.0
            for (_, t0, s0, p0), (step, t1, s1, p1) in zip(marks, marks[1:], strict=False):
                print(f"  {step:30s} {t1 - t0:6.2f} s wall   Tandem {s1 - s0:5.2f} s CPU   provider {p1 - p0:5.2f} s CPU")
                if step != "typing at the provider":
                    waited += t1 - t0
                    cpu += s1 - s0
            print(f"  {'waited (typing left out)':30s} {waited:6.2f} s wall   Tandem {cpu:5.2f} s CPU")
            page.context.close()
        browser.close()


if __name__ == "__main__":
    main()
