"""What `tandem serve` runs: app.py as an st.App, behind tandem/serve.py's security headers (and no
/_stcore/metrics) and tandem/guard.py's login guard (nothing before login costs the server; uploads are
released when their session ends), with page errors shown as a short message with a reference
(tandem/auth.py)."""

from __future__ import annotations

import pandas  # noqa: F401 - before any session: plotly finds a half-imported pandas when two first page runs race
import streamlit as st
from starlette.middleware import Middleware

from tandem.auth import on_script_error
from tandem.guard import LoginGuard, lifespan
from tandem.serve import APP, SecurityHeaders

app = st.App(APP, middleware=[Middleware(SecurityHeaders), Middleware(LoginGuard)], on_script_error=on_script_error,
             lifespan=lifespan)
