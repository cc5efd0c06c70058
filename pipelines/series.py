"""Rules across the rows of the market-price exports: an index's months have no gap (its stored months and
the file's together), and a category follows an index that is loaded. Failures go to `_fail` like any
row rule, so a strict load refuses the file and the database keeps what it had."""

from __future__ import annotations

import duckdb

from store.sqltext import literal

GAP = "months of an index consecutive"
UNKNOWN = "index_name a loaded price index"

# Every month of an index between its first and last (stored and in the file) must be there: a gap is
# reported on the file's first line of that index, naming the missing months.
_GAPS = """
INSERT INTO _fail
WITH months AS (
    SELECT index_name, period FROM _typed WHERE period IS NOT NULL AND index_name IS NOT NULL
    {stored}
),
ordered AS (
    SELECT DISTINCT index_name, period FROM months
),
gaps AS (
    SELECT index_name, prev, period
    FROM (SELECT index_name, period, lag(period) OVER (PARTITION BY index_name ORDER BY period) AS prev FROM ordered)
    WHERE prev IS NOT NULL AND period > prev + INTERVAL 1 MONTH
)
SELECT min(t._line), 'period', {rule},
       strftime(g.prev + INTERVAL 1 MONTH, '%Y-%m')
           || CASE WHEN g.period - INTERVAL 1 MONTH > g.prev + INTERVAL 1 MONTH
                   THEN ' to ' || strftime(g.period - INTERVAL 1 MONTH, '%Y-%m') ELSE '' END
           || ' missing in ' || g.index_name
FROM gaps g JOIN _typed t ON t.index_name = g.index_name
WHERE t._line NOT IN (SELECT line FROM _fail)
GROUP BY g.index_name, g.prev, g.period
"""

_UNKNOWN = """
INSERT INTO _fail
SELECT _line, 'index_name', {rule}, index_name
FROM _typed t
WHERE index_name IS NOT NULL AND _line NOT IN (SELECT line FROM _fail)
  AND NOT EXISTS (SELECT 1 FROM price_indices p WHERE p.index_name = t.index_name)
"""

RULED = frozenset({"price_indices", "category_index"})


def _stored(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this database keeps price indices (a private check database does not: nothing to compare)."""
    return bool(con.execute("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'main' "
                            "AND table_name = 'price_indices'").fetchall())


def check(con: duckdb.DuckDBPyConnection, export_type: str) -> None:
    """Add the cross-row failures of the staged rows in `_typed` to `_fail`."""
    if export_type == "price_indices":
        stored = "UNION ALL SELECT index_name, period FROM price_indices" if _stored(con) else ""
        con.execute(_GAPS.replace("{stored}", stored).replace("{rule}", literal(GAP)))
    elif export_type == "category_index" and _stored(con):
        con.execute(_UNKNOWN.replace("{rule}", literal(UNKNOWN)))
