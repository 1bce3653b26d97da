"""Logging in to the staff console: the form, failures, login CSRF, redirects and rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from hub.setup import init_hub
from hub.store import audit
from hub.store import staff as staff_store
from tests.hub.console.conftest import PASSWORD, Browser
from tests.support.hubs import RunningHub, start_hub

Browsers = Callable[[RunningHub], Browser]
HubFactory = Callable[..., Awaitable[RunningHub]]


def _set_cookie(page_headers: object, name: str) -> str:
    for header in page_headers.getall("Set-Cookie", []):  # type: ignore[attr-defined]
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no Set-Cookie for {name}")


async def test_login_page_is_an_accessible_form(staffed: RunningHub, browsers: Browsers) -> None:
    page = await browsers(staffed).get("/console/login")
    assert page.status == 200
    assert 'autocomplete="username"' in page.text
    assert 'autocomplete="current-password"' in page.text
    assert '<label for="username">' in page.text and '<label for="password">' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    cookie = _set_cookie(page.headers, "commonhub_login_csrf").lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


async def test_login_shows_the_console_home(staffed: RunningHub, browsers: Browsers) -> None:
    browser = browsers(staffed)
    page = await browser.login("Alice")  # usernames are not case-sensitive
    assert page.status == 303 and page.location == "/console/"
    cookie = _set_cookie(page.headers, "commonhub_session")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes
    assert "secure" not in attributes  # a dev hub is plain http

    home = await browser.get("/console/")
    assert home.status == 200
    assert f"@hub@{staffed.settings.domain}" in home.text
    assert "Signed in as <strong>alice</strong> (coordinator)" in home.text
    assert home.headers["Cache-Control"] == "no-store"
    member = await staff_store.get_staff(staffed.hub.db, "alice")
    assert member is not None and member.last_login_at is not None
    [entry] = await audit.recent(staffed.hub.db, action="staff.login")
    assert entry.staff_id == member.id


@pytest.mark.parametrize(("username", "password"), [
    ("alice", "not the right password"),
    ("nobody", "not the right password"),
    ("nobody", PASSWORD),
])
async def test_wrong_password_and_unknown_user_read_the_same(
        staffed: RunningHub, browsers: Browsers, username: str, password: str) -> None:
    browser = browsers(staffed)
    page = await browser.login(username, password)
    assert page.status == 400
    assert "The username or password is wrong." in page.text and 'role="alert"' in page.text
    assert browser.cookie("commonhub_session") is None
    assert (await browser.get("/console/")).status == 303


async def test_a_disabled_account_cannot_log_in(staffed: RunningHub, browsers: Browsers) -> None:
    await staff_store.disable_staff(staffed.hub.db, "bob")
    page = await browsers(staffed).login("bob")
    assert page.status == 400 and "The username or password is wrong." in page.text


async def test_login_csrf_is_blocked(staffed: RunningHub, browsers: Browsers) -> None:
    """Given a form posted from another site: it has no login cookie, or not the matching one."""
    attacker = browsers(staffed)
    page = await attacker.post("/console/login", {"username": "alice", "password": PASSWORD,
                                                  "csrf_token": "A" * 43})
    assert page.status == 403 and "security token" in page.text
    assert "commonhub_session" not in page.headers.get("Set-Cookie", "")

    victim = browsers(staffed)
    await victim.get("/console/login")  # has a cookie, but the attacker's form has another value
    page = await victim.post("/console/login", {"username": "alice", "password": PASSWORD,
                                                "csrf_token": "B" * 43})
    assert page.status == 403 and victim.cookie("commonhub_session") is None
    assert await audit.recent(staffed.hub.db, action="staff.login") == []


async def test_login_from_another_origin_is_refused(staffed: RunningHub,
                                                    browsers: Browsers) -> None:
    browser = browsers(staffed)
    form = await browser.get("/console/login")
    data = {"csrf_token": form.csrf(), "username": "alice", "password": PASSWORD}
    page = await browser.post("/console/login", data, headers={"Origin": "https://evil.example"})
    assert page.status == 403 and browser.cookie("commonhub_session") is None
    page = await browser.post("/console/login", data,
                              headers={"Origin": staffed.base_url})
    assert page.status == 303


async def test_console_pages_send_strangers_to_login(staffed: RunningHub,
                                                     browsers: Browsers) -> None:
    browser = browsers(staffed)
    page = await browser.get("/console/?tab=2")
    assert page.status == 303 and page.location == "/console/login?next=/console/%3Ftab%3D2"
    page = await browser.get("/console/no-such-page")
    assert page.status == 303  # no hint of which console pages exist
    page = await browser.post("/console/posts", {"text": "hello"})
    assert page.status == 303 and page.location == "/console/login?next=/console/"
    login = await browser.get(page.location)
    assert 'name="next" value="/console/"' in login.text
    page = await browser.login("alice", next_path="/console/?tab=2")
    assert page.location == "/console/?tab=2"


@pytest.mark.parametrize(("target", "expected"), [
    ("//evil.example", "/console/"),
    ("https://evil.example", "/console/"),
    ("/\\evil.example", "/console/"),
    ("\\\\evil.example", "/console/"),
    ("/\t/evil.example", "/console/"),  # browsers drop tabs and newlines: that is "//evil..."
    (" //evil.example", "/console/"),
    ("javascript:alert(1)", "/console/"),
    ("/console/login?next=//evil.example", "/console/"),
    ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),  # a path on this hub, harmless
])
async def test_next_never_leaves_the_hub(staffed: RunningHub, browsers: Browsers, target: str,
                                         expected: str) -> None:
    browser = browsers(staffed)
    page = await browser.login("alice", next_path=target)
    assert page.status == 303 and page.location == expected
    # Once logged in, the login page sends a browser on to `next` too: by the same rule.
    again = await browser.get("/console/login", params={"next": target})
    assert again.status == 303 and again.location == expected


async def test_login_attempts_are_rate_limited(staffed: RunningHub, browsers: Browsers) -> None:
    browser = browsers(staffed)
    form = await browser.get("/console/login")
    data = {"csrf_token": form.csrf(), "username": "alice", "password": "wrong password!"}
    for _ in range(10):
        assert (await browser.post("/console/login", data)).status == 400
    page = await browser.post("/console/login", {**data, "password": PASSWORD})
    assert page.status == 429
    assert 0 < int(page.headers["Retry-After"]) <= 30  # 10 per 5 minutes: one frees in 30 s
    assert "Too many" in page.text and page.headers["Content-Type"].startswith("text/html")
    assert browser.cookie("commonhub_session") is None
    assert (await browser.get("/console/login")).status == 200  # the form itself still loads


async def test_session_id_changes_at_every_login(staffed: RunningHub, browsers: Browsers) -> None:
    """Given a browser that arrives at the login form holding a session (fixed by someone
    else, or its own), logging in gives it a new one and ends the old."""
    planted = browsers(staffed)
    await planted.login("alice")
    old = planted.cookie("commonhub_session")
    assert old
    browser = browsers(staffed)
    form = await browser.get("/console/login")
    browser.session.cookie_jar.update_cookies({"commonhub_session": old}, URL(staffed.base_url))
    page = await browser.post("/console/login", {"csrf_token": form.csrf(), "username": "bob",
                                                 "password": PASSWORD})
    assert page.status == 303
    new = browser.cookie("commonhub_session")
    assert new and new != old
    assert await staffed.hub.db.fetchval("SELECT count(*) FROM staff_sessions WHERE id = ?",
                                         (staff_store.session_id(old),)) == 0
    assert (await planted.get("/console/")).status == 303
    assert "(helper)" in (await browser.get("/console/")).text


async def test_a_production_hub_marks_its_cookies_secure(tmp_path: Path) -> None:
    settings = await init_hub(tmp_path / "prod", domain="hub.example.org", name="prod")
    running = await start_hub(tmp_path / "prod", settings=settings)
    try:
        await staff_store.add_staff(running.hub.db, "alice", PASSWORD, "coordinator")
        host, port = running.runner.addresses[0][:2]
        url = f"http://{host}:{port}/console/login"
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                csrf = _set_cookie(response.headers, "__Host-commonhub_login_csrf")
            assert "secure" in csrf.lower()
            token = SimpleCookie(csrf)["__Host-commonhub_login_csrf"].value
            # The jar keeps Secure cookies off plain http, so send it by hand.
            async with session.post(
                    url, data={"csrf_token": token, "username": "alice", "password": PASSWORD},
                    headers={"Cookie": f"__Host-commonhub_login_csrf={token}"},
                    allow_redirects=False) as response:
                assert response.status == 303
                session_cookie = _set_cookie(response.headers, "commonhub_session")
            assert "secure" in session_cookie.lower()
    finally:
        await running.stop()
