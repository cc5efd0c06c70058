"""Rules across rows, as declared (store/exports.py `across`): consecutive months within a series (its
stored months and the file's together) and strict references to another export (a category follows an
index that is loaded). Failures go to `_fail` like any row rule, so a strict load refuses the file and the
database keeps what it had; the data-quality findings across files are pipelines/findings.py."""

from __future__ import annotations

import duckdb

from store.exports import EXPORT_TYPES, Consecutive, ExportType, Reference
from store.sqltext import ident, literal

# The rule names of the bundled market-price exports (their tests compare with them).
GAP = next(r.rule for r in EXPORT_TYPES["price_indices"].across if isinstance(r, Consecutive))
UNKNOWN = EXPORT_TYPES["category_index"].references[0].rule

# Every month between a series' first and last (stored and in the file) must be there: a gap is reported
# on the file's first line of that series, naming the missing months.
_GAPS = """
INSERT INTO _fail
WITH months AS (
    SELECT {within} AS s, {month} AS m FROM _typed WHERE {month} IS NOT NULL AND {within} IS NOT NULL
    {stored}
),
ordered AS (
    SELECT DISTINCT s, m FROM months
),
gaps AS (
    SELECT s, prev, m
    FROM (SELECT s, m, lag(m) OVER (PARTITION BY s ORDER BY m) AS prev FROM ordered)
    WHERE prev IS NOT NULL AND m > prev + INTERVAL 1 MONTH
)
SELECT min(t._line), {month_name}, {rule},
       strftime(g.prev + INTERVAL 1 MONTH, '%Y-%m')
           || CASE WHEN g.m - INTERVAL 1 MONTH > g.prev + INTERVAL 1 MONTH
                   THEN ' to ' || strftime(g.m - INTERVAL 1 MONTH, '%Y-%m') ELSE '' END
           || ' missing in ' || CAST(g.s AS VARCHAR)
FROM gaps g JOIN _typed t ON t.{within} = g.s
WHERE t._line NOT IN (SELECT line FROM _fail)
GROUP BY g.s, g.prev, g.m
"""


def _stored(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether this database keeps `table` (a private check database does not: nothing to compare)."""
    return bool(con.execute("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ? "
                            "UNION ALL SELECT 1 FROM duckdb_views() WHERE schema_name = 'main' AND view_name = ?",
                            [table, table]).fetchall())


def _gaps(con: duckdb.DuckDBPyConnection, spec: ExportType, rule: Consecutive) -> None:
    month, within = ident(rule.column), ident(rule.within)
    stored = (f"UNION ALL SELECT {within}, {month} FROM {ident(spec.name)}" if _stored(con, spec.name) else "")
    sql = (_GAPS.replace("{stored}", stored).replace("{month_name}", literal(rule.column))
           .replace("{month}", month).replace("{within}", within).replace("{rule}", literal(rule.rule)))
    con.execute(sql)


def _unknown(con: duckdb.DuckDBPyConnection, ref: Reference) -> None:
    """Rows naming a row the target export does not hold, once the target has a table to look in."""
    if not _stored(con, ref.target):
        return
    given = " AND ".join(f"t.{ident(c)} IS NOT NULL" for c in ref.columns)
    match = " AND ".join(f"x.{ident(m)} = t.{ident(c)}" for c, m in zip(ref.columns, ref.matched, strict=True))
    shown = " || '/' || ".join(f"CAST(t.{ident(c)} AS VARCHAR)" for c in ref.columns)
    con.execute(
        f"INSERT INTO _fail SELECT t._line, {literal(ref.columns[0])}, {literal(ref.rule)}, {shown} "
        f"FROM _typed t WHERE {given} AND t._line NOT IN (SELECT line FROM _fail) "
        f"AND NOT EXISTS (SELECT 1 FROM {ident(ref.target)} x WHERE {match})"
    )


def check(con: duckdb.DuckDBPyConnection, spec: ExportType) -> None:
    """Add the failures of the declared rules across rows of the staged rows in `_typed` to `_fail`."""
    for rule in spec.across:
        if isinstance(rule, Consecutive):
            _gaps(con, spec, rule)
        elif isinstance(rule, Reference) and rule.strict:
            _unknown(con, rule)
