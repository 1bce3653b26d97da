"""The console home: posting news and answering follow requests, each written to the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hub.store import audit
from hub.store import follows as follow_store
from hub.store import staff as staff_store
from tests.hub.console.conftest import PASSWORD, Browser
from tests.support.hubs import RunningHub, wait_until

Browsers = Callable[[RunningHub], Browser]
HubFactory = Callable[..., Awaitable[RunningHub]]


async def test_posting_news_publishes_and_is_audited(staffed: RunningHub, alice: Browser) -> None:
    page = await alice.submit("/console/posts", {"text": "Repair café on Saturday, 10am"})
    assert page.status == 303 and page.location.startswith("/console/?posted=")
    body = await staffed.hub.db.fetchone("SELECT type, object_id FROM outbox")
    assert body is not None and body["type"] == "Create"
    shown = await alice.get(page.location)
    assert f'href="{body["object_id"]}"' in shown.text and "Published" in shown.text
    [entry] = await audit.recent(staffed.hub.db, action="post.create")
    alice_row = await staff_store.get_staff(staffed.hub.db, "alice")
    assert alice_row is not None
    assert entry.staff_id == alice_row.id and entry.target == body["object_id"]
    assert "post.create" in shown.text  # a coordinator sees the audit log


async def test_an_empty_post_is_explained_and_nothing_is_sent(staffed: RunningHub,
                                                               alice: Browser) -> None:
    page = await alice.submit("/console/posts", {"text": "   "})
    assert page.status == 400 and 'role="alert"' in page.text and "needs some text" in page.text
    assert await staffed.hub.db.fetchval("SELECT count(*) FROM outbox") == 0
    assert await audit.recent(staffed.hub.db, action="post.create") == []


async def test_helpers_do_not_see_the_audit_log(staffed: RunningHub, browsers: Browsers) -> None:
    bob = browsers(staffed)
    await bob.login("bob")
    page = await bob.get("/console/")
    assert page.status == 200 and "Recent staff actions" not in page.text
    assert "Signed in as <strong>bob</strong> (helper)" in page.text


async def _pending_follow(hubs: HubFactory) -> tuple[RunningHub, RunningHub]:
    """Given south approving followers by hand, north asks to follow it."""
    north = await hubs("north")
    south = await hubs("south", manually_approves_followers=True)
    await staff_store.add_staff(south.hub.db, "alice", PASSWORD, "coordinator")
    status, _ = await north.api("POST", "/api/v1/following", {"target": south.actor_url})
    assert status == 202

    async def pending() -> bool:
        row = await follow_store.get_follower(south.hub.db, north.actor_url)
        return row is not None and row["state"] == "pending"

    await wait_until(pending, what="a pending follow request at south")
    return north, south


async def _following_state(north: RunningHub, south: RunningHub, state: str) -> None:
    async def reached() -> bool:
        row = await follow_store.get_following(north.hub.db, south.actor_url)
        return row is not None and row["state"] == state

    await wait_until(reached, what=f"north's follow of south to be {state}")


async def test_approving_a_follower_sends_the_accept(hubs: HubFactory,
                                                     browsers: Browsers) -> None:
    north, south = await _pending_follow(hubs)
    browser = browsers(south)
    await browser.login("alice")
    home = await browser.get("/console/")
    assert f"@north@{north.settings.domain}" in home.text and "Approve" in home.text

    page = await browser.submit("/console/followers/approve", {"actor": north.actor_url})
    assert page.status == 303 and page.location == "/console/?done=approved"
    await _following_state(north, south, "accepted")
    follower = await follow_store.get_follower(south.hub.db, north.actor_url)
    assert follower is not None and follower["state"] == "accepted"
    [entry] = await audit.recent(south.hub.db, action="follower.approve")
    assert entry.target == north.actor_url and entry.username == "alice"
    assert "Follow request approved" in (await browser.get(page.location)).text

    # Approving again finds nothing pending: explained, not a crash, and not audited.
    again = await browser.submit("/console/followers/approve", {"actor": north.actor_url})
    assert again.status == 404 and "no pending follow request" in again.text
    assert len(await audit.recent(south.hub.db, action="follower.approve")) == 1


async def test_rejecting_a_follower_sends_the_reject(hubs: HubFactory,
                                                     browsers: Browsers) -> None:
    north, south = await _pending_follow(hubs)
    browser = browsers(south)
    await browser.login("alice")
    page = await browser.submit("/console/followers/reject", {"actor": north.actor_url})
    assert page.status == 303
    await _following_state(north, south, "rejected")
    assert await follow_store.get_follower(south.hub.db, north.actor_url) is None
    [entry] = await audit.recent(south.hub.db, action="follower.reject")
    assert entry.target == north.actor_url
