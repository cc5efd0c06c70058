"""Data shown as data: text from exports made visible, inert in spreadsheets and literal in a terminal.

Names, categories and notes come from whoever produced an export. Wherever the product shows or writes
them, they go through here:

- `visible(text)`: bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C), zero-width characters
  (U+200B–U+200D, U+2060, U+FEFF), every other invisible format character (Unicode category Cf), control
  characters and line/paragraph separators are shown as a marker such as `⟨U+202E⟩`, so
  `abc\u202etxt.exe` reads `abc⟨U+202E⟩txt.exe`, never "abcexe.txt".
- `cell(value)`: a text cell a spreadsheet would run as a formula (OWASP: it starts with = + - @, tab or
  CR, also after leading spaces) gets a leading apostrophe; numbers are never touched.
- `rich(value)`: a Rich `Text` (never parsed as markup), made visible: `[/bold]` prints as itself.
- `label(text, max_len)`: a chart label made visible, HTML-escaped (plotly renders a subset of HTML in
  labels) and capped in length; `labels(values)` keeps capped labels of distinct values distinct.
- `table(df)`: a frame for display or download with every text column made visible and neutralised.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from rich.text import Text

if TYPE_CHECKING:
    import polars as pl

# What must never pass unseen: control characters (Cc; tab, LF and CR are layout: CSV quotes them, Rich
# strips CR, and spreadsheets are guarded by `cell`), format characters (Cf: bidi controls, zero-width
# characters, the BOM, invisible operators, tag characters) and line/paragraph separators.
_HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp"))
KEEP = "\t\n\r"
# The same set for polars (Rust regex), a cheap test of a column before any Python runs on a cell.
_HIDDEN_RE = r"[[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]--[\t\n\r]]"


def marker(ch: str) -> str:
    return f"⟨U+{ord(ch):04X}⟩"


def _hidden(ch: str) -> bool:
    return ch not in KEEP and unicodedata.category(ch) in _HIDDEN_CATEGORIES


def visible(text: Any) -> Any:
    """`text` with every invisible or direction-changing character shown as ⟨U+XXXX⟩; not text: as is."""
    if not isinstance(text, str) or text.isprintable():  # (the common case: no control or format character)
        return text
    return "".join(marker(ch) if _hidden(ch) else ch for ch in text)


# OWASP "CSV Injection": a cell starting with one of these is a formula to Excel, LibreOffice or Sheets.
# Leading spaces do not stop LibreOffice from reading ` =1+1` as a formula, so they are looked through.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "＝", "＋", "－", "＠")
_FORMULA_RE = r"^[ \t\r\n\x00]*[=+\-@\t\r\n\x00＝＋－＠]"
_FORMULA_PY = re.compile(_FORMULA_RE)


def cell(value: Any) -> Any:
    """A spreadsheet cell that cannot run: formula-like text prefixed with `'`; numbers and None as they are."""
    if isinstance(value, str) and _FORMULA_PY.match(value):
        return "'" + value
    return value


def rich(value: Any) -> Text:
    """A table cell or message for Rich: literal text (markup and emoji codes are not interpreted), visible."""
    return Text("" if value is None else str(visible(str(value))))


def escape(value: Any) -> str:
    """The same as a string for `Console.print` with markup on (where a `Text` cannot be used)."""
    from rich.markup import escape as _escape

    return _escape(visible("" if value is None else str(value)))


MAX_LABEL = 60


def label(text: Any, max_len: int = MAX_LABEL) -> str:
    """A chart label: visible, capped to `max_len` characters (an ellipsis marks the cut), HTML-escaped so
    plotly shows `<b>x</b>` as written. Cap first, escape second: an entity is never cut in half."""
    s = visible("" if text is None else str(text))
    s = s.replace("\n", " ").replace("\r", " ")
    if len(s) > max_len:
        s = s[: max(1, max_len - 1)] + "…"
    return html.escape(s, quote=False)


def labels(values: Any, max_len: int = MAX_LABEL) -> list[str]:
    """`label` of each value, kept distinct: two long names with the same start must stay two bars, so a
    repeated capped label gets ` #2`, ` #3` (within `max_len`)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    firsts: dict[str, Any] = {}
    for v in values:
        text = label(v, max_len)
        if text in firsts and firsts[text] != v:
            seen[text] = seen.get(text, 1) + 1
            tag = f" #{seen[text]}"
            text = label(v, max_len - len(tag)) + tag
        firsts.setdefault(text, v)
        out.append(text)
    return out


def label_map(values: Any, max_len: int = MAX_LABEL) -> dict[Any, str]:
    """{value: its chart label} over all values of a dimension at once, so every trace of a chart shows one
    value under one label: `names = label_map(df[dim].unique(maintain_order=True))`, x=[names[v] for v in ...]."""
    distinct = list(dict.fromkeys(values))
    return dict(zip(distinct, labels(distinct, max_len), strict=True))


def _column(s: pl.Series, fn: Any, pattern: str) -> pl.Series:
    """`fn` applied to the cells of a text column that match `pattern`: a vectorised test, Python only
    on the (rare) matches."""
    hit = s.str.contains(pattern).fill_null(False)
    if not hit.any():
        return s
    idx = hit.arg_true()
    return s.scatter(idx, [fn(v) for v in s.gather(idx).to_list()])


def visible_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Every text column made visible (column names too)."""
    import polars as pl  # here: `tandem --help` and the CLI's error lines import no polars

    out = df.with_columns(_column(df[c], visible, _HIDDEN_RE) for c, t in df.schema.items() if t == pl.String)
    return out.rename({c: visible(c) for c in out.columns if visible(c) != c})


def neutralise(df: pl.DataFrame) -> pl.DataFrame:
    """Every text cell a spreadsheet would run, prefixed with `'`; numbers, dates and booleans untouched."""
    import polars as pl  # here: `tandem --help` and the CLI's error lines import no polars

    out = df.with_columns(_column(df[c], cell, _FORMULA_RE) for c, t in df.schema.items() if t == pl.String)
    return out.rename({c: cell(c) for c in out.columns if cell(c) != c})


def table(df: pl.DataFrame) -> pl.DataFrame:
    """A frame to show or hand out: text visible and inert. Column names get the same treatment."""
    return neutralise(visible_frame(df))


def sheet_name(name: str) -> str:
    """An XLSX sheet name: at most 31 characters, none of []:*?/\\, not empty."""
    return re.sub(r"[\[\]:*?/\\]", "_", visible(name))[:31] or "data"


# Streamlit's own table export (the "Download as CSV" toolbar button and clipboard copy of st.dataframe,
# st.data_editor and chart table views) writes raw cells. Streamlit 1.67 has no per-table switch; the
# config option `client.disableDataExport` hides it. Pass the flag to `streamlit run` (process-wide,
# before the first session), e.g. in tandem/serve.py: cli.main(["run", APP, *STREAMLIT_FLAGS, ...]).
STREAMLIT_OPTIONS = {"client.disableDataExport": True}
STREAMLIT_FLAGS = [f"--{k}={str(v).lower()}" for k, v in STREAMLIT_OPTIONS.items()]
