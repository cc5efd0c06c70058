"""The KPI facts: rebuilt with every load of their sources, and a load of invoices replaces only its lines."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from kpi_definitions import facts
from tests.conftest import GOLDEN
from tests.frames import same_tables
from tests.killed import load_killed_after
from workspace.db import connect, ingest_file

KEY = ["invoice_id", "invoice_line"]


def fact_rows(con) -> pl.DataFrame:  # noqa: ANN001 - a DuckDB connection
    return con.sql("SELECT * EXCLUDE (_load_id) FROM fact_invoices").pl().sort(KEY)


def test_an_invoice_load_replaces_just_its_lines_and_equals_a_full_rebuild(golden_db: Path, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    invoices = pl.read_csv(GOLDEN / "exports" / "invoices.csv", infer_schema=False)
    corrected = pl.concat([
        invoices.filter(pl.col("invoice_id") == "I21").with_columns(amount=pl.lit("99")),  # a corrected amount
        invoices.filter(pl.col("invoice_id") == "I21").with_columns(invoice_id=pl.lit("I99")),  # a new line
    ])
    corrected.write_csv(tmp_path / "invoices_correction.csv")
    con = connect(db)
    try:
        before = fact_rows(con)
        with monkeypatch.context() as m:
            m.setattr(facts, "REBUILD", "no_full_rebuild_here")  # the incremental path must not need it
            result = ingest_file(con, tmp_path / "invoices_correction.csv")
        assert (result.outcome, result.rows_loaded, result.rows_replaced) == ("loaded", 2, 1)
        incremental = fact_rows(con)
        facts.refresh(con, "EUR")  # the full rebuild, for comparison
        assert incremental.equals(fact_rows(con))
    finally:
        con.close()
    assert incremental.height == before.height + 1
    i21 = incremental.filter(pl.col("invoice_id") == "I21").row(0, named=True)
    assert (i21["amount"], i21["amount_rep"]) == (99.0, 99.0)
    # I99 is I21 again: same PO line, so the same contract and terms were looked up for it
    i99 = incremental.filter(pl.col("invoice_id") == "I99").row(0, named=True)
    assert {k: i99[k] for k in ("po_found", "on_contract", "agreed_terms", "m")} == {
        k: i21[k] for k in ("po_found", "on_contract", "agreed_terms", "m")}


def price_rows(con) -> pl.DataFrame:  # noqa: ANN001 - a DuckDB connection
    return con.sql("SELECT * FROM fact_prices").pl().sort(["m", "supplier_id", "item_id", "category"],
                                                           nulls_last=True)


def test_an_invoice_load_re_sums_the_price_facts_of_the_months_it_changed(
        golden_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    invoices = pl.read_csv(GOLDEN / "exports" / "invoices.csv", infer_schema=False)
    # I03 (S1, X1: 5 for 50 in 2025-02) moves to 2026-03 at a new price; I24 (S2, X3 in 2026-02) gets 7 for 91
    pl.concat([
        invoices.filter(pl.col("invoice_id") == "I03").with_columns(
            invoice_date=pl.lit("2026-03-02"), due_date=pl.lit("2026-04-01"), paid_date=pl.lit(""),
            quantity=pl.lit("4"), amount=pl.lit("60")),
        invoices.filter(pl.col("invoice_id") == "I24").with_columns(quantity=pl.lit("7"), amount=pl.lit("91")),
    ]).write_csv(tmp_path / "invoices_correction.csv")
    con = connect(db)
    try:
        with monkeypatch.context() as m:
            m.setattr(facts, "REBUILD", "no_full_rebuild_here")  # the incremental path must not need it
            ingest_file(con, tmp_path / "invoices_correction.csv")
        incremental = price_rows(con)
        facts.refresh(con, "EUR")
        assert incremental.equals(price_rows(con))  # the same as a full rebuild
        cols = ["supplier_id", "item_id", "lines", "priced_lines", "spend", "qty"]
        feb25 = incremental.filter(pl.col("m") == 2025 * 12 + 1).select(cols).rows()
        assert feb25 == [("S2", "X3", 1, 1, 40.0, 4.0)]  # I03 left it: only I04 is left
        mar26 = incremental.filter((pl.col("m") == 2026 * 12 + 2) & (pl.col("item_id") == "X1")).select(cols).rows()
        assert mar26 == [("S1", "X1", 1, 1, 60.0, 4.0)]
        feb26 = incremental.filter((pl.col("m") == 2026 * 12 + 1) & (pl.col("item_id") == "X3")).select(cols).rows()
        assert feb26 == [("S2", "X3", 1, 1, 91.0, 7.0)]
        # every line of the database is in exactly one row of the facts
        assert incremental["lines"].sum() == con.sql("SELECT count(*) FROM invoices").fetchall()[0][0] == 14
    finally:
        con.close()


def test_other_loads_rebuild_the_facts(golden_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    suppliers = pl.read_csv(GOLDEN / "exports" / "suppliers.csv", infer_schema=False)
    suppliers.with_columns(payment_terms_days=pl.lit("15")).write_csv(tmp_path / "suppliers_new_terms.csv")
    con = connect(db)
    try:
        before = con.sql("SELECT count(*) FILTER (WHERE agreed_terms = 15) FROM fact_invoices").fetchall()[0][0]
        ingest_file(con, tmp_path / "suppliers_new_terms.csv")
        after = con.sql("SELECT count(*) FILTER (WHERE agreed_terms = 15) FROM fact_invoices").fetchall()[0][0]
    finally:
        con.close()
    assert before == 0 and after > 0  # lines without a contract's terms now carry the suppliers' new terms


def test_invoice_lines_are_stored_once_with_their_facts(golden_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    con = connect(db)
    try:
        kinds = dict(con.sql("SELECT table_name, table_type FROM information_schema.tables "
                             "WHERE table_name IN ('invoices', 'fact_invoices')").fetchall())
        assert kinds == {"invoices": "VIEW", "fact_invoices": "BASE TABLE"}
        lines = con.sql("SELECT * FROM invoices").pl()
        assert lines.columns == facts.INVOICE_COLUMNS
        assert lines.height == fact_rows(con).height == 14  # the lines of golden/exports/invoices.csv
    finally:
        con.close()


def test_a_database_from_before_moves_its_invoice_lines_in(golden_db: Path, tmp_path: Path) -> None:
    # Databases made before the lines and their facts were one table kept `invoices` as a table.
    db = tmp_path / "old.duckdb"
    shutil.copy(golden_db, db)
    con = connect(db)
    expected = fact_rows(con)
    con.execute("CREATE TABLE old_lines AS SELECT * FROM invoices")
    con.execute("DROP VIEW invoices")
    con.execute("ALTER TABLE old_lines RENAME TO invoices")
    con.execute("DELETE FROM fact_invoices")
    con.close()
    con = connect(db)  # opening it moves the lines in
    try:
        assert con.sql("SELECT table_type FROM information_schema.tables WHERE table_name = 'invoices'"
                       ).fetchall() == [("VIEW",)]
        assert fact_rows(con).equals(expected)
    finally:
        con.close()


def test_a_rebuild_keeps_the_facts_in_month_order(golden_db: Path, tmp_path: Path) -> None:
    # DuckDB skips a row group whose months a query does not ask for only when the months lie together.
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    con = connect(db)
    try:
        for table in ("fact_invoices", "purchase_orders"):  # stored latest month first, as a load might leave them
            date = "invoice_date" if table == "fact_invoices" else "order_date"
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} ORDER BY {date} DESC")
        facts.refresh(con, "EUR")
        for table in ("fact_invoices", "fact_po", "fact_prices"):
            stored = [m for (m,) in con.sql(f"SELECT m FROM {table} ORDER BY rowid").fetchall()]
            assert stored == sorted(stored) and len(set(stored)) > 1, table
    finally:
        con.close()


# --- the monthly sums the views read (kpi_definitions/facts.py MONTHLY, fact_po_months) ----------------------

SUMS = ("fact_invoice_months", "fact_paid_months", "fact_po_months", "fact_po_savings", "fact_months", "fact_prices",
        "fact_price_links",
        "fact_stock", "fact_consumption", "fact_invoice_rollup", "fact_paid_rollup", "fact_po_rollup",
        "fact_stock_rollup", "fact_consumption_rollup")


def stored_sums(con) -> dict[str, pl.DataFrame]:  # noqa: ANN001 - a DuckDB connection
    return {t: con.sql(f"SELECT * FROM {t}").pl().sort(pl.all(), nulls_last=True) for t in SUMS}


def fresh_sums(con) -> dict[str, pl.DataFrame]:  # noqa: ANN001 - a DuckDB connection
    """The same sums computed now from the lines (the rebuild's SQL, not stored)."""
    from kpi_definitions.dialects import expand

    out = {}
    for t in SUMS:
        sql = (facts._fact_prices("true") if t == "fact_prices" else facts._fact_price_links("true", "true")
               if t == "fact_price_links" else facts.SQL[t].replace("{where}", "true"))
        if t == "fact_months":  # from the exports themselves, not from the other facts
            sql += expand("\nUNION ALL SELECT 'purchase_orders', @month_ix(order_date), count(*), "
                          "count(DISTINCT order_date) FROM purchase_orders GROUP BY ALL"
                          "\nUNION ALL SELECT 'inventory', @month_ix(snapshot_date), count(*), "
                          "count(DISTINCT snapshot_date) FROM inventory GROUP BY ALL"
                          "\nUNION ALL SELECT 'consumption', @month_ix(period), count(*), 1 FROM consumption GROUP BY ALL")
        params = {"ccy": "EUR"} if "$ccy" in sql else None
        out[t] = con.sql(sql, params=params).pl().sort(pl.all(), nulls_last=True)
    return out


def same_sums(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    same_tables({t: a[t] for t in SUMS}, b)


def test_monthly_sums_follow_every_load_of_invoices_as_if_rebuilt(golden_db: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    invoices = pl.read_csv(GOLDEN / "exports" / "invoices.csv", infer_schema=False)
    # a month appended (2026-04, one line paid in May), then a correction: I03 moves from 2025-02 to 2026-04 and is
    # paid in June, I12 is now paid in March (it was February), I21's amount changes
    april = invoices.filter(pl.col("invoice_id").is_in(["I21", "I22"])).with_columns(
        invoice_id=pl.col("invoice_id") + "A", invoice_date=pl.lit("2026-04-08"), due_date=pl.lit("2026-05-08"),
        paid_date=pl.lit("2026-05-02"))
    april.write_csv(tmp_path / "invoices_april.csv")
    # X2 of S1 bought in March too (between I21 in February and I21A in April): the price links of March and April
    # change with it, and March's again when the correction below changes February's price
    invoices.filter(pl.col("invoice_id") == "I21").with_columns(
        invoice_id=pl.lit("I41"), invoice_date=pl.lit("2026-03-09"), due_date=pl.lit("2026-04-08"),
        paid_date=pl.lit("2026-04-01"), amount=pl.lit("36")).write_csv(tmp_path / "invoices_march.csv")
    pl.concat([
        invoices.filter(pl.col("invoice_id") == "I03").with_columns(
            invoice_date=pl.lit("2026-04-02"), due_date=pl.lit("2026-05-01"), paid_date=pl.lit("2026-06-01")),
        invoices.filter(pl.col("invoice_id") == "I12").with_columns(paid_date=pl.lit("2026-03-03")),
        invoices.filter(pl.col("invoice_id") == "I21").with_columns(amount=pl.lit("99")),
    ]).write_csv(tmp_path / "invoices_correction.csv")
    con = connect(db)
    try:
        same_sums(stored_sums(con), fresh_sums(con))
        with monkeypatch.context() as m:
            m.setattr(facts, "REBUILD", "no_full_rebuild_here")  # the incremental path must not need it
            ingest_file(con, tmp_path / "invoices_april.csv")
            same_sums(stored_sums(con), fresh_sums(con))
            changed = facts.update_months(con, "EUR")  # nothing left to re-sum after the load
            assert changed == {"m": sorted(changed["m"]), "paid": changed["paid"]}
            assert set(changed["m"]) == {2026 * 12 + 3} and set(changed["paid"]) == {2026 * 12 + 4}  # its own
            ingest_file(con, tmp_path / "invoices_march.csv")
            same_sums(stored_sums(con), fresh_sums(con))
            links = dict(con.sql("SELECT m, num / den FROM fact_price_links WHERE supplier_id = 'S1'").fetchall())
            assert links[2026 * 12 + 2] == pytest.approx(12 / 11) and links[2026 * 12 + 3] == pytest.approx(11 / 12)
            ingest_file(con, tmp_path / "invoices_correction.csv")
            same_sums(stored_sums(con), fresh_sums(con))
        # I03's old month holds I04 alone now; its new one I03 and the two April lines
        months = con.sql("SELECT m, lines FROM fact_months WHERE source = 'invoices' ORDER BY m").fetchall()
        assert dict(months)[2025 * 12 + 1] == 1 and dict(months)[2026 * 12 + 3] == 3
        paid = dict(con.sql("SELECT m, sum(lines) FROM fact_paid_months GROUP BY m").fetchall())
        assert paid[2026 * 12 + 5] == 1 and paid[2026 * 12 + 2] == 3  # I03 in June; I12 joins I22 and I31 in March
    finally:
        con.close()


def test_a_load_killed_after_re_summing_changes_nothing(golden_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    invoices = pl.read_csv(GOLDEN / "exports" / "invoices.csv", infer_schema=False)
    invoices.filter(pl.col("invoice_id") == "I11").with_columns(
        invoice_date=pl.lit("2026-05-11"), due_date=pl.lit("2026-06-10"), paid_date=pl.lit("2026-06-01"),
        amount=pl.lit("1000")).write_csv(tmp_path / "invoices_may.csv")
    with connect(db) as con:
        before = stored_sums(con)
    # a real process, SIGKILLed by itself inside the load's transaction, once the monthly sums are re-summed
    load_killed_after(db, tmp_path / "invoices_may.csv", "kpi_definitions.facts", "update_months")
    with connect(db) as con:
        after = stored_sums(con)
        same_sums(after, before)  # the load never committed
        same_sums(after, fresh_sums(con))  # and the sums are the lines'
        assert con.sql("SELECT count(*) FROM fact_invoices WHERE m = 2026 * 12 + 4").fetchall() == [(0,)]


def test_stock_and_consumption_facts_follow_their_loads(golden_db: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.duckdb"
    shutil.copy(golden_db, db)
    # a March snapshot of X1 (a new month), and February's X2 corrected; consumption for March
    pl.DataFrame([{"snapshot_date": "2026-03-31", "item_id": "X1", "location": "DC", "on_hand_qty": "50",
                   "safety_stock_qty": "40", "unit_cost": "2", "currency": "EUR"},
                  {"snapshot_date": "2026-02-28", "item_id": "X2", "location": "DC", "on_hand_qty": "3",
                   "safety_stock_qty": "20", "unit_cost": "5", "currency": "EUR"}]).write_csv(tmp_path / "inventory_b.csv")
    pl.DataFrame([{"period": "2026-03", "item_id": "X1", "location": "DC", "quantity": "31", "value": "62",
                   "currency": "EUR"}]).write_csv(tmp_path / "consumption_b.csv")
    con = connect(db)
    try:
        with monkeypatch.context() as m:
            m.setattr(facts, "REBUILD", "no_full_rebuild_here")  # only the months the loads changed
            assert ingest_file(con, tmp_path / "inventory_b.csv").ok
            assert ingest_file(con, tmp_path / "consumption_b.csv").ok
        same_sums(stored_sums(con), fresh_sums(con))
        march = con.sql("SELECT stock_rep, excess_rep, category FROM fact_stock WHERE m = 2026 * 12 + 2").fetchall()
        assert march == [(100.0, 20.0, "IT")]  # X1: 50 × 2, (50 − 40) × 2; its category from P1's line
        assert dict(con.sql("SELECT source, count(*) FROM fact_months WHERE m = 2026 * 12 + 2 GROUP BY source"
                            ).fetchall()) == {"invoices": 1, "purchase_orders": 1, "inventory": 1, "consumption": 1}
    finally:
        con.close()
