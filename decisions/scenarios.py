"""Saved payment-terms scenarios: what was assumed (terms, suppliers, window, cost of capital, discount, a
note) and what it gave, with who saved it, so the review meeting and its pack can discuss it. Written through
the server's write gate (service.run_write) like every write of the app; each save is in the audit log."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from decisions import audit, identity
from decisions.identity import Identity
from kpi_definitions.periods import FiscalCalendar
from kpi_definitions.terms import Result, Scenario
from store import db as store_db
from store.db import transaction
from store.errors import USAGE, TandemError

ENTITY = "terms_scenario"
MAX_NAME, MAX_NOTE = 120, 2000


def save(con: duckdb.DuckDBPyConnection, s: Scenario, r: Result, name: str, assumptions: str, currency: str,
         by: Identity | None) -> int:
    """Save a scenario and its result under `name`, by the user (who needs the review role); returns its id."""

    user = identity.require("review", by)
    name, assumptions = name.strip(), assumptions.strip()
    if not name:
        raise TandemError("Give the scenario a name, e.g. “IT Hardware to 90 days”.", USAGE)
    if len(name) > MAX_NAME or len(assumptions) > MAX_NOTE:
        raise TandemError(f"A name is at most {MAX_NAME} characters, the assumptions at most {MAX_NOTE}.", USAGE)
    cal = FiscalCalendar()
    d = s.discount
    discount = f"{d.rate * 100:g}/{d.within_days}/{d.net_days}" if d else None
    row = [name, assumptions or None, user.who, user.team, user.verified, s.new_terms, cal.label(s.first, "month"),
           cal.label(s.last, "month"), s.cost_of_capital, list(s.suppliers), list(s.categories), s.min_spend,
           s.max_spend, discount, r.suppliers_affected, r.spend_affected, r.dpo_before, r.dpo_after, r.cash_released,
           r.financing_value, r.break_even_price_increase, r.suppliers_beyond_terms, r.discount_annualised, currency]
    with transaction(con):
        sid = int(con.execute("SELECT nextval('terms_scenario_seq')").fetchall()[0][0])
        con.execute("INSERT INTO terms_scenarios VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, ?, ?, ?, ?, ?, ?)", [sid, *row]).fetchall()
        audit.record(con, user, ENTITY, sid, "proposed", None, dict(zip(COLUMNS[1:], row, strict=False)))
    return sid


COLUMNS = ("scenario_id", "name", "assumptions", "saved_by", "team", "verified", "new_terms", "window_from",
           "window_to", "cost_of_capital", "suppliers", "categories", "min_spend", "max_spend", "discount",
           "suppliers_affected", "spend_affected", "dpo_before", "dpo_after", "cash_released", "financing_value",
           "break_even_price_increase", "suppliers_beyond_terms", "discount_annualised", "currency")


def saved(db: Path) -> pl.DataFrame:
    """Every saved scenario, newest first (empty, with its columns, before the first is saved)."""
    exists = store_db.read(db, "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'terms_scenarios'")
    if not exists["n"][0]:
        return pl.DataFrame()
    return store_db.read(db, "SELECT * FROM terms_scenarios ORDER BY saved_at DESC, scenario_id DESC")


def table(rows: pl.DataFrame) -> pl.DataFrame:
    """The saved scenarios as the review meeting and the pack show them: one line each, the selection in words."""
    if not rows.height:
        return rows
    chosen = pl.concat_str(
        pl.when(pl.col("suppliers").list.len() > 0).then(pl.lit("suppliers ") + pl.col("suppliers").list.join(", ")),
        pl.when(pl.col("categories").list.len() > 0).then(pl.lit("categories ") + pl.col("categories").list.join(", ")),
        separator="; ", ignore_nulls=True)
    return rows.select(  # the figures first: what the meeting discusses; who and how after
        pl.col("name").alias("Scenario"),
        pl.col("cash_released").alias("Cash released"), pl.col("financing_value").alias("Financing a year"),
        pl.col("break_even_price_increase").alias("Break-even price rise"),
        pl.col("suppliers_affected").alias("Suppliers"),
        pl.when(chosen == "").then(pl.lit("all suppliers")).otherwise(chosen).alias("Selection"),
        pl.format("{} days · {} to {} · capital {}%", "new_terms", "window_from", "window_to",
                  (pl.col("cost_of_capital") * 100).round(2)).alias("Terms, window, cost of capital"),
        pl.col("assumptions").fill_null("").alias("Assumptions"),
        pl.col("saved_by").alias("Saved by"), pl.col("saved_at").dt.strftime("%Y-%m-%d").alias("On"))
