"""Files the dashboard hands out: CSV/XLSX tables safe to open in a spreadsheet, chart images, the review pack."""

from __future__ import annotations

import asyncio
import atexit
import base64
import html
import io
import math
import os
import shutil
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
import xlsxwriter

from reports import safe_text

FORMULA_START = safe_text.FORMULA_START
# xlsxwriter turns text into formulas, numbers and live links by default (`external:\\host\share\x.exe`
# becomes a file:/// link): text is written as text.
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                "in_memory": True}


def neutralise(df: pl.DataFrame) -> pl.DataFrame:
    """The frame as the product hands it out: categorical columns as text, every text cell visible
    (bidi and zero-width characters as ⟨U+XXXX⟩) and inert (formula-like text prefixed with `'`);
    numbers stay numbers, negatives included."""
    cats = [c for c, t in df.schema.items() if isinstance(t, (pl.Categorical, pl.Enum))]
    return safe_text.table(df.with_columns(pl.col(cats).cast(pl.String)) if cats else df)


def to_csv(df: pl.DataFrame) -> bytes:
    """UTF-8 CSV; a field with a separator, quote, CR or LF is quoted (polars' `necessary` quoting)."""
    return neutralise(df).write_csv().encode("utf-8")


def number_format(unit: str | None, currency: str = "EUR") -> str:
    """The Excel number format of a unit: thousands separators, negatives in parentheses, the unit in the
    format (so a cell stays a number a spreadsheet can sum)."""
    if unit == "ratio":
        return "0.0%;(0.0%)"
    if unit == "days":
        return '#,##0.0" days";(#,##0.0" days")'
    if unit == "integer":
        return "#,##0;(#,##0)"
    if unit in (None, "number"):
        return "#,##0.00;(#,##0.00)"
    code = currency if unit == "currency" else unit
    return f'"{code} "#,##0;"{code} "(#,##0)'


def to_xlsx(df: pl.DataFrame, sheet: str = "data", header: list[str] | None = None,
            units: dict[str, str] | None = None, currency: str = "EUR") -> bytes:
    """One sheet: the header block (`header`: period, filters, definition versions, data as-of), then the
    table with a frozen header row and an autofilter. Numbers are numbers with a number format (`units`
    names a column's unit, else by type), dates are dates; text is neutralised and written as text."""
    out = neutralise(df)
    units = units or {}
    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf, XLSX_OPTIONS) as wb:
        ws = wb.add_worksheet(safe_text.sheet_name(sheet))
        bold, head = wb.add_format({"bold": True}), wb.add_format({"bold": True, "bottom": 1, "text_wrap": True})
        fmts: dict[str, object] = {}

        def fmt(code: str) -> object:
            if code not in fmts:
                fmts[code] = wb.add_format({"num_format": code})
            return fmts[code]

        top = 0
        for i, line in enumerate(header or []):
            ws.write_string(i, 0, safe_text.table(pl.DataFrame({"x": [line]}))["x"][0], bold if i == 0 else None)
            top = i + 2  # a blank row between the block and the table
        cols = []
        for j, (name, dtype) in enumerate(out.schema.items()):
            ws.write_string(top, j, safe_text.visible(name), head)
            if dtype == pl.Date:
                cols.append(("date", fmt("yyyy-mm-dd"), 12))
            elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
                cols.append(("date", fmt("yyyy-mm-dd hh:mm"), 17))
            elif dtype.is_numeric():
                unit = units.get(name) or ("integer" if dtype.is_integer() else None)
                cols.append(("number", fmt(number_format(unit, currency)), 16))
            else:
                width = min(60, max([len(name), *(len(str(v)) for v in out[name].head(500).to_list() if v)]) + 2)
                cols.append(("text", None, width))
        for j, (_kind, f, width) in enumerate(cols):
            ws.set_column(j, j, max(width, min(len(out.columns[j]) + 2, 40)), f)
        for i, row in enumerate(out.iter_rows(), start=top + 1):
            for j, v in enumerate(row):
                kind, f, _ = cols[j]
                if v is None or (kind == "number" and isinstance(v, float) and not math.isfinite(v)):
                    continue
                if kind == "number":
                    ws.write_number(i, j, float(v), f)
                elif kind == "date":
                    ws.write_datetime(i, j, v, f)
                else:
                    ws.write_string(i, j, str(v))
        ws.freeze_panes(top + 1, 0)
        if out.width:
            ws.autofilter(top, 0, top + max(out.height, 1), out.width - 1)
    return buf.getvalue()


def short_tmpdir(prefix: str) -> str | None:
    """A folder of its own under /tmp when the temporary folder's path is long, else None. Chromium keeps a
    socket under $TMPDIR, and a socket's path has at most 107 bytes: under a long TMPDIR (a test's folder,
    macOS's /var/folders/...) the browser quit at once. Give a browser this as its TMPDIR, and remove it after."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp") if len(tempfile.gettempdir()) > 40 else None


class _Charts:
    """One Kaleido (a headless Chromium drawing Plotly figures) per process, on an event loop of its own, asked
    with a time limit. Kaleido's own sync server waits forever when its browser fails to start (two packs
    starting at once once hit it: the command hung); here a failed start is retried once, then is a sentence."""

    START_S, DRAW_S = 120.0, 120.0

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.kaleido: Any = None
        self.short: str | None = None  # the short temporary folder of the browser's profile, when one was needed
        atexit.register(self.close)

    def _open(self) -> None:
        import kaleido

        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="tandem-kaleido", daemon=True).start()
        self.kaleido = kaleido.Kaleido()
        # under a long TMPDIR the browser needs a short one (short_tmpdir); it reads TMPDIR itself, Python's
        # tempfile (the profile choreographer makes) its own copy
        before, env = tempfile.tempdir, os.environ.get("TMPDIR")
        self.short = short_tmpdir("tandem-charts-")
        if self.short:
            tempfile.tempdir = os.environ["TMPDIR"] = self.short
        try:
            asyncio.run_coroutine_threadsafe(self.kaleido.open(), self.loop).result(self.START_S)
        finally:
            tempfile.tempdir = before
            if env is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = env

    def close(self) -> None:
        """Close the browser (at exit), then remove its short temporary folder if it had one."""
        if self.kaleido is not None and self.loop is not None:
            try:
                asyncio.run_coroutine_threadsafe(self.kaleido.close(), self.loop).result(15)
            except Exception:  # noqa: BLE001, S110 - closing at exit: nothing left to tell
                pass
        self._reset()
        if self.short:
            shutil.rmtree(self.short, ignore_errors=True)

    def _reset(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.loop, self.kaleido = None, None

    def draw(self, fig: dict, opts: dict) -> bytes:
        from store.errors import FAILURE, TandemError

        with self.lock:
            for attempt in (1, 2):
                try:
                    if self.kaleido is None:
                        self._open()
                    assert self.loop is not None
                    return asyncio.run_coroutine_threadsafe(self.kaleido.calc_fig(fig, opts=opts), self.loop).result(
                        self.DRAW_S)
                except Exception as exc:  # noqa: BLE001 - the browser's start or a draw: retried once, then said
                    self._reset()
                    if attempt == 2:
                        raise TandemError(f"Chromium could not draw the charts ({type(exc).__name__}: {exc}); try "
                                          "again, or export the HTML pack (`tandem pack --format html`).",
                                          FAILURE) from None
        raise AssertionError("unreachable")


_charts = _Charts()


def image(fig: go.Figure, fmt: str, width: int = 1100) -> bytes:
    """PNG or SVG through Kaleido, which drives the system Chromium; the browser starts once per process
    (not per chart). The figure's own width and height (a stamped snapshot's size) win over `width`."""
    fig = safe_text.figure(fig)  # whoever built it: nothing in a snapshot is read as markup
    height = int(fig.layout.height or 450)
    width = int(fig.layout.width or width)
    return _charts.draw(fig.to_dict(), dict(format=fmt, width=width, height=height, scale=2 if fmt == "png" else 1))


def review_pack(title: str, as_of: datetime | None, sections: list[tuple], actions: pl.DataFrame,
                printable: bool = False) -> str:
    """One self-contained HTML file: every chart (plotly.js inlined once, or PNG images for print), the
    tables and the open actions. A section is (heading, items) — an item is a table, a figure, a PNG data
    URI, or ("h3"|"p", text) — or (heading, figures, table)."""
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class='meta'>Data as of {f'{as_of:%Y-%m-%d %H:%M}' if as_of else 'n/a'} · "
             f"generated {datetime.now():%Y-%m-%d %H:%M}</p>"]
    first = True
    for section in sections:
        heading, items = section[0], list(section[1])
        if len(section) == 3:
            items = ([section[2]] if section[2] is not None else []) + items
        parts.append(f"<section><h2>{html.escape(heading)}</h2>")
        for item in items:
            if isinstance(item, pl.DataFrame):
                if item.height:
                    parts.append(_table(item))
            elif isinstance(item, go.Figure) and printable:  # print: an image (a script drew its toolbar too)
                parts.append(f"<img class='chart' src='{png_data_uri(safe_text.figure(item))}' alt=''>")
            elif isinstance(item, go.Figure):
                parts.append(pio.to_html(safe_text.figure(item), full_html=False,
                                         include_plotlyjs="inline" if first else False))
                first = False
            elif isinstance(item, str) and item.startswith("data:image/png;base64,"):
                parts.append(f"<img class='chart' src='{item}' alt=''>")
            elif isinstance(item, tuple) and item[0] == "wide" and item[1].startswith("data:image/png;base64,"):
                parts.append(f"<img class='chart wide' src='{item[1]}' alt=''>")
            elif isinstance(item, tuple) and item[0] in ("h3", "p"):
                parts.append(f"<{item[0]}>{html.escape(safe_text.visible(item[1]))}</{item[0]}>")
        parts.append("</section>")
    parts.append("<section><h2>Open actions</h2>")
    parts.append(_table(actions) if actions.height else "<p>No open actions.</p>")
    parts.append("</section>")
    style = ("body{font-family:Arial,sans-serif;max-width:1150px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
             ".meta{color:#666}img.chart{width:100%;margin:.5em 0}td.nw{white-space:nowrap}")
    if printable:  # A4 landscape, a KPI per page, no row or chart cut across pages
        style += ("@page{size:A4 landscape;margin:12mm}body{max-width:none;margin:0;font-size:11px}"
                  "section{break-before:page}section:first-of-type{break-before:auto}"
                  "img.chart{width:49.5%;display:inline-block;vertical-align:top;break-inside:avoid}"
                  "img.chart.wide{width:100%;max-height:120mm;object-fit:contain;object-position:left}"
                  "table{font-size:10px;width:100%;table-layout:auto}td{overflow-wrap:break-word}"
                  "tr{break-inside:avoid}h2{margin:.2em 0}h3{margin:.4em 0 0}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


def png_data_uri(fig: go.Figure, width: int = 1000) -> str:
    return "data:image/png;base64," + base64.b64encode(image(fig, "png", width)).decode("ascii")


CHROMIUM = "/usr/bin/chromium"


def print_pdf(page: str, timeout_s: float = 120) -> bytes:
    """An HTML page printed to PDF by headless Chromium (the browser kaleido already drives): no network,
    no JavaScript needed (the charts are images), no header or footer.

    Every run has its own browser profile in a fresh temporary folder, removed afterwards. Chromium's helper
    processes (crash handler, utility processes) can outlive the main one and still write into the profile:
    removing it then failed about once in ten runs ("Directory not empty: 'Default'"). So the browser runs in
    a process group of its own, which is ended before the folder is removed."""
    import tempfile

    from store.errors import FAILURE, TandemError

    browser = shutil.which("chromium") or CHROMIUM
    tmp = Path(tempfile.mkdtemp(prefix="tandem-pdf-"))
    sockets = short_tmpdir("tandem-pdf-")  # the browser's own TMPDIR when ours is too long for its socket
    try:
        src, out, profile = tmp / "pack.html", tmp / "pack.pdf", tmp / "profile"
        src.write_text(page, encoding="utf-8")
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", f"--user-data-dir={profile}",
               "--no-first-run", "--no-default-browser-check", "--disable-breakpad", "--disable-crash-reporter",
               f"--print-to-pdf={out}", src.as_uri()]
        stderr = _run_browser(cmd, timeout_s, os.environ | {"TMPDIR": sockets} if sockets else None)
        if not out.exists() or out.stat().st_size == 0:
            raise TandemError("Chromium printed no PDF: " + stderr.decode(errors="replace")[-300:], FAILURE)
        return out.read_bytes()
    finally:
        _remove(tmp)
        if sockets:
            _remove(Path(sockets))


def _run_browser(cmd: list[str], timeout_s: float, env: dict[str, str] | None = None) -> bytes:
    """Run a headless browser in its own process group and end the whole group when it is done (or too slow);
    returns its error output. The group is ended before the browser is reaped: until then its number cannot be
    given to another process group (say another run's browser), so nothing else is ever killed."""
    import os
    import signal
    import subprocess
    import tempfile
    import time

    from store.errors import FAILURE, TandemError

    with tempfile.TemporaryFile() as err:  # a file, not a pipe: a helper that keeps it open blocks nobody
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True, env=env)
        except OSError as exc:
            raise TandemError(f"Chromium could not print the pack ({exc}); is `chromium` installed?", FAILURE) from None
        deadline = time.monotonic() + timeout_s
        try:
            # exited, but not reaped (WNOWAIT): the process group's number stays this run's
            while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                if time.monotonic() > deadline:
                    raise TandemError(f"Chromium did not print the pack within {timeout_s:.0f} s; try again, or print "
                                      "the HTML pack (`tandem pack --format html`) from a browser.", FAILURE)
                time.sleep(0.05)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # its helpers, still running or not
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        err.seek(0)
        return err.read()


def _remove(folder: Path) -> None:
    """Remove a temporary folder; a file a dying helper process writes late is retried, never an error."""
    import shutil
    import time

    for _ in range(20):
        try:
            shutil.rmtree(folder)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)
    shutil.rmtree(folder, ignore_errors=True)


def _table(df: pl.DataFrame) -> str:
    """Every cell escaped and visible: supplier names and notes are data, never markup or hidden text."""
    head = "".join(f"<th>{html.escape(safe_text.visible(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(_cell(safe_text.visible('' if v is None else str(v))) for v in row) + "</tr>"
                   for row in df.iter_rows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


SHORT_CELL = 20  # characters: a date, an id or an amount is never broken across lines (2026-01-01 broke at "-")


def _cell(text: str) -> str:
    return f"<td class='nw'>{html.escape(text)}</td>" if len(text) <= SHORT_CELL else f"<td>{html.escape(text)}</td>"
