"""`tandem budget` on the hand-built exports of tests/golden/budgets (the arithmetic: tests/golden/cases.yaml and
cycles.yaml): the verdict and its exit status, JSON, the funds, flow, waiting and timeline tables, one-sentence
errors, and the review pack's Budgets and approvals section."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_check_says_the_verdict_and_exits_1_when_it_does_not_fit(golden_budgets_db: Path) -> None:
    db = str(golden_budgets_db)
    code, out, _ = _run("budget", "check", "--db", db, "--cost-center", "CC1", "--category", "IT", "--amount", "2000")
    assert code == 0
    # FY2026: finance 3,000 − 800 = 2,200; procurement 3,000 − 1,100 = 1,900 (RP 300 pending)
    assert out.startswith("Fits only while requests wait: EUR 2,000 for CC1 × IT fits the EUR 2,200 available to the "
                          "end of 2026, but once the EUR 300 of pending requests is approved only EUR 1,900 is left: "
                          "short by EUR 100.")
    assert "to year end (2026)" in out and "this month (2026-03)" in out
    code, out, _ = _run("budget", "check", "--db", db, "--cost-center", "CC1", "--category", "it", "--amount", "2500",
                        "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert (doc["verdict"], doc["short_by"], doc["category"], doc["month"]) == ("does_not_fit", 300.0, "IT", "2026-03")
    assert doc["to_year_end"]["available_finance"] == 2200 and doc["this_period"]["available_procurement"] == 620
    code, out, _ = _run("budget", "check", "--db", db, "--cost-center", "CC1", "--category", "IT", "--amount", "500",
                        "--period", "2026-01", "--horizon", "period")
    assert code == 0 and out.startswith("Fits only while requests wait: EUR 500 for CC1 × IT fits the EUR 850 "
                                        "available in 2026-01")


def test_check_errors_are_one_sentence(golden_budgets_db: Path, tmp_path: Path) -> None:
    db = str(golden_budgets_db)
    code, _, err = _run("budget", "check", "--db", db, "--cost-center", "CC1", "--category", "Travel", "--amount", "9")
    assert code == 2 and err.strip() == "error: No budget for category 'Travel' in cost center CC1; its categories: IT."
    code, _, err = _run("budget", "check", "--db", str(tmp_path / "none.duckdb"), "--cost-center", "CC1",
                        "--category", "IT", "--amount", "9")
    assert code == 2 and "No database at" in err and "Traceback" not in err


def test_funds_flow_waiting_and_timeline(golden_budgets_db: Path) -> None:
    db = str(golden_budgets_db)
    code, out, _ = _run("budget", "funds", "--db", db, "--period", "2026-01", "--format", "csv")
    rows = {(r["Cost center"], r["Category"]): r for r in csv.DictReader(io.StringIO(out))}
    assert code == 0
    assert float(rows[("CC1", "IT")]["Available (procurement) 2026-01"]) == 400
    assert float(rows[("CC1", "IT")]["Available (finance) to year end"]) == 2200
    code, out, _ = _run("budget", "flow", "--db", db, "--grain", "quarter", "--period", "2026-Q1", "--format", "json")
    stages = {r["Stage"]: r for r in json.loads(out)}
    assert stages["Requisition to approval"]["Documents"] == 4 and stages["Requisition to approval"]["Median"] == 2.0
    code, out, _ = _run("budget", "flow", "--db", db, "--period", "2026-02", "--show", "queues", "--format", "json")
    assert {(r["Step"], r["Role"]) for r in json.loads(out)} >= {("manager", "manager"), ("budget_owner", "budget_owner")}
    code, out, _ = _run("budget", "waiting", "--db", db, "--format", "json")
    assert [(r["Id"], r["Waiting"]) for r in json.loads(out)] == [("RP", 44.625), ("IF", 9.0)]
    for limit in ("0", "-5"):  # -5 was DuckDB's "Binder Error: LIMIT/OFFSET cannot be negative"; 0 "nothing waits"
        code, _, err = _run("budget", "waiting", "--db", db, "--limit", limit)
        assert code == 2 and err.strip() == f"error: --limit {limit}: say how many to show, 1 or more."
    code, out, _ = _run("budget", "timeline", "requisition", "RA", "--db", db, "--format", "csv")
    events = list(csv.DictReader(io.StringIO(out)))
    assert [e["event"] for e in events] == ["submitted", "returned", "submitted", "approved"]  # the rework loop
    assert events[0]["event_at"] == "2026-02-27 09:00 UTC" and events[1]["comment"] == "quote missing"
    code, _, err = _run("budget", "timeline", "requisition", "NOPE", "--db", db)
    assert code == 2 and err.strip() == "error: No requisition 'NOPE' in the data."


def test_the_pack_has_a_budgets_and_approvals_section(golden_budgets_db: Path) -> None:
    from reports import pack

    html = pack.build(pack.selected(golden_budgets_db, "2026-03"))
    assert "Budgets and approvals" in html and "Waiting longest now" in html and "it_review" not in html
    assert "RP" in html and "Requisition to approval" in html
    # printed, the cycle-time chart is an image like every chart of the pack (as a script, the PDF showed its toolbar)
    import polars as pl

    from reports import budgets, exports

    sections = budgets.pack_sections(pack.selected(golden_budgets_db, "2026-03"))
    printable = exports.review_pack("pack", None, sections, pl.DataFrame(), printable=True)
    assert "Plotly.newPlot" in html and "Plotly.newPlot" not in printable and "Cycle times, 2026-03" in printable
