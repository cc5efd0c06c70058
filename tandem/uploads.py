"""Loading files uploaded on the Data page: the same rules and messages as `tandem ingest`."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.load import CheckResult, LoadResult, check_file
from pipelines.mappings import IDENTITY, MAPPINGS_DIR, load_mapping
from pipelines.quarantine import failure_sentence
from store.errors import TandemError
from tandem import auth, service
from workspace.db import ingest_file

SUFFIXES = ("csv", "xlsx", "parquet")
AUTO = "(from the file name)"


@dataclass
class Outcome:
    results: list[LoadResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one sentence per file that could not be read at all
    failures: list[str] = field(default_factory=list)  # the first row failures, as `tandem ingest` prints them

    def table(self) -> pl.DataFrame:
        return pl.DataFrame([{"file": r.file, "export type": r.export_type, "outcome": r.outcome, "read": r.rows_read,
                              "loaded": r.rows_loaded, "replaced": r.rows_replaced,
                              "quarantined": r.rows_quarantined, "filtered": r.rows_filtered, "message": r.message}
                             for r in self.results])


def mapping_names() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def load(db: Path, files: Sequence[tuple[str, bytes]], export_type: str | None, mapping: str | None,
         allow_partial: bool, encoding: str, progress: Callable[[str, int, int], None] | None = None,
         waiting: Callable[[], None] | None = None) -> Outcome:
    """Write each upload under its own (base) name, then ingest it in one write connection, file by file.

    Uploads take turns (tandem/service.py `writing`): `waiting` is called when another upload goes first."""
    out = Outcome()
    me = auth.current_user()  # the load log records who loaded each file
    who = (me.email or me.name) + ("" if me.verified else " (unverified)")
    m = load_mapping(mapping) if mapping else IDENTITY
    with tempfile.TemporaryDirectory(prefix="tandem-upload-") as tmp:
        paths = []
        for name, data in files:
            path = Path(tmp) / Path(name).name  # never a path the browser chose
            path.write_bytes(data)
            paths.append(path)

        def work(con) -> None:  # noqa: ANN001 - a DuckDB connection
            for path in paths:
                def tick(done: int, total: int, name: str = path.name) -> None:
                    if progress:
                        progress(name, done, total)
                try:
                    r = ingest_file(con, path, export_type, m, allow_partial, encoding,
                                    service.cfg().reporting_currency, progress=tick, who=who)
                except TandemError as exc:
                    out.errors.append(exc.message)
                    continue
                out.results.append(r)
                if r.failures is not None:
                    out.failures += [failure_sentence(r.file, row) for row in r.failures.head(10).iter_rows(named=True)]

        service.run_write(db, work, waiting=waiting)
    return out


@dataclass
class Preview:
    checks: list[CheckResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one sentence per file that could not be read at all


def preview(files: Sequence[tuple[str, bytes]], export_type: str | None, mapping: str | None, encoding: str,
            rows: int = 10) -> Preview:
    """Each upload's first rows as mapped and every rule they break, as `tandem mapping check` shows them:
    nothing is loaded, the database is not opened."""
    out = Preview()
    m = load_mapping(mapping) if mapping else IDENTITY
    with tempfile.TemporaryDirectory(prefix="tandem-preview-") as tmp:
        for name, data in files:
            path = Path(tmp) / Path(name).name  # never a path the browser chose
            path.write_bytes(data)
            try:
                out.checks.append(check_file(path, m, export_type, encoding, rows))
            except TandemError as exc:
                out.errors.append(exc.message)
    return out
