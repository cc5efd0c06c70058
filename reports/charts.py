"""The dashboard's charts, built by name from KPI-layer results, in colours that mean the same to both teams."""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

import plotly.graph_objects as go
import polars as pl

from kpi_definitions import prices, views
from kpi_definitions.compute import BridgeResult, BridgeStep
from kpi_definitions.registry import Kpi
from reports import formats, safe_text

# A view's declared colour (a name Streamlit Markdown knows, so a metric's mark matches the chart) as drawn:
# never a "good/bad" colour; blue and orange stay distinct for colour-blind readers. A view that declares
# no colour is gray.
PALETTE = {"blue": "#1f5fa8", "orange": "#e07b00", "violet": "#7b52ab", "gray": "#6b6b6b"}
# Bridge steps: teal adds, slate grey subtracts (a legend says so); neither is a view's colour, so the agreed
# view's violet marks only where the agreed value lands (its purple subtract bars read as the agreed view's).
STEP_UP, STEP_DOWN = "#4c9a8a", "#8a96a3"
FONT = dict(family="Inter, Arial, sans-serif", size=13)


def _safe(build: Callable[..., go.Figure]) -> Callable[..., go.Figure]:
    """Every figure a builder returns goes through safe_text.figure: names, labels and titles come from loaded
    files, and Plotly reads tags in any text it draws (`<a href>` became a live link in a legend)."""
    @functools.wraps(build)
    def built(*args, **kwargs) -> go.Figure:  # noqa: ANN002, ANN003
        return safe_text.figure(build(*args, **kwargs))
    return built


def colour(kpi: Kpi, view: str) -> str:
    return PALETTE.get(views.style(kpi, view).colour, PALETTE["gray"])


def unit_title(unit: str, currency: str = "EUR") -> str:
    """The y axis title: the unit every tick is in, so a slide reads without the page around it."""
    return {"ratio": "Percent (%)", "days": "Days"}.get(unit, currency if unit == "currency" else unit)


def _axis_format(kpi: Kpi) -> dict:
    if kpi.unit == "ratio":
        return dict(tickformat=".0%")
    if kpi.unit == "days":
        return dict(tickformat=",.0f")
    return dict(tickformat=",.0f")


def wrap(label: str, width: int = 16, lines: int = 3) -> str:
    """A category label broken into short lines (`<br>`), so it reads horizontally under its bar."""
    words, out, line = label.split(" "), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            out.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    out.append(line)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1] + "…"
    return "<br>".join(out)


def _layout(fig: go.Figure, title: str, kpi: Kpi, height: int = 380, currency: str = "EUR") -> go.Figure:
    """`fig` with the product's layout (`_layout_of`), set in one update."""
    fig.update_layout(_layout_of(title, kpi, height, currency))
    return fig


def _layout_of(title: str, kpi: Kpi, height: int = 380, currency: str = "EUR") -> dict:
    """Margins grow with the labels (automargin on the title and every axis), never clip them; the legend
    sits in a row above the plot, outside it, where it pushes the margin instead of covering labels and leaves
    the plot the page's whole width (at the right, it took a third of a 1024-px screen's chart).

    A dict, given whole to the figure: each of plotly's update calls walks the figure (building a sparkline by
    five updates took eight times as long as building it at once)."""
    return dict(title=dict(text=title, x=0, xanchor="left", font=dict(size=15), automargin=True, pad=dict(l=12),
                           yref="container", y=0.98, yanchor="top"),
                height=height, font=FONT, margin=dict(l=16, r=16, t=60, b=10, autoexpand=True),
                plot_bgcolor="white", paper_bgcolor="white",
                legend=dict(orientation="h", xref="container", x=0.01, xanchor="left", yref="container",
                            y=1 - 42 / height, yanchor="top"), hovermode="x unified",
                yaxis=dict(gridcolor="#e6e6e6", zerolinecolor="#999", automargin=True,
                           title=dict(text=unit_title(kpi.unit, currency), font=dict(size=12, color="#444")),
                           **_axis_format(kpi)),
                # tick labels turn (30°, then 90°) or thin out when they would touch at the width drawn: plotly
                # measures them there, so a 1024-px screen, a slide and a PDF each get what fits (a fixed 0°
                # overlapped at 1024 px)
                xaxis=dict(automargin=True, autotickangles=[0, 30, 90]))


@_safe
def trend(kpi: Kpi, values: pl.DataFrame, title: str | None = None, height: int = 380,
          currency: str = "EUR", targets: pl.DataFrame | None = None) -> go.Figure:
    """Every view of one KPI over time, on one chart (`targets`: approved joint targets to mark, with the
    run-rate forecast of a period still running; decisions/targets.py's evaluated rows)."""
    traces, layout = _trend_parts(kpi, values, title, height, currency, targets)
    return go.Figure(data=traces, layout=layout)


def _trend_parts(kpi: Kpi, values: pl.DataFrame, title: str | None, height: int, currency: str,
                 targets: pl.DataFrame | None) -> tuple[list[go.Scatter], dict]:
    """The traces and the layout of `trend`, for it and the sparkline to build their figure at once."""
    traces: list[go.Scatter] = []
    rows = values.filter(pl.col("kpi") == kpi.name)
    any_weak = False
    for view in kpi.views:
        v = rows.filter(pl.col("view") == view)
        weak = _weak_points(v)  # a point on weak data is hollow, and its hover says why
        any_weak = any_weak or any(weak)
        traces.append(go.Scatter(x=v["period"].to_list(), y=v["value"].to_list(), name=views.style(kpi, view).label,
                                 mode="lines+markers", line=dict(color=colour(kpi, view), width=3),
                                 marker=dict(symbol=["circle-open" if w else "circle" for w in weak],
                                             size=[13 if w else 7 for w in weak], line=dict(width=2.5)),
                                 # a point clicked for its lines leaves the others as they are (plotly dims them)
                                 selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)),
                                 **_hover(v["value"].to_list(), kpi.unit, currency, weak)))
    if targets is not None and targets.height:
        traces += _target_marks(kpi, targets.filter(pl.col("period").is_in(rows["period"].implode())))
    layout = _layout_of(f"{kpi.label}: {views.named(kpi)} over time" if title is None else title, kpi, height,
                        currency)
    layout["xaxis"]["type"] = "category"  # periods are labels ("2026-10", "2026-Q3"), not dates to interpolate
    scale, arrows = _range_without_weak(kpi, rows, targets, currency)
    if scale is not None:
        layout["yaxis"].update(range=scale, autorange=False)
        traces += arrows
    if any_weak and title != "":  # a sparkline has no room: its hollow points speak for themselves
        # the hollow point is a key of its own, in the legend's row(s) (as a subtitle, the legend covered it)
        traces.append(go.Scatter(x=[None], y=[None], mode="markers", name="hollow: weak data (hover it)",
                                 marker=dict(symbol="circle-open", size=11, color="#555", line=dict(width=2)),
                                 hoverinfo="skip"))
    return traces, layout


def _partial(rows: pl.DataFrame) -> list[bool]:
    """Per point: whether its base is partial (a year-over-year value against a month holding only part of
    its data): such a point is drawn but does not set the scale."""
    if "warnings" not in rows.columns:
        return [False] * rows.height
    return [any(w["code"] == "partial_base" for w in ws or []) for ws in rows["warnings"].to_list()]


def _range_without_weak(kpi: Kpi, rows: pl.DataFrame, targets: pl.DataFrame | None,
                        currency: str) -> tuple[list[float] | None, list[go.Scatter]]:
    """The y range of the points on full data and the targets, and an arrow at its edge with the value of each
    point on a partial base outside it (the partial base month's −4.26M savings flattened everything); (None, [])
    when every point fits."""
    ok, weak = [], []
    for view in kpi.views:
        v = rows.filter(pl.col("view") == view)
        for period, y, partial in zip(v["period"].to_list(), v["value"].to_list(), _partial(v), strict=True):
            if y is not None:
                (weak if partial else ok).append((view, period, y))
    if targets is not None and targets.height and "target" in targets.columns:
        ok += [("", p, y) for p, y in zip(targets["period"].to_list(), targets["target"].to_list(), strict=True)
               if y is not None and p in set(rows["period"].to_list())]
    if not weak or not ok:
        return None, []
    lo, hi = min(0.0, *(y for *_, y in ok)), max(0.0, *(y for *_, y in ok))
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    lo, hi = lo - (pad if lo < 0 else 0), hi + pad
    outside = [(view, period, y) for view, period, y in weak if y < lo or y > hi]
    if not outside:
        return None, []
    arrows = []
    for view, period, y in outside:  # the real value, written beside an arrow at the edge
        edge = lo if y < lo else hi
        arrows.append(go.Scatter(
            x=[period], y=[edge], mode="markers+text", showlegend=False, cliponaxis=False,
            marker=dict(symbol="triangle-down" if y < lo else "triangle-up", size=12, color=colour(kpi, view)),
            text=[formats.compact(y, kpi.unit, currency) + " (partial base)"],
            textposition="top right" if y < lo else "bottom right", textfont=dict(size=11, color="#444"),
            hovertemplate=f"{_escape(views.style(kpi, view).label)}: {formats.value(y, kpi.unit, currency)} on a partial "
                          "base, off the scale<extra></extra>"))
    return [lo, hi], arrows


def _hover(values: list, unit: str, currency: str, notes: list[str] | None = None) -> dict:
    """Hover texts in the product's number format (formats.value): −EUR 60,970, not plotly's -60,970; a weak
    point's reasons follow its value."""
    notes = notes or [""] * len(values)
    return dict(customdata=[formats.value(y, unit, currency) + n for y, n in zip(values, notes, strict=True)],
                hovertemplate="%{fullData.name}: %{customdata}<extra></extra>")


def _weak_points(rows: pl.DataFrame) -> list[str]:
    """Per point, '' or the hover text of its weak-data warnings (kpi_definitions/weak_data.py); a dozen points."""
    if "warnings" not in rows.columns:
        return [""] * rows.height
    return ["".join("<br>⚠ " + "<br>   ".join(textwrap.wrap(_escape(w["message"]), 70)) for w in ws or [])
            for ws in rows["warnings"].to_list()]


def _target_marks(kpi: Kpi, targets: pl.DataFrame) -> list[go.Scatter]:
    """A target is a wide dash at its period in its view's colour; a forecast (a period still running) an
    open diamond: target vs actual vs forecast read off the same axis."""
    marks = []
    for view in kpi.views:
        t = targets.filter(pl.col("view") == view)
        if not t.height:
            continue
        label = views.style(kpi, view).label
        marks.append(go.Scatter(
            x=t["period"].to_list(), y=t["target"].to_list(), name=f"Target ({label})", mode="markers",
            marker=dict(symbol="line-ew-open", size=34, color=colour(kpi, view),
                        line=dict(width=4, color=colour(kpi, view))),
            text=t["status"].fill_null("no forecast").to_list(), hovertemplate="target %{y:,.4~g} · %{text}"))
        running = t.filter((pl.col("months_elapsed") < pl.col("months_total")) & pl.col("forecast").is_not_null())
        if "share" in running.columns:  # a year's target on its months: the run-rate forecast is the year's
            running = running.filter(pl.col("share").fill_null(1.0) >= 1.0)
        if running.height:
            marks.append(go.Scatter(
                x=running["period"].to_list(), y=running["forecast"].to_list(), name=f"Forecast ({label})",
                mode="markers", marker=dict(symbol="diamond-open", size=12, color=colour(kpi, view),
                                            line=dict(width=2, color=colour(kpi, view))),
                hovertemplate="run-rate forecast %{y:,.4~g}"))
    return marks


@_safe
def sparkline(kpi: Kpi, values: pl.DataFrame, targets: pl.DataFrame | None = None, height: int = 140,
              currency: str = "EUR") -> go.Figure:
    """The trend of a KPI card: its views' lines and targets, no axes, no legend, no title."""
    traces, layout = _trend_parts(kpi, values, "", height, currency, targets)
    for t in traces:
        if t.mode == "markers+text":
            t.mode = "markers"  # no room for the off-scale value
    layout["margin"].update(l=0, r=0, t=0, b=0)
    layout["showlegend"] = False
    layout["xaxis"]["visible"] = layout["yaxis"]["visible"] = False
    return go.Figure(data=traces, layout=layout)


def folded_steps(kpi: Kpi, b: BridgeResult) -> tuple[list, list]:
    """(shown, folded): steps that round to zero in the KPI's unit are folded away (the table keeps them)."""
    def zero(v: float | None) -> bool:
        return v is None or abs(v) < {"ratio": 0.0005, "days": 0.05}.get(kpi.unit, 0.5)

    return [s for s in b.steps if not zero(s.value)], [s for s in b.steps if zero(s.value)]


@dataclass(frozen=True)
class Agreed:
    """Where the agreed view lands on a bridge: its value for the span, the steps its version includes (a
    step's name, or a part's), the version, and what it is called (the agreed view's label)."""

    value: float | None
    counts: tuple[str, ...]
    version: str
    label: str = "Agreed"


def agreed_on(kpi: Kpi, values: pl.DataFrame, last: int, view: str = "agreed") -> Agreed | None:
    """The agreed view of `kpi` as a bridge of a span ending in month `last` marks it: the value the KPI layer
    computed (`values`, the span's row) and the steps of the version in effect then (None: no agreed view, or
    no version in effect yet)."""
    from datetime import date

    from kpi_definitions.agreement import in_effect, versions_of

    if view not in kpi.views or not kpi.views[view].from_bridge:
        return None
    version = in_effect(versions_of(kpi, view), date(last // 12, last % 12 + 1, 1))
    if version is None:
        return None
    return Agreed(views.value_of(values, kpi.name, view), version.counts, str(version.version),
                  views.style(kpi, view).label)


def included_mark(step: BridgeStep, agreed: Agreed | None) -> str:
    """"✓" before a step the agreed value includes, "◐" before a netted step it includes part of, else ""."""
    if agreed is None:
        return ""
    if step.name in agreed.counts:
        return "✓"
    return "◐" if any(p.name in agreed.counts for p in step.parts) else ""


@_safe
def waterfall(kpi: Kpi, b: BridgeResult, title: str | None = None, currency: str = "EUR",
              agreed: Agreed | None = None) -> go.Figure:
    """The bridge: from one view's value, step by step, to the other's, as horizontal bars read top to bottom,
    each step's name beside its bar (names under upright bars overlapped at 1024 px). Steps of zero are folded
    away (and named under the chart); the key names the colours the bars have. With `agreed`, the agreed value
    is a bar of its own in the agreed view's colour with a dashed line where it lands across the steps, and
    the steps it includes are marked ✓ (◐: part of a netted step)."""
    start, end = views.style(kpi, b.start_view), views.style(kpi, b.end_view)
    shown, folded = folded_steps(kpi, b)
    names = [f"{start.label} value"] + [f"{m} {s.label}" if (m := included_mark(s, agreed)) else s.label
                                        for s in shown] + [f"{end.label} value"]
    labels = [wrap(n, 30, 2) for n in names]
    values = [b.start] + [s.value for s in shown] + [b.end]
    measure = ["absolute"] + ["relative"] * len(shown) + ["total"]
    texts = [formats.compact(v, kpi.unit, currency, change=0 < i < len(values) - 1) for i, v in enumerate(values)]
    fig = go.Figure(go.Waterfall(
        orientation="h", y=labels, x=values, measure=measure, connector=dict(line=dict(color="#bbb")),
        increasing=dict(marker=dict(color=STEP_UP)), decreasing=dict(marker=dict(color=STEP_DOWN)),
        totals=dict(marker=dict(color=colour(kpi, b.end_view))), textposition="none",
        customdata=[formats.value(v, kpi.unit, currency) if i in (0, len(values) - 1) else
                    formats.signed(v, kpi.unit, currency) for i, v in enumerate(values)],
        hovertemplate="%{y}: %{customdata}<extra></extra>", showlegend=False))  # steps signed, the ends as they are
    # The first bar is an absolute in the start view's colour: draw it over the default.
    fig.add_trace(go.Bar(y=[labels[0]], x=[b.start], orientation="h", marker_color=colour(kpi, b.start_view),
                         showlegend=False, hoverinfo="skip"))
    levels = list(accumulate(v or 0.0 for v in values[:-1])) + [b.end or 0.0]
    order = list(labels)
    marks = [(colour(kpi, b.start_view), f"{start.label} value")]
    marks += [(STEP_UP, "step adds")] if any(s.value > 0 for s in shown) else []
    marks += [(STEP_DOWN, "step subtracts")] if any(s.value < 0 for s in shown) else []
    marks += [(colour(kpi, b.end_view), f"{end.label} value")]
    if agreed is not None and agreed.value is not None:
        tone = PALETTE["violet"] if agreed.label == "Agreed" or kpi.views.get("agreed") is None else \
            colour(kpi, "agreed")
        row = wrap(f"{agreed.label} value (version {agreed.version})", 30, 2)
        order.append(row)
        levels.append(agreed.value)
        texts.append(formats.compact(agreed.value, kpi.unit, currency))
        fig.add_trace(go.Bar(y=[row], x=[agreed.value], orientation="h", marker=dict(color=tone), showlegend=False,
                             customdata=[formats.value(agreed.value, kpi.unit, currency)],
                             hovertemplate="%{y}: %{customdata}<extra></extra>"))
        fig.add_vline(x=agreed.value, line=dict(color=tone, width=2, dash="dash"))  # where it lands, across the steps
        counted = any(included_mark(s, agreed) for s in shown)
        marks += [(tone, f"{agreed.label} value, version {agreed.version}"
                         + (": ✓ the steps it includes" if counted else ": includes no step drawn"))]
    fig.update_layout(barmode="overlay", showlegend=False)
    fig = _layout(fig, title or f"{kpi.label}: from the {start.word} to the {end.word} value", kpi,
                  120 + 40 * len(order), currency)
    # values run along x here: the unit and its format go there; the names, top to bottom, on y
    unit_axis = dict(fig.layout.yaxis.title.to_plotly_json()) if fig.layout.yaxis.title else None
    fig.update_yaxes(title=None, tickformat=None, type="category", categoryorder="array", categoryarray=order,
                     autorange="reversed", gridcolor=None, showgrid=False, ticksuffix="  ",
                     tickfont=dict(size=13, color="#222"))  # the names as dark as their amounts at the right
    fig.update_xaxes(title=unit_axis, gridcolor="#e6e6e6", zerolinecolor="#999", **_axis_format(kpi))
    # Each bar's amount is written in a column at the right, level with its name (a second axis of the same
    # rows): written beside the bars, amounts ran into the names and off the canvas at 640 px.
    fig.add_trace(go.Scatter(x=[None] * len(order), y=order, yaxis="y2", mode="markers", showlegend=False,
                             hoverinfo="skip"))
    rows = [len(order) - 0.5, -0.5]  # both axes exactly the same rows, top to bottom
    fig.update_yaxes(range=rows, autorange=False)
    fig.update_layout(yaxis2=dict(overlaying="y", side="right", type="category", categoryorder="array",
                                  categoryarray=order, range=rows, autorange=False, tickmode="array", tickvals=order,
                                  ticktext=[f"  {t}" for t in texts], showgrid=False, zeroline=False, automargin=True,
                                  tickfont=dict(size=13, color="#222")))
    lo, hi = min(0.0, *levels), max(0.0, *levels)
    pad = (hi - lo) * 0.04 or 1.0
    fig.update_xaxes(range=[lo - pad if lo < 0 else lo, hi + pad])
    fig.update_layout(hovermode="closest")
    lines = ["   ".join(f"<span style='color:{c}'>■</span> {_escape(text)}" for c, text in marks[:4])]
    if len(marks) > 4:
        lines += ["   ".join(f"<span style='color:{c}'>{'■' if i else '▮'}</span> {_escape(text)}"
                             for i, (c, text) in enumerate(marks[4:], start=1))]
    if folded:  # on lines of their own, wrapped, so a long list never runs off the canvas
        lines += [_escape(x) for x in _wrap_line("Zero steps, not drawn: " + "; ".join(s.label for s in folded), 110)]
    fig.update_layout(title=dict(subtitle=dict(text="<br>".join(lines), font=dict(size=12, color="#444"))),
                      margin=dict(t=80 + 16 * (len(lines) - 1)))
    return fig


@_safe
def breakdown(kpi: Kpi, values: pl.DataFrame, dim: str, title: str | None = None, currency: str = "EUR",
              names: dict[str, str] | None = None, order: list[str] | None = None) -> go.Figure:
    """Every view side by side for each value of one dimension (`names`: a label per value, e.g. the
    supplier's name beside its id; `order`: the values left to right, e.g. largest gap first)."""
    fig = go.Figure()
    rows = values.filter(pl.col("kpi") == kpi.name)
    raw = rows[dim].cast(pl.String).unique(maintain_order=True).to_list()
    display = [(names or {}).get(v) or v for v in raw]  # names are unique: duplicates carry their id
    shown = safe_text.label_map(display, 32)  # capped, escaped, visible: one line, turned when they would touch
    label = {v: shown[d] for v, d in zip(raw, display, strict=True)}
    for view in kpi.views:
        v = rows.filter(pl.col("view") == view)
        v = v.sort(dim) if order is None else v.sort(pl.col(dim).cast(pl.String).replace_strict(
            {k: i for i, k in enumerate(order)}, default=len(order), return_dtype=pl.Int64))
        keys = v[dim].cast(pl.String).to_list()
        fig.add_trace(go.Bar(x=[label[x] for x in keys], y=v["value"].to_list(),
                             name=views.style(kpi, view).label, marker_color=colour(kpi, view),
                             # the value behind the bar rides along: a click opens its lines (tandem/click.py)
                             customdata=[[k, view, formats.value(y, kpi.unit, currency)]
                                         for k, y in zip(keys, v["value"].to_list(), strict=True)],
                             hovertemplate="%{fullData.name}: %{customdata[2]}<extra></extra>"))
    fig.update_layout(barmode="group")
    if order is not None:  # the first view may lack a value another view has: the axis follows `order`
        fig.update_xaxes(categoryorder="array", categoryarray=[label[k] for k in order if k in label])
    fig = _layout(fig, title or f"{kpi.label} by {dim.replace('_', ' ')}", kpi, currency=currency)
    # up to 15 names side by side, smaller when many; plotly turns them when they would touch
    fig.update_xaxes(tickfont=dict(size=11 if len(raw) <= 10 else 9))
    return fig


def top(rows: pl.DataFrame, dim: str, n: int = 15) -> pl.DataFrame:
    """The rows of the `n` values of `dim` with the largest magnitude under any view: what a breakdown
    chart draws, so it stays readable (the table beside it has every value)."""
    keep = (rows.group_by(dim).agg(pl.col("value").abs().max().alias("size"))
            .sort("size", descending=True, nulls_last=True).head(n)[dim])
    return rows.filter(pl.col(dim).is_in(keep.to_list()))


@_safe
def gaps(rows: list[dict], who: str) -> go.Figure:
    """How far apart the views (`who`, in words) lie, per KPI: the gap as a share of the larger value
    (kpi_definitions.views.disagreement), each bar labelled in words ("83% apart")."""
    rows = sorted(rows, key=lambda r: r["relative_gap"] if r["relative_gap"] is not None else -1)
    fig = go.Figure(go.Bar(x=[r["relative_gap"] for r in rows], y=[r["label"] for r in rows], orientation="h",
                           marker_color="#555", text=[f"{r['relative_gap']:.0%} apart" if r["relative_gap"] is not None
                                                      else "n/a" for r in rows], textposition="outside",
                           cliponaxis=False, hoverinfo="skip"))
    fig.update_layout(title=dict(text=f"How far apart {who} are", x=0, xanchor="left", font=dict(size=15),
                                 pad=dict(l=12), automargin=True, yref="container", y=0.98, yanchor="top",
                                 subtitle=dict(text="0% = the same number; 100% = one is zero, or they point in "
                                                    "opposite directions", font=dict(size=12, color="#444"))),
                      height=300, font=FONT, margin=dict(l=16, r=70, t=80, b=10), plot_bgcolor="white",
                      paper_bgcolor="white",
                      xaxis=dict(tickformat=".0%", gridcolor="#e6e6e6", automargin=True,
                                 title=dict(text="Gap as a share of the larger value (%)",
                                            font=dict(size=12, color="#444"))),
                      yaxis=dict(automargin=True))
    return fig


@_safe
def price_levels(levels: pl.DataFrame, title: str) -> go.Figure:
    """Our price index (the finance view's blue, thick) and each market index (gray, dashed) as levels, from
    kpi_definitions.prices.comparison: a market index is named as the loaded file names it (data: escaped)."""
    fig = go.Figure()
    series = levels["series"].unique(maintain_order=True).to_list()
    names = safe_text.label_map(series)
    for name in series:
        rows = levels.filter(pl.col("series") == name)
        ours = name == prices.OURS
        fig.add_trace(go.Scatter(x=rows["period"].to_list(), y=rows["level"].to_list(), name=names[name],
                                 mode="lines+markers" if ours else "lines",
                                 line=dict(color=PALETTE["blue" if ours else "gray"], width=3 if ours else 2,
                                           dash=None if ours else "dash")))
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", font=dict(size=15)), height=380, font=FONT,
                      margin=dict(l=16, r=16, t=60, b=10), plot_bgcolor="white", paper_bgcolor="white",
                      legend=dict(orientation="v", x=1.01, xanchor="left", y=1), hovermode="x unified")
    fig.update_yaxes(gridcolor="#e6e6e6", title=dict(text="Index (first month = 100)", font=dict(size=12)),
                     automargin=True)
    fig.update_xaxes(type="category", automargin=True, nticks=12)
    return fig


def _short(v: float | None, unit: str, currency: str = "EUR") -> str:
    """A bar's label: short, with the sign and currency every other number in the product has (formats.compact)."""
    return formats.compact(v, unit, currency)


# Snapshot sizes (width, height in CSS pixels): a 16:9 slide, and the chart as the page draws it.
SIZES = {"slide": (1280, 720), "screen": (1100, None)}
STAMP_WRAP = 130  # characters per stamp line: long definition lists wrap instead of running off the canvas


@_safe
def stamp(fig: go.Figure, lines: list[str], size: str = "screen") -> go.Figure:
    """A copy of the chart with what it shows written under it, inside the image: for slides, where no
    filter bar is. The stamp is the bottom axis's title, so the margin grows to hold it (automargin)."""
    out = go.Figure(fig)
    wrapped = [part for line in lines for part in _wrap_line(line, STAMP_WRAP)]
    width, height = SIZES[size]
    height = height or (out.layout.height or 400) + 18 * len(wrapped) + 20
    existing = out.layout.xaxis.title.text if out.layout.xaxis.title else None
    text = "<br>".join(_escape(x) for x in wrapped)
    if existing:
        text = f"{existing}<br><br><span style='font-size:11px;color:#444'>{text}</span>"
    out.update_layout(height=height, width=width)
    out.update_xaxes(automargin=True, title=dict(text=text, font=dict(size=11, color="#444"), standoff=14))
    return out


def _wrap_line(line: str, width: int) -> list[str]:
    if len(line) <= width:
        return [line]
    out, cur = [], ""
    for part in line.split("; "):
        piece = part if not cur else f"{cur}; {part}"
        if cur and len(piece) > width:
            out.append(cur + ";")
            cur = part
        else:
            cur = piece
    out.append(cur)
    return [x for chunk in out for x in ([chunk] if len(chunk) <= width else
                                           [chunk[i:i + width] for i in range(0, len(chunk), width)])]


def _escape(text: str) -> str:
    """Plotly annotations understand a little HTML; filter values are data, so they are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
