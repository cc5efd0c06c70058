"""Every load records who loaded it: the command line's user, or the signed-in (or local, unverified) user."""

from __future__ import annotations

import getpass
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from cli.main import app
from tandem import uploads

BUDGETS = (Path(__file__).parent / "golden" / "exports" / "budgets.csv").read_bytes()


def _who(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as c:
        return c.sql("SELECT file_name, loaded_by FROM load_log ORDER BY load_id").fetchall()


def test_a_command_line_load_records_its_user(tmp_path: Path) -> None:
    (tmp_path / "budgets.csv").write_bytes(BUDGETS)
    r = CliRunner().invoke(app, ["ingest", str(tmp_path / "budgets.csv"), "--db", str(tmp_path / "t.duckdb")])
    assert r.exit_code == 0, r.stderr
    assert _who(tmp_path / "t.duckdb") == [("budgets.csv", f"{getpass.getuser()} (command line)")]


def test_an_upload_records_the_user_and_marks_a_local_one_unverified(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    db = tmp_path / "t.duckdb"
    monkeypatch.setenv("TANDEM_DB", str(db))
    out = uploads.load(db, [("budgets.csv", BUDGETS)], None, None, False, "utf-8")
    assert [r.outcome for r in out.results] == ["loaded"]
    # no login configured: the local user, by its machine name, unverified
    assert _who(db) == [("budgets.csv", f"{getpass.getuser()}@localhost (unverified)")]
