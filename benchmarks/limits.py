"""The README's limits, measured: (a) `tandem ingest` of an XLSX zip bomb (refused from its zip directory) and
(b) an N-line invoice load into a non-empty (demo) database, each in its own process under the configured
TANDEM_MEMORY_LIMIT (default 2GB).

    uv run python benchmarks/limits.py                  # 600 MB bomb, 3M invoice lines
    uv run python benchmarks/limits.py --bomb-mb 8 --rows 3000

Prints the exit status, wall time and peak memory (max RSS of the `tandem ingest` process) of each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import generate  # noqa: E402

BUDGET = {"fiscal_period": "2026-01", "cost_center": "CC1", "category": "IT", "budget_amount": "1000",
          "currency": "EUR"}


def zip_bomb(good: Path, path: Path, sheet_mb: int, dimension_rows: int | None = None) -> Path:
    """`good` with its first sheet replaced by `sheet_mb` MB of rows that compress ~1000:1 (a zip bomb); a
    `dimension_rows` declares that many rows in the sheet's <dimension> (the tests' row-limit case)."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, src.read(info))
                continue
            with out.open(info.filename, "w", force_zip64=True) as fh:
                dim = f'<dimension ref="A1:E{dimension_rows}"/>' if dimension_rows else ""
                fh.write(f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                         f'spreadsheetml/2006/main">{dim}<sheetData>'.encode())
                block = row * (1 << 14)
                for _ in range(max(1, (sheet_mb << 20) // len(block))):
                    fh.write(block)
                fh.write(b"</sheetData></worksheet>")
    return path


def bomb(path: Path, sheet_mb: int) -> Path:
    """A budgets workbook whose first sheet is `sheet_mb` MB of rows that compress ~1000:1."""
    good = path.with_name("good.xlsx")
    pl.DataFrame([{**BUDGET, "cost_center": f"C{i:06d}"} for i in range(3)]).write_excel(good)
    zip_bomb(good, path, sheet_mb)
    good.unlink()
    return path


def measured(*args: str) -> tuple[int, float, float, str]:
    """A `tandem` command in its own process: exit status, wall seconds, its own peak memory in GB (wait4 on
    the one child, not the maximum over all children) and its last stderr line."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - t
    lines = [" ".join(ln.split()) for ln in err.splitlines() if ln.strip()]
    return proc.returncode, elapsed, usage.ru_maxrss / (1 << 20), lines[-1] if lines else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bomb-mb", type=int, default=600, help="sheet XML of the zip bomb, in MB (default 600)")
    ap.add_argument("--rows", type=int, default=3_000_000, help="invoice lines loaded into the demo database")
    ap.add_argument("--dir", type=Path, default=None, help="working folder (default: a temp folder)")
    args = ap.parse_args()
    limit = os.environ.get("TANDEM_MEMORY_LIMIT", "2GB")
    print(f"TANDEM_MEMORY_LIMIT={limit}  TANDEM_MAX_XLSX_UNPACKED_MB={os.environ.get('TANDEM_MAX_XLSX_UNPACKED_MB', '512')}"
          f"  TANDEM_MAX_XLSX_ROWS={os.environ.get('TANDEM_MAX_XLSX_ROWS', '1048576')}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        f = bomb(work / "budgets.xlsx", args.bomb_mb)
        code, s, gb, err = measured("ingest", str(f), "--db", str(work / "bomb.duckdb"))
        print(f"(a) zip bomb ({f.stat().st_size / 1e6:.1f} MB on disk, {args.bomb_mb} MB of sheet XML): exit {code}, "
              f"{s:.1f} s, peak memory {gb:.2f} GB")
        print(f"    {err}")

        db = work / "demo.duckdb"
        subprocess.run([sys.executable, "-m", "cli.main", "demo", "--db", str(db)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        csv = work / "invoices.csv"
        generate(args.rows, csv)
        code, s, gb, err = measured("ingest", str(csv), "--db", str(db))
        print(f"(b) {args.rows:,} invoice lines ({csv.stat().st_size / 1e6:,.0f} MB) into the demo database: exit "
              f"{code}, {s:.1f} s ({args.rows / s:,.0f} rows/s), peak memory {gb:.2f} GB")
        if err:
            print(f"    {err}")


if __name__ == "__main__" and sys.argv[1:2] != ["uploads"]:
    main()


# --- the server before login (issue 25, finding 2): `uv run python benchmarks/limits.py uploads` -----------------


def uploads() -> None:
    """Uploads and "clear cache" against a served Tandem with login configured (tests/served.py: real HTTP and
    websocket messages; the server's memory and held uploads from its own statistics).

        uv run python benchmarks/limits.py uploads                      # 6 uploads of 150 MB, as in issue 25
        uv run python benchmarks/limits.py uploads --files 2 --mb 1

    (a) N uploads from tabs that have not signed in; (b) the same from a signed-in editor, then the tabs
    closed, until the server has released them; (c) one upload over TANDEM_MAX_UPLOAD_MB; (d) an Overview run
    before and after "clear cache" messages from a tab that has not signed in."""
    import shutil
    import signal
    import socket

    from tests.served import Client, login_cookie, stats

    ap = argparse.ArgumentParser(prog="limits.py uploads", description=uploads.__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=6, help="uploads per case (default 6)")
    ap.add_argument("--mb", type=int, default=150, help="size of each upload in MB (default 150)")
    ap.add_argument("--ttl", type=int, default=10, help="server.disconnectedSessionTTL, seconds (default 10; "
                                                         "Streamlit's default is 120)")
    ap.add_argument("--dir", type=Path, default=None, help="working folder (default: a temp folder)")
    args = ap.parse_args(sys.argv[2:])
    secret = "benchmark-only-cookie-secret-0123456789"
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        db = work / "tandem.duckdb"
        subprocess.run([sys.executable, "-m", "cli.main", "demo", "--db", str(db)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        (work / "secrets.toml").write_text(f'[auth]\nredirect_uri = "{base}/oauth2callback"\ncookie_secret = '
                                           f'"{secret}"\nclient_id = "tandem"\nclient_secret = "x"\n'
                                           'server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n')
        (work / "roles.toml").write_text('[users]\n"editor@example.com" = { team = "finance", role = "editor" }\n')
        cap_mb = max(args.mb + 1, 200)
        env = os.environ | {"TANDEM_DB": str(db), "TANDEM_AUTH_SECRETS": str(work / "secrets.toml"),
                            "TANDEM_ROLES_FILE": str(work / "roles.toml"), "TANDEM_MAX_UPLOAD_MB": str(cap_mb),
                            "TANDEM_TEST_STATS": str(work / "stats.json")}
        env.pop("TANDEM_ROLES", None)
        server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "served.py"), "--server.headless", "true",
                                   "--server.port", str(port), "--server.disconnectedSessionTTL", str(args.ttl)],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            import urllib.request

            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.3)

            def held() -> str:
                s = stats(server.pid, work / "stats.json")
                return f"server {s['rss_bytes'] / 1e6:,.0f} MB resident, uploads held {s['upload_bytes'] / 1e6:,.0f} MB"

            data = b"x" * (args.mb << 20)
            print(f"TANDEM_MAX_UPLOAD_MB={cap_mb}  server.disconnectedSessionTTL={args.ttl} s  "
                  f"{args.files} uploads of {args.mb} MB")
            print(f"    at start: {held()}")
            tabs = [Client(base).connect() for _ in range(args.files)]
            sessions = [tab.run_page() for tab in tabs]
            codes, took = [], 0.0
            for tab, sid in zip(tabs, sessions, strict=True):
                codes.append(tab.upload("invoices.csv", data, sid))
                took += tab.upload_s
            print(f"(a) not signed in: HTTP {sorted(set(codes))}, {took / args.files:.3f} s an upload (refused before "
                  f"the body is read); {held()}")
            for tab in tabs:
                tab.close()
            cookie = login_cookie(secret, base, "editor@example.com")
            tabs = [Client(base, cookie).connect() for _ in range(args.files)]
            for tab in tabs:
                tab.run_page()
            codes, took = [], 0.0
            for tab in tabs:
                codes.append(tab.upload("invoices.csv", data, early_s=0))  # no early answer to wait for
                took += tab.upload_s
            print(f"(b) a signed-in editor: HTTP {sorted(set(codes))}, {took / args.files:.2f} s an upload; {held()}")
            t = time.perf_counter()
            for tab in tabs:
                tab.close()
            while stats(server.pid, work / "stats.json")["upload_bytes"] > 0:
                time.sleep(1)
            print(f"    tabs closed: released {time.perf_counter() - t:.0f} s after (the reconnect window, then the next "
                  f"sweep); {held()}")
            tab = Client(base, cookie).connect()
            tab.run_page()
            code = tab.upload("invoices.csv", b"x" * ((cap_mb + 2) << 20))
            print(f"(c) {cap_mb + 2} MB, over the cap: HTTP {code} in {tab.upload_s:.3f} s; {held()}")
            tab.close()
            reader = Client(base, cookie).connect()
            t = time.perf_counter()
            reader.run_page()
            first = time.perf_counter() - t
            t = time.perf_counter()
            reader.run_page()
            warm = time.perf_counter() - t
            cached = stats(server.pid, work / "stats.json")["cache_bytes"]
            anon = Client(base).connect()
            anon.run_page()
            for _ in range(3):
                anon.send("clear_cache")
            reader.send("clear_cache")  # a signed-in client's too
            t = time.perf_counter()
            reader.run_page()
            after = time.perf_counter() - t
            s = stats(server.pid, work / "stats.json")
            print(f"(d) Overview: first run {first:.1f} s, warm {warm:.1f} s; after 3 clear-cache messages from a tab "
                  f"not signed in and 1 from a signed-in one {after:.1f} s; results cache {cached / 1e3:,.0f} kB "
                  f"before them, {s['cache_bytes'] / 1e3:,.0f} kB after")
            for c in (reader, anon):
                c.close()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__" and sys.argv[1:2] == ["uploads"]:
    uploads()
