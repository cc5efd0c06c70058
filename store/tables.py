"""The store's tables: the contract's export types (columns, types, keys) with their DDL, and the load log,
quarantine and findings as the store's numbered migrations (store/migrations). What a *valid* row is lives in
`pipelines/schemas.py`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from store.schema import Schema
from store.sqltext import ident

ColumnType = Literal["str", "date", "period", "dec", "int", "bool", "ccy"]

# How each contract type is stored in DuckDB. Periods are stored as the first day of the month so that
# KPI SQL can compare them with dates directly; the contract's `YYYY-MM` is the text form.
DUCKDB_TYPES: dict[str, str] = {
    "str": "VARCHAR",
    "date": "DATE",
    "period": "DATE",
    "dec": "DOUBLE",
    "int": "BIGINT",
    "bool": "BOOLEAN",
    "ccy": "VARCHAR",
}


@dataclass(frozen=True)
class Col:
    name: str
    type: ColumnType
    nullable: bool = False


@dataclass(frozen=True)
class ExportTable:
    """One export type as stored: its typed columns (the contract's order) and its key."""

    name: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)

    def ddl(self, table: str | None = None) -> str:
        cols = ", ".join(f"{ident(c.name)} {DUCKDB_TYPES[c.type]}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {ident(table or self.name)} ({cols}, _load_id BIGINT);"


def _c(spec: str) -> Col:
    """`name type` or `name type?` as in the contract's table."""
    name, typ = spec.split()
    return Col(name, typ.rstrip("?"), typ.endswith("?"))  # type: ignore[arg-type]


def _t(name: str, columns: str, key: tuple[str, ...]) -> ExportTable:
    return ExportTable(name, tuple(_c(c.strip()) for c in columns.split(",")), key)


TABLES: dict[str, ExportTable] = {t.name: t for t in [
    _t("suppliers", "supplier_id str, supplier_name str, country str?, preferred bool, payment_terms_days int",
       ("supplier_id",)),
    _t("contracts", "contract_id str, supplier_id str, category str, item_id str?, start_date date, end_date date, "
       "baseline_unit_price dec, contract_unit_price dec, currency ccy, savings_type str, payment_terms_days int",
       ("contract_id",)),
    _t("purchase_orders", "po_id str, po_line int, supplier_id str, contract_id str?, item_id str?, category str, "
       "cost_center str, order_date date, quantity dec, unit_price dec, currency ccy, status str", ("po_id", "po_line")),
    _t("invoices", "invoice_id str, invoice_line int, supplier_id str, po_id str?, po_line int?, item_id str?, "
       "category str, cost_center str, gl_account str, invoice_date date, due_date date, paid_date date?, "
       "quantity dec?, amount dec, currency ccy", ("invoice_id", "invoice_line")),
    _t("budgets", "fiscal_period period, cost_center str, category str, budget_amount dec, currency ccy",
       ("fiscal_period", "cost_center", "category")),
    _t("inventory", "snapshot_date date, item_id str, location str, on_hand_qty dec, safety_stock_qty dec, "
       "unit_cost dec, currency ccy", ("snapshot_date", "item_id", "location")),
    _t("consumption", "period period, item_id str, location str, quantity dec, value dec, currency ccy",
       ("period", "item_id", "location")),
    _t("fx_rates", "period period, currency ccy, rate_to_reporting dec", ("period", "currency")),
    # Market prices: an external price index by month (a producer price index, say), and which index each
    # category of spend follows (the price page compares our index with it; pipelines/series.py checks both).
    _t("price_indices", "period period, index_name str, value dec", ("period", "index_name")),
    _t("category_index", "category str, index_name str", ("category",)),
]}

def existing(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None: what the main schema holds under `name`."""
    return con.execute("SELECT any_value(table_type) FROM information_schema.tables "
                       "WHERE table_schema = 'main' AND table_name = ?", [name]).fetchall()[0][0]


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create every export table that is missing, from the declarations (a writer's first step, after the
    numbered migrations of SCHEMA; opening alone never changes the file).

    An export whose rows another layer stores elsewhere (invoice lines live with their KPI facts, and
    `invoices` is then a view) is left as it is.
    """
    stmts = [t.ddl() for t in TABLES.values() if existing(con, t.name) is None]
    if stmts:
        con.execute("\n".join(stmts))


# The store's own tables (load log, filtered and quarantined rows, findings) as numbered migrations; the export
# tables follow their declarations (`ensure`).
SCHEMA = Schema.from_folder("store", Path(__file__).parent / "migrations")
