"""What `tandem serve` runs: app.py as an st.App, behind tandem/serve.py's security headers (and no
/_stcore/metrics), with page errors shown as a short message with a reference (tandem/auth.py)."""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware

from tandem.auth import on_script_error
from tandem.serve import APP, SecurityHeaders

app = st.App(APP, middleware=[Middleware(SecurityHeaders)], on_script_error=on_script_error)
