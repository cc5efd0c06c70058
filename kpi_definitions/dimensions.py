"""The dimensions KPIs are split and filtered by, declared once: each one's name, label, URL parameter, whether a
filter on it reaches the KPI SQL, and where a filter's choices and their shown names come from.

Everything else derives from here: the registry's DIMENSIONS and FILTERABLE, the filter bar's parameters and
labels (`filter_params()`, `filter_labels()`), and the SQL listing a filter's choices (`options_sql()`).
"""

from __future__ import annotations

from dataclasses import dataclass

from store.sqltext import ident


@dataclass(frozen=True)
class Names:
    """Where a dimension's values get a readable name: `table.name` for `table.key` (the supplier master)."""

    table: str
    key: str
    name: str
    missing: str  # shown for a value the table does not name


@dataclass(frozen=True)
class Dimension:
    """One dimension of the KPI rows."""

    name: str  # the column of the KPI rows: supplier_id
    label: str  # how a reader calls it: "Supplier"
    param: str | None  # its URL parameter in the filter bar (None: the filter bar does not offer it)
    filterable: bool  # a filter on it reaches the KPI SQL (savings_type only splits procurement's savings)
    sources: tuple[tuple[str, str], ...]  # (table, column) its values are read from, for a filter's choices
    names: Names | None = None

    @property
    def words(self) -> str:
        """Inside a sentence: "supplier", "cost center"."""
        return self.label.lower()


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("supplier_id", "Supplier", "supplier", True,
              (("invoices", "supplier_id"), ("purchase_orders", "supplier_id")),
              Names("suppliers", "supplier_id", "supplier_name", "(not in supplier master)")),
    Dimension("category", "Category", "category", True,
              (("invoices", "category"), ("purchase_orders", "category"), ("budgets", "category"))),
    Dimension("cost_center", "Cost center", "cost_center", True,
              (("invoices", "cost_center"), ("purchase_orders", "cost_center"), ("budgets", "cost_center"))),
    Dimension("item_id", "Item", None, True,
              (("invoices", "item_id"), ("purchase_orders", "item_id"), ("inventory", "item_id"),
               ("consumption", "item_id"))),
    Dimension("location", "Location", None, True, (("inventory", "location"), ("consumption", "location"))),
    Dimension("savings_type", "Savings type", None, False, (("contracts", "savings_type"),)),
)
BY_NAME: dict[str, Dimension] = {d.name: d for d in DIMENSIONS}
NAMES: tuple[str, ...] = tuple(d.name for d in DIMENSIONS)
FILTERABLE: tuple[str, ...] = tuple(d.name for d in DIMENSIONS if d.filterable)
IN_FILTER_BAR: tuple[str, ...] = tuple(d.name for d in DIMENSIONS if d.param)


def filter_params() -> dict[str, str]:
    """URL parameter -> dimension, for the filter bar (tandem/selection.py's FILTER_PARAMS)."""
    return {d.param: d.name for d in DIMENSIONS if d.param}


def filter_labels() -> dict[str, str]:
    """URL parameter -> label, for the filter bar (tandem/selection.py's FILTER_LABELS)."""
    return {d.param: d.label for d in DIMENSIONS if d.param}


def label(name: str) -> str:
    return BY_NAME[name].label if name in BY_NAME else name.replace("_", " ").capitalize()


def options_sql(dims: tuple[str, ...] = IN_FILTER_BAR, tables: dict[str, str] | None = None) -> str:
    """The values a filter on each of `dims` can take, with a shown label: (dim, value, label) ordered by dim and
    value. `tables` maps an export to the relation read instead (a smaller one holding the same values)."""
    tables = tables or {}
    parts = []
    for name in dims:
        d = BY_NAME[name]
        values = "\n    UNION ".join(f"SELECT DISTINCT {ident(col)} AS value FROM {tables.get(t, ident(t))}"
                                     for t, col in d.sources)
        if d.names:
            n = d.names
            parts.append(f"SELECT '{d.name}' AS dim, x.value, x.value || coalesce(' · ' || s.{ident(n.name)}, "
                         f"' · {n.missing}') AS label\nFROM (\n    {values}\n) x\n"
                         f"LEFT JOIN {ident(n.table)} s ON s.{ident(n.key)} = x.value\nWHERE x.value IS NOT NULL")
        else:
            parts.append(f"SELECT '{d.name}' AS dim, x.value, x.value AS label\nFROM (\n    {values}\n) x\n"
                         "WHERE x.value IS NOT NULL")
    return "\nUNION ALL\n".join(parts) + "\nORDER BY dim, value"
