"""The review pack: the overview, every KPI page and the open actions in one self-contained HTML file."""

from __future__ import annotations

import polars as pl

from tandem import charts, exports, formats, review, service, widgets
from tandem.widgets import Selected


def overview_table(sel: Selected, now: pl.DataFrame, before: pl.DataFrame) -> pl.DataFrame:
    """One row per KPI: both values, the gap and each view's change since the previous period."""
    rows = []
    for k in service.reg():
        f, p = (widgets.value_of(now, k.name, v) for v in ("finance", "procurement"))
        pf, pp = (widgets.value_of(before, k.name, v) for v in ("finance", "procurement"))
        rows.append({
            "KPI": k.label, "Finance": widgets.fmt(f, k, sel.currency), "Procurement": widgets.fmt(p, k, sel.currency),
            "Gap (F − P)": formats.signed(widgets.gap(f, p), k.unit, sel.currency),
            f"Finance vs {sel.span.previous.label}": formats.signed(widgets.gap(f, pf), k.unit, sel.currency),
            f"Procurement vs {sel.span.previous.label}": formats.signed(widgets.gap(p, pp), k.unit, sel.currency)})
    return pl.DataFrame(rows)


def build(sel: Selected) -> str:
    now, before, trend = sel.now_before_trend()
    reg = service.reg()
    sections: list = [(f"Overview · {sel.span.label} · {sel.filter_text()}", [charts.gaps(widgets.gap_rows(now))],
                       overview_table(sel, now, before))]
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
