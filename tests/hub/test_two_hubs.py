"""Two hubs on loopback follow each other and exchange news posts, as two servers would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hub.store import follows as follow_store
from hub.store import remote_objects
from tests.support.hubs import RunningHub, wait_until

HubFactory = Callable[..., Awaitable[RunningHub]]


async def _follows(a: RunningHub, b: RunningHub) -> None:
    """Given a and b, when a follows b by handle, then b accepts and both record it."""
    handle = f"@{b.settings.name}@{b.settings.domain}"
    status, body = await a.api("POST", "/api/v1/following", {"target": handle})
    assert status == 202, body
    assert body["actor"] == b.actor_url

    async def accepted() -> bool:
        row = await follow_store.get_following(a.hub.db, b.actor_url)
        return row is not None and row["state"] == "accepted"

    await wait_until(accepted, what=f"{a.settings.name} to be accepted by {b.settings.name}")
    follower = await follow_store.get_follower(b.hub.db, a.actor_url)
    assert follower is not None and follower["state"] == "accepted"


async def _received(hub: RunningHub, object_id: str, *, deleted: bool = False) -> dict:
    async def check() -> dict | None:
        row = await remote_objects.get_remote_object(hub.hub.db, object_id)
        if row is None or (row["deleted_at"] is not None) != deleted:
            return None
        return row

    return await wait_until(check, what=f"{object_id} at {hub.settings.name}")


async def test_two_hubs_follow_each_other_and_exchange_posts(hubs: HubFactory) -> None:
    north, south = await hubs("north"), await hubs("south")
    await _follows(north, south)
    await _follows(south, north)

    # When south posts, north (its follower) stores the Note.
    status, post = await south.api("POST", "/api/v1/posts",
                                   {"text": "Tea and chat, Thursday 2pm.\n\nAll welcome!"})
    assert status == 201, post
    row = await _received(north, post["url"])
    assert row["actor_id"] == south.actor_url
    assert "<p>All welcome!</p>" in row["document"]["content"]

    # And the other way round.
    status, reply = await north.api("POST", "/api/v1/posts", {"text": "Garden day on Sunday"})
    assert status == 201
    await _received(south, reply["url"])

    # An edit arrives as Update, a deletion as Delete.
    status, _ = await south.api("PATCH", f"/api/v1/posts/{post['id']}",
                                {"text": "Tea and chat, Thursday 3pm"})
    assert status == 200

    async def edited() -> bool:
        row = await remote_objects.get_remote_object(north.hub.db, post["url"])
        return "3pm" in row["document"]["content"]

    await wait_until(edited, what="the Update at north")
    status, _ = await south.api("DELETE", f"/api/v1/posts/{post['id']}")
    assert status == 200
    await _received(north, post["url"], deleted=True)


async def test_unfollow_sends_undo_and_stops_deliveries(hubs: HubFactory) -> None:
    north, south = await hubs("north"), await hubs("south")
    await _follows(north, south)
    status, _ = await north.api("POST", "/api/v1/following/remove", {"target": south.actor_url})
    assert status == 200

    async def gone() -> bool:
        return await follow_store.get_follower(south.hub.db, north.actor_url) is None

    await wait_until(gone, what="south to drop north as a follower")
    assert await follow_store.follower_inboxes(south.hub.db) == []


async def test_manual_approval_then_reject(hubs: HubFactory) -> None:
    north = await hubs("north")
    south = await hubs("south", manually_approves_followers=True)
    status, _ = await north.api("POST", "/api/v1/following", {"target": south.actor_url})
    assert status == 202

    async def pending() -> list:
        _, body = await south.api("GET", "/api/v1/followers?state=pending")
        return body["items"]

    items = await wait_until(pending, what="a pending follow request at south")
    assert items == [{"actor": north.actor_url, "state": "pending"}]
    row = await follow_store.get_following(north.hub.db, south.actor_url)
    assert row["state"] == "pending"

    status, _ = await south.api("POST", "/api/v1/followers/reject", {"actor": north.actor_url})
    assert status == 200

    async def rejected() -> bool:
        row = await follow_store.get_following(north.hub.db, south.actor_url)
        return row["state"] == "rejected"

    await wait_until(rejected, what="north to learn of the Reject")
