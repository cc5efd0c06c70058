"""The limits of docs/benchmarks.md, measured: (a) XLSX zip bombs (a sheet in xl/, one outside it named by the workbook's
relationships, one whose zip declares it 1 kB) through `tandem ingest`, `tandem mapping check` and `tandem
mapping draft`, each refused while its parts are inflated and counted; (b) an N-line invoice load into a
non-empty (demo) database, each in its own process under the configured TANDEM_MEMORY_LIMIT (default 2GB);
(c) a deeply nested and a very long mapping expression, refused.

    uv run python benchmarks/limits.py                  # 600 MB bomb, 3M invoice lines
    uv run python benchmarks/limits.py --bomb-mb 8 --rows 3000

Prints the exit status, wall time and peak memory (max RSS of the `tandem ingest` process) of each.
"""

from __future__ import annotations

import argparse
import os
import struct
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


ROW = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
SHEET = "xl/worksheets/sheet1.xml"
OUTSIDE = "data/sheet1.xml"  # a sheet outside xl/, named by the workbook's relationships


def _write_sheet(fh, sheet_mb: int, dimension_rows: int | None) -> None:  # noqa: ANN001 - a writable zip entry
    dim = f'<dimension ref="A1:E{dimension_rows}"/>' if dimension_rows else ""
    fh.write(f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main">{dim}<sheetData>'.encode())
    block = ROW * (1 << 14)
    for _ in range(max(1, (sheet_mb << 20) // len(block))):
        fh.write(block)
    fh.write(b"</sheetData></worksheet>")


def zip_bomb(good: Path, path: Path, sheet_mb: int, dimension_rows: int | None = None, outside: bool = False,
             declared_kb: int | None = None) -> Path:
    """`good` with its first sheet replaced by `sheet_mb` MB of rows that compress ~1000:1 (a zip bomb).

    `dimension_rows` declares that many rows in the sheet's <dimension> (the row-limit case); `outside`
    stores the sheet as `data/sheet1.xml`, outside `xl/`, with the workbook's relationships and content
    types pointing there; `declared_kb` makes the zip's local header and directory declare the sheet that
    small while its deflate stream still inflates to `sheet_mb` MB."""
    name = OUTSIDE if outside else SHEET
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == SHEET:
                with out.open(name, "w", force_zip64=declared_kb is None) as fh:  # deflated, at level 9
                    _write_sheet(fh, sheet_mb, dimension_rows)
                continue
            if outside and info.filename == "xl/worksheets/_rels/sheet1.xml.rels":
                continue  # the sheet's own links (its table) stay behind
            if outside and info.filename in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                data = data.replace(b'Target="worksheets/sheet1.xml"', b'Target="/data/sheet1.xml"')
                data = data.replace(b'PartName="/xl/worksheets/sheet1.xml"', b'PartName="/data/sheet1.xml"')
            out.writestr(info, data)
    if declared_kb is not None:
        _declare_size(path, name, declared_kb << 10)
    return path


def _declare_size(path: Path, name: str, size: int) -> None:
    """Make the zip's local header and central directory say entry `name` inflates to `size` bytes."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
        directory = z.start_dir  # type: ignore[attr-defined]
    raw = bytearray(path.read_bytes())
    struct.pack_into("<I", raw, info.header_offset + 22, size)  # local header: uncompressed size
    at = raw.index(b"PK\x01\x02", directory)
    while True:  # the central directory entry of `name`: uncompressed size at +24
        n, m, k = struct.unpack_from("<HHH", raw, at + 28)
        if raw[at + 46 : at + 46 + n] == name.encode():
            struct.pack_into("<I", raw, at + 24, size)
            break
        at += 46 + n + m + k
    path.write_bytes(bytes(raw))


def bomb(path: Path, sheet_mb: int, **how: object) -> Path:
    """A budgets workbook whose first sheet is `sheet_mb` MB of rows that compress ~1000:1 (`how`: see zip_bomb)."""
    good = path.with_name("good.xlsx")
    pl.DataFrame([{**BUDGET, "cost_center": f"C{i:06d}"} for i in range(3)]).write_excel(good)
    zip_bomb(good, path, sheet_mb, **how)  # type: ignore[arg-type]
    good.unlink()
    return path


VARIANTS = {"sheet in xl/": {}, "sheet outside xl/": {"outside": True}, "sheet declared 1 kB": {"declared_kb": 1}}


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
        mapping = work / "m.yaml"
        mapping.write_text("name: m\nexports:\n  budgets: {}\n", encoding="utf-8")
        print(f"(a) zip bombs of {args.bomb_mb} MB of sheet XML, on every path that reads a workbook:")
        for n, (variant, how) in enumerate(VARIANTS.items()):
            (work / str(n)).mkdir()
            f = bomb(work / str(n) / "budgets.xlsx", args.bomb_mb, **how)
            for label, cmd in (("ingest", ["ingest", str(f), "--db", str(work / "bomb.duckdb")]),
                               ("mapping check", ["mapping", "check", str(f), "--mapping", str(mapping)]),
                               ("mapping draft", ["mapping", "draft", str(f)])):
                code, s, gb, err = measured(*cmd)
                print(f"    {variant} ({f.stat().st_size / 1e6:.1f} MB on disk), {label}: exit {code}, {s:.1f} s, "
                      f"peak memory {gb:.2f} GB")
            print(f"      {err}")
        from pipelines.expr import compile_expr

        for label, expr in (("nested 5,000 deep", "(" * 5000 + "a" + ")" * 5000), ("240,000 characters",
                                                                                   "a" + "+a" * 120_000)):
            t = time.perf_counter()
            try:
                compile_expr(expr, lambda name: (name, name))
            except Exception as exc:  # noqa: BLE001 - what is measured is the refusal
                said = str(exc)[:90]
            print(f"(c) a mapping expression {label}: refused in {1000 * (time.perf_counter() - t):.1f} ms: {said}…")

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
