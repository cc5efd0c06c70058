"""Recording a savings initiative from a form or the command line: the fields, as typed, checked with every rule
the `savings_initiatives` export declares (the same checks a file of them goes through, pipelines/), then recorded
by the ledger (decisions/ledger.py). One sentence per field that breaks a rule; nothing is recorded then, and the
form keeps what was typed."""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl

from decisions import ledger
from decisions.identity import Identity
from store.errors import USAGE, TandemError
from store.exports import EXPORT_TYPES

EXPORT = ledger.EXPORT
COLUMNS: list[str] = EXPORT_TYPES[EXPORT].column_names
# The unit each field is entered in (the form's labels and `tandem savings record --help`).
UNITS: dict[str, str] = {
    "initiative_id": "an id of your choice", "name": "words", "category": "a category of spend",
    "supplier_id": "a supplier id", "contract_id": "a contract id, once signed", "item_id": "an item id (optional)",
    "type": "reduction, avoidance or process", "baseline_method": "last_price, contract, bid or index_adjusted",
    "baseline_price": "per unit, in the initiative's currency", "new_price": "per unit, in the initiative's currency",
    "forecast_quantity": "units over the whole savings window", "currency": "a currency code (EUR)",
    "window_start": "YYYY-MM-DD", "window_end": "YYYY-MM-DD", "owner": "who owns it (an e-mail address)",
}


def problems(fields: Mapping[str, object]) -> tuple[dict[str, object] | None, list[str]]:
    """The fields typed as the export types them, or every rule they break as a sentence naming the field."""
    from pipelines.load import check_file
    from pipelines.mappings import IDENTITY

    unknown = [k for k in fields if k not in COLUMNS]
    if unknown:
        raise TandemError(f"Unknown field(s) {', '.join(map(repr, unknown))}: an initiative has {', '.join(COLUMNS)}.",
                          USAGE)
    with tempfile.TemporaryDirectory(prefix="tandem-initiative-") as tmp:
        path = Path(tmp) / f"{EXPORT}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)  # quoted as a spreadsheet would: a comma, a quote or a line break in a name is kept
            out.writerow(COLUMNS)
            out.writerow(["" if fields.get(c) is None else str(fields.get(c)) for c in COLUMNS])
        result = check_file(path, IDENTITY, EXPORT, rows=1)
    # The check runs in a private, empty database: the references to suppliers and contracts are checked against
    # the loaded ones by the ledger itself (decisions/ledger.py), with a sentence of their own.
    across = {r.rule for r in EXPORT_TYPES[EXPORT].references}
    failures = (result.failures.filter(~pl.col("rule").is_in(list(across)))  # in the order of the fields
                .with_columns(pl.col("column").replace_strict(COLUMNS, list(range(len(COLUMNS))), default=None,
                                                              return_dtype=pl.Int64).alias("_at"))
                .sort("_at", maintain_order=True))
    if failures.height:
        said = []
        for f in failures.iter_rows(named=True):
            value = "empty" if f.get("value") is None else json.dumps(f["value"], ensure_ascii=False)
            field = f" {f['column']}" if f.get("column") else ""
            said.append(f"the field{field}: {f['rule']} (value {value})")
        return None, said
    row = result.preview.row(0, named=True)
    return {c: row[c] for c in COLUMNS}, []


def record(con: duckdb.DuckDBPyConnection, fields: Mapping[str, object], by: Identity | None, reason: str = "") -> int:
    """Check the fields against the export's rules, then record the initiative (or a new version of its terms);
    returns the version. A TandemError says every field that is wrong."""
    typed, said = problems(fields)
    if typed is None:
        raise ledger.LedgerError("The initiative was not recorded: " + "; ".join(said) + ".")
    return ledger.record(con, typed, by, reason)
