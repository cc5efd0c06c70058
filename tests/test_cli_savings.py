"""`tandem savings` (cli/savings.py) on the hand-built exports of tests/test_ledger_kpi.py: record, move, book (never by
the recorder), refuse, correct, list, the bridge as JSON and CSV (to the cent, with the lines behind a step), the
forecast; every refusal one sentence on stderr with the contract's exit status."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from tests.test_ledger_kpi import EXPORTS, load

RUN = CliRunner()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ledger-cli")
    db = folder / "base.duckdb"
    load(folder, db, {k: v for k, v in EXPORTS.items() if k != "savings_initiatives"})
    return db


@pytest.fixture
def db(base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger.duckdb"
    shutil.copy(base, path)
    monkeypatch.setenv("TANDEM_SAVINGS_EVIDENCE_MONTHS", "2")
    return path


def tandem(db: Path, *args: str) -> tuple[int, str, str]:
    r = RUN.invoke(cli, [*args[:2], "--db", str(db), *args[2:]] if args[0] == "savings" else list(args))
    return r.exit_code, r.stdout, r.stderr


RECORD = ["--id", "SI-A", "--name", "Laptops", "--category", "IT", "--supplier", "S1", "--contract", "C1",
          "--baseline-method", "last_price", "--baseline-price", "10", "--new-price", "8", "--forecast-quantity", "620",
          "--from", "2025-12-01", "--to", "2026-01-31", "--owner", "owner@corp.example"]


def test_record_move_book_and_the_bridge(db: Path) -> None:
    code, out, err = tandem(db, "savings", "record", *RECORD, "--as", "Pat", "--team", "procurement")
    assert (code, err) == (0, "") and "recorded SI-A, version 1, by Pat (procurement, unverified)" in out
    for stage in ("negotiated", "contracted", "realised"):
        code, out, err = tandem(db, "savings", "move", "SI-A", stage, "--reason", f"now {stage}", "--as", "Pat",
                                "--team", "procurement")
        assert code == 0, err
    code, out, err = tandem(db, "savings", "book", "SI-A", "2025-12", "--as", "Pat", "--team", "finance")
    assert code == 3 and "error: Pat (pat@localhost) recorded initiative 'SI-A': someone else in finance signs it " \
                         "off, whatever team you state; nothing changed." in err
    code, out, err = tandem(db, "savings", "book", "SI-A", "2025-12", "--as", "Fran", "--team", "finance")
    assert code == 0 and "booked 2025-12 of SI-A: 200.00 EUR on 1 invoice line(s), frozen" in out
    code, out, err = tandem(db, "savings", "refuse", "SI-A", "2026-01", "--reason", "credit note", "--as", "Fran",
                            "--team", "finance")
    assert code == 0, err
    code, out, err = tandem(db, "savings", "bridge", "--from", "2025-12", "--to", "2026-01", "--format", "json")
    assert code == 0, err
    [row] = json.loads(out)
    # tests/test_ledger_kpi.py, SI-A alone: 1,240 − 50 − 520 − 100 − 20 = 550 realised; 200 booked
    assert {k: row[k] for k in ("negotiated", "price_not_applied", "volume", "off_contract", "fx_scope", "realised",
                                "not_booked", "booked")} == {
        "negotiated": 1240.0, "price_not_applied": -50.0, "volume": -520.0, "off_contract": -100.0, "fx_scope": -20.0,
        "realised": 550.0, "not_booked": -350.0, "booked": 200.0}
    code, out, err = tandem(db, "savings", "bridge", "--from", "2025-12", "--to", "2026-01", "--by", "initiative",
                            "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["initiative_id"], r["realised"]) for r in rows] == [("SI-A", "550.0")]
    code, out, err = tandem(db, "savings", "bridge", "--from", "2025-12", "--to", "2026-01", "--lines", "off_contract",
                            "--format", "json")
    assert [(r["invoice_id"], r["off_contract"]) for r in json.loads(out)] == [("I2", -100.0)]
    code, out, err = tandem(db, "savings", "list", "--format", "json")
    [listed] = json.loads(out)
    assert (listed["initiative_id"], listed["stage"], listed["realised"], listed["booked"]) == ("SI-A", "booked", 550.0,
                                                                                               200.0)
    code, out, err = tandem(db, "savings", "forecast", "--months", "2", "--format", "csv")
    months = {r["period"]: r for r in csv.DictReader(io.StringIO(out))}
    assert months["2025-12"]["realised"] == "200.0" and months["2026-01"]["booked"] == "0.0"


def test_refusals_are_one_sentence_with_the_contracts_exit_status(db: Path) -> None:
    code, out, err = tandem(db, "savings", "record", *RECORD[:-2], "--owner", "o@x", "--team", "sales")
    assert code == 2 and err.startswith("error: State your team (finance or procurement) with --as and --team.")
    bad = [*RECORD]
    bad[bad.index("--to") + 1] = "2025-11-30"
    code, out, err = tandem(db, "savings", "record", *bad, "--team", "procurement")
    assert code == 3 and err.strip() == ('error: The initiative was not recorded: the field window_end: window_end >= '
                                         'window_start (value "2025-11-30").')
    code, out, err = tandem(db, "savings", "move", "SI-Z", "negotiated", "--reason", "x", "--team", "procurement")
    assert code == 3 and "There is no savings initiative 'SI-Z'" in err
    code, out, err = tandem(db, "savings", "bridge", "--lines", "everything")
    assert code == 2 and "--lines: no lines list the step 'everything'." in err
    assert err.count("\n") == 1
