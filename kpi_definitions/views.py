"""Views side by side: each KPI's views in declared order, how each is shown, and the gaps between them.

A gap is always `view − base`, for every view but the base: the base is the KPI's `gap_base`, else its
bridge's `from` view (the bridge walks from the base to the other view), else the view declared second.
Nothing here knows which teams a registry holds: two views, or three (an agreed one), are the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from kpi_definitions.registry import Kpi, Registry


@dataclass(frozen=True)
class ViewStyle:
    """How a view is shown: its label, its initial (for column headers) and its named colour."""

    name: str
    label: str
    colour: str

    @property
    def initial(self) -> str:
        return self.label[:1].upper()

    @property
    def word(self) -> str:
        """The label inside a sentence ("gap (finance − procurement)")."""
        return self.label.lower()

    @property
    def mark(self) -> str:
        """A coloured square in Streamlit Markdown, the view's colour in every chart."""
        return f":{self.colour}[■]"


@dataclass(frozen=True)
class Gap:
    """One gap of a KPI: `view − base`."""

    view: str
    base: str
    column: str  # the column of side_by_side() holding it
    header: str  # "Gap (F − P)"
    words: str  # "finance − procurement"


def style(kpi: Kpi, view: str) -> ViewStyle:
    v = kpi.views[view]
    return ViewStyle(view, v.label or view.replace("_", " ").capitalize(), v.colour)


def styles(reg: Registry) -> list[ViewStyle]:
    """Every view of the registry once, in the order the declarations first name them."""
    seen: dict[str, ViewStyle] = {}
    for kpi in reg:
        for view in kpi.views:
            seen.setdefault(view, style(kpi, view))
    return list(seen.values())


def label_of(reg: Registry, kpi_or_companion: str, view: str) -> str:
    owner = reg.kpi_of(kpi_or_companion)
    if owner is None or view not in reg[owner].views:
        return view.replace("_", " ").capitalize()
    return style(reg[owner], view).label


def base(kpi: Kpi) -> str:
    if kpi.gap_base:
        return kpi.gap_base
    if kpi.bridge is not None:
        return kpi.bridge.from_view
    names = list(kpi.views)
    return names[1] if len(names) > 1 else names[0]


def gaps(kpi: Kpi) -> list[Gap]:
    b = style(kpi, base(kpi))
    out = []
    for name in kpi.views:
        if name != b.name:
            s = style(kpi, name)
            out.append(Gap(name, b.name, f"gap_{name}", f"Gap ({s.initial} − {b.initial})", f"{s.word} − {b.word}"))
    return out


def all_gaps(reg: Registry) -> list[Gap]:
    """Every gap any KPI of the registry shows, once (by column), in declared order."""
    seen: dict[str, Gap] = {}
    for kpi in reg:
        for g in gaps(kpi):
            seen.setdefault(g.column, g)
    return list(seen.values())


def words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def named(reg_or_kpi: Registry | Kpi) -> str:
    """The views in words: "finance and procurement" (a KPI's, or every view of the registry)."""
    if isinstance(reg_or_kpi, Kpi):
        return words([style(reg_or_kpi, v).word for v in reg_or_kpi.views])
    return words([s.word for s in styles(reg_or_kpi)])


def gap(view: float | None, base_value: float | None) -> float | None:
    return None if view is None or base_value is None else view - base_value


def relative_gap(a: float | None, b: float | None) -> float | None:
    """The gap as a share of the larger value: comparable across KPIs of different units."""
    if a is None or b is None:
        return None
    return spread([a, b])


def spread(values: Iterable[float | None]) -> float | None:
    """How far the views lie apart, as a share of the largest magnitude: (max − min) ÷ max |value|.

    For two views it is |a − b| ÷ max(|a|, |b|); None with fewer than two values to compare.
    """
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return None
    scale = max(abs(v) for v in known)
    return (max(known) - min(known)) / scale if scale else 0.0


def value_of(values: pl.DataFrame, kpi: str, view: str, period: str | None = None) -> float | None:
    """One view's value from compute()'s long table (the last period's, unless one is named)."""
    rows = values.filter((pl.col("kpi") == kpi) & (pl.col("view") == view))
    if period is not None:
        rows = rows.filter(pl.col("period") == period)
    return rows["value"][-1] if rows.height else None


@dataclass(frozen=True)
class Compared:
    """One KPI (or companion) in one period: each view's value and each gap."""

    kpi: Kpi
    values: dict[str, float | None]
    gaps: dict[str, float | None]  # by Gap.column

    @property
    def relative_gap(self) -> float | None:
        return spread(self.values.values())


def compare(kpi: Kpi, values: pl.DataFrame, name: str | None = None) -> Compared:
    """A KPI's views and gaps from compute()'s values for one period (`name`: a companion of the KPI)."""
    shown = {v: value_of(values, name or kpi.name, v) for v in kpi.views}
    return Compared(kpi, shown, {g.column: gap(shown[g.view], shown[g.base]) for g in gaps(kpi)})


def disagreement(reg: Registry, values: pl.DataFrame) -> list[dict]:
    """Each KPI's relative gap (how far its views lie apart), for the "where they disagree most" chart."""
    return [{"label": k.label, "relative_gap": compare(k, values).relative_gap} for k in reg]


def side_by_side(values: pl.DataFrame, kpi: Kpi, dims: Sequence[str] = ()) -> pl.DataFrame:
    """Values long (one row per view) to wide: one row per period and slice, a column per view (by name),
    then a column per gap (`gap_<view>`); largest first, by any view's magnitude."""
    rows = values.filter(pl.col("kpi") == kpi.name)
    if not rows.height:
        return pl.DataFrame()
    wide = rows.pivot(on="view", index=["period", *dims], values="value")
    present = [v for v in kpi.views if v in wide.columns]
    shown = [g for g in gaps(kpi) if g.view in wide.columns and g.base in wide.columns]
    wide = wide.with_columns((pl.col(g.view) - pl.col(g.base)).alias(g.column) for g in shown)
    wide = wide.sort(pl.max_horizontal(pl.col(v).abs() for v in present), descending=True, nulls_last=True)
    return wide.select("period", *dims, *present, *(g.column for g in shown))
