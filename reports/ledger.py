"""The savings ledger as figures and tables (the Savings pipeline page, `tandem savings`): the evaporation
bridge with realised as a subtotal, its steps as rows, the initiatives' table with nominal and index-adjusted
savings side by side, and the monthly forecast. Numbers come from the KPI layer (kpi_definitions/ledger.py);
nothing here computes a saving, it only arranges them."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from kpi_definitions.compute import BridgeResult
from kpi_definitions.registry import Kpi
from reports import charts, formats

# The bars of the bridge, in order: the step (or end) each stands for, and how it is drawn.
NEGOTIATED, REALISED, BOOKED = "negotiated", "realised", "booked"
REALISED_COLOUR = charts.PALETTE["gray"]  # between the two teams' colours: the lines' own number


def bars(kpi: Kpi, b: BridgeResult) -> pl.DataFrame:
    """The bridge as rows (step, label, amount, kind: start, step, subtotal or end), realised placed as a subtotal
    after the steps that lead to it; every row's amount to the cent."""
    steps = {s.name: s for s in b.steps}
    rows = [(NEGOTIATED, "Negotiated (prorated)", b.start, "start")]
    to_realised = [s for s in b.steps if s.name != "not_booked"]
    rows += [(s.name, s.label, s.value, "step") for s in to_realised]
    realised = (b.start or 0.0) + sum(s.value for s in to_realised)
    rows.append((REALISED, "Realised (from invoice lines)", realised, "subtotal"))
    if "not_booked" in steps:
        rows.append(("not_booked", steps["not_booked"].label, steps["not_booked"].value, "step"))
    rows.append((BOOKED, "Booked by finance", b.end, "end"))
    return pl.DataFrame(rows, schema={"step": pl.String, "label": pl.String, "amount": pl.Float64, "kind": pl.String},
                        orient="row").with_columns(pl.col("step").replace_strict(SHORT, default=pl.col("label"))
                                                   .alias("short"))


# What a bar of the bridge is called under it (the table beside it has the full labels): eight bars fit a
# 1024-pixel screen only with short names.
SHORT = {NEGOTIATED: "Negotiated", "price_not_applied": "Price not applied", "volume": "Volume",
         "off_contract": "Off contract", "fx_scope": "FX and scope", REALISED: "Realised", "not_booked": "Not booked",
         BOOKED: "Booked"}


def waterfall(kpi: Kpi, b: BridgeResult, title: str, currency: str = "EUR") -> go.Figure:
    """Negotiated → each leak → realised (a subtotal) → not booked → booked. A bar's customdata is its step's name
    (a click opens its lines)."""
    rows = bars(kpi, b)
    measure = [{"start": "absolute", "step": "relative", "subtotal": "total", "end": "total"}[k] for k in rows["kind"]]
    values = rows["amount"].to_list()
    shown = [charts.wrap(x, width=10) for x in rows["short"]]
    fig = go.Figure(go.Waterfall(
        x=shown, y=values, measure=measure, customdata=[[s] for s in rows["step"]],
        connector=dict(line=dict(color="#bbb")),
        increasing=dict(marker=dict(color=charts.STEP_UP)), decreasing=dict(marker=dict(color=charts.STEP_DOWN)),
        totals=dict(marker=dict(color=charts.colour(kpi, "finance"))), textposition="outside", cliponaxis=False,
        text=[formats.compact(v, "currency", currency, change=k == "step") for v, k in zip(values, rows["kind"],
                                                                                         strict=True)],
        showlegend=False))
    # the start in procurement's colour, realised in its own: the ends of each team's number
    fig.add_trace(go.Bar(x=[shown[0]], y=[values[0]], marker_color=charts.colour(kpi, "procurement"),
                         showlegend=False, hoverinfo="skip"))
    i = rows["kind"].to_list().index("subtotal")
    fig.add_trace(go.Bar(x=[shown[i]], y=[values[i]], marker_color=REALISED_COLOUR, showlegend=False,
                         hoverinfo="skip"))
    fig.update_layout(barmode="overlay", showlegend=False, height=460, font=charts.FONT, plot_bgcolor="white",
                      paper_bgcolor="white", margin=dict(l=16, r=16, t=80, b=10, autoexpand=True),
                      title=dict(text=title, x=0, xanchor="left", font=dict(size=15), automargin=True))
    levels, level = [0.0], 0.0  # where each bar ends: a step moves the level, an end or a subtotal sets it
    for v, kind in zip(values, rows["kind"], strict=True):
        level = level + (v or 0.0) if kind == "step" else (v or 0.0)
        levels.append(level)
    lo, hi = min(levels), max(levels)
    pad = (hi - lo) * 0.12 or 1.0
    fig.update_yaxes(gridcolor="#e6e6e6", zerolinecolor="#999", automargin=True, tickformat=",.0f",
                     range=[lo - pad if lo < 0 else 0.0, hi + pad],
                     title=dict(text=currency, font=dict(size=12, color="#444")))
    fig.update_xaxes(automargin=True, tickangle=0)
    marks = [(charts.colour(kpi, "procurement"), "negotiated"), (charts.STEP_UP, "step adds"),
             (charts.STEP_DOWN, "step subtracts"), (REALISED_COLOUR, "realised"),
             (charts.colour(kpi, "finance"), "booked")]
    fig.update_layout(title=dict(subtitle=dict(text="   ".join(f"<span style='color:{c}'>■</span> {t}" for c, t in marks),
                                               font=dict(size=12, color="#444"))))
    return fig


# The initiatives' table: what each column is, in words (the page and the exports head them so).
INITIATIVE_COLUMNS = {
    "initiative_id": "Initiative", "name": "Name", "supplier_id": "Supplier", "category": "Category", "stage": "Stage",
    "baseline_method": "Baseline method", "negotiated": "Negotiated", "price_not_applied": "Price not applied",
    "volume": "Volume", "off_contract": "Off contract", "fx_scope": "FX and scope", "realised_nominal": "Realised",
    "realised_indexed": "Realised, index-adjusted", "realised": "Realised (as declared)", "booked": "Booked",
    "not_booked": "Not booked", "rate": "Realised ÷ negotiated",
}
MONEY = tuple(c for c in INITIATIVE_COLUMNS if c not in ("initiative_id", "name", "supplier_id", "category", "stage",
                                                         "baseline_method", "rate"))


def initiatives_table(by_initiative: pl.DataFrame) -> pl.DataFrame:
    """One row per initiative: the bridge's steps, realised nominal beside index-adjusted (a baseline declared
    index-adjusted is realised as adjusted; its nominal takes the index's move back out), booked, and the share
    of the negotiated saving realised."""
    if not by_initiative.height:
        return pl.DataFrame(schema={v: pl.String if k in ("initiative_id", "name", "supplier_id", "category", "stage",
                                                           "baseline_method") else pl.Float64
                                    for k, v in INITIATIVE_COLUMNS.items()})
    framed = by_initiative.with_columns(
        (pl.col("realised") - pl.col("market_index")).alias("realised_nominal"),
        pl.when(pl.col("negotiated").abs() > 0).then(pl.col("realised") / pl.col("negotiated")).alias("rate"))
    return framed.select(list(INITIATIVE_COLUMNS)).rename(INITIATIVE_COLUMNS)


def forecast_chart(frame: pl.DataFrame, currency: str = "EUR") -> go.Figure:
    """The monthly forecast: realised (months with data) and expected (after), what is at risk on top, the pipeline
    by stage as lines, booked as points, and any monthly joint target as a dashed line."""
    fig = go.Figure()
    actual = frame.filter(pl.col("actual"))
    later = frame.filter(~pl.col("actual"))
    fig.add_trace(go.Bar(x=actual["period"], y=actual["realised"], name="Realised", marker_color=charts.PALETTE["gray"]))
    fig.add_trace(go.Bar(x=later["period"], y=later["expected"], name="Expected", marker_color="#a8a8a8"))
    fig.add_trace(go.Bar(x=frame["period"], y=frame["at_risk"], name="At risk", marker_color=charts.STEP_DOWN,
                         opacity=0.6))
    pipeline = frame["negotiated"] + frame["contracted"]
    fig.add_trace(go.Scatter(x=frame["period"], y=pipeline, name="Negotiated (prorated)", mode="lines",
                             line=dict(color=charts.PALETTE["orange"], width=2)))
    fig.add_trace(go.Scatter(x=frame["period"], y=frame["identified"] + pipeline, name="With identified",
                             mode="lines", line=dict(color=charts.PALETTE["orange"], width=1, dash="dot")))
    fig.add_trace(go.Scatter(x=actual["period"], y=actual["booked"], name="Booked", mode="markers",
                             marker=dict(color=charts.PALETTE["blue"], size=9, symbol="diamond")))
    for col in (c for c in frame.columns if c.startswith("target_")):
        fig.add_trace(go.Scatter(x=frame["period"], y=frame[col], name=f"Target ({col.removeprefix('target_')})",
                                 mode="lines+markers", line=dict(color="#333", dash="dash")))
    fig.update_layout(barmode="stack", height=420, font=charts.FONT, plot_bgcolor="white", paper_bgcolor="white",
                      margin=dict(l=16, r=16, t=60, b=10, autoexpand=True), hovermode="x unified",
                      legend=dict(orientation="h", x=0, y=-0.15, yanchor="top"),
                      title=dict(text="Savings by month: realised, expected and at risk, against the pipeline", x=0,
                                 xanchor="left", font=dict(size=15), automargin=True))
    fig.update_yaxes(gridcolor="#e6e6e6", zerolinecolor="#999", tickformat=",.0f", automargin=True,
                     title=dict(text=currency, font=dict(size=12, color="#444")))
    fig.update_xaxes(automargin=True, type="category")
    return fig


FORECAST_COLUMNS = {"period": "Month", "identified": "Identified", "negotiated": "Negotiated, not contracted",
                    "contracted": "Contracted or later", "realised": "Realised", "booked": "Booked",
                    "expected": "Expected", "at_risk": "At risk", "budget": "Spend budget",
                    "of_budget": "Expected ÷ budget"}


def forecast_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The forecast as finance reads it: a row a month, the savings next to the spend budget and the targets."""
    targets = {c: f"Target ({c.removeprefix('target_')})" for c in frame.columns if c.startswith("target_")}
    return (frame.with_columns(pl.when(pl.col("budget") > 0).then(pl.col("expected") / pl.col("budget"))
                               .alias("of_budget"))
            .select(*FORECAST_COLUMNS, *targets).rename(FORECAST_COLUMNS | targets))
