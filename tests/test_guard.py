"""The server before login (issue 25, finding 2), against a real `tandem serve` with login configured
(tests/served.py): real websocket messages and real uploads from clients that have not signed in, signed in
with a role that may not upload, with a login that ended, and as an editor; what the server holds is read
from Streamlit's own cache statistics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import up
from tests.served import Client, login_cookie, stats
from tests.test_e2e import ROOT, free_port

SECRET = "test-only-cookie-secret-0123456789"
TTL_S = 3  # server.disconnectedSessionTTL here: how long a closed tab's session waits for a reconnect


@pytest.fixture(scope="module")
def guarded(golden_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path, Path]]:
    """`tandem serve` with login configured (the provider is never asked: logins are signed here with the
    server's secret, as Streamlit signs them), uploads capped at 5 MB."""
    import shutil

    folder = tmp_path_factory.mktemp("guard")
    db = folder / "tandem.duckdb"
    shutil.copy(golden_db, db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (folder / "secrets.toml").write_text(f"""
[auth]
redirect_uri = "{base}/oauth2callback"
cookie_secret = "{SECRET}"
client_id = "tandem"
client_secret = "test-only-client-secret"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
""")
    (folder / "roles.toml").write_text('[users]\n"finance@example.com" = { team = "finance", role = "editor" }\n'
                                       '"viewer@example.com" = { role = "viewer" }\n')
    env = os.environ | {"TANDEM_DB": str(db), "TANDEM_AUTH_SECRETS": str(folder / "secrets.toml"),
                        "TANDEM_ROLES_FILE": str(folder / "roles.toml"), "TANDEM_MAX_UPLOAD_MB": "5",
                        "TANDEM_TEST_STATS": str(folder / "stats.json")}
    env.pop("TANDEM_ROLES", None)
    log = (folder / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "served.py"), "--server.headless", "true",
                             "--server.port", str(port), "--server.disconnectedSessionTTL", str(TTL_S)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        up(f"{base}/_stcore/health")
        yield base, proc.pid, folder / "stats.json", folder
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def signed_in(base: str, email: str, issued: float | None = None) -> Client:
    return Client(base, login_cookie(SECRET, base, email, issued=issued))


def test_before_login_uploads_and_session_messages_are_refused(guarded: tuple[str, int, Path, Path]) -> None:
    base, pid, stats_file, folder = guarded
    # a tab that has not signed in: the sign-in page runs, and that is all
    anon = Client(base).connect()
    sid = anon.run_page()
    assert anon.upload("invoices.csv", b"x" * 1_000_000) == 403  # refused before a byte of it is read
    assert stats(pid, stats_file)["upload_bytes"] == 0
    anon.send("file_urls_request")  # asking for upload addresses is not part of the sign-in page
    assert anon.closed() == 1008
    # a message far larger than the sign-in page sends closes the connection
    big = Client(base).connect()
    big.run_page()
    big.ws.send(b"\x0a" + b"\xff" * 200_000)
    assert big.closed() == 1009
    # someone else's session id does not help: the upload needs a login of its own
    finance = signed_in(base, "finance@example.com").connect()
    finance.run_page()
    assert Client(base).upload("invoices.csv", b"x" * 1000, session_id=finance.session_id) == 403
    # signed in, but a viewer (no upload control on their Data page)
    viewer = signed_in(base, "viewer@example.com").connect()
    viewer.run_page()
    assert viewer.upload("invoices.csv", b"x" * 1000) == 403
    # a login signed 13 hours ago: past TANDEM_LOGIN_HOURS (12 by default)
    old = signed_in(base, "finance@example.com", issued=time.time() - 13 * 3600).connect()
    old.run_page()
    assert old.upload("invoices.csv", b"x" * 1000) == 403
    old.send("file_urls_request")
    assert old.closed() == 1008  # its session started signed out
    assert sid and finance.upload("invoices.csv", b"x" * 1000) == 204  # an editor's upload goes through
    for c in (finance, viewer):
        c.close()
    log = (folder / "serve.log").read_text()
    assert "closed a connection that sent file_urls_request before signing in" in log
    assert "closed a connection that sent 200001 bytes before signing in" in log


def test_an_upload_is_capped_and_released_when_its_session_ends(guarded: tuple[str, int, Path, Path]) -> None:
    base, pid, stats_file, _ = guarded
    editor = signed_in(base, "finance@example.com").connect()
    editor.run_page()
    before = stats(pid, stats_file)["upload_bytes"]
    assert editor.upload("invoices.csv", b"1" * 4_000_000) == 204
    assert stats(pid, stats_file)["upload_bytes"] == before + 4_000_000
    assert editor.upload("invoices.csv", b"1" * 6_000_000) == 413  # TANDEM_MAX_UPLOAD_MB=5
    assert stats(pid, stats_file)["upload_bytes"] == before + 4_000_000
    editor.close()  # the tab is closed: after the reconnect window its uploads are released
    deadline = time.monotonic() + 60
    while stats(pid, stats_file)["upload_bytes"] > 0:
        assert time.monotonic() < deadline, "the uploads of a closed session were never released"
        time.sleep(1)


def test_a_clear_cache_message_clears_nobody_s_cache(guarded: tuple[str, int, Path, Path]) -> None:
    """Streamlit's "clear cache" empties the results cache of every user; no client may send it."""
    base, pid, stats_file, folder = guarded
    reader = signed_in(base, "finance@example.com").connect()
    reader.run_page()  # the overview: the results cache holds its KPIs
    warm = stats(pid, stats_file)["cache_bytes"]
    assert warm > 0
    anon = Client(base).connect()
    anon.run_page()
    anon.send("clear_cache")
    reader.send("clear_cache")  # a signed-in user's client too: the cache is everyone's
    anon.send("rerun_script")  # messages after it still arrive: the connection stays open
    assert anon.closed(timeout_s=3) is None and reader.closed(timeout_s=3) is None
    assert stats(pid, stats_file)["cache_bytes"] >= warm
    assert (folder / "serve.log").read_text().count("refused a clear_cache message from a client") >= 2
    for c in (reader, anon):
        c.close()
