"""Login and roles: the role mapping, the permission checks, who-columns of review writes, and the whole
sign-in flow in headless Chromium against a real OpenID Connect provider (tests/oidc/provider.mjs, npm's
oidc-provider) started on a loopback port."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from decisions import identity, review
from decisions.identity import Identity, NotAllowed, Roles, local_user
from store.config import Settings
from store.db import reading
from tandem import auth
from tests.browser import CHROMIUM, login_serving, settled
from workspace.db import connect

LOCAL = local_user()  # the command line's user: every write names who acts

ROLES_TOML = """
[users]
"Finance@Example.com" = { team = "finance", role = "editor" }
"boss@example.com" = { role = "admin" }

[groups]
"tandem-viewers" = { role = "viewer" }
"tandem-procurement" = { team = "procurement", role = "editor" }
"""

FINANCE = Identity("finance@example.com", "Fiona Finance", "finance", "editor", True)
VIEWER = Identity("viewer@example.com", "Victor Viewer", None, "viewer", True)


def roles() -> Roles:
    return Roles.model_validate(__import__("tomllib").loads(ROLES_TOML))


def test_users_map_by_email_then_by_group_to_team_and_role() -> None:
    r = roles()
    ana = identity.resolve({"email": "FINANCE@example.com", "name": "Ana", "email_verified": True}, r)
    assert ana == Identity("finance@example.com", "Ana", "finance", "editor", True)
    # not listed by address: the group claim decides, the highest role of the user's groups wins
    pat = identity.resolve({"email": "pat@example.com", "groups": ["tandem-viewers", "tandem-procurement"]}, r)
    assert (pat.team, pat.role, pat.verified) == ("procurement", "editor", True)
    vic = identity.resolve({"email": "vic@example.com", "roles": "tandem-viewers"}, r, group_claim="roles")
    assert (vic.team, vic.role) == (None, "viewer")
    # an address entry wins over the groups
    assert identity.resolve({"email": "boss@example.com", "groups": ["tandem-viewers"]}, r).role == "admin"
    # not on the list: no identity at all
    assert identity.resolve({"email": "stranger@example.com", "groups": ["other"]}, r) is None
    # an address the provider has not verified is not matched by address
    assert identity.resolve({"email": "finance@example.com", "email_verified": False}, r) is None
    with pytest.raises(FrozenInstanceError):
        ana.role = "admin"  # type: ignore[misc]


def test_roles_come_from_a_toml_or_yaml_file_or_json_in_the_environment(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "roles.toml"
    toml.write_text(ROLES_TOML)
    assert identity.load_roles(Settings(roles_file=toml)).users["finance@example.com"].team == "finance"
    yml = tmp_path / "roles.yaml"
    yml.write_text("users:\n  a@example.com: {team: procurement, role: viewer}\n")
    assert identity.load_roles(Settings(roles_file=yml)).users["a@example.com"].role == "viewer"
    assert identity.load_roles(Settings(roles_file=tmp_path / "missing.toml")) == Roles()  # nobody is let in
    monkeypatch.setenv("TANDEM_ROLES", '{"groups": {"g": {"role": "admin"}}}')
    assert identity.load_roles(Settings(roles_file=toml)).groups["g"].role == "admin"
    monkeypatch.delenv("TANDEM_ROLES")
    bad = tmp_path / "bad.toml"
    bad.write_text('[users]\n"x@example.com" = { team = "sales", role = "boss" }\n')
    with pytest.raises(identity.RolesError, match=r"bad.toml: users.x@example.com.team: .*users.x@example.com.role"):
        identity.load_roles(Settings(roles_file=bad))


def test_permissions_and_the_local_user() -> None:
    assert auth.can("upload", FINANCE) and auth.can("review", FINANCE)
    assert not auth.can("upload", VIEWER) and not auth.can("review", VIEWER)
    with pytest.raises(NotAllowed, match="viewer@example.com with the viewer role, which cannot upload exports"):
        auth.require("upload", VIEWER)
    # no login configured (and outside the app): the local user, who may do everything but is not verified
    me = auth.current_user()
    assert me == identity.local_user() and me.verified is False and me.role == "admin"
    assert me.who.endswith("@localhost (unverified)")


def test_review_writes_record_who(db_path: Path) -> None:
    con = connect(db_path)
    values = pl.DataFrame({"kpi": ["savings"], "view": ["finance"], "period": ["2026-01"], "value": [1.0]})
    rid = review.start(con, date(2026, 1, 5), "2026-01", values, by=FINANCE)
    with pytest.raises(NotAllowed, match="cannot add or close review items"):
        review.add_item(con, rid, "savings", "note", "Viewers only look", by=VIEWER)
    item = review.add_item(con, rid, "savings", "note", "Credit notes are late", by=FINANCE)
    local = review.add_item(con, rid, "savings", "note", "From the command line", by=LOCAL)  # default: the local user
    with pytest.raises(NotAllowed):
        review.close_item(con, item, by=VIEWER)
    review.close_item(con, item, by=FINANCE)
    con.close()
    with reading(db_path) as c:
        rows = c.execute("SELECT item_id, text, status, created_by, created_by_team, closed_by, closed_by_team "
                         "FROM review_items ORDER BY item_id").fetchall()
    assert rows == [(item, "Credit notes are late", "closed", "finance@example.com", "finance", "finance@example.com",
                     "finance"),
                    (local, "From the command line", "open", identity.local_user().who, None, None, None)]
    # the columns are added once: a second write on the same file still works
    con = connect(db_path)
    review.add_item(con, rid, "savings", "decision", "Again", by=FINANCE)
    con.close()


# --- end to end: a real provider, `tandem serve`, Chromium ----------------------------------------------


@pytest.fixture(scope="module")
def login_server(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    folder = tmp_path_factory.mktemp("login")
    db = folder / "tandem.duckdb"
    shutil.copy(demo_db, db)
    with login_serving(db, folder, '[users]\n"finance@example.com" = { team = "finance", role = "editor" }\n'
                                   '[groups]\n"tandem-viewers" = { role = "viewer" }\n') as base:
        yield base, db, folder


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "the browser test drives Debian's chromium, which scripts/test.sh installs"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def sign_in(browser, base: str, email: str, shot: Path | None = None):  # noqa: ANN001, ANN201 - Playwright objects
    """A fresh browser profile through the real flow: Tandem's sign-in page, the provider's login form, back."""
    page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    page.goto(base)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    if shot:
        page.screenshot(path=shot)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("http://127.0.0.1:*/interaction/**", timeout=30_000)
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "any")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/**", timeout=30_000)
    return page


def add_note(page, text: str) -> None:  # noqa: ANN001
    page.get_by_role("heading", name="Notes, decisions and actions").wait_for(timeout=60_000)
    page.locator('[data-testid="stForm"] [data-testid="stRadio"]').get_by_text("Note", exact=True).click()
    page.locator('[data-testid="stForm"] textarea').fill(text)
    page.locator('[data-testid="stForm"] [data-testid="stFormSubmitButton"] button').click()


def test_sign_in_roles_and_who_in_a_real_browser(login_server: tuple[str, Path, Path], browser,  # noqa: ANN001
                                                 tmp_path: Path) -> None:
    base, db, folder = login_server
    app = base.replace("localhost", "127.0.0.1")
    # safe serving: bound to loopback (login is on, no address asked for), metrics closed, headers set
    assert "Serving on 127.0.0.1 only" in (folder / "serve.log").read_text()
    with pytest.raises(urllib.error.HTTPError) as metrics:
        urllib.request.urlopen(f"{app}/_stcore/metrics", timeout=5)
    assert metrics.value.code == 404
    headers = urllib.request.urlopen(app, timeout=5).headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"

    # nobody signed in: no data, only the sign-in page
    page = browser.new_context().new_page()
    page.goto(f"{base}/savings")
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stMetricValue"]').count() == 0
    page.context.close()

    # someone the provider knows but the roles file does not
    page = sign_in(browser, base, "stranger@example.com", shot=tmp_path / "sign-in.png")
    page.get_by_role("heading", name="You are not on the list").wait_for(timeout=60_000)
    page.get_by_text("You are signed in as stranger@example.com").wait_for()
    page.screenshot(path=tmp_path / "not-on-the-list.png")
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    page.goto(f"{base}/data")
    page.get_by_role("heading", name="You are not on the list").wait_for(timeout=60_000)
    assert page.get_by_text("Freshness").count() == 0
    page.context.close()

    # a viewer (by the group claim) sees the data, but no upload control, and cannot add a review item
    page = sign_in(browser, base, "viewer@example.com")
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=60_000)
    page.get_by_text("Victor Viewer · no team · viewer").wait_for()
    page.goto(f"{base}/data")
    page.get_by_role("heading", name="Freshness").wait_for(timeout=60_000)
    page.get_by_text("Uploading exports needs the editor role").wait_for()
    settled(page)  # the page's run is over: what is not there now is not drawn
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    page.goto(f"{base}/review")
    # a viewer reads the meeting: no form to write in (decisions refuse a viewer's item too: the unit test above)
    page.get_by_text("You can read the meeting's notes, decisions and actions").wait_for(timeout=60_000)
    settled(page)
    assert page.locator('[data-testid="stForm"]').count() == 0
    page.context.close()

    # a finance editor adds one, and it records their e-mail address and team
    page = sign_in(browser, base, "finance@example.com")
    page.get_by_text("Fiona Finance · finance · editor").wait_for(timeout=60_000)
    page.goto(f"{base}/data")
    page.locator('[data-testid="stFileUploader"]').wait_for(timeout=60_000)
    page.goto(f"{base}/review")
    add_note(page, "Credit notes from Northwind are late")
    page.get_by_text("Saved as a note on Savings.").first.wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "review-finance.png")
    page.context.close()
    with reading(db) as con:
        rows = con.execute("SELECT text, created_by, created_by_team FROM review_items").fetchall()
    assert rows == [("Credit notes from Northwind are late", "finance@example.com", "finance")]


def test_signing_out_ends_the_login_and_a_copied_cookie_is_refused(login_server: tuple[str, Path, Path],  # noqa: ANN001
                                                                   browser) -> None:
    """Issue 25, finding 5: a login cookie copied before sign-out gave full access for 30 days. Now sign-out
    is kept on the server: the copy, replayed in a fresh browser, gets the sign-in page; a tab opened with it
    before the sign-out says so on its next run; and the cookie lives TANDEM_LOGIN_HOURS (12), not 30 days."""
    from tests.served import Client

    base, _, folder = login_server
    page = sign_in(browser, base, "finance@example.com")
    page.get_by_text("Fiona Finance · finance · editor").wait_for(timeout=60_000)
    copied = [c for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]
    login = next(c for c in copied if c["name"] == "_streamlit_user")
    assert abs(login["expires"] - (time.time() + 12 * 3600)) < 600, login["expires"] - time.time()
    # another browser with the same cookie, open before the sign-out: it is let in (the cookie is good)
    other = browser.new_context(viewport={"width": 1300, "height": 900})
    other.add_cookies(copied)
    tab = other.new_page()
    tab.goto(f"{base}/overview")
    tab.get_by_text("Fiona Finance · finance · editor").wait_for(timeout=60_000)

    page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)
    page.get_by_role("button", name="Sign out").click()
    deadline = time.monotonic() + 60  # Streamlit deletes the cookie, then sends the browser to the provider
    while any(c["name"] == "_streamlit_user" for c in page.context.cookies()):
        assert time.monotonic() < deadline, "the sign-out did not delete the cookie"
        time.sleep(0.2)
    page.context.close()

    # the copy, replayed in a fresh browser: the sign-in page, no data, no name
    thief = browser.new_context(viewport={"width": 1300, "height": 900})
    thief.add_cookies(copied)
    stolen = thief.new_page()
    stolen.goto(f"{base}/data")
    stolen.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert stolen.get_by_text("Fiona Finance").count() == 0 and stolen.get_by_text("Freshness").count() == 0
    thief.close()
    # the tab that was open: its next run (opening another page) ends it
    tab.get_by_role("link", name="Drill-down", exact=True).click()
    tab.get_by_text("You signed out of Tandem in this browser (or on another tab). Sign in to continue.").wait_for(
        timeout=60_000)
    assert tab.get_by_text("Freshness").count() == 0
    other.close()
    # and the upload endpoint refuses the copy too
    app = base.replace("localhost", "127.0.0.1")
    assert Client(base, {c["name"]: c["value"] for c in copied}).upload("invoices.csv", b"x" * 100, "any") == 403
    assert (folder / "tandem.signouts.sqlite").is_file() and app


def test_a_page_error_gets_a_reference_and_the_detail_goes_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError("/srv/tandem/secret/path exploded")
    except RuntimeError as exc:
        with caplog.at_level("ERROR", logger="tandem"):
            assert auth.on_script_error(exc) is True  # True: Streamlit shows no traceback of its own
    record = caplog.records[-1]
    assert record.getMessage().startswith("error on a page, reference ") and len(record.args[0]) == 8
    assert record.exc_info and "exploded" in str(record.exc_info[1])
