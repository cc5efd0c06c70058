"""The lake: the store's canonical tables and KPI facts as Parquet files by month, with a manifest; written
atomically, checked against its manifest before it is read, and opened by DuckDB under the store's table names.

    DIR/manifest.json                          what the lake holds: schema version, data as-of, the load that
                                               produced it, every table's columns and rows per month
    DIR/<table>/month=YYYY-MM/data_0.parquet   a table with a month column (`m`, else its first date column)
    DIR/<table>/data_0.parquet                 a table without one (suppliers, facts_meta, ...), or an empty one

A canonical table the store keeps as a projection of another (`invoices`, a view of `fact_invoices`) is a view
in the manifest, not a second copy of its rows. Readers never see a half-written lake: an export writes a new
folder beside DIR and swaps it in, and a month whose rows did not change since the last export is hard-linked
from it instead of written again (a monthly load rewrites one month, not the history).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from store.db import session
from store.errors import LakeError
from store.sqltext import ident, literal
from store.tables import TABLES as EXPORT_TABLES

SCHEMA_VERSION = 1  # raised when the layout or the meaning of a manifest field changes; readers refuse others
FORMAT = "tandem-lake"
MANIFEST = "manifest.json"
PARTITION = "month"  # the partition directories: month=YYYY-MM
NO_MONTH = "none"  # the partition of rows whose month column is NULL
FACTS_META = "facts_meta"
FACT_PREFIX = "fact_"
# Tables of another layer that KPI SQL reads: the savings ledger's stage moves and bookings (decisions/ledger.py).
# Named here as data (the store imports no layer above it); a lake without them could not compute the ledger.
READ_BY_KPIS = ("savings_moves", "savings_bookings")
DATA_FILE = "data_0.parquet"
# The KPI layer's month index (kpi_definitions/periods.py): year * 12 + month - 1.
MONTH_INDEX = "m"
PARQUET = "FORMAT parquet, COMPRESSION zstd"
EXPORT_HINT = "export it again (`tandem lake export {dir}`)"


@dataclass(frozen=True)
class Partition:
    """One month of a table (`month` None: the whole of an unpartitioned table): its rows and their fingerprint
    (count and sum of row hashes, which decide whether the next export may reuse its files)."""

    month: str | None
    rows: int
    fingerprint: str | None


@dataclass(frozen=True)
class LakeTable:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), in the store's order
    partition_by: str | None  # the column whose month partitions the rows
    partitions: tuple[Partition, ...]

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.partitions)


@dataclass(frozen=True)
class LakeView:
    """A canonical table kept as the projection of a lake table (all its rows, some of its columns)."""

    name: str
    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    tandem_version: str
    exported_at: str
    data_as_of: str | None  # when the last load that changed data finished
    load: dict[str, object] | None  # that load: load_id, file_name, export_type, finished_at
    reporting_currency: str | None
    tables: dict[str, LakeTable] = field(default_factory=dict)
    views: dict[str, LakeView] = field(default_factory=dict)

    def rows(self) -> dict[str, int]:
        """Rows per table and view, as the manifest counts them."""
        counts = {name: t.rows for name, t in self.tables.items()}
        return counts | {name: counts[v.table] for name, v in self.views.items()}

    def to_json(self) -> str:
        tables = {name: {"columns": dict(t.columns), "partition_by": t.partition_by, "rows": t.rows,
                         "partitions": [asdict(p) for p in t.partitions]} for name, t in self.tables.items()}
        views = {name: {"table": v.table, "columns": list(v.columns)} for name, v in self.views.items()}
        doc = {"format": FORMAT, "schema_version": self.schema_version, "tandem_version": self.tandem_version,
               "exported_at": self.exported_at, "data_as_of": self.data_as_of, "load": self.load,
               "reporting_currency": self.reporting_currency, "tables": tables, "views": views}
        return json.dumps(doc, indent=1, default=str) + "\n"

    @staticmethod
    def from_json(doc: dict) -> Manifest:
        tables = {name: LakeTable(name, tuple((str(c), str(ty)) for c, ty in t["columns"].items()), t["partition_by"],
                                  tuple(Partition(p["month"], int(p["rows"]), p["fingerprint"]) for p in t["partitions"]))
                  for name, t in doc["tables"].items()}
        views = {name: LakeView(name, v["table"], tuple(v["columns"])) for name, v in doc.get("views", {}).items()}
        return Manifest(int(doc["schema_version"]), str(doc["tandem_version"]), str(doc["exported_at"]),
                        doc.get("data_as_of"), doc.get("load"), doc.get("reporting_currency"), tables, views)


@dataclass(frozen=True)
class Exported:
    """What an export did: the manifest it wrote, and how many month files it wrote and reused."""

    dir: Path
    manifest: Manifest
    written: int
    reused: int
    seconds: float


# --- writing ---------------------------------------------------------------------------------------------------

def export(con: duckdb.DuckDBPyConnection, dir: Path | str) -> Exported:
    """Write the lake of the database on `con` to `dir`, replacing the lake there in one step.

    The canonical tables (every export table the store holds), the tables KPI SQL reads of other layers
    (READ_BY_KPIS), every `fact_*` table and facts_meta, as the database lists them. A month of a table whose rows
    are those of the lake already in `dir` is hard-linked from it. A kill at any point leaves the previous lake
    whole (or, between the two renames of the swap, beside `dir`, where the next export or read puts it back).
    """
    started = time.perf_counter()
    target = Path(dir).absolute()
    _recover(target)
    if target.exists() and not (target / MANIFEST).exists() and any(target.iterdir()):
        raise LakeError(f"{target} exists and is not a Tandem lake (it has no {MANIFEST}); choose a new or empty "
                        "folder for the lake.")
    previous = _previous(target)
    _clean(target)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    written = reused = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        con.execute("BEGIN TRANSACTION")  # one snapshot of every table; it writes nothing to the database
        try:
            names, views = _contents(con)
            tables: dict[str, LakeTable] = {}
            for name in names:
                table, w, r = _write_table(con, name, tmp, previous, target)
                tables[name] = table
                written, reused = written + w, reused + r
            manifest = Manifest(SCHEMA_VERSION, _version(), datetime.now(UTC).isoformat(timespec="seconds"),
                                *_provenance(con), tables, views)
        finally:
            con.execute("ROLLBACK")
        _write_manifest(tmp, manifest)
        _swap(tmp, target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError | duckdb.IOException):  # a full disk or a folder it may not write, ours or DuckDB's
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
            raise LakeError(f"The lake could not be written to {target} ({why}); the previous lake there is "
                            "unchanged: free some space or fix the folder's permissions and try again.") from None
        raise
    return Exported(target, manifest, written, reused, time.perf_counter() - started)


def refresh_lake(con: duckdb.DuckDBPyConnection, dir: Path | str) -> Exported:
    """Bring the lake in `dir` up to the database after a load has committed (`TANDEM_LAKE=DIR`): the months
    the load changed are written, the others reused. A failure raises LakeError and leaves the previous lake."""
    return export(con, dir)


def _contents(con: duckdb.DuckDBPyConnection) -> tuple[list[str], dict[str, LakeView]]:
    """The tables to write, in a stable order, and the canonical tables that are projections of one of them."""
    present = dict(con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = 'main'").fetchall())
    facts = sorted(n for n in present if n.startswith(FACT_PREFIX)) + ([FACTS_META] if FACTS_META in present else [])
    names = [n for n in EXPORT_TABLES if n in present] + [n for n in READ_BY_KPIS if n in present] + facts
    views: dict[str, LakeView] = {}
    for name in [n for n in names if present[n] == "VIEW"]:
        view = _projection(con, name)
        if view is not None and view.table in names and present[view.table] != "VIEW":
            views[name] = view
    return [n for n in names if n not in views], views


def _projection(con: duckdb.DuckDBPyConnection, name: str) -> LakeView | None:
    """The view `name` if it is `SELECT <columns> FROM <table>` and nothing else (None otherwise)."""
    sql = con.execute("SELECT sql FROM duckdb_views() WHERE database_name = current_database() "
                      "AND schema_name = 'main' AND view_name = ?", [name]).fetchall()[0][0]
    match = re.fullmatch(r"\s*CREATE VIEW \"?\w+\"? AS SELECT ([\w\s,\"]+) FROM \"?(\w+)\"?\s*;?\s*", sql, re.I)
    if not match:
        return None
    columns = tuple(c.strip().strip('"') for c in match.group(1).split(","))
    return LakeView(name, match.group(2), columns)


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> tuple[tuple[str, str], ...]:
    return tuple(con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [name]).fetchall())


def _partition_column(columns: tuple[tuple[str, str], ...]) -> str | None:
    """`m` (the KPI layer's month index) where a table has it, else its first date column, else none."""
    types = dict(columns)
    if types.get(MONTH_INDEX) in ("BIGINT", "INTEGER"):
        return MONTH_INDEX
    return next((c for c, t in columns if t == "DATE"), None)


def _month_of(column: str) -> str:
    """The SQL of a row's partition, YYYY-MM, from its month column."""
    if column == MONTH_INDEX:
        month = f"printf('%04d-%02d', {ident(column)} // 12, {ident(column)} % 12 + 1)"
    else:
        month = f"strftime({ident(column)}, '%Y-%m')"
    return f"coalesce({month}, {literal(NO_MONTH)})"


def _write_table(con: duckdb.DuckDBPyConnection, name: str, tmp: Path, previous: Manifest | None, target: Path
                 ) -> tuple[LakeTable, int, int]:
    """Write one table's months that changed since the previous lake, link the others; (table, written, reused)."""
    columns = _columns(con, name)
    if PARTITION in dict(columns):
        raise LakeError(f"Table {name} has a column named {PARTITION!r}, the lake's partition key; it cannot be "
                        "exported as it is.")
    by = _partition_column(columns)
    month = _month_of(by) if by else "NULL"
    # One scan per table: rows and a fingerprint per month. A month is rewritten when either changed.
    parts = tuple(Partition(m, int(n), f) for m, n, f in con.execute(
        f"SELECT {month} AS month, count(*), sum(hash(_row))::VARCHAR FROM {ident(name)} AS _row "
        f"GROUP BY ALL ORDER BY ALL").fetchall())
    parts = tuple(p for p in parts if p.rows)  # an empty unpartitioned table: no partition, a schema file
    table = LakeTable(name, columns, by, parts)
    old = previous.tables.get(name) if previous else None
    same = set(old.partitions) if old and old.columns == columns and old.partition_by == by else set()
    keep = [p for p in parts if p in same]
    fresh = [p.month for p in parts if p not in same]
    folder = tmp / name
    folder.mkdir()
    if not parts:
        con.execute(f"COPY (SELECT * FROM {ident(name)}) TO {literal(str(folder / DATA_FILE))} ({PARQUET})")
    elif by is None:
        if fresh:
            con.execute(f"COPY (SELECT * FROM {ident(name)}) TO {literal(str(folder / DATA_FILE))} ({PARQUET})")
    elif fresh:
        where = "" if not keep else f" WHERE list_contains($months, {month})"
        sql = (f"COPY (SELECT *, {month} AS {PARTITION} FROM {ident(name)}{where}) TO {literal(str(folder))} "
               f"({PARQUET}, PARTITION_BY ({PARTITION}), OVERWRITE_OR_IGNORE)")
        con.execute(sql, {"months": fresh}) if keep else con.execute(sql)
    for p in keep:
        _link(_folder(target / name, p.month), _folder(folder, p.month))
    return table, len(fresh) if parts else 1, len(keep)


def _folder(table_dir: Path, month: str | None) -> Path:
    return table_dir if month is None else table_dir / f"{PARTITION}={month}"


def _link(src: Path, dst: Path) -> None:
    """The Parquet files of a partition, hard-linked (copied where the file system cannot link)."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.parquet"):
        try:
            os.link(f, dst / f.name)
        except OSError:
            shutil.copy2(f, dst / f.name)


def _provenance(con: duckdb.DuckDBPyConnection) -> tuple[str | None, dict[str, object] | None, str | None]:
    """(data as-of, the last load that changed data, the facts' reporting currency)."""
    present = {n for (n,) in con.execute("SELECT table_name FROM information_schema.tables "
                                         "WHERE table_catalog = current_database() AND table_schema = 'main'").fetchall()}
    load = None
    if "load_log" in present:
        rows = con.execute("SELECT load_id, file_name, export_type, finished_at FROM load_log "
                           "WHERE outcome IN ('loaded', 'partial') ORDER BY load_id DESC LIMIT 1").fetchall()
        if rows:
            load = dict(zip(("load_id", "file_name", "export_type", "finished_at"), rows[0], strict=True))
            load["finished_at"] = load["finished_at"].isoformat() if load["finished_at"] else None
    ccy = None
    if FACTS_META in present:
        found = con.execute(f"SELECT any_value(reporting_currency) FROM {FACTS_META}").fetchall()
        ccy = found[0][0] if found else None
    return (load or {}).get("finished_at"), load, ccy  # type: ignore[return-value]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tandem")
    except PackageNotFoundError:
        return "unknown"


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    path = folder / MANIFEST
    with open(path, "w", encoding="utf-8") as f:
        f.write(manifest.to_json())
        f.flush()
        os.fsync(f.fileno())


def _swap(tmp: Path, target: Path) -> None:
    """Put the new lake in place: the old one is renamed aside, the new one renamed in, the old one removed."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.rename(target, old)
    os.rename(tmp, target)
    with suppress(OSError):  # the renames reach the disk before the old lake goes
        fd = os.open(target.parent, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _recover(target: Path) -> None:
    """An export killed between the two renames of its swap left the previous lake beside `dir`: put it back."""
    if target.exists():
        return
    aside = sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in aside:
        if (old / MANIFEST).exists():
            with suppress(OSError):  # another reader may have put it back first
                os.rename(old, target)
            return


def _clean(target: Path) -> None:
    """Remove what killed exports left beside `dir`: temporary folders of dead processes, old lakes set aside."""
    for p in target.parent.glob(f".{target.name}.tmp-*"):
        pid = p.name.rsplit(".tmp-", 1)[1].split("-")[0]
        if not (pid.isdigit() and _alive(int(pid))):
            shutil.rmtree(p, ignore_errors=True)
    if target.exists():
        for p in target.parent.glob(f".{target.name}.old-*"):
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _previous(target: Path) -> Manifest | None:
    """The manifest of the lake being replaced, when its files can be reused (a damaged one: nothing reused)."""
    try:
        return verify(target)
    except LakeError:
        return None


# --- reading ---------------------------------------------------------------------------------------------------

def read_manifest(dir: Path | str) -> Manifest:
    """The lake's manifest, or one sentence on why it cannot be read (missing, damaged, an unknown version)."""
    root = Path(dir)
    _recover(root.absolute())
    path = root / MANIFEST
    hint = EXPORT_HINT.format(dir=root)
    if not root.is_dir():
        raise LakeError(f"There is no lake at {root}: {EXPORT_HINT.format(dir=root).replace('it again', 'one')}.")
    if not path.is_file():
        raise LakeError(f"{root} is not a Tandem lake: it has no {MANIFEST}; {hint}.")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno}: {exc.msg})" if isinstance(exc, json.JSONDecodeError) else ""
        raise LakeError(f"The lake manifest {path} is damaged{where}; {hint}.") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise LakeError(f"{path} is not a Tandem lake manifest; {hint}.")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise LakeError(f"The lake at {root} has schema version {version} (written by Tandem "
                        f"{doc.get('tandem_version', '?')}); this Tandem ({_version()}) reads version {SCHEMA_VERSION}: "
                        f"{hint} with this version, or use the Tandem that wrote it.")
    try:
        return Manifest.from_json(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LakeError(f"The lake manifest {path} is damaged (a field is missing or wrong: {exc}); {hint}.") from None


def verify(dir: Path | str) -> Manifest:
    """The manifest, once every table's months are on disk with the rows it counts (read from the Parquet
    footers: a few milliseconds per file, never the rows); one sentence naming the first table and month that
    are not."""
    root = Path(dir)
    manifest = read_manifest(root)
    hint = EXPORT_HINT.format(dir=root)
    found: dict[tuple[str, str | None], int] = {}
    files = [f for name in manifest.tables for f in sorted((root / name).rglob("*.parquet"))]
    counts = _footer_rows(files, root, hint)
    for f, n in zip(files, counts, strict=True):
        rel = f.relative_to(root).parts
        month = rel[1].removeprefix(f"{PARTITION}=") if len(rel) == 3 else None
        found[(rel[0], month)] = found.get((rel[0], month), 0) + n
    for name, table in manifest.tables.items():
        if not (root / name).is_dir():
            raise LakeError(f"The lake at {root} has lost table {name} (its folder is gone; the manifest counts "
                            f"{table.rows:,} rows); {hint}.")
        expected = {p.month: p.rows for p in table.partitions}
        for month, rows in expected.items():
            have = found.get((name, month))
            what = f"month {month} of {name}" if month is not None else f"table {name}"
            if have is None:
                raise LakeError(f"The lake at {root} is missing {what} (the manifest counts {rows:,} rows there); "
                                f"{hint}.")
            if have != rows:
                raise LakeError(f"The lake at {root} holds {have:,} rows in {what} where the manifest counts {rows:,} "
                                f"(a file is missing or was replaced); {hint}.")
        for (t, month), rows in found.items():
            if t == name and month not in expected and rows:
                raise LakeError(f"The lake at {root} holds {rows:,} rows of {name} in month {month}, which its manifest "
                                f"does not list (files added by hand?); {hint}.")
        if not table.partitions and not (root / name / DATA_FILE).is_file():
            raise LakeError(f"The lake at {root} has lost the file of the empty table {name}; {hint}.")
    for name, view in manifest.views.items():
        if view.table not in manifest.tables:
            raise LakeError(f"The lake manifest {root / MANIFEST} declares {name} over {view.table}, which it does not "
                            f"hold; {hint}.")
    return manifest


def _footer_rows(files: list[Path], root: Path, hint: str) -> list[int]:
    """Rows of each Parquet file, from its footer."""
    if not files:
        return []
    con = duckdb.connect()
    try:
        rows = dict(con.execute("SELECT file_name, num_rows FROM parquet_file_metadata($files)",
                                {"files": [str(f) for f in files]}).fetchall())
    except duckdb.Error as exc:
        bad = re.search(r"[\"']([^\"']+\.parquet)[\"']", str(exc))
        which = bad.group(1) if bad else "one of its files"
        raise LakeError(f"The lake at {root} has a damaged Parquet file ({which}); {hint}.") from None
    finally:
        con.close()
    return [int(rows.get(str(f), 0)) for f in files]


def table_glob(dir: Path | str, name: str) -> str:
    """Every Parquet file of a lake table, as a glob DuckDB and Spark both read."""
    return str(Path(dir).absolute() / name / "**" / "*.parquet")


def open_duckdb(dir: Path | str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection whose tables are views over the lake's Parquet, under the store's names, so
    the KPI layer reads a lake as it reads the database file. Checked against its manifest first."""
    root = Path(dir).absolute()
    manifest = verify(root)
    con = session(duckdb.connect())  # the store's settings: no progress bar, instants read in UTC
    for name in manifest.tables:
        # hive_partitioning off: the rows carry their month column already; month=... is only the folder.
        con.execute(f"CREATE VIEW {ident(name)} AS SELECT * FROM read_parquet({literal(table_glob(root, name))}, "
                    "hive_partitioning = false)")
    for name, view in manifest.views.items():
        con.execute(f"CREATE VIEW {ident(name)} AS SELECT {', '.join(map(ident, view.columns))} FROM {ident(view.table)}")
    # The KPI layer asks duckdb_tables() whether the facts exist (kpi_definitions/facts.missing), which lists
    # tables, not views: empty tables of the same names in a catalog of their own answer it, while every query's
    # unqualified name reads main's views. Goes when the KPI layer counts views too (information_schema.tables).
    con.execute("ATTACH ':memory:' AS lake_catalog")
    for name in manifest.tables:
        con.execute(f"CREATE TABLE lake_catalog.main.{ident(name)} AS SELECT * FROM main.{ident(name)} LIMIT 0")
    return con


@contextmanager
def reading(dir: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """`open_duckdb`, closed when the caller is done."""
    con = open_duckdb(dir)
    try:
        yield con
    finally:
        con.close()
