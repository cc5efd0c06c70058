"""Files the dashboard hands out: CSV/XLSX tables safe to open in a spreadsheet, chart images, the review pack."""

from __future__ import annotations

import base64
import html
import io
import math
import threading
from datetime import datetime

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


_kaleido_lock = threading.Lock()
_kaleido_started = False


def image(fig: go.Figure, fmt: str, width: int = 1100) -> bytes:
    """PNG or SVG through kaleido, which drives the system Chromium; the browser starts once per process
    (not per chart). The figure's own width and height (a stamped snapshot's size) win over `width`."""
    global _kaleido_started
    import kaleido

    with _kaleido_lock:
        if not _kaleido_started:
            kaleido.start_sync_server(silence_warnings=True)
            _kaleido_started = True
        height = int(fig.layout.height or 450)
        width = int(fig.layout.width or width)
        return kaleido.calc_fig_sync(fig.to_dict(), opts=dict(format=fmt, width=width, height=height,
                                                              scale=2 if fmt == "png" else 1))


def review_pack(title: str, as_of: datetime | None, sections: list[tuple], actions: pl.DataFrame,
                printable: bool = False) -> str:
    """One self-contained HTML file: every chart (plotly.js inlined once, or PNG images for print), the
    tables and the open actions. A section is (heading, items) — an item is a table, a figure, a PNG data
    URI, or ("h3"|"p", text) — or (heading, figures, table)."""
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class='meta'>Data as of {html.escape(str(as_of) if as_of else 'n/a')} · "
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
            elif isinstance(item, go.Figure):
                parts.append(pio.to_html(item, full_html=False, include_plotlyjs="inline" if first else False))
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
    no JavaScript needed (the charts are images), no header or footer."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    from store.errors import FAILURE, TandemError

    browser = shutil.which("chromium") or CHROMIUM
    with tempfile.TemporaryDirectory(prefix="tandem-pdf-") as tmp:
        src, out = Path(tmp) / "pack.html", Path(tmp) / "pack.pdf"
        src.write_text(page, encoding="utf-8")
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", f"--user-data-dir={tmp}/profile",
               f"--print-to-pdf={out}", src.as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TandemError(f"Chromium could not print the pack ({exc}); is `chromium` installed?", FAILURE) from None
        if not out.exists() or out.stat().st_size == 0:
            raise TandemError("Chromium printed no PDF: " + done.stderr.decode(errors="replace")[-300:], FAILURE)
        return out.read_bytes()


def _table(df: pl.DataFrame) -> str:
    """Every cell escaped and visible: supplier names and notes are data, never markup or hidden text."""
    head = "".join(f"<th>{html.escape(safe_text.visible(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(_cell(safe_text.visible('' if v is None else str(v))) for v in row) + "</tr>"
                   for row in df.iter_rows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


SHORT_CELL = 20  # characters: a date, an id or an amount is never broken across lines (2026-01-01 broke at "-")


def _cell(text: str) -> str:
    return f"<td class='nw'>{html.escape(text)}</td>" if len(text) <= SHORT_CELL else f"<td>{html.escape(text)}</td>"
