"""Bad input to the savings ledger, from the form (workspace/ledger.py) and from a file of savings_initiatives: an
unknown contract or supplier, a window that ends before it starts, a baseline of zero, hostile text in names. Each
is one clear sentence naming the field; nothing is lost (the form keeps what was typed, a file's row is
quarantined with its record); hostile text is stored exactly as typed and never runs anywhere."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from decisions import ledger
from decisions.agreement import local_identity
from decisions.ledger import LedgerError
from tests.rows import VALID
from tests.test_decisions_ledger import initiative
from tests.test_ledger_kpi import EXPORTS, load
from workspace import ledger as workspace_ledger
from workspace.db import connect, ingest_file

PAT = local_identity("Pat", "procurement")
HOSTILE = '=HYPERLINK("http://x.example","click") <script>alert(1)</script> **bold** :red[x] "quoted", comma\u202e'


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ledger-input")
    db = folder / "base.duckdb"
    load(folder, db, {k: v for k, v in EXPORTS.items() if k != "savings_initiatives"})
    return db


@pytest.fixture
def db(base: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.duckdb"
    shutil.copy(base, path)
    return path


@pytest.fixture
def con(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(db)
    yield c
    c.close()


def count(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT (SELECT count(*) FROM savings_initiatives) + (SELECT count(*) FROM "
                           "savings_versions) + (SELECT count(*) FROM audit_log)").fetchall()[0][0])


@pytest.mark.parametrize(("change", "says"), [
    ({"supplier_id": "S404"}, "There is no supplier 'S404' in the supplier master: pick a loaded supplier, or load the "
                              "supplier first; nothing was recorded."),
    ({"contract_id": "C404"}, "There is no contract 'C404' in the contracts loaded: give a loaded contract of supplier "
                              "'S1', or leave the contract empty until it is signed; nothing was recorded."),
    ({"contract_id": "C2"}, "Contract 'C2' is a contract of supplier 'S2', not of 'S1': an initiative's contract is its "
                            "supplier's; nothing was recorded."),
    ({"window_end": "2025-11-30"}, 'The initiative was not recorded: the field window_end: window_end >= window_start '
                                   '(value "2025-11-30").'),
    ({"baseline_price": "0"}, 'The initiative was not recorded: the field baseline_price: baseline_price > 0 '
                              '(value "0").'),
    ({"baseline_price": "ten", "currency": "euro", "window_start": "2025-13-01"},
     'The initiative was not recorded: the field baseline_price: type: a decimal number (value "ten"); the field '
     'currency: currency: three upper-case letters (ISO 4217) (value "euro"); the field window_start: type: a date '
     '(value "2025-13-01").'),
    ({"baseline_method": "gut feeling"}, "the field baseline_method: baseline_method one of last_price, contract, "
                                         'bid, index_adjusted (value "gut feeling")'),
])
def test_a_bad_field_is_one_sentence_and_nothing_is_recorded(con: duckdb.DuckDBPyConnection, change: dict,
                                                             says: str) -> None:
    before = count(con)
    with pytest.raises(LedgerError) as exc:
        workspace_ledger.record(con, initiative("SI-A", **change), PAT)
    assert says in exc.value.message
    assert "\n" not in exc.value.message and "Traceback" not in exc.value.message
    assert count(con) == before


def test_hostile_text_in_a_name_is_kept_exactly_and_shown_inert(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    workspace_ledger.record(con, initiative("SI-A", name=HOSTILE, owner="o@x.example"), PAT, HOSTILE)
    assert con.execute("SELECT name FROM savings_initiatives").fetchall() == [(HOSTILE,)]
    assert ledger.versions(con, "SI-A")["reason"].to_list() == [HOSTILE]
    con.close()
    run = CliRunner().invoke(cli, ["savings", "list", "--db", str(db), "--format", "csv"])
    assert run.exit_code == 0, run.output
    # a spreadsheet sees text, not a formula; the bidi override is made visible
    assert "'=HYPERLINK" in run.output and "\u202e" not in run.output
    run = CliRunner().invoke(cli, ["savings", "list", "--db", str(db), "--format", "json"])
    import json

    assert json.loads(run.output)[0]["name"] == HOSTILE  # JSON carries the text exactly


def test_a_file_with_bad_rows_quarantines_them_with_their_rule(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = [initiative("SI-A"), initiative("SI-B", supplier_id="S404"), initiative("SI-D", contract_id="C404"),
            initiative("SI-A", initiative_id="SI-E", window_end="2025-01-01"),
            initiative("SI-A", initiative_id="SI-F", baseline_price="0"),
            initiative("SI-A", initiative_id="SI-G", name=HOSTILE.replace('"', '""'))]
    f = tmp_path / "savings_initiatives.csv"
    lines = [",".join(VALID["savings_initiatives"])]
    for r in rows:
        r = dict(r)
        if r["initiative_id"] == "SI-G":
            r["name"] = f'"{r["name"]}"'
        lines.append(",".join(r.values()))
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest_file(con, f, allow_partial=True)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 2, 4)
    said = con.execute("SELECT line, column_name, rule FROM quarantine ORDER BY line, column_name").fetchall()
    assert said == [(3, "supplier_id", "supplier_id a loaded supplier"),
                    (4, "contract_id", "contract_id a loaded contract of supplier_id"),
                    (5, "window_end", "window_end >= window_start"),
                    (6, "baseline_price", "baseline_price > 0")]
    assert con.execute("SELECT initiative_id, name FROM savings_initiatives ORDER BY 1").fetchall() == [
        ("SI-A", "Laptops"), ("SI-G", HOSTILE)]  # nothing lost: loaded exactly, or quarantined with its record
    assert con.execute("SELECT count(*) FROM quarantine WHERE record LIKE '%S404%'").fetchall() == [(1,)]
