"""The KPI facts: invoice and PO lines joined once, at load time, to what they refer to (sql/facts.sql), and
the monthly sums the KPI views read (month × slice: fact_invoice_months, fact_paid_months, fact_po_months,
fact_po_savings, fact_prices, and the months each export holds, fact_months), kept current inside every load's
transaction.

Invoice lines are stored once, with their facts: `fact_invoices` is the table and `invoices` a view of its
export columns. A second copy of 10M lines cost a second 5 s write on every load, and twice the disk. A load
of invoices re-sums only the months it changed (sql/fact_changed.sql); a load of any other source of the facts
rebuilds them all. A KPI request then reads rows in proportion to months × slices, not to lines; only the
drill-down (and the savings and budget bridges, which walk line by line) reads lines.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from kpi_definitions import flow
from kpi_definitions.dialects import Named
from kpi_definitions.registry import sql_code
from store import tables
from store.db import transaction
from store.errors import FAILURE, TandemError
from store.sqltext import ident
from store.tables import DUCKDB_TYPES
from store.tables import TABLES as EXPORT_TABLES

SQL = Named(Path(__file__).parent / "sql")  # the facts are built by DuckDB: its function library
REBUILD = "facts"  # the named SQL of the full rebuild
INVOICE_COLUMNS = [*EXPORT_TABLES["invoices"].column_names, "_load_id"]
# The exports the facts are built from: a load of any other type leaves them as they are.
SOURCES = frozenset({"invoices", "purchase_orders", "contracts", "suppliers", "fx_rates", "inventory", "consumption"})
FACT_TABLES = ("fact_invoices", "fact_po", "fact_items", "fact_prices", "fact_price_links", "fact_invoice_months",
               "fact_paid_months", "fact_po_months", "fact_po_savings", "fact_invoice_rollup", "fact_paid_rollup",
               "fact_po_rollup", "fact_stock", "fact_consumption", "fact_stock_rollup", "fact_consumption_rollup", "fact_months",
               "facts_meta", *flow.TABLES)
# A load of stock or consumption rebuilds the months it changed of its facts: export -> (facts table, its SQL,
# the months' SQL for fact_months, the export's date).
ROWS = {"inventory": ("fact_stock", "fact_stock_months", "snapshot_date"),
        "consumption": ("fact_consumption", "fact_consumption_months", "period")}
# The monthly sums a load of invoices re-sums for the months it changed: table -> (named SQL, which months:
# by invoice month `m` or by paid month `paid`). fact_months holds the PO export's months too: only its
# invoice rows are re-counted.
MONTHLY = {"fact_prices": ("fact_prices", "m"),
           # after the prices they link (dict order): a month's links change with it and with the month before
           "fact_price_links": ("fact_price_links", "links"), "fact_invoice_months": ("fact_invoice_months", "m"),
           "fact_months": ("fact_months", "m"), "fact_paid_months": ("fact_paid_months", "paid"),
           # after the sums they roll up (dict order): the months' rows summed over the suppliers
           "fact_invoice_rollup": ("fact_invoice_rollup", "rollup_m"), "fact_paid_rollup": ("fact_paid_rollup", "rollup_paid")}


class CurrencyMismatch(TandemError):
    """The facts were converted to another reporting currency than the one asked for."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FAILURE)


class FactsOutdated(TandemError):
    """A fact table is missing: the facts were built by an earlier version, and no writer has rebuilt them yet."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FAILURE)


def refresh(con: duckdb.DuckDBPyConnection, currency: str, export_type: str | None = None) -> None:
    """Rebuild the facts in `currency`, inside the caller's transaction (a failed load leaves the old ones).

    A load of invoices wrote its lines' facts as it stored them (`add_invoices`): only the monthly sums of the
    months it changed are left to re-sum, and the flow facts of the documents it touched, unless the facts are in
    another currency. Anything else rebuilds them all.
    """
    if export_type in ("invoices", *ROWS) and not missing(con) and currency_of(con) == currency:
        update_months(con, currency) if export_type == "invoices" else update_rows(con, currency, export_type)
        if export_type == "invoices":  # the budget and flow facts of the documents it touched, after the lines'
            flow.update_invoices(con, currency)
        return
    _run(con, REBUILD, {"ccy": currency})
    if export_type is None or export_type in flow.SOURCES:  # the budget and flow facts read the invoice facts
        flow.rebuild(con, currency)


def update_rows(con: duckdb.DuckDBPyConnection, currency: str, export_type: str) -> list[int]:
    """Rebuild the stock or consumption facts (and their months in fact_months) of the months a load of them
    changed (sql/fact_rows_changed.sql); returns those months."""
    fact, months_sql, date = ROWS[export_type]
    changed = SQL["fact_rows_changed"].replace("{table}", ident(export_type)).replace("{date}", date)
    months = sorted(int(m) for (m,) in con.execute(changed.replace("{fact}", fact)).fetchall() if m is not None)
    if not months:
        return []
    source = "inventory" if export_type == "inventory" else "consumption"
    con.execute(f"DELETE FROM {fact} WHERE list_contains($months, m)", {"months": months})
    con.execute(f"INSERT INTO {fact} {SQL[fact].replace('{where}', f'list_contains($months, {_month_of(date)})')}",
                {"months": months, "ccy": currency})
    rollup = f"{fact}_rollup"  # then its months summed over the items
    con.execute(f"DELETE FROM {rollup} WHERE list_contains($months, m)", {"months": months})
    con.execute(f"INSERT INTO {rollup} {SQL[rollup].replace('{where}', 'list_contains($months, m)')}",
                {"months": months})
    con.execute("DELETE FROM fact_months WHERE source = $s AND list_contains($months, m)", {"s": source, "months": months})
    con.execute(f"INSERT INTO fact_months {SQL[months_sql].replace('{where}', 'list_contains($months, m)')}",
                {"months": months})
    return months


def _month_of(column: str) -> str:
    from kpi_definitions.dialects import expand

    return expand(f"@month_ix({column})")


def update_months(con: duckdb.DuckDBPyConnection, currency: str) -> dict[str, list[int]]:
    """Re-sum the monthly facts of the months a load of invoices changed (sql/fact_changed.sql), from their lines:
    a monthly load re-sums one month (and the months its lines were paid in), not the whole history. Returns the
    months re-summed, by invoice month (`m`) and paid month (`paid`)."""
    changed: dict[str, list[int]] = {"m": [], "paid": []}
    for kind, m in con.execute(SQL["fact_changed"]).fetchall():
        changed[kind].append(int(m))
    links = sorted({*changed["m"], *(m + 1 for m in changed["m"])})
    for table, (name, kind) in MONTHLY.items():
        months = links if kind == "links" else sorted(changed[kind.removeprefix("rollup_")])
        if not months:
            continue
        keep = " AND source = 'invoices'" if table == "fact_months" else ""
        con.execute(f"DELETE FROM {table} WHERE list_contains($months, m){keep}", {"months": months})
        # the lines are selected by their paid month for the paid sums; everything else by `m`
        sql = SQL[name].replace("{where}", f"list_contains($months, {'paid_m' if kind == 'paid' else 'm'})")
        if name == "fact_prices":
            sql = _fact_prices("list_contains($months, x.m)")
        elif name == "fact_price_links":
            sql = _fact_price_links("list_contains($months, m)", "list_contains($months, m + 1)")
        code = sql_code(sql)  # DuckDB refuses a value for a parameter the query does not name
        con.execute(f"INSERT INTO {table} {sql}", {k: v for k, v in (("months", months), ("ccy", currency))
                                                   if f"${k}" in code})
    return changed


def update_prices(con: duckdb.DuckDBPyConnection, currency: str) -> None:
    """The monthly facts (the price facts among them) of the months a load of invoices changed (`update_months`)."""
    update_months(con, currency)


def table_of(export_type: str) -> str:
    """The table an export type's rows are stored in (invoice lines live in `fact_invoices`)."""
    return "fact_invoices" if export_type == "invoices" else export_type


def add_invoices(con: duckdb.DuckDBPyConnection, lines: str, currency: str) -> int:
    """Store invoice lines (`lines`: a relation of the export's columns and `_load_id`) with their facts.

    DuckDB cannot estimate how many lines a file holds, and on a database whose POs, contracts and suppliers
    are loaded it built its hash tables on the new lines instead of on those small tables: 3M lines then
    needed more than 2 GB and 40 s. The lines are always the probe side here, so that choice is switched
    off for this one statement.
    """
    sql = f"INSERT INTO fact_invoices SELECT * FROM ({_fact_invoices(lines)})"
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    # No `finally`: after a failed statement the transaction is aborted and takes no statement, RESET included;
    # the load's next insert (the staged path) sets and resets the option again.
    stored = int(con.execute(sql, {"ccy": currency}).fetchall()[0][0])
    con.execute("RESET disabled_optimizers")
    return stored


def create_store(con: duckdb.DuckDBPyConnection, currency: str) -> None:
    """`fact_invoices` and the `invoices` view, in a new database or one from before they were one (where the
    store's plain `invoices` table holds the lines: they move in)."""
    kind = tables.existing(con, "invoices")
    if kind == "VIEW":
        return
    if kind is None:  # a new database: no lines, typed as the contract says
        typed = ", ".join(f"CAST(NULL AS {DUCKDB_TYPES[c.type]}) AS {ident(c.name)}" for c in EXPORT_TABLES["invoices"].columns)
        lines = f"(SELECT {typed}, CAST(NULL AS BIGINT) AS _load_id WHERE false)"
    else:  # an older database kept the lines in a table of their own: move them in
        lines = "invoices"
    with transaction(con):  # all or nothing: a move killed half-way must not lose the lines
        con.execute(f"CREATE OR REPLACE TABLE fact_invoices AS SELECT * FROM ({_fact_invoices(lines)})",
                    {"ccy": currency})
        con.execute("DROP TABLE IF EXISTS invoices")
        con.execute(f"CREATE VIEW invoices AS SELECT {', '.join(map(ident, INVOICE_COLUMNS))} FROM fact_invoices")


def _fact_invoices(lines: str) -> str:
    return SQL["fact_invoices"].replace("{invoices}", lines)


def _fact_prices(where: str) -> str:
    return SQL["fact_prices"].replace("{where}", where)


def _fact_price_links(where: str, before: str) -> str:
    return SQL["fact_price_links"].replace("{where}", where).replace("{before}", before)


def _run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object]) -> None:
    for statement in SQL.statements(name):  # DuckDB binds parameters one statement at a time
        statement = (statement.replace("{fact_invoices}", _fact_invoices("invoices"))
                     .replace("{fact_prices}", _fact_prices("true"))
                     .replace("{fact_price_links}", _fact_price_links("true", "true")))
        for name in ("fact_invoice_months", "fact_paid_months", "fact_po_months", "fact_po_savings", "fact_months",
                     "fact_stock", "fact_consumption", "stock_months", "consumption_months", "fact_invoice_rollup",
                     "fact_paid_rollup", "fact_po_rollup", "fact_stock_rollup", "fact_consumption_rollup"):
            sql = SQL[f"fact_{name}" if name.endswith("_months") and not name.startswith("fact") else name]
            statement = statement.replace("{" + name + "}", sql.replace("{where}", "true"))
        used = {k: v for k, v in params.items() if f"${k}" in statement}
        con.execute(statement, used) if used else con.execute(statement)


def currency_of(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT reporting_currency FROM facts_meta").fetchall()
    return rows[0][0] if rows else None


def check(con: duckdb.DuckDBPyConnection, wanted: str) -> None:
    """KPIs in `wanted` need facts converted to it (they are, unless the reporting currency setting changed)."""
    if missing(con):  # facts built by an earlier version (before fact_items): a writer rebuilds them
        raise FactsOutdated("The KPI facts of this database were built by an earlier version of Tandem: run "
                               "`tandem refresh` (or load any file) to rebuild them.")
    have = currency_of(con)
    if have != wanted:
        raise CurrencyMismatch(f"The KPI facts are in {have}, not {wanted}: run `tandem refresh` after changing "
                               "the reporting currency (TANDEM_REPORTING_CURRENCY).")


def missing(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE list_contains(?, table_name)",
                        [list(FACT_TABLES)]).fetchall()[0][0]
    return found < len(FACT_TABLES)


def outdated(con: duckdb.DuckDBPyConnection) -> bool:
    """Facts built by an earlier version: some of their tables exist, not all (a new database has none)."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE list_contains(?, table_name)",
                        [list(FACT_TABLES)]).fetchall()[0][0]
    return 0 < found < len(FACT_TABLES)


def prepare(con: duckdb.DuckDBPyConnection, currency: str) -> None:
    """A writer's first step: the facts' tables where missing (a new database is built in `currency`).

    Never a rebuild: facts in another currency stay as they are until `tandem refresh` or a load of one
    of their sources rebuilds them, in that write's own transaction.
    """
    create_store(con, currency)
    if missing(con):
        with transaction(con):
            refresh(con, currency)


class FactsSink:
    """The sink that keeps the KPI facts current inside every load's transaction: invoice lines are stored
    with their facts, and a load of another source rebuilds them."""

    def __init__(self, currency: str) -> None:
        self.currency = currency

    def table_of(self, export_type: str) -> str:
        return table_of(export_type)

    def insert(self, con: duckdb.DuckDBPyConnection, export_type: str, rows: str) -> int:
        if export_type == "invoices":
            return add_invoices(con, rows, self.currency)
        # by name: a column a later release added to an existing table sits at its end (store/tables.py ensure)
        return int(con.execute(f"INSERT INTO {ident(export_type)} BY NAME SELECT * FROM {rows}").fetchall()[0][0])

    def loaded(self, con: duckdb.DuckDBPyConnection, export_type: str) -> None:
        if export_type in SOURCES:
            refresh(con, self.currency, export_type)
        elif export_type in flow.SOURCES:  # requisitions, approval events, receipts: only the flow facts
            flow.rebuild(con, self.currency)
