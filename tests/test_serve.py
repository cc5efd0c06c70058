"""`tandem serve`: the start-up check of the KPI declarations before the dashboard starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kpi_definitions import registry as registry_module
from tandem import serve


def test_invalid_declarations_stop_the_start_with_every_issue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    for f in registry_module.HERE.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    text = (tmp_path / "payment_days.yaml").read_text().replace("unit: days", "unit: weeks")
    (tmp_path / "payment_days.yaml").write_text(text)
    (tmp_path / "savings.yaml").write_text((tmp_path / "savings.yaml").read_text().replace("name: savings", "name: Savings"))
    registry_module.registry()  # the cached registry is valid: the check must not rely on it
    monkeypatch.setattr(registry_module, "HERE", tmp_path)
    with pytest.raises(SystemExit) as stop:
        serve.main([])
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "payment_days.yaml: payment_days: unit:" in err and "savings.yaml: Savings: name:" in err
