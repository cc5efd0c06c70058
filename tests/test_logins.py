"""Sign-ins read from Streamlit's own login cookie (signed by Streamlit's functions here, so these tests fail if
Streamlit changes its cookie), sign-outs kept on the server, and the lifetime of a sign-in."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from store.config import Settings
from tandem import logins
from tests.served import login_cookie

SECRET = "test-only-cookie-secret-0123456789"
ORIGIN = "http://localhost:8501"


def test_streamlit_s_cookie_is_read_with_who_and_when_it_was_signed() -> None:
    from streamlit.web.server.starlette import starlette_server_config as streamlit_cookies

    # the names and the 30 days Tandem shortens: if Streamlit changes them, Tandem must be looked at again
    assert (streamlit_cookies.USER_COOKIE_NAME, streamlit_cookies.TOKENS_COOKIE_NAME) == ("_streamlit_user",
                                                                                         "_streamlit_user_tokens")
    assert streamlit_cookies.AUTH_COOKIE_MAX_AGE_SECONDS == 30 * 24 * 3600
    now = time.time()
    jar = login_cookie(SECRET, ORIGIN, "Fiona@Example.com", issued=now - 60)
    login = logins.read(jar, SECRET, ORIGIN)
    assert login is not None and login.who == "fiona@example.com" and abs(login.issued - (now - 60)) <= 1
    assert logins.read(jar, "another-secret-of-the-same-length!!", ORIGIN) is None  # a forged signature
    assert logins.read(jar, SECRET, "http://evil.example") is None  # signed for another site
    assert logins.read({"_streamlit_user": jar["_streamlit_user"][:-3] + "AAA"}, SECRET) is None
    # a login with many groups does not fit one cookie: Streamlit splits it, and it is read whole
    import hashlib

    groups = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(400)]  # random-looking: no compression
    big = login_cookie(SECRET, ORIGIN, "boss@example.com", groups=groups)
    assert len(big) > 1 and "_streamlit_user_1" in big
    login = logins.read(big, SECRET, ORIGIN)
    assert login is not None and login.who == "boss@example.com" and len(login.claims["groups"]) == 400
    assert logins.is_auth_cookie("_streamlit_user_1") and not logins.is_auth_cookie("_streamlit_xsrf")


def test_a_sign_out_ends_that_login_only_and_a_login_ends_after_its_hours(tmp_path: Path) -> None:
    cfg = Settings(db=tmp_path / "t.duckdb")
    assert logins.signouts_file(cfg) == tmp_path / "t.signouts.sqlite"
    now = time.time()
    mine, other_device = logins.Login("ana@corp.example", int(now) - 100), logins.Login("ana@corp.example", int(now) - 50)
    assert logins.ended(mine, cfg) is None
    logins.sign_out(mine, cfg)
    assert logins.ended(mine, cfg) == "signed out"
    assert logins.ended(other_device, cfg) is None  # signed in elsewhere: that one stays
    assert logins.ended(other_device, cfg, now=now + 12 * 3600) == "expired"  # TANDEM_LOGIN_HOURS=12
    assert logins.ended(other_device, Settings(db=cfg.db, login_hours=0.01)) == "expired"
    assert logins.sentence("expired", cfg) == ("Your sign-in has ended: Tandem asks you to sign in again every 12 "
                                               "hours. Sign in to continue.")
    # a sign-outs file that cannot be read lets nobody in
    logins.signouts_file(cfg).write_bytes(b"this is not a database" * 100)
    assert logins.ended(other_device, cfg) == "unchecked"


def test_the_lifetime_is_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TANDEM_LOGIN_HOURS", "2")
    monkeypatch.setenv("TANDEM_SIGNOUTS_FILE", str(tmp_path / "out.sqlite"))
    assert logins.lifetime_s() == 7200 and logins.signouts_file() == tmp_path / "out.sqlite"
