"""The dashboard's charts, built by name from KPI-layer results, in colours that mean the same to both teams."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from kpi_definitions import views
from kpi_definitions.compute import BridgeResult
from kpi_definitions.registry import Kpi
from tandem import safe_text

# A view's declared colour (a name Streamlit Markdown knows, so a metric's mark matches the chart) as drawn:
# never a "good/bad" colour; blue and orange stay distinct for colour-blind readers. A view that declares
# no colour is gray.
PALETTE = {"blue": "#1f5fa8", "orange": "#e07b00", "violet": "#7b52ab", "gray": "#6b6b6b"}
STEP_UP, STEP_DOWN = "#4c9a8a", "#9a6fb0"  # bridge steps: teal adds, purple subtracts (a legend says so)
FONT = dict(family="Inter, Arial, sans-serif", size=13)


def colour(kpi: Kpi, view: str) -> str:
    return PALETTE.get(views.style(kpi, view).colour, PALETTE["gray"])


def _axis_format(kpi: Kpi) -> dict:
    if kpi.unit == "ratio":
        return dict(tickformat=".0%")
    if kpi.unit == "days":
        return dict(ticksuffix=" d", tickformat=",.0f")
    return dict(tickformat=",.0f")


def _layout(fig: go.Figure, title: str, kpi: Kpi, height: int = 380) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0, font=dict(size=15)), height=height, font=FONT,
                      margin=dict(l=10, r=10, t=50, b=10), plot_bgcolor="white", paper_bgcolor="white",
                      legend=dict(orientation="h", y=-0.15), hovermode="x unified")
    fig.update_yaxes(gridcolor="#e6e6e6", zerolinecolor="#999", **_axis_format(kpi))
    return fig


def trend(kpi: Kpi, values: pl.DataFrame, title: str | None = None, height: int = 380) -> go.Figure:
    """Every view of one KPI over time, on one chart."""
    fig = go.Figure()
    rows = values.filter(pl.col("kpi") == kpi.name)
    for view in kpi.views:
        v = rows.filter(pl.col("view") == view)
        fig.add_trace(go.Scatter(x=v["period"].to_list(), y=v["value"].to_list(), name=views.style(kpi, view).label,
                                 mode="lines+markers", line=dict(color=colour(kpi, view), width=3)))
    return _layout(fig, f"{kpi.label}: {views.named(kpi)} over time" if title is None else title, kpi, height)


def sparkline(kpi: Kpi, values: pl.DataFrame) -> go.Figure:
    fig = trend(kpi, values, title="", height=140)
    fig.update_layout(margin=dict(l=0, r=0, t=0, b=0), showlegend=False, xaxis=dict(visible=False))
    fig.update_yaxes(visible=False)
    return fig


def waterfall(kpi: Kpi, b: BridgeResult, title: str | None = None) -> go.Figure:
    """The bridge: from one view's value, step by step, to the other's."""
    start, end = views.style(kpi, b.start_view), views.style(kpi, b.end_view)
    labels = [f"{start.label} value"] + [s.label for s in b.steps] + [f"{end.label} value"]
    values = [b.start] + [s.value for s in b.steps] + [b.end]
    measure = ["absolute"] + ["relative"] * len(b.steps) + ["total"]
    fig = go.Figure(go.Waterfall(
        x=labels, y=values, measure=measure, connector=dict(line=dict(color="#bbb")),
        increasing=dict(marker=dict(color=STEP_UP)), decreasing=dict(marker=dict(color=STEP_DOWN)),
        totals=dict(marker=dict(color=colour(kpi, b.end_view))), textposition="outside",
        text=[_short(v, kpi.unit) for v in values]))
    # The first bar is an absolute in the start view's colour: draw it over the default.
    fig.add_trace(go.Bar(x=[labels[0]], y=[b.start], marker_color=colour(kpi, b.start_view), showlegend=False,
                         hoverinfo="skip"))
    fig.update_layout(barmode="overlay", showlegend=False)
    fig = _layout(fig, title or f"{kpi.label}: from the {start.word} to the {end.word} value", kpi, 420)
    fig.add_annotation(text="teal bars add, purple bars subtract", xref="paper", yref="paper", x=1, y=1.08,
                       showarrow=False, font=dict(size=11, color="#555"))
    return fig


def breakdown(kpi: Kpi, values: pl.DataFrame, dim: str, title: str | None = None) -> go.Figure:
    """Every view side by side for each value of one dimension."""
    fig = go.Figure()
    rows = values.filter(pl.col("kpi") == kpi.name)
    names = safe_text.label_map(rows[dim].cast(pl.String).unique(maintain_order=True))  # capped, escaped, visible
    for view in kpi.views:
        v = rows.filter(pl.col("view") == view).sort(dim)
        fig.add_trace(go.Bar(x=[names[x] for x in v[dim].cast(pl.String).to_list()], y=v["value"].to_list(),
                             name=views.style(kpi, view).label, marker_color=colour(kpi, view)))
    fig.update_layout(barmode="group")
    return _layout(fig, title or f"{kpi.label} by {dim.replace('_', ' ')}", kpi)


def gaps(rows: list[dict], who: str) -> go.Figure:
    """Where the views (`who`, in words) disagree most: how far apart they lie as a share of
    the largest value, per KPI (kpi_definitions.views.disagreement)."""
    rows = sorted(rows, key=lambda r: r["relative_gap"] if r["relative_gap"] is not None else -1)
    fig = go.Figure(go.Bar(x=[r["relative_gap"] for r in rows], y=[r["label"] for r in rows], orientation="h",
                           marker_color="#555", text=[f"{r['relative_gap']:.0%}" if r["relative_gap"] is not None
                                                      else "n/a" for r in rows], textposition="outside"))
    fig.update_layout(title=dict(text=f"Where {who} disagree most (gap ÷ larger value)", x=0,
                                 font=dict(size=15)), height=260, font=FONT, margin=dict(l=10, r=30, t=50, b=10),
                      plot_bgcolor="white", xaxis=dict(tickformat=".0%", gridcolor="#e6e6e6"))
    return fig


def _short(v: float | None, unit: str) -> str:
    if v is None:
        return ""
    if unit == "ratio":
        return f"{v:.1%}"
    if unit == "days":
        return f"{v:,.1f}"
    return f"{v / 1000:,.0f}k" if abs(v) >= 10_000 else f"{v:,.0f}"


def stamp(fig: go.Figure, lines: list[str]) -> go.Figure:
    """A copy of the chart with what it shows written under it: for slides, where no filter bar is."""
    out = go.Figure(fig)
    height = (out.layout.height or 400) + 22 * len(lines)
    out.update_layout(height=height, margin=dict(b=30 + 22 * len(lines)))
    out.add_annotation(text="<br>".join(_escape(x) for x in lines), xref="paper", yref="paper", x=0, y=0,
                       yshift=-(18 + 22 * len(lines)), xanchor="left", yanchor="top", showarrow=False, align="left",
                       font=dict(size=11, color="#444"))
    return out


def _escape(text: str) -> str:
    """Plotly annotations understand a little HTML; filter values are data, so they are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
