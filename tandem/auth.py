"""Who is using Tandem: login through Streamlit's OIDC (`st.login`), teams and roles from configuration, and
the permission checks every write goes through.

- With login configured (an `[auth]` section in the secrets), a user signs in with the identity provider and
  is mapped by e-mail, else by group claim, to a team and role from the roles file (`TANDEM_ROLES_FILE`) or
  `TANDEM_ROLES` (JSON). Nobody else gets past the gate.
- Without login configured (a single user on their own machine; `tandem serve` then binds 127.0.0.1), the
  user is the local user, marked unverified, and may do everything.

Roles: `viewer` reads everything; `editor` also uploads exports and adds or closes review items; `admin`
can do what an editor can (and is who the "not on the list" page sends people to). Teams: finance,
procurement, or none (an admin, say).
"""

from __future__ import annotations

import getpass
import logging
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import streamlit as st
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from tandem.config import Settings, settings

LOG = logging.getLogger("tandem")
ICON = Path(__file__).resolve().parent / "static" / "tandem-icon.png"

Role = Literal["viewer", "editor", "admin"]
Team = Literal["finance", "procurement"]
Action = Literal["upload", "review"]
RANK: dict[str, int] = {"viewer": 0, "editor": 1, "admin": 2}
# which roles may do what: reading needs only to be on the list
ALLOWED: dict[str, frozenset[str]] = {
    "upload": frozenset({"editor", "admin"}),   # the Data page's uploads
    "review": frozenset({"editor", "admin"}),   # start a review, add or close review items
}
WHAT: dict[str, str] = {"upload": "upload exports", "review": "add or close review items"}


@dataclass(frozen=True)
class Identity:
    email: str
    name: str
    team: str | None
    role: str
    verified: bool  # signed in through the identity provider; False for the local user without login

    @property
    def who(self) -> str:
        """What a write records as its author."""
        return self.email if self.verified else f"{self.email} (unverified)"


class NotAllowed(ValueError):
    """A write the user's role does not allow; the message is one sentence for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team: Team | None = None
    role: Role = "editor"


class Roles(BaseModel):
    """The roles file: `[users]` by e-mail address (any case) and `[groups]` by a value of the group claim."""

    model_config = ConfigDict(extra="forbid")
    users: dict[str, Entry] = {}
    groups: dict[str, Entry] = {}

    @field_validator("users")
    @classmethod
    def _lower(cls, users: dict[str, Entry]) -> dict[str, Entry]:
        return {email.strip().lower(): entry for email, entry in users.items()}


class RolesError(ValueError):
    pass


def load_roles(cfg: Settings | None = None) -> Roles:
    """`TANDEM_ROLES` (JSON) if set, else the roles file (TOML, or YAML by its suffix); no file: nobody."""
    cfg = cfg or settings()
    source = "TANDEM_ROLES"
    data: Any = cfg.roles
    if data is None:
        path = cfg.roles_file
        source = str(path)
        if not path.exists():
            return Roles()
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else tomllib.loads(text)
        except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
            raise RolesError(f"{source} cannot be read: {exc}") from None
    try:
        return Roles.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise RolesError(f"{source}: {problems}") from None


def resolve(claims: Mapping[str, Any], roles: Roles, group_claim: str = "groups") -> Identity | None:
    """The identity of a signed-in user from their ID-token claims, or None when they are not on the list.

    An entry for the e-mail address wins; otherwise the highest role among the user's groups (the first such
    group in the file on a tie). An address the provider says is not verified is not matched."""
    email = str(claims.get("email") or "").strip().lower()
    name = str(claims.get("name") or email)
    entry = None
    if email and claims.get("email_verified") is not False:
        entry = roles.users.get(email)
    if entry is None:
        groups = claims.get(group_claim) or []
        groups = {groups} if isinstance(groups, str) else {str(g) for g in groups}
        matches = [e for g, e in roles.groups.items() if g in groups]
        if matches:
            entry = max(matches, key=lambda e: RANK[e.role])  # max keeps the first of equals
    if entry is None or not email:
        return None
    return Identity(email=email, name=name, team=entry.team, role=entry.role, verified=True)


def local_user() -> Identity:
    """Single-user mode (no login configured): whoever runs the app on this machine, unverified."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "local"
    return Identity(email=f"{name}@localhost", name=name, team=None, role="admin", verified=False)


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
    user = user if user is not None else current_user()
    return user is not None and user.role in ALLOWED[action]


def require(action: Action, user: Identity | None = None) -> Identity:
    """The user, if their role allows the action; otherwise NotAllowed with a sentence to show."""
    user = user if user is not None else current_user()
    if user is None:
        raise NotAllowed(f"Sign in to {WHAT[action]}.")
    if user.role not in ALLOWED[action]:
        raise NotAllowed(f"You are signed in as {user.email} with the {user.role} role, which cannot {WHAT[action]}: "
                         "ask your Tandem admin for the editor role.")
    return user


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


__all__ = ["Identity", "NotAllowed", "Roles", "can", "current_user", "gate", "load_roles", "local_user",
           "login_configured", "require", "resolve"]
