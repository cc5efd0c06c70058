"""Who acts: identities, teams and roles from configuration, and the permission check every write goes through.

The acting user is always passed in (`by`): nothing here knows about sessions or Streamlit. The face
(tandem/auth.py) finds the user of a session; the command line acts as the local user.

Roles: `viewer` reads everything; `editor` also uploads exports and adds or closes review items; `admin`
can do what an editor can (and is who the "not on the list" page sends people to). Teams: finance,
procurement, or none (an admin, say).
"""

from __future__ import annotations

import getpass
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from store.config import Settings, settings

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


def can(action: Action, user: Identity | None) -> bool:
    """Whether `user` (None: nobody signed in) may do `action`."""
    return user is not None and user.role in ALLOWED[action]


def require(action: Action, user: Identity | None) -> Identity:
    """The user, if their role allows the action; otherwise NotAllowed with a sentence to show."""
    if user is None:
        raise NotAllowed(f"Sign in to {WHAT[action]}.")
    if user.role not in ALLOWED[action]:
        raise NotAllowed(f"You are signed in as {user.email} with the {user.role} role, which cannot {WHAT[action]}: "
                         "ask your Tandem admin for the editor role.")
    return user
