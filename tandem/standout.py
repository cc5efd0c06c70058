"""What stands out, for the Overview: the largest gap of each KPI by slice, the biggest movers since the last
review and the data-quality counts. The values and gaps come from the KPI layer (kpi_definitions/views.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from kpi_definitions import views
from kpi_definitions.registry import Registry
from reports.scope import Scope
from workspace.db import named

SLICES = ("supplier_id", "category")  # the splits every team reads first
COLUMNS = ("KPI", "Split", "Slice")


def largest_gaps(sel: Scope, reg: Registry, labels: dict[str, str],
                 names: dict[str, dict[str, str]]) -> tuple[pl.DataFrame, list[tuple[str, str, str]]]:
    """For each KPI and split, the slice where its views differ most (its first gap, in the KPI's unit), as
    (table with a `unit` column, [(kpi, dimension, value)] of each row, for the click-through).

    `labels` names the splits, `names` the values of a split (supplier names)."""
    frames, picks = [], []
    for dim in SLICES:
        values = sel.values(by=(dim,))  # every KPI that splits by it, in one query
        for kpi in reg:
            gaps = views.gaps(kpi)
            if not gaps or dim not in kpi.dimensions:
                continue
            g = gaps[0]
            wide = views.side_by_side(values, kpi, (dim,))
            if not wide.height or g.column not in wide.columns:
                continue
            top = wide.filter(pl.col(g.column).is_not_null()).sort(pl.col(g.column).abs(), descending=True).head(1)
            if not top.height:
                continue
            value = str(top[dim][0])
            picks.append((kpi.name, dim, value))
            frames.append(pl.DataFrame({
                "KPI": [kpi.label], "Split": [labels.get(dim, dim)],
                "Slice": [names.get(dim, {}).get(value, value)],
                views.style(kpi, g.view).label: top[g.view].cast(pl.Float64),
                views.style(kpi, g.base).label: top[g.base].cast(pl.Float64),
                "Gap": top[g.column].cast(pl.Float64), "unit": [kpi.unit]}))
    if not frames:
        return pl.DataFrame(schema={c: pl.String for c in (*COLUMNS, "unit")}), []
    table = pl.concat(frames, how="diagonal_relaxed")
    order = [k.name for k in reg]  # KPI by KPI, in the registry's order
    rank = pl.Series([order.index(p[0]) * 10 + SLICES.index(p[1]) for p in picks])
    table = table.with_columns(rank=rank).sort("rank").drop("rank")
    picks = [picks[i] for i in rank.arg_sort().to_list()]
    return table.select(*COLUMNS, *[c for c in table.columns if c not in (*COLUMNS, "unit")], "unit"), picks


def data_quality(db: Path) -> dict[str, int]:
    """{quarantined, findings, finding_rows}: what the Data page lists."""
    row = named(db, "dq_counts").row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}
