"""`tandem serve` for the server tests and benchmarks/limits.py, with one addition: on SIGUSR1 it writes what it
holds as JSON to the file named by $TANDEM_TEST_STATS (the bytes of Streamlit's results cache and of the
uploads it keeps, its resident memory). Everything else is `python -m tandem.serve`.

`Client` speaks to it as a browser tab does, with real HTTP and websocket messages (Streamlit's protobufs):
connect, run the page, upload a file, send "clear cache"; `login_cookie` signs a login cookie with the
server's cookie secret, exactly as Streamlit's /oauth2callback does."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path


def held() -> dict[str, int]:
    """The server's results cache and uploads in bytes (Streamlit's own cache statistics), and its RSS."""
    from streamlit.runtime import Runtime

    out = {"cache_bytes": 0, "upload_bytes": 0}
    stats = Runtime.instance().stats_mgr.get_stats(["cache_memory_bytes"]).get("cache_memory_bytes", [])
    for stat in stats:
        if stat.category_name == "st_cache_data":
            out["cache_bytes"] += stat.byte_length
        elif stat.category_name == "UploadedFileManager":
            out["upload_bytes"] += stat.byte_length
    rss = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmRSS:"))
    out["rss_bytes"] = int(rss.split()[1]) * 1024
    return out


def login_cookie(secret: str, origin: str, email: str, issued: float | None = None, **claims: object) -> dict[str, str]:
    """The cookies Streamlit's /oauth2callback sets for a signed-in `email` (its own functions; `issued`: sign
    as if at that time, for a login older than its lifetime)."""
    import time
    from unittest.mock import patch

    from streamlit.auth_util import set_cookie_with_chunks
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    jar: dict[str, str] = {}
    payload = {"email": email, "email_verified": True, "name": email.split("@")[0], "sub": email, **claims,
               "origin": origin, "is_logged_in": True, "provider": "default"}
    with patch("time.time", return_value=time.time() if issued is None else issued):  # itsdangerous's clock
        set_cookie_with_chunks(lambda name, value: jar.__setitem__(name, create_signed_value(secret, name, value)
                                                                    .decode()),
                               lambda name, value: create_signed_value(secret, name, value),
                               "_streamlit_user", payload, cookie_attr_size=60)
    return jar


class Client:
    """One browser tab, by hand: the XSRF cookie, the websocket, the page's first run, uploads."""

    def __init__(self, base: str, cookies: dict[str, str] | None = None) -> None:
        import urllib.request

        self.base, self.cookies = base, dict(cookies or {})
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as r:
            for header in r.headers.get_all("set-cookie") or []:
                name, value = header.split(";", 1)[0].split("=", 1)
                self.cookies[name] = value
        self.xsrf = self.cookies["_streamlit_xsrf"]
        self.ws = None
        self._open = contextlib.ExitStack()
        self.session_id: str | None = None
        self.upload_s = 0.0

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def connect(self) -> Client:
        from websockets.sync.client import connect

        self.ws = self._open.enter_context(connect(
            self.base.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit", self.xsrf],  # as the
            additional_headers={"Cookie": self.cookie_header(), "Origin": self.base},  # frontend sends them
            max_size=None, open_timeout=30, ping_interval=None, close_timeout=2))
        return self

    def send(self, kind: str) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ClientState_pb2 import ClientState

        msg = BackMsg()
        if kind == "rerun_script":
            msg.rerun_script.CopyFrom(ClientState(query_string="", page_script_hash=""))
        elif kind == "clear_cache":
            msg.clear_cache = True
        elif kind == "file_urls_request":
            msg.file_urls_request.request_id = "1"
            msg.file_urls_request.file_names.append("invoices.csv")
            msg.file_urls_request.session_id = self.session_id or ""
        else:
            raise ValueError(kind)
        self.ws.send(msg.SerializeToString())

    def run_page(self, timeout_s: float = 120) -> str:
        """Send the first run and read until the run has finished; returns the session id."""
        import time

        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.send("rerun_script")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            msg = ForwardMsg.FromString(self.ws.recv(timeout=deadline - time.monotonic()))
            if msg.HasField("new_session"):
                self.session_id = msg.new_session.initialize.session_id
            if msg.HasField("script_finished") and self.session_id:
                return self.session_id
        raise TimeoutError("the page did not finish")

    def closed(self, timeout_s: float = 30) -> int | None:
        """The close code once the server closes the connection (None: it stayed open for `timeout_s`)."""
        import time

        from websockets.exceptions import ConnectionClosed

        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                self.ws.recv(timeout=deadline - time.monotonic())
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        except TimeoutError:
            return None
        return None

    def upload(self, name: str, data: bytes, session_id: str | None = None, early_s: float = 0.5) -> int:
        """PUT a file to the session's upload endpoint as the file uploader does; the HTTP status. The headers
        go first: a refusal that comes before the body is read (a 403, a 413) is read before sending it."""
        import http.client
        import select
        import time
        import uuid
        from urllib.parse import urlparse

        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        sid = session_id or self.session_id
        url = urlparse(self.base)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
        started = time.perf_counter()
        try:
            conn.putrequest("PUT", f"/_stcore/upload_file/{sid}/{uuid.uuid4()}")
            for key, value in {"Content-Type": f"multipart/form-data; boundary={boundary}",
                               "Content-Length": str(len(body)), "X-Xsrftoken": self.xsrf,
                               "Cookie": self.cookie_header(), "Origin": self.base}.items():
                conn.putheader(key, value)
            conn.endheaders()
            if not select.select([conn.sock], [], [], early_s)[0]:  # no early answer: send the file
                try:
                    conn.sock.sendall(body)
                except (BrokenPipeError, ConnectionResetError):  # answered (and closed) while it was sent
                    pass
            status = conn.getresponse().status
            self.upload_s = time.perf_counter() - started  # the request alone, not building the body
            return status
        finally:
            conn.close()

    def close(self) -> None:
        self._open.close()


def stats(proc_pid: int, path: Path, timeout_s: float = 10) -> dict[str, int]:
    """Ask a served.py server what it holds (SIGUSR1), and read its answer."""
    import time

    path.unlink(missing_ok=True)
    os.kill(proc_pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the server did not write its statistics")
        time.sleep(0.05)
    return json.loads(path.read_text())


def _dump(*_: object) -> None:
    path = Path(os.environ["TANDEM_TEST_STATS"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(held()))
    tmp.replace(path)


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _dump)
    from tandem.serve import main

    main(sys.argv[1:])
