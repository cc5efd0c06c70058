"""The dashboard's charts, built by name from KPI-layer results, in colours that mean the same to both teams."""

from __future__ import annotations

import textwrap
from itertools import accumulate

import plotly.graph_objects as go
import polars as pl

from kpi_definitions import views
from kpi_definitions.compute import BridgeResult
from kpi_definitions.registry import Kpi
from reports import formats, safe_text

# A view's declared colour (a name Streamlit Markdown knows, so a metric's mark matches the chart) as drawn:
# never a "good/bad" colour; blue and orange stay distinct for colour-blind readers. A view that declares
# no colour is gray.
PALETTE = {"blue": "#1f5fa8", "orange": "#e07b00", "violet": "#7b52ab", "gray": "#6b6b6b"}
STEP_UP, STEP_DOWN = "#4c9a8a", "#9a6fb0"  # bridge steps: teal adds, purple subtracts (a legend says so)
FONT = dict(family="Inter, Arial, sans-serif", size=13)


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
    """Margins grow with the labels (automargin on the title and every axis), never clip them; the legend
    sits at the right, outside the plot, where it also pushes the margin instead of covering labels."""
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", font=dict(size=15), automargin=True, pad=dict(l=12),
                                 yref="container", y=0.98, yanchor="top"),
                      height=height, font=FONT, margin=dict(l=16, r=16, t=60, b=10, autoexpand=True),
                      plot_bgcolor="white", paper_bgcolor="white",
                      legend=dict(orientation="v", x=1.01, xanchor="left", y=1, yanchor="top"), hovermode="x unified")
    fig.update_yaxes(gridcolor="#e6e6e6", zerolinecolor="#999", automargin=True,
                     title=dict(text=unit_title(kpi.unit, currency), font=dict(size=12, color="#444")),
                     **_axis_format(kpi))
    fig.update_xaxes(automargin=True, tickangle=0)
    return fig


def trend(kpi: Kpi, values: pl.DataFrame, title: str | None = None, height: int = 380,
          currency: str = "EUR", targets: pl.DataFrame | None = None) -> go.Figure:
    """Every view of one KPI over time, on one chart (`targets`: approved joint targets to mark, with the
    run-rate forecast of a period still running; decisions/targets.py's evaluated rows)."""
    fig = go.Figure()
    rows = values.filter(pl.col("kpi") == kpi.name)
    any_weak = False
    for view in kpi.views:
        v = rows.filter(pl.col("view") == view)
        weak = _weak_points(v)  # a point on weak data is hollow, and its hover says why
        any_weak = any_weak or any(weak)
        fig.add_trace(go.Scatter(x=v["period"].to_list(), y=v["value"].to_list(), name=views.style(kpi, view).label,
                                 mode="lines+markers", line=dict(color=colour(kpi, view), width=3),
                                 marker=dict(symbol=["circle-open" if w else "circle" for w in weak],
                                             size=[13 if w else 7 for w in weak], line=dict(width=2.5)),
                                 # a point clicked for its lines leaves the others as they are (plotly dims them)
                                 selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)),
                                 **_hover(v["value"].to_list(), kpi.unit, currency, weak)))
    if targets is not None and targets.height:
        _target_marks(fig, kpi, targets.filter(pl.col("period").is_in(rows["period"].implode())))
    fig.update_xaxes(type="category")  # periods are labels ("2026-10", "2026-Q3"), not dates to interpolate
    fig = _layout(fig, f"{kpi.label}: {views.named(kpi)} over time" if title is None else title, kpi, height,
                  currency)
    if any_weak and title != "":  # a sparkline has no room: its hollow points speak for themselves
        fig.update_layout(title=dict(subtitle=dict(text="○ hollow point: weak data (a partial base, rows left out or "
                                                        "a filter not applied); hover over it for why",
                                                   font=dict(size=12, color="#444"))), margin=dict(t=80))
    return fig


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


def _target_marks(fig: go.Figure, kpi: Kpi, targets: pl.DataFrame) -> None:
    """A target is a wide dash at its period in its view's colour; a forecast (a period still running) an
    open diamond: target vs actual vs forecast read off the same axis."""
    for view in kpi.views:
        t = targets.filter(pl.col("view") == view)
        if not t.height:
            continue
        label = views.style(kpi, view).label
        fig.add_trace(go.Scatter(
            x=t["period"].to_list(), y=t["target"].to_list(), name=f"Target ({label})", mode="markers",
            marker=dict(symbol="line-ew-open", size=34, color=colour(kpi, view),
                        line=dict(width=4, color=colour(kpi, view))),
            text=t["status"].fill_null("no forecast").to_list(), hovertemplate="target %{y:,.4~g} · %{text}"))
        running = t.filter((pl.col("months_elapsed") < pl.col("months_total")) & pl.col("forecast").is_not_null())
        if running.height:
            fig.add_trace(go.Scatter(
                x=running["period"].to_list(), y=running["forecast"].to_list(), name=f"Forecast ({label})",
                mode="markers", marker=dict(symbol="diamond-open", size=12, color=colour(kpi, view),
                                            line=dict(width=2, color=colour(kpi, view))),
                hovertemplate="run-rate forecast %{y:,.4~g}"))


def sparkline(kpi: Kpi, values: pl.DataFrame, targets: pl.DataFrame | None = None) -> go.Figure:
    fig = trend(kpi, values, title="", height=140, targets=targets)
    fig.update_layout(margin=dict(l=0, r=0, t=0, b=0), showlegend=False, xaxis=dict(visible=False))
    fig.update_yaxes(visible=False)
    return fig


def folded_steps(kpi: Kpi, b: BridgeResult) -> tuple[list, list]:
    """(shown, folded): steps that round to zero in the KPI's unit are folded away (the table keeps them)."""
    def zero(v: float | None) -> bool:
        return v is None or abs(v) < {"ratio": 0.0005, "days": 0.05}.get(kpi.unit, 0.5)

    return [s for s in b.steps if not zero(s.value)], [s for s in b.steps if zero(s.value)]


def waterfall(kpi: Kpi, b: BridgeResult, title: str | None = None, currency: str = "EUR") -> go.Figure:
    """The bridge: from one view's value, step by step, to the other's. Steps of zero are folded away (and
    named under the chart); labels are horizontal, wrapped; the legend names the colours the bars have."""
    start, end = views.style(kpi, b.start_view), views.style(kpi, b.end_view)
    shown, folded = folded_steps(kpi, b)
    labels = [wrap(f"{start.label} value")] + [wrap(s.label) for s in shown] + [wrap(f"{end.label} value")]
    values = [b.start] + [s.value for s in shown] + [b.end]
    measure = ["absolute"] + ["relative"] * len(shown) + ["total"]
    fig = go.Figure(go.Waterfall(
        x=labels, y=values, measure=measure, connector=dict(line=dict(color="#bbb")),
        increasing=dict(marker=dict(color=STEP_UP)), decreasing=dict(marker=dict(color=STEP_DOWN)),
        totals=dict(marker=dict(color=colour(kpi, b.end_view))), textposition="outside", cliponaxis=False,
        text=[formats.compact(v, kpi.unit, currency, change=0 < i < len(values) - 1) for i, v in enumerate(values)],
        showlegend=False))  # the steps signed (+EUR 985k), the two values as they are
    # The first bar is an absolute in the start view's colour: draw it over the default.
    fig.add_trace(go.Bar(x=[labels[0]], y=[b.start], marker_color=colour(kpi, b.start_view), showlegend=False,
                         hoverinfo="skip"))
    fig.update_layout(barmode="overlay", showlegend=False)
    fig = _layout(fig, title or f"{kpi.label}: from the {start.word} to the {end.word} value", kpi, 440, currency)
    # Room above and below the bars for the labels outside them: a small step down at zero put its label on
    # the category names under the axis.
    levels = list(accumulate(v or 0.0 for v in values[:-1])) + [b.end or 0.0]
    lo, hi = min(0.0, *levels), max(0.0, *levels)
    pad = (hi - lo) * 0.1 or 1.0
    fig.update_yaxes(range=[lo - pad if lo < 0 or any(s.value < 0 for s in shown) else lo, hi + pad])
    # The key names only the colours drawn: no "step adds" entry when no step adds.
    marks = [(colour(kpi, b.start_view), f"{start.label} value")]
    marks += [(STEP_UP, "step adds")] if any(s.value > 0 for s in shown) else []
    marks += [(STEP_DOWN, "step subtracts")] if any(s.value < 0 for s in shown) else []
    marks += [(colour(kpi, b.end_view), f"{end.label} value")]
    lines = ["   ".join(f"<span style='color:{c}'>■</span> {_escape(text)}" for c, text in marks)]
    if folded:  # on lines of their own, wrapped, so a long list never runs off the canvas
        lines += [_escape(x) for x in _wrap_line("Zero steps, not drawn: " + "; ".join(s.label for s in folded), 110)]
    fig.update_layout(title=dict(subtitle=dict(text="<br>".join(lines), font=dict(size=12, color="#444"))),
                      margin=dict(t=80 + 16 * (len(lines) - 1)))
    return fig


def breakdown(kpi: Kpi, values: pl.DataFrame, dim: str, title: str | None = None, currency: str = "EUR",
              names: dict[str, str] | None = None, order: list[str] | None = None) -> go.Figure:
    """Every view side by side for each value of one dimension (`names`: a label per value, e.g. the
    supplier's name beside its id; `order`: the values left to right, e.g. largest gap first)."""
    fig = go.Figure()
    rows = values.filter(pl.col("kpi") == kpi.name)
    raw = rows[dim].cast(pl.String).unique(maintain_order=True).to_list()
    display = [(names or {}).get(v) or v for v in raw]  # names are unique: duplicates carry their id
    shown = safe_text.label_map(display)  # capped, escaped, visible
    label = {v: shown[d] for v, d in zip(raw, display, strict=True)}
    for view in kpi.views:
        v = rows.filter(pl.col("view") == view)
        v = v.sort(dim) if order is None else v.sort(pl.col(dim).cast(pl.String).replace_strict(
            {k: i for i, k in enumerate(order)}, default=len(order), return_dtype=pl.Int64))
        keys = v[dim].cast(pl.String).to_list()
        fig.add_trace(go.Bar(x=[wrap(label[x], 10) for x in keys], y=v["value"].to_list(),
                             name=views.style(kpi, view).label, marker_color=colour(kpi, view),
                             # the value behind the bar rides along: a click opens its lines (tandem/click.py)
                             customdata=[[k, view, formats.value(y, kpi.unit, currency)]
                                         for k, y in zip(keys, v["value"].to_list(), strict=True)],
                             hovertemplate="%{fullData.name}: %{customdata[2]}<extra></extra>"))
    fig.update_layout(barmode="group")
    if order is not None:  # the first view may lack a value another view has: the axis follows `order`
        fig.update_xaxes(categoryorder="array", categoryarray=[wrap(label[k], 10) for k in order if k in label])
    fig = _layout(fig, title or f"{kpi.label} by {dim.replace('_', ' ')}", kpi, currency=currency)
    # up to 15 names side by side: short lines, horizontal, smaller when many (they touched at 11 px)
    fig.update_xaxes(tickfont=dict(size=11 if len(raw) <= 10 else 9))
    return fig


def top(rows: pl.DataFrame, dim: str, n: int = 15) -> pl.DataFrame:
    """The rows of the `n` values of `dim` with the largest magnitude under any view: what a breakdown
    chart draws, so it stays readable (the table beside it has every value)."""
    keep = (rows.group_by(dim).agg(pl.col("value").abs().max().alias("size"))
            .sort("size", descending=True, nulls_last=True).head(n)[dim])
    return rows.filter(pl.col(dim).is_in(keep.to_list()))


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


def _short(v: float | None, unit: str, currency: str = "EUR") -> str:
    """A bar's label: short, with the sign and currency every other number in the product has (formats.compact)."""
    return formats.compact(v, unit, currency)


# Snapshot sizes (width, height in CSS pixels): a 16:9 slide, and the chart as the page draws it.
SIZES = {"slide": (1280, 720), "screen": (1100, None)}
STAMP_WRAP = 130  # characters per stamp line: long definition lists wrap instead of running off the canvas


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
