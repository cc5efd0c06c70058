"""Sign-ins: Streamlit's login cookie read by Tandem (who signed in, and when), sign-outs kept on the server so a
copied cookie ends with the session, and the lifetime Tandem gives a sign-in (TANDEM_LOGIN_HOURS).

Streamlit 1.67 keeps a signed-in user in a cookie (`_streamlit_user`: the ID token's claims as JSON, signed
with itsdangerous, salted with the cookie's name, stamped with the time it was signed) for 30 days
(starlette_server_config.AUTH_COOKIE_MAX_AGE_SECONDS; not configurable, streamlit issue #10161), and
`st.logout` only deletes it from the browser: a copy kept elsewhere stays valid. So Tandem

- records each sign-out (who, and when their cookie was signed) in a small SQLite file beside the database
  (TANDEM_SIGNOUTS_FILE), checked when a session starts (tandem/guard.py, before Streamlit reads the cookie)
  and on every run of a page (tandem/auth.py's gate);
- refuses a cookie signed more than TANDEM_LOGIN_HOURS ago (default 12) on the server, and tells the browser
  to drop it then (the guard rewrites the cookie's Max-Age).

This is the one module that knows Streamlit's cookie format; tests/test_logins.py fails if it changes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamlit.web.server.starlette import starlette_server_config as streamlit_cookies

from store.config import Settings, settings

# Streamlit's names, read from Streamlit so a rename breaks here (and in tests/test_logins.py), not silently
USER_COOKIE: str = streamlit_cookies.USER_COOKIE_NAME
TOKENS_COOKIE: str = streamlit_cookies.TOKENS_COOKIE_NAME
STREAMLIT_COOKIE_MAX_AGE_S: int = streamlit_cookies.AUTH_COOKIE_MAX_AGE_SECONDS
AUTH_COOKIES = (USER_COOKIE, TOKENS_COOKIE)  # and their chunks, `<name>_1`, `<name>_2`, …
SCHEMA = """CREATE TABLE IF NOT EXISTS signed_out (
    who TEXT NOT NULL, issued INTEGER NOT NULL, signed_out_at INTEGER NOT NULL, PRIMARY KEY (who, issued))"""


@dataclass(frozen=True)
class Login:
    """A signed-in user as their login cookie says: who, and when the cookie was signed (seconds)."""

    who: str  # the e-mail address in lower case, else the provider's subject
    issued: int
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def is_auth_cookie(name: str) -> bool:
    """Streamlit's login cookies and their chunks (`_streamlit_user`, `_streamlit_user__1`, …)."""
    return any(name == c or name.startswith(c + "_") for c in AUTH_COOKIES)


def _loads(secret: str, name: str, value: str, max_age_s: float) -> tuple[bytes, int] | None:
    """A signed cookie value and the time it was signed, or None (bad signature, too old, malformed)."""
    from itsdangerous import BadSignature, URLSafeTimedSerializer

    try:
        decoded, signed = URLSafeTimedSerializer(secret, salt=name).loads(value, max_age=max_age_s,
                                                                          return_timestamp=True)
    except (BadSignature, UnicodeDecodeError, ValueError):  # SignatureExpired is a BadSignature
        return None
    if not isinstance(decoded, str):
        return None
    return decoded.encode("utf-8"), int(signed.timestamp())


def read(cookies: Mapping[str, str], secret: str, origin: str | None = None,
         max_age_s: float = STREAMLIT_COOKIE_MAX_AGE_S + 86_400) -> Login | None:
    """The login a request's cookies carry, as Streamlit would read it (the signature, the chunks, a signed-in
    payload, the origin when one is given), with the time it was signed; None when there is none."""
    from streamlit.auth_util import get_cookie_with_chunks

    main = cookies.get(USER_COOKIE)
    if not main or not secret:
        return None
    first = _loads(secret, USER_COOKIE, main, max_age_s)
    if first is None:
        return None

    def single(name: str) -> bytes | None:
        found = _loads(secret, name, cookies[name], max_age_s) if cookies.get(name) else None
        return None if found is None else found[0]

    raw = get_cookie_with_chunks(single, USER_COOKIE)
    try:
        payload = json.loads(raw or b"")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(payload, dict) or not payload.get("is_logged_in"):
        return None
    if origin is not None and payload.get("origin") != _origin(origin):
        return None
    who = str(payload.get("email") or payload.get("sub") or "").strip().lower()
    return Login(who, first[1], payload) if who else None


def _origin(url: str) -> str:
    from urllib.parse import urlparse

    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}"


def lifetime_s(cfg: Settings | None = None) -> int:
    return int((cfg or settings()).login_hours * 3600)


def signouts_file(cfg: Settings | None = None) -> Path:
    cfg = cfg or settings()
    return cfg.signouts_file or Path(cfg.db).with_name(Path(cfg.db).stem + ".signouts.sqlite")


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=5)
    con.execute(SCHEMA)
    return con


def sign_out(login: Login, cfg: Settings | None = None) -> None:
    """Record that this login ended: its cookie, wherever a copy of it is, no longer lets anyone in. Sign-outs
    of cookies past their lifetime are dropped (those cookies are refused anyway), so the file stays small."""
    cfg = cfg or settings()
    now = int(time.time())
    con = _open(signouts_file(cfg))
    try:
        with con:
            con.execute("INSERT OR IGNORE INTO signed_out VALUES (?, ?, ?)", (login.who, login.issued, now))
            con.execute("DELETE FROM signed_out WHERE issued < ?", (now - lifetime_s(cfg) - 86_400,))
    finally:
        con.close()


def ended(login: Login, cfg: Settings | None = None, now: float | None = None) -> str | None:
    """Why a login no longer lets its holder in ("signed out", "expired"), or None while it does.

    A sign-outs file that cannot be read is a sign-out: nobody is let in on a cookie that cannot be checked."""
    cfg = cfg or settings()
    if (time.time() if now is None else now) - login.issued > lifetime_s(cfg):
        return "expired"
    path = signouts_file(cfg)
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            found = con.execute("SELECT 1 FROM signed_out WHERE who = ? AND issued = ?",
                                (login.who, login.issued)).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return "unchecked"
    return "signed out" if found else None


def cookie_secret() -> str:
    """The secret Streamlit signs its login cookie with (the `[auth]` section's cookie_secret)."""
    from streamlit.web.server.server_util import get_cookie_secret

    return get_cookie_secret()


# --- in a page run (tandem/auth.py) ---------------------------------------------------------------------------


def of_session() -> Login | None:
    """The login this session started with (the cookies its browser sent when it connected), or None."""
    import streamlit as st

    cookies = dict(st.context.cookies)
    return read(cookies, cookie_secret()) if cookies.get(USER_COOKIE) else None


SAID = {
    "signed out": "You signed out of Tandem in this browser (or on another tab).",
    "expired": "Your sign-in has ended: Tandem asks you to sign in again every {hours:g} hours.",
    "unchecked": "Tandem cannot check sign-outs right now ({path} cannot be read), so nobody is let in: ask your "
                 "Tandem admin to check the server log.",
}


def sentence(why: str, cfg: Settings | None = None) -> str:
    cfg = cfg or settings()
    return SAID[why].format(hours=cfg.login_hours, path=signouts_file(cfg)) + (
        "" if why == "unchecked" else " Sign in to continue.")
