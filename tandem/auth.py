"""Who is using the app: login through Streamlit's OIDC (`st.login`), the sign-in gate, and the user of a
session (decisions/identity.py maps a signed-in account to a team and role).

- With login configured (an `[auth]` section in the secrets), a user signs in with the identity provider and
  is mapped by e-mail, else by group claim, to a team and role from the roles file (`TANDEM_ROLES_FILE`) or
  `TANDEM_ROLES` (JSON). Nobody else gets past the gate.
- Without login configured (a single user on their own machine; `tandem serve` then binds 127.0.0.1), the
  user is the local user, marked unverified, and may do everything.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import streamlit as st

from decisions import identity
from decisions.identity import Action, Identity, NotAllowed, RolesError, load_roles, local_user, resolve
from store.config import settings

LOG = logging.getLogger("tandem")
ICON = Path(__file__).resolve().parent / "static" / "tandem-icon.png"


def login_configured() -> bool:
    """The secrets Streamlit reads (the files `tandem serve` passes) have an `[auth]` section."""
    try:
        return bool(st.secrets.load_if_toml_exists() and st.secrets.get("auth"))
    except Exception:  # an unreadable secrets file: Streamlit reports it itself  # noqa: BLE001
        return False


def _in_app() -> bool:
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    return get_script_run_ctx() is not None


def current_user() -> Identity | None:
    """The user of this session; None when login is configured and nobody on the list is signed in.

    Outside the app (the command line, tests) and in the app without login: the local user."""
    if not _in_app() or not login_configured():
        return local_user()
    if not st.user.is_logged_in:
        return None
    return resolve(st.user.to_dict(), load_roles(), settings().group_claim)


def can(action: Action, user: Identity | None = None) -> bool:
    """Whether the user of this session (or `user`) may do `action`."""
    return identity.can(action, user if user is not None else current_user())


def require(action: Action, user: Identity | None = None) -> Identity:
    """The user of this session (or `user`), if their role allows the action; otherwise NotAllowed."""
    return identity.require(action, user if user is not None else current_user())


# --- the login gate (app.py) ---------------------------------------------------------------------------


def gate() -> Identity:
    """Let the user in, or show the sign-in page or the "not on the list" page and stop the run."""
    st.set_page_config(page_title="Tandem", page_icon=str(ICON), layout="wide")
    if not login_configured():
        return local_user()
    if not st.user.is_logged_in:
        st.title("Tandem")
        st.write("Finance and procurement KPIs, side by side. Sign in with your company account to continue.")
        st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)
        st.stop()
    try:
        user = resolve(st.user.to_dict(), load_roles(), settings().group_claim)
    except RolesError as exc:
        LOG.error("the roles configuration is invalid: %s", exc)
        st.error("Tandem's roles configuration cannot be read, so nobody is let in: ask your Tandem admin to check "
                 "the server log.")
        st.stop()
    if user is None:
        st.title("You are not on the list")
        st.text(f"You are signed in as {st.user.get('email') or '(no e-mail address)'}, but that account has no "
                "team or role in Tandem.")
        st.write("Ask your Tandem admin to add you to the roles file. Until then no data is shown.")
        st.button("Sign out", icon=":material/logout:", on_click=st.logout)
        st.stop()
    with st.sidebar:
        st.caption(f"{user.name} · {user.team or 'no team'} · {user.role}")
        st.button("Sign out", icon=":material/logout:", on_click=st.logout, key="tandem_sign_out")
    return user


def on_script_error(exc: Exception) -> bool:
    """Any error a page does not handle: a short message with a reference for the user, the traceback in the
    server log under that reference (`tandem serve` passes this to st.App)."""
    if isinstance(exc, NotAllowed):
        st.error(exc.message)
        return True
    reference = secrets.token_hex(4)
    LOG.error("error on a page, reference %s", reference, exc_info=exc)
    st.error(f"Something went wrong on this page (reference {reference}). Your Tandem admin finds the details "
             "in the server log under that reference.")
    return True


__all__ = ["Identity", "NotAllowed", "can", "current_user", "gate", "load_roles", "local_user",
           "login_configured", "require", "resolve"]
