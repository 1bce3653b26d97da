"""Console sessions end when they should: idle, too old, logged out, account disabled."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from hub.store import audit
from hub.store import staff as staff_store
from hub.web.console import SESSION, STAFF, require_role
from hub.web.console.page import render_console
from tests.hub.console.conftest import Browser
from tests.support.hubs import RunningHub

Browsers = Callable[[RunningHub], Browser]


async def _session_row(running: RunningHub, browser: Browser) -> dict | None:
    token = browser.cookie("commonhub_session")
    assert token
    row = await running.hub.db.fetchone("SELECT * FROM staff_sessions WHERE id = ?",
                                        (staff_store.session_id(token),))
    return None if row is None else dict(row)


async def _age(running: RunningHub, browser: Browser, **seconds_ago: float) -> None:
    """Move the stored session's timestamps into the past."""
    token = browser.cookie("commonhub_session")
    now = time.time()
    for column, ago in seconds_ago.items():
        await running.hub.db.execute(
            f"UPDATE staff_sessions SET {column} = ? WHERE id = ?",
            (now - ago, staff_store.session_id(token or "")))


async def test_an_idle_session_ends(staffed: RunningHub, alice: Browser) -> None:
    await _age(staffed, alice, last_seen_at=119 * 60)
    assert (await alice.get("/console/")).status == 200  # 119 of 120 idle minutes: still on
    row = await _session_row(staffed, alice)
    assert row and time.time() - row["last_seen_at"] < 5  # and that request counted
    await _age(staffed, alice, last_seen_at=121 * 60)
    page = await alice.get("/console/")
    assert page.status == 303 and page.location.startswith("/console/login")
    assert await _session_row(staffed, alice) is None


async def test_a_busy_session_still_ends_after_its_lifetime(staffed: RunningHub,
                                                            alice: Browser) -> None:
    await _age(staffed, alice, created_at=11.9 * 3600)
    assert (await alice.get("/console/")).status == 200
    await _age(staffed, alice, created_at=12.1 * 3600)  # active all along, but 12 hours is all
    assert (await alice.get("/console/")).status == 303
    assert await _session_row(staffed, alice) is None


async def test_the_stored_expiry_is_kept_too(staffed: RunningHub, alice: Browser) -> None:
    await _age(staffed, alice, expires_at=1)
    assert (await alice.get("/console/")).status == 303


async def test_logout_ends_the_session(staffed: RunningHub, alice: Browser,
                                       browsers: Browsers) -> None:
    token = alice.cookie("commonhub_session")
    page = await alice.submit("/console/logout", {})
    assert page.status == 303 and page.location == "/console/login"
    assert alice.cookie("commonhub_session") in (None, "")
    assert (await alice.get("/console/")).status == 303
    # The old cookie value, replayed from elsewhere, is dead.
    replay = browsers(staffed)
    page = await replay.get("/console/", cookies={"commonhub_session": token or ""})
    assert page.status == 303
    assert [e.action for e in await audit.recent(staffed.hub.db, limit=2)] == [
        "staff.logout", "staff.login"]


async def test_logout_needs_the_csrf_token(staffed: RunningHub, alice: Browser) -> None:
    page = await alice.post("/console/logout", {})
    assert page.status == 403
    assert (await alice.get("/console/")).status == 200


@pytest.mark.parametrize("change", ["disable", "passwd"])
async def test_disabling_or_a_new_password_ends_sessions(staffed: RunningHub, alice: Browser,
                                                         change: str) -> None:
    if change == "disable":
        await staff_store.disable_staff(staffed.hub.db, "alice")
    else:
        await staff_store.set_password(staffed.hub.db, "alice", "a brand new passphrase")
    assert (await alice.get("/console/")).status == 303
    assert await staffed.hub.db.fetchval("SELECT count(*) FROM staff_sessions") == 0


async def test_a_session_of_a_disabled_account_is_refused_even_if_left_behind(
        staffed: RunningHub, alice: Browser) -> None:
    # Even if a row survived (restored backup, manual edit), a disabled account gets nothing.
    await staffed.hub.db.execute("UPDATE staff SET disabled_at = ? WHERE username = 'alice'",
                                 (time.time(),))
    assert (await alice.get("/console/")).status == 303


async def test_error_pages_in_the_console_are_not_cached(alice: Browser) -> None:
    page = await alice.get("/console/no-such-page")
    assert page.status == 404 and page.headers["Cache-Control"] == "no-store"
    page = await alice.get("/console")
    assert page.status == 303 and page.headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in (await alice.get("/")).headers


async def test_require_role_refuses_helpers(staffed: RunningHub) -> None:
    @require_role("coordinator")
    async def coordinators_only(request: web.Request) -> web.Response:
        return render_console(request, "console/error.html", title="Staff", message="ok",
                              signed_in=True)

    for username, status in (("alice", 200), ("bob", 403)):
        member = await staff_store.get_staff(staffed.hub.db, username)
        assert member is not None
        _, session = await staff_store.start_session(staffed.hub.db, member, lifetime=60,
                                                     idle=60, user_agent="test")
        request = make_mocked_request("GET", "/console/staff", app=staffed.app)
        request[STAFF], request[SESSION] = member, session
        response = await coordinators_only(request)
        assert response.status == status, username
        assert ("Only a coordinator can use this page" in (response.text or "")) == (
            status == 403)
