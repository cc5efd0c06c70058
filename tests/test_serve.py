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


# --- the bind address and the safe settings -------------------------------------------------------------

AUTH = """[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "not-a-real-secret-0123456789"
client_id = "tandem"
client_secret = "not-a-real-secret"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
"""


def cfg_with(tmp_path: Path, secrets: str) -> serve.Settings:
    f = tmp_path / "secrets.toml"
    f.write_text(secrets)
    return serve.Settings(auth_secrets=f, roles_file=tmp_path / "roles.toml")


def test_without_login_it_binds_loopback_only_and_says_so(tmp_path: Path) -> None:
    plan = serve.plan(["--server.port", "8502"], cfg_with(tmp_path, "[other]\nx = 1\n"), env={})
    assert plan.login is False and plan.address == "127.0.0.1"
    assert plan.args[-2:] == ["--server.port", "8502"]
    assert plan.args[plan.args.index("--server.address") + 1] == "127.0.0.1"
    assert plan.messages == ["Login is not configured: serving on 127.0.0.1 only (this machine). To serve a team, "
                             "configure login (docs/serving.md)."]
    # a loopback address asked for is fine too, and says nothing more
    assert serve.plan(["--server.address=::1"], cfg_with(tmp_path, ""), env={}).address == "::1"


@pytest.mark.parametrize("address", ["0.0.0.0", "192.168.1.20", "", "tandem.example.com"])
def test_a_network_address_without_login_is_refused_unless_allowed(tmp_path: Path, address: str) -> None:
    cfg = cfg_with(tmp_path, "")
    with pytest.raises(serve.ServeRefused) as refused:
        serve.plan(["--server.address", address], cfg, env={})
    shown = address or "every interface"
    assert str(refused.value).startswith(f"Refusing to serve on {shown} without login: anyone who can reach it would "
                                         "read all spend and could upload files.")
    assert "--allow-no-login-on-network" in str(refused.value)
    with pytest.raises(serve.ServeRefused):  # Streamlit's own environment variable is checked the same way
        serve.plan([], cfg, env={"STREAMLIT_SERVER_ADDRESS": address})
    plan = serve.plan(["--server.address", address, "--allow-no-login-on-network"], cfg, env={})
    assert plan.address == address and "--allow-no-login-on-network" not in plan.args
    assert plan.messages[0].startswith(f"WARNING: serving on {shown} WITHOUT LOGIN")


def test_with_login_a_network_address_is_allowed(tmp_path: Path) -> None:
    cfg = cfg_with(tmp_path, AUTH)
    assert serve.plan([], cfg, env={}).address == "127.0.0.1"  # still loopback unless asked: behind a proxy
    plan = serve.plan(["--server.address", "0.0.0.0"], cfg, env={})
    assert plan.login and plan.address == "0.0.0.0" and plan.messages[-1] == "Serving on 0.0.0.0."
    with pytest.raises(serve.ServeRefused, match="lacks cookie_secret"):
        serve.plan([], cfg_with(tmp_path, '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n'), env={})


def test_the_safe_settings_are_always_passed(tmp_path: Path) -> None:
    cfg = cfg_with(tmp_path, AUTH)
    args = serve.plan([], cfg, env={}).args
    flags = dict(zip(args[::2], args[1::2], strict=True))
    assert flags == {"--browser.gatherUsageStats": "false", "--client.showErrorDetails": "none",
                     "--client.showErrorLinks": "false", "--client.toolbarMode": "viewer",
                     "--client.disableDataExport": "true", "--server.enableStaticServing": "false",
                     "--server.maxUploadSize": "200",  # TANDEM_MAX_UPLOAD_MB: Streamlit's own cap is Tandem's
                     "--server.fileWatcherType": "none", "--server.runOnSave": "false",  # no source watching
                     "--server.address": "127.0.0.1",
                     "--secrets.files": str(cfg.auth_secrets)}
    # Streamlit accepts every one of them (an unknown option or value would stop `streamlit run`)
    from streamlit import config

    config.get_config_options(force_reparse=True, options_from_flags={
        k[2:]: (v == "true" if v in ("true", "false") else int(v) if v.isdigit() else v)
        for k, v in flags.items() if k != "--secrets.files"})
    try:
        assert config.get_option("client.showErrorDetails") == "none"
        assert config.get_option("client.toolbarMode") == "viewer"
        assert config.get_option("server.fileWatcherType") == "none"
        assert config.get_option("browser.gatherUsageStats") is False
        assert config.get_option("client.disableDataExport") is True  # no raw "Download as CSV" on tables
        assert config.get_option("server.maxUploadSize") == 200
    finally:
        config.get_config_options(force_reparse=True)


def test_a_refused_start_is_one_sentence_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TANDEM_AUTH_SECRETS", str(cfg_with(tmp_path, "").auth_secrets))
    with pytest.raises(SystemExit) as stop:
        serve.main(["--server.address", "0.0.0.0"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.startswith("error: Refusing to serve on 0.0.0.0 without login")


# --- start-up after an upgrade ----------------------------------------------------------------------------

def test_facts_an_earlier_version_built_are_rebuilt_once_at_start(golden_db: Path, tmp_path: Path) -> None:
    """A database from before fact_items: serve rebuilds the facts before any reader, then leaves them alone."""
    import duckdb

    from kpi_definitions import facts
    from store.db import reading

    db = Path(shutil.copy(golden_db, tmp_path / "old.duckdb"))
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE fact_items")  # what a database built before inventory-by-category lacks
    con.close()
    with reading(db) as con, pytest.raises(facts.FactsOutdated):
        facts.check(con, "EUR")
    cfg = serve.Settings(db=db, reporting_currency="EUR")
    assert serve.upgrade(cfg) == (f"The KPI facts of {db} were built by an earlier version of Tandem: rebuilt them "
                                  "for this one.")
    with reading(db) as con:
        facts.check(con, "EUR")  # no longer outdated
        assert con.execute("SELECT count(*) FROM fact_items").fetchone()[0] > 0
    assert serve.upgrade(cfg) is None  # current facts: nothing to do, the file is not opened for writing
    assert serve.upgrade(serve.Settings(db=tmp_path / "none.duckdb")) is None  # no database yet: nothing made
    assert not (tmp_path / "none.duckdb").exists()
