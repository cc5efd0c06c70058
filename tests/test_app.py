"""The Streamlit app on a real demo database, run with streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.demo import write_demo
from pipelines.load import ingest_file
from tandem.db import connect

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "tandem.duckdb"
    con = connect(db)
    for f in write_demo(folder / "exports"):
        ingest_file(con, f)
    con.close()
    return db


def test_data_page_shows_load_log_and_findings(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Data"]
    log, quarantine, findings = (d.value for d in at.dataframe)
    assert sorted(log["export_type"]) == sorted(["fx_rates", "suppliers", "contracts", "purchase_orders", "invoices",
                                                  "budgets", "inventory", "consumption"])
    assert set(log["outcome"]) == {"loaded"} and len(quarantine) == 0
    assert findings.to_dict("records")[0]["subject"] == "S9999"


def test_demo_is_deterministic(tmp_path: Path) -> None:
    a = [p.read_bytes() for p in write_demo(tmp_path / "a") if p.suffix == ".csv"]
    b = [p.read_bytes() for p in write_demo(tmp_path / "b") if p.suffix == ".csv"]
    assert a == b and len(a) == 6
