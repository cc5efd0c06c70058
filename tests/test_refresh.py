"""The reporting-currency rebuild happens in `tandem refresh` only (and in loads of the facts' sources), in one
transaction: a SIGKILL at any statement of it leaves the facts and the currency they name consistent. A
reader never rebuilds: a changed currency makes `tandem kpis` ask for a refresh and leaves the file as it is."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from decisions.identity import local_user
from kpi_definitions.compute import Selection, compute
from kpi_definitions.engine import Request
from kpi_definitions.periods import parse_month
from kpi_definitions.registry import registry
from store.db import reading

LOCAL = local_user()  # the command line's user: every write names who acts

ROOT = Path(__file__).resolve().parents[1]
STATEMENTS = 6  # facts._run: the macros, then facts.sql's facts_meta, fact_invoices, fact_po, fact_items and fact_prices


def _expected(con: duckdb.DuckDBPyConnection, currency: str) -> dict[str, float]:
    """Invoice and PO amounts in `currency`, converted here (polars, not the facts' SQL): the amount itself when
    it is in `currency`, else times the fx_rates row of its currency and month (no row: left out)."""
    rates = con.sql("SELECT period, currency, rate_to_reporting AS rate FROM fx_rates").pl()

    def convert(frame: pl.DataFrame, day: str) -> float:
        frame = frame.with_columns(period=pl.col(day).dt.truncate("1mo")).join(rates, on=["period", "currency"],
                                                                                how="left")
        factor = pl.when(pl.col("currency") == currency).then(1.0).otherwise(pl.col("rate"))
        return frame.select((pl.col("value") * factor).sum()).item()

    invoices = con.sql("SELECT invoice_date, currency, amount AS value FROM invoices").pl()
    orders = con.sql("SELECT order_date, currency, quantity * unit_price AS value FROM purchase_orders "
                     "WHERE status <> 'cancelled'").pl()
    return {"invoices": convert(invoices, "invoice_date"), "orders": convert(orders, "order_date")}


def _state(db: Path) -> tuple[str, str, dict[str, float]]:
    """The currency facts_meta names, when it was built, and the facts' converted sums."""
    with reading(db) as con:
        currency, built = con.sql("SELECT reporting_currency, built_at::VARCHAR FROM facts_meta").fetchall()[0]
        sums = {"invoices": con.sql("SELECT sum(amount_rep) FROM fact_invoices").fetchall()[0][0],
                "orders": con.sql("SELECT sum(value_rep) FROM fact_po").fetchall()[0][0]}
    return currency, built, sums


def _consistent(db: Path) -> str:
    """facts_meta names the currency the facts are converted to, and KPIs compute in it: that currency."""
    currency, _, sums = _state(db)
    with reading(db) as con:
        want = _expected(con, currency)
        other = _expected(con, "USD" if currency == "EUR" else "EUR")
        march = parse_month("2026-03")
        values = compute(con, registry(), Selection(march, march), currency=currency).values
    assert sums == pytest.approx(want, rel=1e-9)
    assert sums != pytest.approx(other, rel=1e-9)  # the check tells the two currencies apart
    assert values.height > 0 and set(values["unit"]) >= {currency}
    return currency


def _refresh(db: Path, currency: str, kill_after: int | None) -> subprocess.CompletedProcess:
    """`tandem refresh` in a real process, SIGKILLed by itself after statement `kill_after` of the rebuild."""
    script = textwrap.dedent(f"""
        import os, signal
        from kpi_definitions import facts
        from cli.main import app

        class Dying:  # the connection, killing its process after the rebuild's statement number `after`
            def __init__(self, con, after):
                self.con, self.after, self.done = con, after, 0
            def execute(self, *args, **kwargs):
                result = self.con.execute(*args, **kwargs)
                self.done += 1
                if self.done == self.after:
                    os.kill(os.getpid(), signal.SIGKILL)
                return result
            def __getattr__(self, name):
                return getattr(self.con, name)

        real = facts._run
        def run(con, name, params):
            real(Dying(con, {kill_after!r}) if {kill_after!r} else con, name, params)
        facts._run = run
        app(["refresh", "--db", {str(db)!r}])
    """)
    env = {**os.environ, "TANDEM_REPORTING_CURRENCY": currency}
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True)


@pytest.fixture(scope="module")
def eur_db(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("refresh") / "eur.duckdb"
    shutil.copy(demo_db, db)
    return db


@pytest.mark.parametrize("kill_after", range(1, STATEMENTS + 1))
def test_a_refresh_killed_at_any_statement_leaves_facts_and_currency_consistent(
        eur_db: Path, tmp_path: Path, kill_after: int) -> None:
    db = tmp_path / "t.duckdb"
    shutil.copy(eur_db, db)
    before = _state(db)
    assert before[0] == "EUR"
    proc = _refresh(db, "USD", kill_after)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert _state(db) == before  # the rebuild's transaction never committed
    assert _consistent(db) == "EUR"


def test_a_refresh_that_runs_to_the_end_converts_to_the_new_currency(eur_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    shutil.copy(eur_db, db)
    proc = _refresh(db, "USD", None)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"KPI facts rebuilt in USD" in proc.stdout
    assert _consistent(db) == "USD"
    assert _state(db)[1] > _state(eur_db)[1]  # built again, once


def _fingerprint(db: Path) -> tuple[str, int, bool]:
    return hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns, Path(f"{db}.wal").exists()


def test_a_reader_never_rebuilds(eur_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "t.duckdb"
    shutil.copy(eur_db, db)
    before = _fingerprint(db)
    monkeypatch.setenv("TANDEM_REPORTING_CURRENCY", "USD")
    r = CliRunner().invoke(app, ["kpis", "--db", str(db), "--period", "2026-03"])
    assert r.exit_code == 1
    assert "The KPI facts are in EUR, not USD: run `tandem refresh`" in " ".join(r.stderr.split())
    r = CliRunner().invoke(app, ["kpis", "--db", str(db), "--period", "2026-03", "--explain"])
    assert r.exit_code == 0
    from tandem import service  # the app's readers

    ver = service.version(db)
    assert service.facts_problem(str(db), ver) == ("The KPI facts are in EUR, not USD: run `tandem refresh` after "
                                                   "changing the reporting currency (TANDEM_REPORTING_CURRENCY).")
    assert service.months(str(db), ver) is not None
    march = parse_month("2026-03")
    with pytest.raises(Exception, match="run `tandem refresh`"):
        service.kpi_values(str(db), ver, march, march, "month", (), ())
    with pytest.raises(Exception, match="run `tandem refresh`"):
        service.lines(str(db), ver, Request(march, march, kpis=("savings",)), "savings", "finance")
    with reading(db) as con:
        con.sql("SELECT count(*) FROM fact_invoices").fetchall()
    assert _fingerprint(db) == before  # not a byte changed, no write-ahead log left


def test_a_review_note_after_a_currency_change_does_not_rebuild(eur_db: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from decisions import review
    from tandem import service

    db = tmp_path / "t.duckdb"
    shutil.copy(eur_db, db)
    before = _state(db)
    monkeypatch.setenv("TANDEM_REPORTING_CURRENCY", "USD")
    empty = pl.DataFrame(schema={"kpi": pl.String, "view": pl.String, "period": pl.String, "value": pl.Float64})
    review_id = service.run_write(db, lambda con: review.start(con, date(2026, 4, 6), "2026-03", empty, by=LOCAL))
    service.run_write(db, lambda con: review.add_item(con, review_id, "savings", "note", "USD from next week", by=LOCAL))
    assert _state(db) == before  # same currency, same build time, same facts
    with reading(db) as con:
        assert con.sql("SELECT text FROM review_items").fetchall() == [("USD from next week",)]
