"""Loading files uploaded on the Data page: the same rules and messages as `tandem ingest`."""

from __future__ import annotations

import errno
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipelines import mappings
from pipelines.mappings import IDENTITY, Mapping, load_mapping
from store.errors import FAILURE, TandemError
from tandem import auth, service
from workspace.db import ingest_file, limits

if TYPE_CHECKING:  # ingestion (pandera, pandas) is imported when a file is loaded or checked, not with the page
    from pipelines.load import CheckResult, LoadResult

SUFFIXES = ("csv", "xlsx", "parquet")
AUTO = "(from the file name)"
ROOMLESS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)  # no room, or no right, to write


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


@contextmanager
def _folder(prefix: str) -> Iterator[Path]:
    """A temporary folder for the uploads of one load or preview; one sentence when it cannot be made."""
    try:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            yield Path(tmp)
    except OSError as exc:  # the folder itself (made or removed): a full or read-only temporary disk
        if exc.errno not in ROOMLESS or not str(exc.filename or "").startswith(tempfile.gettempdir()):
            raise
        raise _no_room(exc) from None


def _stored(tmp: Path, name: str, data: bytes) -> Path:
    """An upload written under its own base name (never a path the browser chose) in `tmp`."""
    path = tmp / Path(name).name
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise _no_room(exc) from None
    return path


def _no_room(exc: OSError) -> TandemError:
    return TandemError(f"The upload could not be stored in the temporary folder {tempfile.gettempdir()} "
                       f"({exc.strerror or exc}); nothing was loaded: free some space there (or set TMPDIR to a "
                       "folder with room for the uploads) and try again.", FAILURE)


def mapping_names() -> list[str]:
    return sorted(p.stem for p in mappings.MAPPINGS_DIR.glob("*.yaml"))


def _mapping(mapping: str | Mapping | None) -> Mapping:
    """A mapping by name (or path), a mapping made on the page, or none: the canonical columns."""
    return mapping if isinstance(mapping, Mapping) else load_mapping(mapping) if mapping else IDENTITY


def load(db: Path, files: Sequence[tuple[str, bytes]], export_type: str | None, mapping: str | Mapping | None,
         allow_partial: bool, encoding: str | None, progress: Callable[[str, int, int], None] | None = None,
         waiting: Callable[[], None] | None = None) -> Outcome:
    """Write each upload under its own (base) name, then ingest it in one write connection, file by file.

    Uploads take turns (tandem/service.py `writing`): `waiting` is called when another upload goes first."""
    out = Outcome()
    me = auth.current_user()  # the load log records who loaded each file
    who = (me.email or me.name) + ("" if me.verified else " (unverified)")
    m = _mapping(mapping)
    with _folder("tandem-upload-") as tmp:
        paths = [_stored(tmp, name, data) for name, data in files]

        def work(con) -> None:  # noqa: ANN001 - a DuckDB connection
            from pipelines.load import load_many

            for fl in load_many(con, paths, export_type, m, allow_partial, encoding, service.cfg().reporting_currency,
                                progress=progress, who=who, loader=ingest_file):
                if fl.result is None:
                    out.errors.append(fl.error or "")
                    continue
                out.results.append(fl.result)
                out.failures += fl.failures

        service.run_write(db, work, waiting=waiting)
    return out


@dataclass
class Preview:
    checks: list[CheckResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one sentence per file that could not be read at all


def preview(files: Sequence[tuple[str, bytes]], export_type: str | None, mapping: str | Mapping | None,
            encoding: str | None, rows: int = 10) -> Preview:
    """Each upload's first rows as mapped and every rule they break, as `tandem mapping check` shows them:
    nothing is loaded, the database is not opened."""
    from pipelines.load import check_file

    out = Preview()
    m = _mapping(mapping)
    with _folder("tandem-preview-") as tmp:
        for name, data in files:
            path = _stored(tmp, name, data)
            try:
                out.checks.append(check_file(path, m, export_type, encoding, rows, limits=limits()))
            except TandemError as exc:
                out.errors.append(exc.message)
    return out
