"""Activities from another server, end to end through a real hub's inbox and worker."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable

import aiohttp
import orjson
import pytest

from federation.signatures import sign_request
from hub.store import actors as actor_store
from hub.store import follows as follow_store
from hub.store import remote_objects
from tests.support.hubs import RunningHub, wait_until
from tests.support.remote import RemoteActor, RemoteServer

HubFactory = Callable[..., Awaitable[RunningHub]]


async def _inbound_count(running: RunningHub) -> int:
    return int(await running.hub.db.fetchval("SELECT count(*) FROM inbound"))


async def _follow_hub(running: RunningHub, remote: RemoteServer,
                      name: str = "alice") -> RemoteActor:
    actor = remote.actor(name)
    follow = actor.activity("Follow", running.actor_url)
    status, _ = await actor.post(running.hub.urls.inbox, follow)
    assert status == 202

    async def accepted() -> list:
        return [a for a in remote.received
                if a["type"] == "Accept" and a["object"]["id"] == follow["id"]]

    accept = (await wait_until(accepted, what="the hub's Accept"))[0]
    assert accept["actor"] == running.actor_url and accept["object"]["actor"] == actor.id
    return actor


async def test_follow_is_accepted_and_undo_removes_it(hubs: HubFactory,
                                                      remote: RemoteServer) -> None:
    running = await hubs()
    actor = await _follow_hub(running, remote)
    row = await follow_store.get_follower(running.hub.db, actor.id)
    assert row is not None and row["state"] == "accepted"
    follow_id = row["follow_id"]
    undo = actor.activity("Undo", {"id": follow_id, "type": "Follow", "actor": actor.id,
                                   "object": running.actor_url})
    assert (await actor.post(running.hub.urls.inbox, undo))[0] == 202

    async def removed() -> bool:
        return await follow_store.get_follower(running.hub.db, actor.id) is None

    await wait_until(removed, what="the follower to be removed")


async def test_posts_reach_a_follower_on_its_shared_inbox(hubs: HubFactory,
                                                          remote: RemoteServer) -> None:
    running = await hubs()
    await _follow_hub(running, remote, "alice")
    await _follow_hub(running, remote, "bob")
    remote.received.clear()
    status, post = await running.api("POST", "/api/v1/posts", {"text": "Hello"})
    assert status == 201

    async def delivered() -> list:
        return [a for a in remote.received if a["type"] == "Create"]

    creates = await wait_until(delivered, what="the Create")
    assert len(creates) == 1, "two followers on one shared inbox get one delivery"
    assert creates[0]["object"]["id"] == post["url"]


async def test_remote_key_rotation_is_followed(hubs: HubFactory, remote: RemoteServer) -> None:
    # Given a follower whose key the hub has cached,
    running = await hubs()
    actor = await _follow_hub(running, remote)
    # when the follower rotates its key and signs with the new one,
    actor.rotate_key()
    update = actor.activity("Update", actor.document())
    status, text = await actor.post(running.hub.urls.inbox, update)
    # then the hub refetches the key and accepts the request.
    assert status == 202, text

    async def stored_new_key() -> bool:
        stored = await actor_store.get_actor(running.hub.db, actor.id)
        return stored.public_key_pem == actor.document()["publicKey"]["publicKeyPem"]

    await wait_until(stored_new_key, what="the new key in the store")


async def test_actor_delete_forgets_the_follower(hubs: HubFactory, remote: RemoteServer) -> None:
    running = await hubs()
    actor = await _follow_hub(running, remote)
    remote.gone.add(actor.username)
    delete = actor.activity("Delete", actor.id, to=["https://www.w3.org/ns/activitystreams#Public"])
    assert (await actor.post(running.hub.urls.inbox, delete))[0] == 202

    async def forgotten() -> bool:
        return await follow_store.get_follower(running.hub.db, actor.id) is None

    await wait_until(forgotten, what="the deleted actor to be forgotten")
    stored = await actor_store.get_actor(running.hub.db, actor.id)
    assert stored.deleted_at is not None and stored.public_key_pem is None


async def test_notes_from_followed_actors_are_kept_others_ignored(
        hubs: HubFactory, remote: RemoteServer) -> None:
    running = await hubs()
    followed, stranger = remote.actor("carol"), remote.actor("mallory")
    status, _ = await running.api("POST", "/api/v1/following", {"target": followed.id})
    assert status == 202

    async def follow_sent() -> list:
        return [a for a in remote.received if a["type"] == "Follow"]

    follow = (await wait_until(follow_sent, what="the hub's Follow"))[0]
    accept = followed.activity("Accept", follow)
    assert (await followed.post(running.hub.urls.inbox, accept))[0] == 202

    async def accepted() -> bool:
        row = await follow_store.get_following(running.hub.db, followed.id)
        return row["state"] == "accepted"

    await wait_until(accepted, what="the Accept")
    for actor in (followed, stranger):
        note = {"id": f"{actor.id}/notes/1", "type": "Note", "attributedTo": actor.id,
                "content": "<p>hi</p><script>alert(1)</script>"}
        assert (await actor.post(running.hub.urls.inbox, actor.activity("Create", note)))[0] == 202

    async def processed() -> bool:
        pending = await running.hub.db.fetchval(
            "SELECT count(*) FROM inbound WHERE state = 'pending'")
        return pending == 0

    await wait_until(processed, what="the worker to process both")
    assert await remote_objects.get_remote_object(running.hub.db, f"{followed.id}/notes/1")
    assert await remote_objects.get_remote_object(running.hub.db, f"{stranger.id}/notes/1") is None


@pytest.mark.parametrize("case", ["wrong-key", "signer-not-actor", "foreign-object",
                                  "digest-mismatch", "too-large", "gzip-bomb", "bad-json",
                                  "wrong-type"])
async def test_hostile_deliveries_are_refused_and_nothing_is_stored(
        hubs: HubFactory, remote: RemoteServer, case: str) -> None:
    running = await hubs()
    alice, bob = remote.actor("alice"), remote.actor("bob")
    inbox = running.hub.urls.inbox
    note = {"id": f"{alice.id}/notes/1", "type": "Note", "attributedTo": alice.id}
    create = alice.activity("Create", note)
    if case == "wrong-key":
        other = remote.actor("eve")
        status, _ = await alice.post(inbox, create, key=other.key.__class__(
            alice.key.key_id, other.key.private_key))
        expected = 401
    elif case == "signer-not-actor":
        status, _ = await bob.post(inbox, create)
        expected = 401
    elif case == "foreign-object":
        create["object"]["id"] = "http://elsewhere.example/notes/1"
        status, _ = await alice.post(inbox, create)
        expected = 400
    elif case == "digest-mismatch":
        # Sign one body, send another of the same length.
        status, _ = await _tampered(alice, inbox, create)
        expected = 401
    elif case == "too-large":
        create["object"]["content"] = "x" * 1_100_000
        status, _ = await alice.post(inbox, create)
        expected = 413
    elif case == "gzip-bomb":
        status, _ = await alice.post(inbox, create, body=gzip.compress(b"[" * 5_000_000),
                                     headers={"Content-Encoding": "gzip"})
        expected = 413
    elif case == "bad-json":
        status, _ = await alice.post(inbox, create, body=b"{not json")
        expected = 400
    else:
        status, _ = await alice.post(inbox, create, headers={"Content-Type": "text/plain"})
        expected = 415
    assert status == expected
    assert await _inbound_count(running) == 0


async def _tampered(actor: RemoteActor, inbox: str, activity: dict) -> tuple[int, str]:
    body = orjson.dumps(activity)
    signed = sign_request("POST", inbox, {"Content-Type": "application/activity+json"}, body,
                          actor.key)
    forged = body.replace(b"Create", b"Delete")
    async with aiohttp.ClientSession() as session, session.post(
            inbox, data=forged, headers=signed) as response:
        return response.status, await response.text()
