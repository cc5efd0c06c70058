"""The audit log: who proposed, approved, rejected, withdrew or changed what, when, with the record before and
after, in one append-only DuckDB table.

Append-only by construction: its table comes from decisions/migrations; this module appends rows (`record`) and reads them
(`entries`, `export_frame`); it has no way to change or remove a row, and nothing else in Tandem writes to it.
A record made by a user who did not sign in through the identity provider (single-user local mode) is marked
unverified, on screen and in every export.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

import duckdb
import polars as pl

from decisions.identity import Identity

Action = Literal["proposed", "approved", "rejected", "withdrawn", "changed"]
ACTIONS: tuple[Action, ...] = ("proposed", "approved", "rejected", "withdrawn", "changed")



def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=lambda v: v.isoformat() if isinstance(v, date | datetime)
                      else str(v))


def record(con: duckdb.DuckDBPyConnection, who: Identity, entity_type: str, entity_id: str | int, action: Action,
           before: Any = None, after: Any = None) -> int:
    """Append one entry (inside the caller's transaction, when it has one); returns its id."""
    if action not in ACTIONS:
        raise ValueError(f"an audit action is one of {', '.join(ACTIONS)}, not {action!r}")
    entry_id = con.execute("SELECT nextval('audit_seq')").fetchall()[0][0]
    con.execute("INSERT INTO audit_log VALUES (?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [entry_id, who.email, who.name, who.team, who.verified, entity_type, str(entity_id), action,
                 _json(before), _json(after)]).fetchall()
    return int(entry_id)


def entries(con: duckdb.DuckDBPyConnection, entity_type: str | None = None, entity_id: str | int | None = None
            ) -> pl.DataFrame:
    """The log, oldest first (optionally one entity's entries)."""
    present = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit_log'")
    if not present.fetchall()[0][0]:
        return pl.DataFrame(schema={"entry_id": pl.Int64, "recorded_at": pl.Datetime, "email": pl.String, "name": pl.String,
                                    "team": pl.String, "verified": pl.Boolean, "entity_type": pl.String,
                                    "entity_id": pl.String, "action": pl.String, "before_json": pl.String,
                                    "after_json": pl.String})
    return con.sql("SELECT * FROM audit_log WHERE (? IS NULL OR entity_type = ?) AND (? IS NULL OR entity_id = ?) "
                   "ORDER BY entry_id",
                   params=[entity_type, entity_type, None if entity_id is None else str(entity_id),
                           None if entity_id is None else str(entity_id)]).pl()


def export_frame(log: pl.DataFrame) -> pl.DataFrame:
    """The log as shown and exported: who (with "unverified" on every record made without sign-in), when,
    what, the action and the record before and after."""
    return log.select(
        pl.col("entry_id").alias("Entry"), pl.col("recorded_at").dt.strftime("%Y-%m-%d %H:%M:%S").alias("When (UTC)"),
        pl.col("name").alias("Who"), pl.col("email").alias("E-mail"), pl.col("team").fill_null("no team").alias("Team"),
        pl.when(pl.col("verified")).then(pl.lit("verified")).otherwise(pl.lit("unverified")).alias("Identity"),
        pl.col("entity_type").alias("What"), pl.col("entity_id").alias("Id"), pl.col("action").alias("Action"),
        pl.col("before_json").alias("Before"), pl.col("after_json").alias("After"))


__all__ = ["ACTIONS", "Action", "entries", "export_frame", "record"]
