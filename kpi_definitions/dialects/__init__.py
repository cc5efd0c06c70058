"""SQL per engine: the KPI SQL files call a small function library through one explicit template syntax, and each
engine renders those calls its own way (a second engine is a second module here, not a rewrite of the SQL).

The syntax, expanded when a query is rendered (so `explain` prints exactly what runs):

    @name(arg, arg, ...)     a function of the library; its arguments are SQL text, and may call others
    $name                    a parameter (the dialect says how its engine names one)

The library (each dialect module defines every function of `FUNCTIONS`; `tests/test_dialects.py` checks):

    month_ix(d)              the month of a date as one integer, year × 12 + month − 1
    month_start(m)           the first day of month index m, as a date
    days_in_month(m)         the days of month index m
    month_label(m)           month index m as 'YYYY-MM'
    days_between(a, b)       whole days from date a to date b (b − a)
    seconds_between(a, b)    seconds from timestamp a to timestamp b
    epoch_seconds(t)         a timestamp as seconds since 1970-01-01 00:00 UTC
    iso_dow(d)               day of the week, 1 = Monday .. 7 = Sunday
    rep_rate(ccy_col, rate, ccy)  what one unit of a row's currency is worth in the reporting currency
    fx_monthly()             FX rates by month index: a relation of (currency, m, rate)
    picked(sel, v)           the dimension filter: `sel` a list parameter (NULL for all), `v` the row's value
    div(a, b)                a ÷ b, NULL when b is 0 or NULL (never an error, never infinity)
    first_by(x, key)         x of the row with the smallest key among the rows where x is not NULL
    last_by(x, key)          x of the row with the largest key among the rows where x is not NULL
    join_sorted(x, sep)      the values of x joined by sep, in sorted order
    hash(a, ...)             a 64-bit hash of the values
    same(a, b)               a equals b, NULL equal to NULL
    text(x)                  x as text
    rows(list AS name TYPE, ...)  a relation of the parameter lists side by side (TYPE: INTEGER or VARCHAR)
    materialized()           the hint that a CTE is computed once (empty where an engine has none)

Why a library and not the SQL of one engine: the same words mean different things elsewhere. DuckDB's date_diff
counts boundaries crossed where Spark counts whole units; day-of-week numbering differs; arg_max skips NULLs in
DuckDB but not in Spark; an ordered list() loses its order; Spark 4 raises on a division by zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

from store.sql import Queries

FUNCTIONS = ("month_ix", "month_start", "days_in_month", "month_label", "days_between", "seconds_between",
             "epoch_seconds", "iso_dow", "rep_rate", "fx_monthly", "picked", "div", "first_by", "last_by",
             "join_sorted", "hash", "same", "text", "rows", "materialized")

_CALL = re.compile(r"@([a-z_][a-z0-9_]*)\(")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


class TemplateError(ValueError):
    """A call the library does not know, or one whose parentheses do not close."""


def dialect(name: str = "duckdb") -> ModuleType:
    """The function library of an engine (kpi_definitions/dialects/<name>.py)."""
    import importlib

    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"no SQL dialect {name!r}")
    try:
        return importlib.import_module(f"kpi_definitions.dialects.{name}")
    except ModuleNotFoundError:
        raise ValueError(f"no SQL dialect {name!r} (kpi_definitions/dialects/{name}.py)") from None


def _segments(text: str) -> list[tuple[bool, str]]:
    """The text cut into (is code, piece): comments are never expanded (a quoted `--` is no comment)."""
    out: list[tuple[bool, str]] = []
    i, start, quoted = 0, 0, False
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted  # '' inside a literal toggles twice: still inside
        elif not quoted and text.startswith("--", i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            out += [(True, text[start:i]), (False, text[i:end])]
            i = start = end
            continue
        i += 1
    out.append((True, text[start:]))
    return [(code, piece) for code, piece in out if piece]


def _close(code: str, i: int) -> int:
    """The index just past the parenthesis closing the one opened before `i` (parentheses in quotes ignored)."""
    depth, quoted = 1, False
    while i < len(code) and depth:
        ch = code[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted:
            depth += {"(": 1, ")": -1}.get(ch, 0)
        i += 1
    return i if not depth else -1


def _arguments(text: str) -> list[str]:
    """A call's arguments: split at the commas outside parentheses and quotes."""
    args, depth, current, quoted = [], 0, [], False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and ch == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    last = "".join(current).strip()
    return args + [last] if last or args else args


def _call(code: str) -> re.Match[str] | None:
    """The first call of the library in `code` outside quoted literals."""
    for m in _CALL.finditer(code):
        if code.count("'", 0, m.start()) % 2 == 0:
            return m
    return None


def _expand_code(code: str, functions: Mapping[str, Callable[..., str]]) -> str:
    while m := _call(code):
        name, i = m.group(1), _close(code, m.end())
        if i < 0:
            raise TemplateError(f"@{name}( is never closed")
        if name not in functions:
            raise TemplateError(f"@{name}() is no function of the SQL library (known: {', '.join(sorted(functions))})")
        inner = _expand_code(code[m.end():i - 1], functions)  # arguments first: they may call the library too
        code = code[:m.start()] + functions[name](*_arguments(inner)) + code[i:]
    return code


def expand(text: str, lib: ModuleType | None = None) -> str:
    """`text` with every @call of the library rendered by `lib` (DuckDB's by default) and every $parameter named
    as the engine names one; comments and quoted text are left as they are."""
    lib = lib or dialect()
    functions = {name: getattr(lib, name) for name in FUNCTIONS}
    out = []
    for code, piece in _segments(text):
        if code:
            piece = _PARAM.sub(lambda p: lib.param(p.group(1)), _expand_code(piece, functions))
        out.append(piece)
    return "".join(out)


def calls(text: str) -> set[str]:
    """The library's functions a text calls (comments and literals aside)."""
    return {m.group(1) for code, piece in _segments(text) if code for m in _CALL.finditer(piece)}


class Named:
    """The named SQL files of a folder (store.sql.Queries) with their library calls rendered for one engine."""

    def __init__(self, folder: Path, lib: ModuleType | None = None) -> None:
        self.queries = Queries(folder)
        self.lib = lib

    def __getitem__(self, name: str) -> str:
        return expand(self.queries[name], self.lib)

    def __contains__(self, name: str) -> bool:
        return name in self.queries

    def statements(self, name: str) -> list[str]:
        """The file's statements, one by one (DuckDB binds parameters one statement at a time)."""
        return [expand(s, self.lib) for s in self.queries.statements(name)]
