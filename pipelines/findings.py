"""Data-quality findings across files, from the declared references and rate needs (store/exports.py):
references that do not resolve and amounts with no FX rate. Recomputed in full after every load, inside
the load's transaction.

Exports arrive in any order: while an export that others refer to has no rows at all, its unknown
references are one finding ("none loaded yet"), not one per subject (8M invoice lines loaded before the
purchase orders would otherwise list millions of POs).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from store.exports import EXPORT_TYPES, ExportType, NeedsRate, Reference
from store.sqltext import ident, literal


def _unknown(t: ExportType, ref: Reference) -> str:
    given = " AND ".join(f"x.{ident(c)} IS NOT NULL" for c in ref.columns)
    match = " AND ".join(f"y.{ident(m)} = x.{ident(c)}" for c, m in zip(ref.columns, ref.matched, strict=True))
    return (f"SELECT {literal(t.name)} AS export_type, {literal(ref.rule)} AS rule, {literal(ref.target)} AS target, "
            f"CAST(x.{ident(ref.columns[0])} AS VARCHAR) AS subject, {literal(ref.detail)} AS detail "
            f"FROM {ident(t.name)} x ANTI JOIN {ident(ref.target)} y ON {match} WHERE {given}")


def findings_sql(types: Iterable[ExportType]) -> str:
    """The statements that replace `dq_findings` with the findings of `types`; $1 = reporting currency."""
    types = list(types)
    refs = [(t, r) for t in types for r in t.references if not r.strict and r.target in {x.name for x in types}]
    rated = [(t, r) for t in types for r in t.across if isinstance(r, NeedsRate)]
    parts = []
    if refs:
        targets = list(dict.fromkeys(r.target for _, r in refs))
        loaded = " UNION ALL ".join(f"SELECT {literal(x)} AS target, EXISTS (FROM {ident(x)}) AS any_rows"
                                    for x in targets)
        unknown = "\n    UNION ALL ".join(_unknown(t, r) for t, r in refs)
        parts.append(
            f"SELECT u.export_type, u.rule,\n"
            f"       CASE WHEN l.any_rows THEN u.subject ELSE '(no ' || u.target || ' loaded)' END,\n"
            f"       count(*),\n"
            f"       CASE WHEN l.any_rows THEN u.detail\n"
            f"            ELSE 'no ' || u.target || ' export is loaded yet: load it to check these references' END,\n"
            f"       now()\n"
            f"FROM (\n    {unknown}\n) u JOIN ({loaded}) l USING (target)\n"
            f"GROUP BY ALL")
    if rated:
        amounts = "\n    UNION ALL ".join(
            f"SELECT {literal(t.name)} AS t, {literal(r.rule)} AS rule, {ident(r.currency)} AS currency, "
            f"CAST(date_trunc('month', {ident(r.month_of)}) AS DATE) AS month FROM {ident(t.name)}"
            for t, r in rated)
        parts.append(
            f"SELECT t, rule, currency || ' ' || strftime(month, '%Y-%m'), count(*),\n"
            f"       'amounts in this currency and month have no fx_rates row', now()\n"
            f"FROM (\n    {amounts}\n) x\n"
            f"WHERE currency <> $1\n"
            f"  AND NOT EXISTS (SELECT 1 FROM fx_rates f WHERE f.currency = x.currency AND f.period = x.month)\n"
            f"GROUP BY t, rule, currency, month")
    body = "\nUNION ALL\n".join(parts) if parts else "SELECT * FROM dq_findings WHERE false"
    return f"INSERT INTO dq_findings\n{body}"


def refresh(con: duckdb.DuckDBPyConnection, reporting_currency: str) -> None:
    """Replace every finding with those of the data as it is now (inside the caller's transaction)."""
    sql = findings_sql(EXPORT_TYPES.values())
    con.execute("DELETE FROM dq_findings")
    con.execute(sql, [reporting_currency] if "$1" in sql else None)
