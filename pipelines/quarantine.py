"""Quarantine: the rows that failed (and, in strict mode, the valid rows of a rejected file), with their record."""

from __future__ import annotations

import json

import duckdb

from pipelines.read import (
    RawTable,
)
from pipelines.schemas import (
    ExportSpec,
)
from store.sqltext import ident, literal


def quarantine(con: duckdb.DuckDBPyConnection, raw: RawTable, load_id: int, file_name: str,
                spec: ExportSpec, held_back: bool, filtered: bool = False) -> None:
    record = "to_json(struct_pack(" + ", ".join(f"{ident(h)} := r.{ident(h)}" for h in raw.header) + "))"
    head = f"{load_id}, {literal(file_name)}, {literal(spec.name)}"
    con.execute(
        f"INSERT INTO quarantine SELECT {head}, f.line, f.\"column\", f.rule, f.value, CAST({record} AS VARCHAR) "
        f"FROM _fail f LEFT JOIN {raw.table} r ON r._line = f.line"
    )
    if held_back:
        # Strict mode: the valid rows of a rejected file are kept too, so nothing read is lost.
        con.execute(
            f"INSERT INTO quarantine SELECT {head}, r._line, NULL, 'held back: file rejected', NULL, "
            f"CAST({record} AS VARCHAR) FROM {raw.table} r WHERE r._line NOT IN (SELECT line FROM _fail)"
            + (" AND r._line NOT IN (SELECT line FROM _filtered)" if filtered else "")
        )


def failure_sentence(path: str, row: dict) -> str:
    """One clear sentence per failure: file, line, column, rule and the bad value."""
    col = f", column {row['column']}" if row.get("column") else ""
    value = row.get("value")
    shown = "empty" if value is None else json.dumps(value, ensure_ascii=False)
    return f"{path}, line {row['line']}{col}: {row['rule']} (value {shown})"
