"""Files the dashboard hands out: CSV/XLSX tables safe to open in a spreadsheet, chart images, the review pack."""

from __future__ import annotations

import html
import io
import threading
from datetime import datetime

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
import xlsxwriter

from tandem import safe_text

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


def to_xlsx(df: pl.DataFrame, sheet: str = "data") -> bytes:
    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf, XLSX_OPTIONS) as wb:
        neutralise(df).write_excel(wb, worksheet=safe_text.sheet_name(sheet), autofit=True)
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


def review_pack(title: str, as_of: datetime | None, sections: list[tuple[str, list[go.Figure], pl.DataFrame | None]],
                actions: pl.DataFrame) -> str:
    """One self-contained HTML file: every chart (plotly.js inlined once), the tables and the open actions."""
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class='meta'>Data as of {html.escape(str(as_of) if as_of else 'n/a')} · "
             f"generated {datetime.now():%Y-%m-%d %H:%M}</p>"]
    first = True
    for heading, figs, table in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if table is not None and table.height:
            parts.append(_table(table))
        for fig in figs:
            parts.append(pio.to_html(fig, full_html=False, include_plotlyjs="inline" if first else False))
            first = False
    parts.append("<h2>Open actions</h2>")
    parts.append(_table(actions) if actions.height else "<p>No open actions.</p>")
    style = ("body{font-family:Arial,sans-serif;max-width:1150px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
             ".meta{color:#666}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


def _table(df: pl.DataFrame) -> str:
    """Every cell escaped and visible: supplier names and notes are data, never markup or hidden text."""
    head = "".join(f"<th>{html.escape(safe_text.visible(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(safe_text.visible('' if v is None else str(v)))}</td>"
                                    for v in row) + "</tr>"
                   for row in df.iter_rows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
