"""The review pack: the overview, every KPI page and the open actions in one self-contained HTML file."""

from __future__ import annotations

import polars as pl

from kpi_definitions import views
from tandem import charts, exports, formats, review, service
from tandem.selection import Selected


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
