"""The review pack: the overview, every KPI page and the open actions in one self-contained HTML file."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from kpi_definitions import views
from kpi_definitions.registry import Kpi
from tandem import charts, exports, formats, review, service
from tandem.selection import Selected

TOP = 15  # bars a breakdown chart shows


@dataclass(frozen=True)
class Shot:
    """One chart as the pack and the snapshot test take it: its key, KPI (None: the overview) and title."""

    key: str
    kpi: Kpi | None
    what: str
    fig: go.Figure


def stamp_lines(sel: Selected, kpi: Kpi | None, what: str) -> list[str]:
    """What a snapshot shows, written inside it: a slide has no filter bar."""
    lines = [f"{what} · {sel.span.label} ({sel.grain})", sel.filter_text()]
    if kpi is not None:
        lines.append("Definitions: " + "; ".join(
            f"{name} v{v.version} (effective {v.effective_date}, owner {v.owner})" for name, v in kpi.views.items()))
    lines.append(f"{sel.as_of_text()} · Tandem")
    return lines


def breakdown_rows(sel: Selected, kpi: Kpi, dim: str | None = None) -> tuple[str, pl.DataFrame]:
    """(dimension, rows) of the KPI's first (or given) breakdown dimension for the selection."""
    dim = dim or kpi.dimensions[0]
    values = sel.values(by=(dim,), kpis=(kpi.name,))
    return dim, values.filter(pl.col("kpi") == kpi.name)


def figures(sel: Selected) -> list[Shot]:
    """Every chart of the pack: the overview's gaps, then per KPI its trend, bridge and top breakdown."""
    now, _, trend = sel.now_before_trend()
    reg = service.reg()
    who = views.named(reg)
    shots = [Shot("overview-gaps", None, f"Where {who} disagree most",
                  charts.gaps(views.disagreement(reg, now), who))]
    for k in reg:
        shots.append(Shot(f"{k.name}-trend", k, f"{k.label}: trend", charts.trend(k, trend, currency=sel.currency)))
        if k.bridge is not None:
            b = service.bridge_of(str(sel.db), sel.ver, k.name, sel.span.first, sel.span.last, sel.key)
            if not b.reason:
                shots.append(Shot(f"{k.name}-bridge", k, f"{k.label}: bridge",
                                  charts.waterfall(k, b, currency=sel.currency)))
        dim, rows = breakdown_rows(sel, k)
        if rows.height:
            title = f"{k.label} by {dim.replace('_', ' ')} (largest {TOP})"
            shots.append(Shot(f"{k.name}-by-{dim}", k, title,
                              charts.breakdown(k, charts.top(rows, dim, TOP), dim, title, sel.currency)))
    return shots


def overview_table(sel: Selected, now: pl.DataFrame, before: pl.DataFrame) -> pl.DataFrame:
    """One row per KPI: every view's value, the gaps and each view's change since the previous period."""
    reg = service.reg()
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


def build(sel: Selected) -> str:
    now, before, trend = sel.now_before_trend()
    reg = service.reg()
    sections: list = [(f"Overview · {sel.span.label} · {sel.filter_text()}",
                       [charts.gaps(views.disagreement(reg, now), views.named(reg))], overview_table(sel, now, before))]
    for k in reg:
        figs = [charts.trend(k, trend)]
        if k.bridge is not None:
            b = service.bridge_of(str(sel.db), sel.ver, k.name, sel.span.first, sel.span.last, sel.key)
            if not b.reason:
                figs.append(charts.waterfall(k, b))
        definitions = pl.DataFrame([{"View": name, "Definition": v.definition, "Owner": v.owner,
                                     "Version": v.version, "Effective": str(v.effective_date)}
                                    for name, v in k.views.items()])
        sections.append((k.label, figs, definitions))
    actions = review.open_items(sel.db)
    return exports.review_pack(f"Tandem weekly KPI review · {sel.span.label}", sel.as_of, sections, actions)
