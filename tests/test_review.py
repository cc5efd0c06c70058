"""The weekly review's memory in DuckDB: reviews, what changed since, and items carried until closed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from decisions import review
from decisions.identity import local_user
from tests.rows import VALID
from workspace.db import connect, ingest_file

LOCAL = local_user()  # the command line's user: every write names who acts


def values(savings: float, days: float) -> pl.DataFrame:
    return pl.DataFrame({"kpi": ["savings", "payment_days"], "view": ["finance", "finance"],
                         "period": ["2026-01", "2026-01"], "value": [savings, days]})


def test_items_are_validated_saved_and_carried_until_closed(db_path: Path) -> None:
    con = connect(db_path)
    first = review.start(con, date(2026, 1, 5), "2026-01", values(100.0, 40.0), by=LOCAL)
    with pytest.raises(ValueError, match="an action needs an owner and a due date"):
        review.add_item(con, first, "savings", "action", "Chase credit notes", owner="Ana", by=LOCAL)
    with pytest.raises(ValueError, match="an empty note says nothing"):
        review.add_item(con, first, "savings", "note", "   ", by=LOCAL)
    action = review.add_item(con, first, "savings", "action", "  Chase credit notes ", "Ana", date(2026, 1, 20), by=LOCAL)
    review.add_item(con, first, "payment_days", "decision", "Report both views to the board", by=LOCAL)
    second = review.start(con, date(2026, 1, 12), "2026-01", values(100.0, 40.0), by=LOCAL)
    assert review.current(con, date(2026, 1, 12), "2026-01", values(1, 1), by=LOCAL) == second
    con.close()
    items = review.open_items(db_path)
    # both items of last week are still open at this week's review, the action (with a due date) first
    assert items.select("kpi", "kind", "text", "owner", "due_date").rows() == [
        ("savings", "action", "Chase credit notes", "Ana", "2026-01-20"),
        ("payment_days", "decision", "Report both views to the board", None, None)]
    con = connect(db_path)
    review.close_item(con, action, by=LOCAL)
    con.close()
    assert review.open_items(db_path)["kind"].to_list() == ["decision"]


def test_changes_since_the_last_review(db_path: Path, tmp_path: Path) -> None:
    con = connect(db_path)
    rid = review.start(con, date(2026, 1, 5), "2026-01", values(100.0, 40.0), by=LOCAL)
    pl.DataFrame([VALID["suppliers"]]).write_csv(tmp_path / "suppliers.csv")
    ingest_file(con, tmp_path / "suppliers.csv")
    f = tmp_path / "invoices.csv"
    pl.DataFrame([VALID["invoices"] | {"supplier_id": "S404"}]).write_csv(f)
    ingest_file(con, f)  # a load after the review, naming a supplier nobody knows
    con.close()
    loads, findings = review.changes(db_path, rid)
    assert loads.select("file_name", "outcome", "rows_loaded").rows() == [("invoices.csv", "loaded", 1),
                                                                           ("suppliers.csv", "loaded", 1)]
    assert "S404" in findings["subject"].to_list()
    moved = review.moved(db_path, rid, values(50.0, 41.0))
    # savings halved (−50 on 100 = 50 %), payment days +1 on 40 (2.5 %): savings moved most
    assert moved.select("kpi", "then", "now", "change").rows() == [("savings", 100.0, 50.0, -50.0),
                                                                    ("payment_days", 40.0, 41.0, 1.0)]
    assert moved["relative"].to_list() == pytest.approx([0.5, 0.025])


def test_a_review_that_fails_to_start_leaves_nothing_behind(db_path: Path) -> None:
    con = connect(db_path)
    broken = pl.DataFrame({"kpi": ["savings"], "view": ["finance"], "period": ["2026-01"]})  # no value column
    with pytest.raises(pl.exceptions.ColumnNotFoundError):
        review.start(con, date(2026, 1, 5), "2026-01", broken, by=LOCAL)
    review.start(con, date(2026, 1, 5), "2026-01", values(1.0, 2.0), by=LOCAL)  # the connection is usable again
    assert con.execute("SELECT count(*) FROM reviews").fetchall() == [(1,)]
    con.close()
