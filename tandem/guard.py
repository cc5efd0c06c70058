"""The server before login: an ASGI middleware in front of Streamlit (tandem/asgi.py) so that, with login
configured, a browser that has not signed in costs the server nothing but the sign-in page.

- Uploads (`/_stcore/upload_file/<session>/<file>`): refused (403) unless the request carries a login that
  has not ended (tandem/logins.py: signed, not signed out, within TANDEM_LOGIN_HOURS) of a user whose role may
  upload; a body larger than TANDEM_MAX_UPLOAD_MB is refused from its Content-Length before it is read
  (Streamlit's own cap, `server.maxUploadSize`, which `tandem serve` sets to the same, stops a body without
  one while it streams). Before login no byte of a file is read.
- Uploads are released when their session ends: Streamlit keeps a closed tab's session for
  `server.disconnectedSessionTTL` seconds so it can reconnect, and lets it expire from that store without
  shutting it down, which left its uploads in memory for the life of the server (issue 25: 6 × 150 MB held
  after the connections closed). `release_uploads` (run from st.App's lifespan) frees the files of every
  session that has been gone longer than that.
- Session messages (the websocket `/_stcore/stream`): a connection without a valid login may only run the
  sign-in page (rerun, heartbeat, stop) with small messages; anything else closes it (1008). A login that
  ended is taken out of the connection's cookies before Streamlit reads them, so the session starts signed
  out. A client's "clear cache" is dropped for everyone: Streamlit's cache is shared by every user, and
  clearing it made every signed-in user's pages slow again (issue 25).
- The login cookie's Max-Age (Streamlit: 30 days) becomes TANDEM_LOGIN_HOURS on the way out.

Everything here is standard ASGI around Streamlit's documented endpoints; the only Streamlit internals read
are the BackMsg protobuf (to know a message's kind) and the runtime's public session and upload-manager
methods (tests/test_guard.py runs a real server and fails if they change).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from typing import Any

from decisions.identity import can, load_roles, resolve
from store.config import settings
from tandem import logins

LOG = logging.getLogger("tandem")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

UPLOAD = "/_stcore/upload_file/"
STREAM = "/_stcore/stream"
# What the sign-in page needs from a browser that has not signed in: run the page (the first run, the click on
# "Sign in"), keep the connection alive, stop a run. Their messages are a few hundred bytes.
BEFORE_LOGIN = frozenset({"rerun_script", "app_heartbeat", "stop_script"})
BEFORE_LOGIN_MAX_BYTES = 64 * 1024
REFUSED_ALWAYS = frozenset({"clear_cache"})  # the results cache is every user's
MULTIPART_MARGIN = 1 << 20  # a multipart body is a little larger than the file it carries (Streamlit's margin)
SWEEP_S = 5.0


def login_configured() -> bool:
    from tandem.auth import login_configured as configured

    return configured()


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for key, value in scope.get("headers", []):
        if key.lower() == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header: no login in it  # noqa: BLE001
                return {}
    return {k: m.value for k, m in jar.items()}


def login_of(scope: Scope) -> logins.Login | None:
    """The login a request carries, if it has not ended (signed out, or older than TANDEM_LOGIN_HOURS)."""
    cookies = _cookies(scope)
    if logins.USER_COOKIE not in cookies:
        return None
    found = logins.read(cookies, logins.cookie_secret(), _headers(scope).get("origin"))
    if found is None:
        return None
    why = logins.ended(found)
    if why is not None:
        LOG.info("refused the login of %s signed at %s: %s", found.who, found.issued, why)
        return None
    return found


def _without_login(scope: Scope) -> Scope:
    """The connection's scope with Streamlit's login cookies taken out of its Cookie header."""
    headers = []
    for key, value in scope.get("headers", []):
        if key.lower() == b"cookie":
            kept = [part for part in value.decode("latin-1").split(";")
                    if part.strip() and not logins.is_auth_cookie(part.split("=", 1)[0].strip())]
            if not kept:
                continue
            value = "; ".join(p.strip() for p in kept).encode("latin-1")
        headers.append((key, value))
    return {**scope, "headers": headers}


async def _refuse(send: Send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": text.encode()})


def _kind(data: bytes) -> str | None:
    """The kind of a client message (a BackMsg: rerun_script, clear_cache, …); None when it is not one."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    try:
        return BackMsg.FromString(data).WhichOneof("type")
    except Exception:  # not a BackMsg: Streamlit closes the connection itself  # noqa: BLE001
        return None


class Uploads:
    """The sessions that hold uploads, with when each was last seen connected."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}

    def add(self, session_id: str) -> None:
        self.seen[session_id] = time.monotonic()

    def sweep(self, runtime: Any, ttl_s: float, now: float | None = None) -> list[str]:  # noqa: ANN401
        """Release the uploads of every session gone longer than Streamlit keeps it for a reconnect."""
        now = time.monotonic() if now is None else now
        gone = []
        for sid, seen in list(self.seen.items()):
            if runtime.is_active_session(sid):
                self.seen[sid] = now
            elif now - seen > ttl_s + 2 * SWEEP_S:
                runtime.uploaded_file_mgr.remove_session_files(sid)
                del self.seen[sid]
                gone.append(sid)
        return gone


HELD = Uploads()


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:  # noqa: ANN401 - the st.App
    """st.App's lifespan: release the uploads of ended sessions every few seconds while the server runs."""
    from streamlit import config
    from streamlit.runtime import Runtime

    async def release_uploads() -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                for sid in HELD.sweep(Runtime.instance(), float(config.get_option("server.disconnectedSessionTTL"))):
                    LOG.info("released the uploads of ended session %s", sid)
            except Exception:  # never stop sweeping  # noqa: BLE001
                LOG.exception("releasing uploads failed")

    task = asyncio.create_task(release_uploads(), name="tandem-release-uploads")
    try:
        yield
    finally:
        task.cancel()


class LoginGuard:
    """ASGI middleware: see the module's docstring."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and UPLOAD in scope["path"]:
            await self._upload(scope, receive, send)
        elif scope["type"] == "websocket" and scope["path"].rstrip("/").endswith(STREAM):
            await self._stream(scope, receive, send)
        elif scope["type"] == "http" and login_configured():
            await self.app(scope, receive, self._short_cookies(send))
        else:
            await self.app(scope, receive, send)

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        if method != "OPTIONS" and login_configured():
            login = login_of(scope)
            if login is None:
                await _refuse(send, 403, "Sign in to upload.")
                return
            user = resolve(login.claims, load_roles(), settings().group_claim)
            if not can("upload", user):
                await _refuse(send, 403, "Your role cannot upload exports.")
                return
        if method == "PUT":
            limit = settings().max_upload_mb << 20
            length = _headers(scope).get("content-length", "")
            if length.isdigit() and int(length) > limit + MULTIPART_MARGIN:
                await _refuse(send, 413, f"The file is larger than {settings().max_upload_mb} MB (TANDEM_MAX_UPLOAD_MB).")
                return
            parts = scope["path"].split(UPLOAD, 1)[1].split("/")
            if parts and parts[0]:
                HELD.add(parts[0])
        await self.app(scope, receive, send)

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        signed_in = True
        if login_configured():
            signed_in = login_of(scope) is not None
            if not signed_in:
                scope = _without_login(scope)  # an ended login starts the session signed out
        closed = False

        async def close(code: int) -> Message:
            nonlocal closed
            closed = True
            await send({"type": "websocket.close", "code": code})
            return {"type": "websocket.disconnect", "code": code}

        async def guarded_receive() -> Message:
            while True:
                message = await receive()
                if message["type"] != "websocket.receive" or message.get("bytes") is None:
                    return message
                data = message["bytes"]
                if not signed_in and len(data) > BEFORE_LOGIN_MAX_BYTES:
                    LOG.warning("closed a connection that sent %d bytes before signing in", len(data))
                    return await close(1009)
                kind = _kind(data)
                if kind in REFUSED_ALWAYS:
                    LOG.warning("refused a %s message from a client: the cache is every user's", kind)
                    continue
                if not signed_in and kind not in BEFORE_LOGIN:
                    LOG.warning("closed a connection that sent %s before signing in", kind)
                    return await close(1008)
                return message

        async def guarded_send(message: Message) -> None:
            if closed and message["type"] in ("websocket.send", "websocket.close"):
                return  # we closed it: what Streamlit still had queued goes nowhere
            await send(message)

        await self.app(scope, guarded_receive, guarded_send)

    @staticmethod
    def _short_cookies(send: Send) -> Send:
        """Streamlit's login cookies leave with TANDEM_LOGIN_HOURS as their Max-Age instead of 30 days."""
        max_age = f"Max-Age={logins.lifetime_s()}".encode()

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for key, value in message.get("headers", []):
                    if key.lower() == b"set-cookie" and logins.is_auth_cookie(value.split(b"=", 1)[0].decode("latin-1")):
                        value = re.sub(rb"(?i)max-age=[1-9]\d*", max_age, value)
                    headers.append((key, value))
                message["headers"] = headers
            await send(message)

        return wrapped
