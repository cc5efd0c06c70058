"""Freshness per export type, from the declarations (store/exports.py `dated`): the latest successful load
and the latest date the data itself reaches. Light to import (no polars checks, no pandera): the Data page
reads it."""

from __future__ import annotations

from store.exports import EXPORT_TYPES
from store.sqltext import ident, literal


def freshness_sql() -> str:
    """One row per declared export type: rows in the database, the date the data reaches (NULL for an
    undated export), the last load and the days since. Every declared type's table must exist (a writer's
    `tables.ensure` creates them)."""
    reach = "\n    UNION ALL ".join(
        f"SELECT {literal(t.name)} AS export_type, "
        f"{f'max({ident(t.dated)})' if t.dated else 'CAST(NULL AS DATE)'} AS data_until, count(*) AS rows "
        f"FROM {ident(t.name)}" for t in EXPORT_TYPES.values())
    return f"""-- Per export type: the latest successful load and the latest date the data itself reaches.
WITH loads AS (
    SELECT export_type, max(finished_at) AS last_load, sum(rows_loaded) AS rows_loaded_total
    FROM load_log WHERE outcome IN ('loaded', 'partial') GROUP BY export_type
), reach AS (
    {reach}
)
SELECT r.export_type, r.rows AS rows_in_database, strftime(r.data_until::DATE, '%Y-%m-%d') AS data_until, l.last_load,
       date_diff('day', l.last_load, now()::TIMESTAMP) AS days_since_load
FROM reach r LEFT JOIN loads l USING (export_type)
ORDER BY r.export_type
"""
