"""Tables on screen: the one number format (−EUR 1,235, thousands separators, "—" for nothing) while cells
stay numbers, headers in words; below the widgets and the pages that show tables (targets' lists too)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from reports import formats, safe_text


def number_format(unit: str, currency: str) -> str:
    """A printf format for a number column of `unit` (where a Styler cannot be used: very large tables)."""
    return {"ratio": "percent", "days": "%,.1f days"}.get(unit, f"{currency if unit == 'currency' else unit} %,.0f")


STYLED_CELLS = 40_000  # above this, pandas' Styler takes seconds: printf formats instead (a hyphen for minus)


def _is_change(column: str) -> bool:
    """A gap or a change: shown with its sign (formats.signed), like the gap lines under the numbers."""
    return column.startswith("Gap") or column in ("Change", "Moved")


def _cell_text(dtype: pl.DataType, unit: str | None, column: str, currency: str):  # noqa: ANN202
    """How one number column's cells read on screen (formats.py's convention), or None to leave it as it is."""
    if unit is not None:
        fn = formats.signed if _is_change(column) else formats.value
        return lambda v: fn(v, unit, currency)
    if dtype.is_float():
        return lambda v: formats.number(v, 2)
    if dtype.is_integer():
        return lambda v: formats.number(v, 0)
    return None


def table(df: pl.DataFrame, units: dict[str, str] | None = None, currency: str = "EUR", key: str | None = None,
          on_select: object = "ignore", unit_column: str | None = None, height: int | None = None) -> object:
    """A table without its index, the cells formatted as everywhere else (−EUR 1,235, thousands separators,
    "—" for a missing value) while every column keeps its type, so it sorts as numbers and dates. Columns in
    `units` are KPI values in that unit (gaps and changes signed); with `unit_column`, each row's unit is in
    that (hidden) column instead. `on_select` (with `key`) makes a row selectable: the selection event is
    returned."""
    units = units or {}
    if unit_column is not None:
        row_units, df = df[unit_column].to_list(), df.drop(unit_column)
        return _per_row(df, units, row_units, currency, key, on_select)
    shown = safe_text.visible_frame(df)
    config: dict = {c: st.column_config.DateColumn(format="YYYY-MM-DD") for c, t in shown.schema.items()
                    if t == pl.Date}
    select = dict(on_select=on_select, selection_mode="single-row", key=key) if on_select != "ignore" else {}
    if height is not None:
        select["height"] = height
    for c in shown.columns:  # a column named as in the data (supplier_id) is headed in words (Supplier ID)
        if c != (said := formats.header(c)):
            config[c] = {**config[c], "label": said} if c in config else st.column_config.Column(label=said)
    if shown.height * max(shown.width, 1) > STYLED_CELLS:  # still thousands separators and "—" for nothing
        for c, t in shown.schema.items():
            if t.is_numeric():
                config[c] = st.column_config.NumberColumn(
                    formats.header(c), format=number_format(units[c], currency) if c in units else "localized")
        shown = shown.with_columns(pl.col(c).fill_null("—") for c, t in shown.schema.items() if t == pl.String)
        return st.dataframe(shown, hide_index=True, column_config=config or None, placeholder="—", **select)
    fmt = {c: f for c, t in shown.schema.items() if (f := _cell_text(t, units.get(c), c, currency)) is not None}
    data = shown.to_pandas()
    styled = data.style.format(fmt, na_rep="—").format(na_rep="—", subset=[c for c in data.columns if c not in fmt])
    return st.dataframe(styled, hide_index=True, column_config=config or None, placeholder="—", **select)


def _per_row(df: pl.DataFrame, columns: dict[str, str], row_units: list[str], currency: str, key: str | None,
             on_select: object) -> object:
    """`table` for rows in different units (a KPI per row): each row's number columns in its own unit."""
    import pandas as pd

    shown = safe_text.visible_frame(df)
    data = shown.to_pandas()
    styled = data.style.format(na_rep="—")
    for unit in set(row_units):
        rows = [i for i, u in enumerate(row_units) if u == unit]
        for c, own in columns.items():  # a column's own unit (e.g. "ratio") wins over the row's
            fn = _cell_text(shown.schema[c], own or unit, c, currency)
            styled = styled.format(fn, na_rep="—", subset=pd.IndexSlice[rows, [c]])
    select = dict(on_select=on_select, selection_mode="single-row", key=key) if on_select != "ignore" else {}
    return st.dataframe(styled, hide_index=True, placeholder="—", **select)
