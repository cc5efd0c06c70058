"""Loading: every export type in every format, upserts, no-op re-loads, the load log, atomicity."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

import pipelines.load as load
import pipelines.stage as stage
import pipelines.validate as validate
from kpi_definitions import facts
from pipelines.mappings import IDENTITY
from pipelines.schemas import EXPORTS
from tests.conftest import write
from tests.rows import VALID
from workspace.db import connect, ingest_file


def _write(df: pl.DataFrame, path: Path) -> Path:
    {"csv": df.write_csv, "xlsx": df.write_excel, "parquet": df.write_parquet}[path.suffix[1:]](path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
@pytest.mark.parametrize("export", list(EXPORTS))
def test_every_export_type_in_every_format(con: duckdb.DuckDBPyConnection, tmp_path: Path, export: str, fmt: str) -> None:
    if export == "category_index":  # a category follows a loaded index
        ingest_file(con, _write(pl.DataFrame([VALID["price_indices"]]), tmp_path / "price_indices.csv"))
    row = {k: (v if v != "" else None) for k, v in VALID[export].items()}
    f = _write(pl.DataFrame([row], schema=dict.fromkeys(row, pl.String)), tmp_path / f"{export}_2026-01.{fmt}")
    r = ingest_file(con, f)
    assert (r.export_type, r.outcome, r.rows_read, r.rows_loaded) == (export, "loaded", 1, 1)
    got = con.sql(f"SELECT * EXCLUDE (_load_id) FROM {export}").fetchall()[0]
    assert len(got) == len(EXPORTS[export].columns)


def test_typed_parquet_and_xlsx_cells_are_accepted(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from datetime import date, datetime

    df = pl.DataFrame({"snapshot_date": [datetime(2026, 1, 31)], "item_id": ["X1"], "location": ["DC"],
                       "on_hand_qty": [5], "safety_stock_qty": [2.0], "unit_cost": [3.5], "currency": ["EUR"]})
    ingest_file(con, _write(df, tmp_path / "inventory.parquet"))
    ingest_file(con, _write(df.with_columns(item_id=pl.lit("X2")), tmp_path / "inventory.xlsx"))
    assert con.sql("SELECT snapshot_date, on_hand_qty FROM inventory ORDER BY item_id").fetchall() == [
        (date(2026, 1, 31), 5.0), (date(2026, 1, 31), 5.0)]


def _invoices(tmp_path: Path, amounts: dict[int, str], name: str = "invoices.csv") -> Path:
    rows = [{**VALID["invoices"], "invoice_line": str(k), "amount": v} for k, v in amounts.items()]
    return _write(pl.DataFrame(rows), tmp_path / name)


def test_same_content_twice_is_a_no_op_that_says_so(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    f = _invoices(tmp_path, {1: "10", 2: "20"})
    first = ingest_file(con, f)
    again = ingest_file(con, f)
    assert (again.outcome, again.message) == ("unchanged", f"same content as load #{first.load_id}; nothing changed")
    assert con.sql("SELECT count(*) FROM load_log").fetchall() == [(1,)]
    assert con.sql("SELECT count(*) FROM invoices").fetchall() == [(2,)]


def test_corrected_re_export_replaces_its_rows(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ingest_file(con, _invoices(tmp_path, {1: "10", 2: "20"}, "invoices_v1.csv"))
    r = ingest_file(con, _invoices(tmp_path, {2: "25", 3: "30"}, "invoices_v2.csv"))
    assert (r.rows_loaded, r.rows_replaced) == (2, 1)
    assert con.sql("SELECT invoice_line, amount FROM invoices ORDER BY 1").fetchall() == [(1, 10.0), (2, 25.0), (3, 30.0)]
    # Re-loading v1 after v2 is not a no-op: it restores v1's line 2.
    assert ingest_file(con, tmp_path / "invoices_v1.csv").outcome == "loaded"
    assert con.sql("SELECT amount FROM invoices WHERE invoice_line = 2").fetchall() == [(20.0,)]


def test_load_log_records_every_load(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ingest_file(con, _invoices(tmp_path, {1: "10", 2: "x"}), allow_partial=True)
    log = con.sql("SELECT file_name, export_type, mapping, rows_read, rows_loaded, rows_quarantined, outcome, "
                  "length(content_hash), finished_at >= started_at FROM load_log").fetchall()
    assert log == [("invoices.csv", "invoices", "canonical", 2, 1, 1, "partial", 41, True)]


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    tables = [*EXPORTS, "load_log", "quarantine", "dq_findings"]
    return {t: sorted(map(str, con.sql(f"SELECT * FROM {t}").fetchall())) for t in tables}


def test_a_load_failing_part_way_changes_nothing(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_file(con, _invoices(tmp_path, {1: "10"}, "invoices_a.csv"))
    before = _snapshot(con)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    # The upsert, the load log and the findings have run inside the transaction when the facts step fails.
    monkeypatch.setattr(facts, "refresh", boom)
    with pytest.raises(OSError):
        ingest_file(con, _invoices(tmp_path, {1: "99", 2: "20"}, "invoices_b.csv"))
    assert _snapshot(con) == before


def test_a_killed_load_changes_nothing(db_path: Path, tmp_path: Path) -> None:
    con = connect(db_path)
    ingest_file(con, _invoices(tmp_path, {1: "10"}, "invoices_a.csv"))
    before = _snapshot(con)
    con.close()
    big = pl.DataFrame([{**VALID["invoices"], "invoice_line": str(i), "amount": "5"} for i in range(1, 3)])
    f = _write(big, tmp_path / "invoices_b.csv")
    # A real process, SIGKILLed by itself inside the load's transaction, after its upsert ran.
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from kpi_definitions import facts
        from workspace.db import connect, ingest_file
        real = facts.refresh
        def die(*a, **k):
            real(*a, **k)
            os.kill(os.getpid(), signal.SIGKILL)
        facts.refresh = die
        ingest_file(connect({str(db_path)!r}), Path({str(f)!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[1], capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    con = connect(db_path)
    assert _snapshot(con) == before
    con.close()


def test_cross_file_references_become_findings(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    po = {**VALID["purchase_orders"], "contract_id": "C404", "currency": "USD"}
    _write(pl.DataFrame([po, {**po, "po_line": "2"}]), tmp_path / "purchase_orders.csv")
    ingest_file(con, tmp_path / "purchase_orders.csv")
    found = con.sql("SELECT export_type, rule, subject, rows, detail FROM dq_findings ORDER BY rule").fetchall()
    # exports arrive in any order: while nothing is loaded to check against, one finding says so
    assert found == [
        ("purchase_orders", "missing FX rate", "USD 2026-01", 2, "amounts in this currency and month have no fx_rates row"),
        ("purchase_orders", "unknown contract", "(no contracts loaded)", 2,
         "no contracts export is loaded yet: load it to check these references"),
        ("purchase_orders", "unknown supplier", "(no suppliers loaded)", 2,
         "no suppliers export is loaded yet: load it to check these references"),
    ]
    _write(pl.DataFrame([{**VALID["suppliers"], "supplier_id": "S2"}]), tmp_path / "suppliers.csv")
    _write(pl.DataFrame([{**VALID["contracts"], "supplier_id": "S2"}]), tmp_path / "contracts.csv")
    for name in ("suppliers", "contracts"):
        ingest_file(con, tmp_path / f"{name}.csv")
    found = con.sql("SELECT export_type, rule, subject, rows, detail FROM dq_findings "
                    "WHERE rule <> 'missing FX rate' ORDER BY export_type, rule").fetchall()
    assert found == [  # the one contract's supplier S2 is known; the PO lines name C404 and S1
        ("purchase_orders", "unknown contract", "C404", 2, "PO lines name a contract_id missing from contracts"),
        ("purchase_orders", "unknown supplier", "S1", 2, "PO lines name a supplier_id missing from suppliers"),
    ]
    _write(pl.DataFrame([VALID["suppliers"]]), tmp_path / "suppliers.csv")
    _write(pl.DataFrame([{**VALID["fx_rates"], "currency": "USD"}]), tmp_path / "fx_rates.csv")
    ingest_file(con, tmp_path / "suppliers.csv")
    ingest_file(con, tmp_path / "fx_rates.csv")
    assert con.sql("SELECT rule FROM dq_findings").fetchall() == [("unknown contract",)]


def test_export_type_from_name_or_option(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    f = _write(pl.DataFrame([VALID["budgets"]]), tmp_path / "q3-plan.csv")
    with pytest.raises(load.TandemError, match="cannot tell the export type"):
        ingest_file(con, f)
    assert ingest_file(con, f, export_type="budgets").outcome == "loaded"
    assert os.path.exists(f)


def _quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.sql("SELECT line, column_name, rule, value, record FROM quarantine ORDER BY line, column_name").fetchall()


@pytest.mark.parametrize("layout", ["one line per record", "multi-line field and blank line"])
def test_one_pass_and_general_path_quarantine_the_same_lines(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain file is read, mapped and typed in one pass; a file where a record spans lines (or has a
    blank line) falls back to the general path. Either way the same rows fail on the file's own lines,
    with the same values: a rule failure on a typed column shows the cell's text from the source."""
    header = ",".join(VALID["invoices"])
    row = dict(VALID["invoices"])

    def line(n: int, amount: str, note: str = "", due: str = "2026-02-09") -> str:
        return ",".join({**row, "invoice_line": str(n), "amount": amount, "item_id": note, "due_date": due}.values())

    early = line(5, "7", due=" 2025-12-31 ")  # due before the invoice date; padded, shown trimmed
    if layout == "one line per record":
        text, bad_lines = [header, line(1, "10"), line(2, "x"), line(3, "-1e400"), line(4, "5"), early], [3, 4, 6]
    else:
        text = [header, line(1, "10", '"two\nlines"'), "", line(2, "x"), line(3, "-1e400"), line(4, "5"), early]
        bad_lines = [5, 6, 8]
    f = tmp_path / "invoices.csv"
    f.write_text("\n".join(text) + "\n", encoding="utf-8")
    used = []
    monkeypatch.setattr(stage, "read_raw", lambda *a, _f=stage.read_raw, **k: used.append("general") or _f(*a, **k))
    r = ingest_file(con, f, allow_partial=True)
    assert used == ([] if layout == "one line per record" else ["general"])
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (5, 2, 3)
    got = _quarantined(con)
    assert [(q[0], q[1], q[2], q[3]) for q in got] == [
        (bad_lines[0], "amount", "type: a decimal number", "x"),
        (bad_lines[1], "amount", "type: a decimal number", "-1e400"),
        (bad_lines[2], "due_date", "due_date >= invoice_date", "2025-12-31"),
    ]
    assert '"amount":"x"' in got[0][4] and '"invoice_line":"2"' in got[0][4]


def test_chunks_gather_duckdb_batches_into_frames_of_the_asked_size() -> None:
    """DuckDB's Arrow batches stop at 122,880 rows; pandera gets frames of at least `rows`, all rows in order."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS n FROM range(300000)")
    frames = list(validate.chunks(con, "SELECT n FROM t", 200_000))
    assert [f.height for f in frames] == [245_760, 54_240]
    assert pl.concat(frames)["n"].to_list() == list(range(300_000))


def _spy_staged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    used: list[str] = []
    monkeypatch.setattr(load, "stage", lambda *a, _f=load.stage, **k: used.append("staged") or _f(*a, **k))
    return used


def test_a_clean_csv_is_inserted_straight_into_its_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No temp staging for a file with nothing to quarantine; what is stored, facts included, is what the
    staged path stores. A quoted field over two lines and a blank line are fine there too."""
    header = ",".join(VALID["invoices"])
    row = dict(VALID["invoices"])
    lines = [header, ",".join({**row, "invoice_line": "1", "amount": "10.5"}.values()), "",
             ",".join({**row, "invoice_line": "2", "amount": "7", "item_id": '"two\nlines"', "quantity": " 3 "}.values())]
    f = write(tmp_path / "invoices.csv", "\n".join(lines) + "\n")
    stored = {}
    for path in ("clean", "staged"):
        con = connect(tmp_path / f"{path}.duckdb")
        if path == "staged":
            monkeypatch.setattr(load, "_load_clean", lambda *a: None)
        used = _spy_staged(monkeypatch)
        r = ingest_file(con, f)
        assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 2, 2, 0)
        assert used == ([] if path == "clean" else ["staged"])
        stored[path] = con.sql("SELECT * EXCLUDE (_load_id) FROM fact_invoices ORDER BY invoice_line").fetchall()
        con.close()
    assert stored["clean"] == stored["staged"]
    assert [(r[1], r[5], r[12], r[13]) for r in stored["clean"]] == [(1, None, None, 10.5), (2, "two\nlines", 3.0, 7.0)]


@pytest.mark.parametrize("bad, rules", [
    ({"amount": "x"}, ["type: a decimal number"]),
    ({"amount": "nan"}, ["type: a decimal number"]),
    ({"invoice_line": "2.5"}, ["type: a whole number"]),
    ({"due_date": "2025-12-31"}, ["due_date >= invoice_date"]),
    ({"currency": "eur"}, ["currency: three upper-case letters (ISO 4217)"]),
    ({"invoice_line": "1"}, ["key unique within the file"] * 2),  # both lines of the key
])
def test_a_row_to_quarantine_rolls_the_clean_insert_back(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch, bad: dict, rules: list) -> None:
    """The clean path stops (a cell that does not parse) or finds the row (a check, a duplicate key), rolls
    its insert back and the staged path quarantines the row: nothing of the attempt is left."""
    ingest_file(con, _invoices(tmp_path, {1: "10", 2: "20"}, "invoices_v1.csv"))
    used = _spy_staged(monkeypatch)
    rows = [{**VALID["invoices"], "invoice_line": "1", "amount": "11"},
            {**VALID["invoices"], "invoice_line": "2", "amount": "21", **bad}]
    r = ingest_file(con, _write(pl.DataFrame(rows), tmp_path / "invoices_v2.csv"), allow_partial=True)
    assert used == ["staged"]
    assert con.sql("SELECT rule FROM quarantine ORDER BY line").fetchall() == [(x,) for x in rules]
    assert con.sql("SELECT load_id, outcome FROM load_log ORDER BY 1").fetchall() == [(1, "loaded"), (r.load_id, "partial")]
    stored = con.sql("SELECT invoice_line, amount FROM invoices ORDER BY 1").fetchall()
    if len(rules) == 1:  # line 1 replaced line 1 of v1; line 2 of v1 stays
        assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_replaced, r.rows_quarantined) == ("partial", 2, 1, 1, 1)
        assert stored == [(1, 11.0), (2, 20.0)]
    else:  # nothing passed
        assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_replaced, r.rows_quarantined) == ("partial", 2, 0, 0, 2)
        assert stored == [(1, 10.0), (2, 20.0)]


CELLS = {  # cells for the reader-typed columns: plain, padded, odd and broken
    "quantity": ["12.5", " 12.5", "12.5 ", "\u00a012.5", "1e3", "+5", "-0", ".5", "5.", "nan", "inf", "-inf",
                 "1e400", "1,5", "1_000", "0x10", "", "  ", "NaN", "Infinity", "12.5e", "1 000", "1.2.3", "٣"],
    "po_line": ["3", " 3", "3.0", "2.5", "1e3", "9e15", "1e16", "+4", "-0", "0x10", "nan", "", "abc"],
    "paid_date": ["2026-01-10", " 2026-01-10", "2026-01-10 ", "2026-1-5", "2026-01-10 00:00:00", "20260110",
                  "2026-02-30", "2026-01-10T00:00", "10-01-2026", "", "  ", "+2026-01-10", "2026-13-01",
                  "epoch", "infinity", "99999-01-01"],
}


@pytest.mark.parametrize("column", list(CELLS))
def test_cells_typed_by_duckdbs_reader_agree_with_typing_their_text(tmp_path: Path, column: str) -> None:
    """The clean path lets DuckDB's CSV reader type plain number and date columns. Whatever it accepts must
    be what typing the cell's text gives; what it does not accept stops the statement and sends the file
    to the staged path, so rejecting more is safe and accepting more is not."""
    con = duckdb.connect()
    spec, accepted = EXPORTS["invoices"], []
    for i, cell in enumerate(CELLS[column]):
        f = _write(pl.DataFrame([{**VALID["invoices"], column: cell}]), tmp_path / f"c{i}.csv")
        src = stage.csv_source(con, f, "_raw", None)
        staged = con.sql(f"SELECT {column}, {column}__raw FROM ({stage.typed_select(spec, IDENTITY, src.header, src.sql())})"
                         ).fetchall()
        try:
            clean = con.sql(f"SELECT {column} FROM ({stage.clean_select(spec, IDENTITY, src)})").fetchall()
        except stage.STOPPED:
            continue
        assert staged == [(clean[0][0], None)], f"{column} = {cell!r}"
        accepted.append(cell)
    assert column in stage.reader_types(IDENTITY, spec, src.header)  # the reader typed it
    assert CELLS[column][:2] == accepted[:2]  # a plain cell and a padded one get through


def test_a_ragged_row_stops_the_clean_insert(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's strict reader stops at a row with too many columns; the staged path quarantines it."""
    header = ",".join(VALID["invoices"])
    good = ",".join({**VALID["invoices"], "invoice_line": "1"}.values())
    f = write(tmp_path / "invoices.csv", f"{header}\n{good}\n{good.replace(',1,', ',2,', 1)},extra\n")
    used = _spy_staged(monkeypatch)
    r = ingest_file(con, f, allow_partial=True)
    assert used == ["staged"]
    assert (r.outcome, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("partial", 2, 1, 1)
    assert con.sql("SELECT line, rule FROM quarantine").fetchall() == [(3, "too many columns")]


def test_the_stages_compose_into_a_check_and_a_load(tmp_path: Path) -> None:
    """read -> map -> stage -> validate -> store, called one by one, give what `check_file` and
    `ingest_file` give: each stage's small result carries what the next one needs."""
    rows = [VALID["purchase_orders"], {**VALID["purchase_orders"], "po_line": "2", "status": "draft"},
            {**VALID["purchase_orders"], "po_line": "3", "quantity": "0"}]
    f = _write(pl.DataFrame(rows), tmp_path / "purchase_orders.csv")
    spec = EXPORTS["purchase_orders"]
    src = load.read_file(f, spec, IDENTITY, "utf-8")
    assert (src.fmt, src.header_line, src.delimiter, src.line_ends, src.header) == (
        "csv", 1, ",", "lf", tuple(VALID["purchase_orders"]))
    mapped = load.map_columns(src, spec, IDENTITY)
    assert set(mapped.text) == set(spec.column_names)
    con = duckdb.connect()
    staged = stage.stage(con, mapped)
    assert (staged.rows, staged.filtered, staged.one_pass is not None) == (3, 0, True)  # one statement, no `_raw`
    v = validate.validate(con, staged)
    assert (v.read, v.valid, v.invalid) == (3, 1, 2)
    assert v.failures.select("line", "column", "rule", "value").rows() == [
        (3, "status", "status one of open, closed, cancelled", "draft"), (4, "quantity", "quantity > 0", "0")]
    check = load.check_file(f, IDENTITY)
    assert (check.rows_read, check.rows_valid, check.rows_invalid) == (v.read, v.valid, v.invalid)
    db = connect(tmp_path / "t.duckdb")
    try:
        r = ingest_file(db, f, allow_partial=True)
        assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (v.read, v.valid, v.invalid)
    finally:
        db.close()


def test_a_mapping_that_does_not_fit_is_refused_at_the_map_stage(tmp_path: Path) -> None:
    f = write(tmp_path / "suppliers.csv", "supplier_id,name\nS1,Acme\n")
    src = load.read_file(f, EXPORTS["suppliers"], IDENTITY, "utf-8")
    with pytest.raises(load.TandemError) as exc:
        load.map_columns(src, EXPORTS["suppliers"], IDENTITY)
    assert exc.value.message == (
        "suppliers.csv: Missing required column(s) for suppliers: supplier_name, preferred, payment_terms_days "
        "(the header, line 1, has supplier_id, name); a preamble above the header? set header_row in the mapping.")


def test_load_many_loads_each_file_and_says_why_one_could_not(tmp_path: Path) -> None:
    """One function for the CLI and the Data page: a result per file, a sentence for a file that cannot be
    read, the first failures as sentences, progress per file; the next file still loads."""
    good = _write(pl.DataFrame([VALID["suppliers"]]), tmp_path / "suppliers.csv")
    empty = write(tmp_path / "budgets.csv", "")
    bad = _write(pl.DataFrame([{**VALID["budgets"], "budget_amount": "-5"}]), tmp_path / "budgets_q2.csv")
    ticks: list[tuple[str, int, int]] = []
    con = connect(tmp_path / "t.duckdb")
    try:
        out = load.load_many(con, [good, empty, bad], progress=lambda name, done, total: ticks.append(
            (name, done, total)), loader=ingest_file)
    finally:
        con.close()
    assert [(x.name, x.result.outcome if x.result else None, x.error, x.exit_code) for x in out] == [
        ("suppliers.csv", "loaded", None, 0),
        ("budgets.csv", None, "budgets.csv: the file is empty.", 3),
        ("budgets_q2.csv", "rejected", None, 3)]
    assert out[2].failures == ['budgets_q2.csv, line 2, column budget_amount: budget_amount >= 0 (value "-5")']
    assert ("suppliers.csv", 1, 1) in ticks and ("budgets_q2.csv", 1, 1) in ticks
    with pytest.raises(load.TandemError, match="Unknown export type 'bills'"):
        load.load_many(duckdb.connect(), [good], export_type="bills")
