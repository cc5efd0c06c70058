"""The review pack: the overview, every KPI page and the open actions in one self-contained HTML file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from decisions import review
from kpi_definitions import views
from kpi_definitions.periods import Grain
from kpi_definitions.registry import Kpi
from reports import charts, decided, exports, formats
from reports.scope import Scope, resolved
from store.db import reading

TOP = 15  # bars a breakdown chart shows


@dataclass(frozen=True)
class Shot:
    """One chart as the pack and the snapshot test take it: its key, KPI (None: the overview) and title."""

    key: str
    kpi: Kpi | None
    what: str
    fig: go.Figure


NAMED = {"supplier_id": "Supplier"}  # dimensions whose ids have names in a master (the supplier master)


def dimension_names(sel: Scope, dim: str) -> dict[str, str]:
    """{id: what a reader sees}: the supplier master's name, with the id beside a name two suppliers
    share ("Northwind Components (S0007)"); an id not in the master stays the id. Other dimensions: {}."""
    if dim not in NAMED:
        return {}
    named = {}
    for value, label in sel.source.options(str(sel.db), sel.ver).get(dim, []):
        _, sep, name = label.partition(" · ")
        if sep and name and not name.startswith("(not in"):
            named[value] = name
    counts: dict[str, int] = {}
    for name in named.values():
        counts[name] = counts.get(name, 0) + 1
    return {v: (f"{n} ({v})" if counts[n] > 1 else n) for v, n in named.items()}


def with_names(df: pl.DataFrame, dim: str, names: dict[str, str]) -> pl.DataFrame:
    """The table with the name column right after the id column (ids kept: they are what other systems use)."""
    if not names or dim not in df.columns:
        return df
    col = NAMED[dim]
    named = df.with_columns(pl.col(dim).cast(pl.String).replace_strict(names, default=None).alias(col))
    order = [c for c in df.columns for c in ([c, col] if c == dim else [c])]
    return named.select(order)


def breakdown_rows(sel: Scope, kpi: Kpi, dim: str | None = None) -> tuple[str, pl.DataFrame]:
    """(dimension, rows) of the KPI's first (or given) breakdown dimension for the selection."""
    dim = dim or kpi.dimensions[0]
    values = sel.values(by=(dim,), kpis=(kpi.name,))
    return dim, values.filter(pl.col("kpi") == kpi.name)


@dataclass(frozen=True)
class KpiPart:
    """One KPI of the pack: every view's number and gap in words, the definitions, the charts and tables."""

    kpi: Kpi
    numbers: list[tuple[str, str]]  # (view label or gap header, formatted value)
    definitions: pl.DataFrame
    shots: list[Shot]
    bridge: pl.DataFrame | None  # Step, Amount, What it is (formatted: a handout, not a data file)
    bridge_note: str | None
    breakdown_title: str
    breakdown: pl.DataFrame | None


@dataclass(frozen=True)
class Pack:
    title: str
    sel: Scope
    overview: pl.DataFrame
    overview_shot: Shot
    kpis: list[KpiPart]
    actions: pl.DataFrame
    agreements: pl.DataFrame = field(default_factory=pl.DataFrame)  # agreements_section(): agreed and pending

    @property
    def shots(self) -> list[Shot]:
        return [self.overview_shot] + [s for k in self.kpis for s in k.shots]


def collect(sel: Scope) -> Pack:
    """Everything the pack shows, computed once for HTML, PDF and PowerPoint."""
    now, before, trend = sel.now_before_trend()
    reg = sel.source.reg(sel.db)
    who = views.named(reg)
    overview = Shot("overview-gaps", None, f"How far apart {who} are", charts.gaps(views.disagreement(reg, now), who))
    parts = []
    for k in reg:
        c = views.compare(k, now)
        numbers = [(views.style(k, v).label, formats.value(c.values.get(v), k.unit, sel.currency)) for v in k.views]
        numbers += [(g.header, formats.signed(c.gaps.get(g.column), k.unit, sel.currency)) for g in views.gaps(k)]
        shots = [Shot(f"{k.name}-trend", k, f"{k.label}: trend", charts.trend(k, trend, currency=sel.currency))]
        bridge, note = None, None
        if k.bridge is not None:
            b = sel.bridge(k.name)
            if b.reason:
                note = f"No bridge for {sel.span.label}: {b.reason}."
            else:
                shots.append(Shot(f"{k.name}-bridge", k, f"{k.label}: bridge",
                                  charts.waterfall(k, b, currency=sel.currency)))
                ends = [(views.style(k, b.start_view).label + " value", b.start, "")]
                ends += b.listed()  # a netted step followed by its parts
                bridge = pl.DataFrame({
                    "Step": [e[0] for e in ends] + [views.style(k, b.end_view).label + " value"],
                    "Amount": [formats.value(e[1], k.unit, sel.currency) if i == 0 else
                               formats.signed(e[1], k.unit, sel.currency) for i, e in enumerate(ends)]
                              + [formats.value(b.end, k.unit, sel.currency)],
                    "What it is": [e[2] for e in ends] + [""]})
        dim, rows = breakdown_rows(sel, k)
        title = f"{k.label} by {dim.replace('_', ' ').removesuffix(' id')} (largest {TOP})"
        table = None
        if rows.height:
            top = charts.top(rows, dim, TOP)
            names = dimension_names(sel, dim)
            shots.append(Shot(f"{k.name}-by-{dim}", k, title,
                              charts.breakdown(k, top, dim, title, sel.currency, names)))
            wide = views.side_by_side(top, k, (dim,))
            cols = [v for v in k.views if v in wide.columns] + [g.column for g in views.gaps(k) if g.column in wide.columns]
            gap_cols = {g.column for g in views.gaps(k)}
            table = wide.select(
                pl.col(dim).cast(pl.String).alias(dim.replace("_", " ").capitalize()),
                *[pl.col(x).map_elements(lambda v, g=x in gap_cols, u=k.unit: (formats.signed if g else formats.value)(
                    v, u, sel.currency), return_dtype=pl.String).fill_null("n/a").alias(_header(k, x))
                  for x in cols]).head(10)
            if names:
                label = dim.replace("_", " ").capitalize()
                table = table.with_columns(pl.col(label).replace_strict(names, default=None).alias(NAMED[dim])).select(
                    label, NAMED[dim], *[c for c in table.columns if c != label])
        definitions = pl.DataFrame([{"View": views.style(k, name).label, "Definition": v.definition,
                                     "Owner": v.owner, "Version": v.version, "Effective": str(v.effective_date)}
                                    for name, v in k.views.items()])
        parts.append(KpiPart(k, numbers, definitions, shots, bridge, note, title, table))
    actions = review.open_items(sel.db)
    if actions.height:
        labels = {k.name: k.label for k in reg}
        actions = actions.with_columns(pl.col("kpi").replace_strict(labels, default=pl.col("kpi")))
        actions = actions.select(
            *[pl.col(c).alias(h) for c, h in [("kpi", "KPI"), ("kind", "Kind"), ("text", "What"), ("owner", "Owner"),
                                               ("due_date", "Due"), ("review", "Raised")] if c in actions.columns])
    return Pack(f"Tandem weekly KPI review · {sel.span.label}", sel, overview_table(sel, now, before), overview, parts,
                actions, agreements(sel))


def overview_table(sel: Scope, now: pl.DataFrame, before: pl.DataFrame) -> pl.DataFrame:
    """One row per KPI: every view's value, the gaps and each view's change since the previous period."""
    reg = sel.source.reg(sel.db)
    styles, gaps = views.styles(reg), views.all_gaps(reg)
    previous = sel.span.previous.label
    rows = []
    for k in reg:
        c, p = views.compare(k, now), views.compare(k, before)
        row = {"KPI": k.label}
        row |= {s.label: formats.value(c.values.get(s.name), k.unit, sel.currency) for s in styles}
        row |= {g.header: formats.signed(c.gaps.get(g.column), k.unit, sel.currency) for g in gaps}
        row |= {f"{s.label} vs {previous}": formats.signed(views.gap(c.values.get(s.name), p.values.get(s.name)),
                                                           k.unit, sel.currency) for s in styles}
        rows.append(row)
    return pl.DataFrame(rows)


def _header(k: Kpi, column: str) -> str:
    if column in k.views:
        return views.style(k, column).label
    return next(g.header for g in views.gaps(k) if g.column == column)


def figures(sel: Scope) -> list[Shot]:
    """Every chart of the pack: the overview's gaps, then per KPI its trend, bridge and top breakdown."""
    return collect(sel).shots


def build(sel: Scope) -> str:
    """The pack as one self-contained, interactive HTML file (plotly.js inlined once)."""
    p = collect(sel)
    return exports.review_pack(p.title, sel.as_of, _sections(p, {s.key: s.fig for s in p.shots}), p.actions)


def _sections(p: Pack, figs: dict) -> list:
    """(heading, items) per section; an item is a table, a chart (figure or image), or ("h3"|"p", text)."""
    sel = p.sel
    sections: list = [(f"Overview · {sel.span.label} · {sel.filter_text()}",
                       [p.overview, figs[p.overview_shot.key]])]
    for part in p.kpis:
        items: list = [pl.DataFrame({h: [v] for h, v in part.numbers})]
        for s in part.shots:
            wide = "-by-" in s.key and isinstance(figs[s.key], str)  # many labels: the page's whole width
            items.append(("wide", figs[s.key]) if wide else figs[s.key])
            if s.key.endswith("-bridge") and part.bridge is not None:
                items += [("h3", "Bridge steps"), part.bridge]
            if "-by-" in s.key and part.breakdown is not None:
                items += [("h3", part.breakdown_title.replace(f"largest {TOP}", "largest 10")), part.breakdown]
        if part.bridge_note:
            items.append(("p", part.bridge_note))
        items += [("h3", "Definitions"), part.definitions]
        sections.append((part.kpi.label, items))
    sections += decided.pack_sections(sel.db, sel.currency)  # saved payment-terms scenarios
    return sections + agreements_section(p)


def agreements(sel: Scope) -> pl.DataFrame:
    """What was agreed, approved or is still pending: agreed definitions and joint targets (reports/decided.py)."""
    with reading(sel.db) as con:
        return decided.agreements_and_targets(con, sel.source.reg(sel.db), sel.source.targets_evaluated(
            str(sel.db), sel.ver), sel.currency)


def agreements_section(p: Pack) -> list:
    """The pack's section of agreements and targets (none when nothing was ever proposed)."""
    if not p.agreements.height:
        return []
    note = ("Records made without login (local mode) are marked unverified."
            if (p.agreements["Identity"] == "unverified").any() else "")
    return [("Agreements and joint targets: agreed, approved, pending", [p.agreements] + ([("p", note)] if note else []))]


def selected(db: Path, period: str | None, grain: Grain = "month", filters: dict[str, list[str]] | None = None,
             ) -> Scope:
    """What the filter bar would select for `period` (None: the latest), without a browser: `tandem pack`."""
    return resolved(db, period, grain, filters)


def pdf(sel: Scope) -> bytes:
    """The pack as a printable handout: the same sections with the charts as images, printed to PDF by
    the Chromium the project installs (headless --print-to-pdf)."""
    p = collect(sel)
    figs = {s.key: exports.png_data_uri(s.fig, 1400 if "-by-" in s.key else 1000) for s in p.shots}
    html = exports.review_pack(p.title, sel.as_of, _sections(p, figs), p.actions, printable=True)
    return exports.print_pdf(html)
