"""A request to the KPI layer and its SQL: what to compute (`Selection`), the text of a view's or a bridge's
query with the shared relations (`render`), its parameters (`params`), a query to run or explain (`Query`), and the
queries of a bridge (`bridge_queries`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType

from kpi_definitions.dialects import expand
from kpi_definitions.periods import FiscalCalendar, Grain
from kpi_definitions.registry import FILTERABLE, Registry, View, sql_code


@dataclass(frozen=True)
class Selection:
    """What to compute: the months of the range, the grain that groups them, the split and the filters."""

    first: int
    last: int
    grain: Grain = "month"
    by: tuple[str, ...] = ()
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """One query the KPI layer runs: what it computes, its SQL (exactly as it runs: the function library's calls
    are rendered for its engine, kpi_definitions/dialects/) and the values of its parameters."""

    label: str
    sql: str
    params: dict[str, object]

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", used(self.sql, self.params))  # only those its text names

    def text(self) -> str:
        """The query as a commented SQL statement, its parameter values listed above it."""
        values = "\n".join(f"--   ${k} = {_sql_value(v)}" for k, v in self.params.items())
        return f"-- {self.label}\n-- parameters:\n{values}\n{self.sql};\n"


def _sql_value(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_sql_value(v) for v in value) + "]"
    return str(value)


def render(reg: Registry, sql_name: str, bind: Mapping[str, str], dims: Sequence[str],
           lib: ModuleType | None = None) -> str:
    """The full query of a view or bridge: the shared relations it uses, then its own SQL with names bound.

    Only registry-checked names are ever put into the text; every value travels as a parameter. The shared
    relations it does not use are left out: DuckDB's client reads every query's text before running it, and
    all of sql/base.sql took 15-25 ms of that per query (a third of the KPIs' time on a small database).
    """
    return compose(reg, [], f"SELECT * FROM (\n{body(reg, sql_name, bind, dims)}\n)", lib)


_DIMS = re.compile(r"\{dims(?::([a-z]\w*))?\}")


def body(reg: Registry, sql_name: str, bind: Mapping[str, str], dims: Sequence[str]) -> str:
    """A view's or bridge's own SQL with its names bound and its split expanded: `{dims}` is ", d1, d2" and
    `{dims:x}` is ", x.d1, x.d2" (where two joined relations both carry the dimensions)."""
    text = _DIMS.sub(lambda m: "".join(f", {m.group(1) + '.' if m.group(1) else ''}{d}" for d in dims),
                     reg.sql(sql_name))
    for key, column in bind.items():
        text = text.replace("{" + key + "}", column)
    return text


def compose(reg: Registry, relations: Sequence[tuple[str, str]], final: str, lib: ModuleType | None = None) -> str:
    """One query: the shared relations of sql/base.sql that `relations` (name, SQL) and `final` use, then each of
    `relations` as a relation of its own, then `final`; its calls of the SQL function library rendered for the
    engine of `lib` (DuckDB's by default: kpi_definitions/dialects/)."""
    return _composed(reg.sql("base"), tuple(relations), final, lib)


@functools.lru_cache(maxsize=1024)
def _composed(base: str, relations: tuple[tuple[str, str], ...], final: str, lib: ModuleType | None) -> str:
    """compose's text, kept: a page asks for the same few dozen queries with other parameters (rendering one
    costs about a millisecond and a half of Python)."""
    text = "\n".join([*(b for _, b in relations), final])
    parts = [shared(base, text)] + [f"{name} AS (\nSELECT * FROM (\n{sql}\n)\n)" for name, sql in relations]
    return expand("WITH " + ",\n".join(p for p in parts if p) + "\n" + final, lib)


_RELATION = re.compile(r"^(\w+) AS (?:@materialized\(\) )?\($")  # the line a relation of sql/base.sql starts on


def shared(base: str, body: str) -> str:
    """The relations of `base` (a list of CTEs, each with the comment above it, each ending on a line of its
    own, `),`) that `body` uses, directly or through another, in their order."""
    texts: dict[str, str] = {}
    pending: list[str] = []  # the lines since the last relation ended: the next one's comment, then itself
    name = None
    for line in base.strip().splitlines():
        if name is None and (m := _RELATION.match(line)):
            name = m.group(1)
        pending.append(line)
        if name is not None and line in ("),", ")"):
            texts[name] = "\n".join(pending).removesuffix(",")
            pending, name = [], None
    words = set(re.findall(r"\w+", body))
    needed: set[str] = set()
    for name in reversed(texts):  # a relation refers only to those before it
        if name in words:
            needed.add(name)
            words |= set(re.findall(r"\w+", texts[name]))
    return ",\n".join(texts[n] for n in texts if n in needed)


def used(sql: str, params: Mapping[str, object]) -> dict[str, object]:
    """The parameters `sql` names (DuckDB refuses a value for a parameter the query does not have): `$name` in
    DuckDB's SQL, `:name` in Spark's (never the `::` of a cast)."""
    names = _named(sql)
    return {k: v for k, v in params.items() if k in names}


@functools.lru_cache(maxsize=1024)
def _named(sql: str) -> frozenset[str]:
    """The parameters `sql` names, outside comments (a parameter named in a comment is not one)."""
    return frozenset(re.findall(r"(?<![:\w])[$:](\w+)", sql_code(sql)))


def params(sel: Selection, cal: FiscalCalendar, dims_of_kpi: Sequence[str], currency: str,
           months: Sequence[tuple[int, str]] | None = None, lookback: int = 12) -> dict[str, object]:
    """The values of a query's parameters. $m_lo..$m_hi: the months its rows may come from, the span and the
    `lookback` months before it (a view that reads no year before gets 0, so it groups only the span's lines)."""
    buckets = months if months is not None else cal.buckets(sel.first, sel.last, sel.grain)
    months_ = [m for m, _ in buckets]
    out: dict[str, object] = {"months": months_, "labels": [lbl for _, lbl in buckets], "ccy": currency,
                              "m_lo": min(months_) - lookback, "m_hi": max(months_)}
    for dim in FILTERABLE:
        values = sel.filters.get(dim)
        out[dim] = list(values) if values and dim in dims_of_kpi else None
    return out


def bucket_params(months: Sequence[tuple[int, str]], filters: Sequence[tuple[str, Sequence[str]]],
                  dims_of_kpi: Sequence[str], currency: str, lookback: int = 12) -> dict[str, object]:
    """The values of a query's parameters for the months it computes (each with the label of its period) and one
    canonical filter (engine.Request.filters: every filterable dimension gets its values, or NULL for all).
    $m_lo..$m_hi: the months its rows may come from, the months and the `lookback` months before them."""
    ms = [m for m, _ in months]
    out: dict[str, object] = {"months": ms, "labels": [label for _, label in months], "ccy": currency,
                              "m_lo": min(ms) - lookback, "m_hi": max(ms)}
    given = dict(filters)
    for dim in FILTERABLE:
        values = given.get(dim)
        out[dim] = list(values) if values and dim in dims_of_kpi else None
    return out


def same(left: str, right: str, dims: Sequence[str]) -> str:
    """The join condition of two relations on period and each dimension of the split (NULL matches NULL)."""
    return " AND ".join([f"{left}.period = {right}.period", *(f"@same({left}.{d}, {right}.{d})" for d in dims)])


def lookback(view: View) -> int:
    """The months before the span a view's queries read: a year for a year-over-year view, else none."""
    return 12 if view.year_before else 0


def unit_of(kpi_unit: str, currency: str) -> str:
    return currency if kpi_unit == "currency" else kpi_unit


def bridge_queries(reg: Registry, kpi_name: str, first: int, last: int,
                   filters: Mapping[str, Sequence[str]] | None = None, *, currency: str = "EUR"
                   ) -> tuple[Query, Query, Query]:
    """What a bridge runs: its start view's and end view's value over the span, then its steps."""
    kpi = reg[kpi_name]
    if kpi.bridge is None:
        raise ValueError(f"{kpi_name} declares no bridge")
    b = kpi.bridge
    sel = Selection(first, last, "month", (), filters or {})
    span = [(m, "span") for m in range(first, last + 1)]
    p = params(sel, FiscalCalendar(), kpi.dimensions, currency, months=span)
    ends = [Query(f"{kpi.name} bridge: the {name} value over the span",
                  render(reg, kpi.views[name].sql, kpi.views[name].bind, ()), p) for name in (b.from_view, b.to_view)]
    steps = Query(f"{kpi.name} bridge: {b.from_view} to {b.to_view}, step by step", render(reg, b.sql, {}, ()), p)
    return ends[0], ends[1], steps
