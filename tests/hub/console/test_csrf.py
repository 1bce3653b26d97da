"""Every state-changing console request needs the session's CSRF token and our own origin."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hub.store import audit
from tests.hub.console.conftest import Browser
from tests.support.hubs import RunningHub


async def _nothing_published(running: RunningHub) -> None:
    assert await running.hub.db.fetchval("SELECT count(*) FROM posts") == 0
    assert await running.hub.db.fetchval("SELECT count(*) FROM outbox") == 0
    assert await audit.recent(running.hub.db, action="post.create") == []


@pytest.mark.parametrize("token", [None, "", "x" * 43, "wrong"])
async def test_a_form_without_the_right_token_changes_nothing(
        staffed: RunningHub, alice: Browser, token: str | None) -> None:
    data = {"text": "Forged news"} if token is None else {"text": "Forged news",
                                                          "csrf_token": token}
    page = await alice.post("/console/posts", data)
    assert page.status == 403
    assert page.headers["Content-Type"].startswith("text/html")
    assert "security token" in page.text and "nothing was changed" in page.text
    await _nothing_published(staffed)


async def test_another_sessions_token_is_refused(staffed: RunningHub, alice: Browser,
                                                 browsers: Callable[[RunningHub], Browser]) -> None:
    bob = browsers(staffed)
    await bob.login("bob")
    bobs_token = (await bob.get("/console/")).csrf()
    page = await alice.post("/console/posts", {"text": "Forged", "csrf_token": bobs_token})
    assert page.status == 403
    await _nothing_published(staffed)


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
async def test_a_cross_origin_form_is_refused_even_with_the_token(
        staffed: RunningHub, alice: Browser, headers: dict[str, str]) -> None:
    page = await alice.submit("/console/posts", {"text": "Forged"}, headers=headers)
    assert page.status == 403
    await _nothing_published(staffed)


async def test_same_origin_forms_and_the_header_token_are_accepted(
        staffed: RunningHub, alice: Browser) -> None:
    page = await alice.submit("/console/posts", {"text": "One"},
                              headers={"Origin": staffed.base_url, "Sec-Fetch-Site": "same-origin",
                                       "Referer": staffed.base_url + "/console/"})
    assert page.status == 303
    token = (await alice.get("/console/")).csrf()
    page = await alice.post("/console/posts", {"text": "Two"}, headers={"X-CSRF-Token": token})
    assert page.status == 303
    assert await staffed.hub.db.fetchval("SELECT count(*) FROM posts") == 2


async def test_the_api_takes_no_session_cookie(staffed: RunningHub, alice: Browser) -> None:
    """The JSON API needs no CSRF check because a cookie never authenticates it."""
    page = await alice.request("POST", "/api/v1/posts", json={"text": "via cookie"})
    assert page.status == 401
    await _nothing_published(staffed)
