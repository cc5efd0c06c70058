"""The weekly review's memory: reviews with the KPI values they saw, and notes, decisions and actions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from decisions import identity, targets
from decisions.identity import Identity
from store import db as store_db
from store.db import transaction
from store.sql import Queries

QUERIES = Queries(Path(__file__).parent / "sql")  # decisions/sql: the review's named queries


def named(db: Path, name: str, params: list | None = None) -> pl.DataFrame:
    """Run the review query `decisions/sql/<name>.sql` on a short-lived reader."""
    return store_db.read(db, QUERIES[name], params)

Kind = Literal["note", "decision", "action"]
KINDS: tuple[Kind, ...] = ("note", "decision", "action")
def start(con: duckdb.DuckDBPyConnection, held_on: date, period: str, values: pl.DataFrame,
          by: Identity | None) -> int:
    """Open a review: remember the KPI values and the data-quality findings it starts from."""
    identity.require("review", by)
    with transaction(con):  # a review is remembered whole or not at all
        review_id = con.execute("SELECT nextval('review_seq')").fetchall()[0][0]
        con.execute("INSERT INTO reviews VALUES (?, ?, now(), ?)", [review_id, held_on, period]).fetchall()
        rows = values.select("kpi", "view", "period", "value")
        if rows.height:
            con.register("_values", rows)
            con.execute("INSERT INTO review_kpis SELECT ?, kpi, view, period, value FROM _values",
                        [review_id]).fetchall()
            con.unregister("_values")
        con.execute("INSERT INTO review_findings SELECT ?, export_type, rule, subject FROM dq_findings",
                    [review_id]).fetchall()
        targets.remember(con, int(review_id))  # the joint targets' statuses, for the next "what changed"
    return int(review_id)


def add_item(con: duckdb.DuckDBPyConnection, review_id: int, kpi: str, kind: Kind, text: str,
             owner: str | None = None, due: date | None = None, *, by: Identity | None) -> int:
    """Add a note, decision or action; `by`, who acts, is recorded."""
    user = identity.require("review", by)
    if problem := item_problem(kind, text, owner, due):
        raise ValueError(problem)
    item_id = con.execute("SELECT nextval('review_item_seq')").fetchall()[0][0]
    con.execute("INSERT INTO review_items (item_id, review_id, kpi, kind, text, owner, due_date, status, created_at, "
                "closed_at, created_by, created_by_team) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', now(), NULL, ?, ?)",
                [item_id, review_id, kpi, kind, text.strip(), (owner or "").strip() or None, due, user.who,
                 user.team]).fetchall()
    return int(item_id)


def item_problem(kind: str | None, text: str, owner: str | None, due: date | None) -> str | None:
    """What keeps an item from being saved, in one sentence (None: it can be saved)."""
    if kind not in KINDS:
        return f"Choose what it is: {', '.join(KINDS)}."
    if not text.strip():
        return "an empty note says nothing"
    if kind == "action":
        missing = [w for w, v in (("an owner", (owner or "").strip()), ("a due date", due)) if not v]
        if missing:
            return f"an action needs an owner and a due date: {' and '.join(missing)} missing"
    return None


def close_item(con: duckdb.DuckDBPyConnection, item_id: int, by: Identity | None) -> None:
    user = identity.require("review", by)
    con.execute("UPDATE review_items SET status = 'closed', closed_at = now(), closed_by = ?, closed_by_team = ? "
                "WHERE item_id = ?", [user.who, user.team, item_id]).fetchall()


def latest(db: Path) -> dict | None:
    frame = named(db, "reviews")
    return frame.row(0, named=True) if frame.height else None


def open_items(db: Path) -> pl.DataFrame:
    """Everything not closed, from every review: open actions carry over until someone closes them."""
    return named(db, "review_items_open")


def closed_items(db: Path) -> pl.DataFrame:
    """The history: items closed, from every review, the most recently closed first."""
    return named(db, "review_items_closed")


def started_on(db: Path, day: date) -> dict | None:
    """The review started on `day`, if one was (the latest): starting another the same day is refused."""
    frame = named(db, "reviews")
    same = frame.filter(pl.col("held_on") == day)
    return same.row(0, named=True) if same.height else None


def changes(db: Path, review_id: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Loads since the review started, and findings the review did not see."""
    return named(db, "review_new_loads", [review_id]), named(db, "review_new_findings", [review_id])


def moved(db: Path, review_id: int, now: pl.DataFrame) -> pl.DataFrame:
    """Each KPI view's headline value now vs the one the review saw, largest relative move first."""
    then = named(db, "review_kpis", [review_id])
    if not then.height or not now.height:
        return pl.DataFrame()
    joined = now.select("kpi", "view", pl.col("period").alias("period_now"), pl.col("value").alias("now")).join(
        then.select("kpi", "view", pl.col("period").alias("period_then"), pl.col("value").alias("then")),
        on=["kpi", "view"], how="inner")
    # A float sum over parallel threads can differ in its last bits between two runs (8.9e-16 on the price
    # index): that is not a move. Summing in a fixed order made those bits stable, but cost 0.1-0.25 s per
    # price query at 10M lines (finance 0.15 -> 0.2 s, bridge 0.17 -> 0.39 s), so the comparison allows it.
    diff = pl.col("now") - pl.col("then")
    noise = diff.abs() <= 1e-9 * pl.max_horizontal(pl.col("then").abs(), pl.lit(1.0))
    return joined.with_columns(change=pl.when(noise).then(0.0).otherwise(diff)).with_columns(
        relative=(pl.col("change").abs() / pl.max_horizontal(pl.col("then").abs(), pl.lit(1e-9)))
    ).sort("relative", descending=True, nulls_last=True)


def current(con: duckdb.DuckDBPyConnection, held_on: date, period: str, values: pl.DataFrame,
            by: Identity | None) -> int:
    """The review notes are added to: the latest one, or a new one if none was held yet."""
    rows = con.execute("SELECT max(review_id) FROM reviews").fetchall()
    return int(rows[0][0]) if rows[0][0] is not None else start(con, held_on, period, values, by)
