"""Our copies of remote actors: fresh for a day, refetched after; an old copy still serves
while its server is down (so a message waits in the delivery queue rather than an action
failing), but never when the server says the actor is gone. Ending a follow queues its
activity in the same transaction, and does not depend on an actor that is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from federation.errors import RemoteNotFound, Unreachable
from hub.runtime import Hub, open_hub
from hub.services import actors as actors_module
from hub.services import follows
from hub.setup import init_hub
from hub.store import follows as follow_store
from tests.support.remote import RemoteServer


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    settings = await init_hub(tmp_path / "hub", domain="127.0.0.1:9", name="hub", dev=True)
    async with open_hub(settings) as opened:
        yield opened


async def _age(hub: Hub, actor_id: str) -> None:
    await hub.db.execute("UPDATE remote_actors SET fetched_at = 0 WHERE id = ?", (actor_id,))


async def test_a_fresh_copy_is_used_and_an_old_one_refetched(hub: Hub,
                                                             remote: RemoteServer) -> None:
    alice = remote.actor("alice")
    first = await hub.actors.get(alice.id)
    assert first.inbox == f"{remote.base_url}/users/alice/inbox"
    remote.actors.pop("alice")  # the server would now say 404: a fresh copy does not ask
    assert (await hub.actors.get(alice.id)).inbox == first.inbox
    await _age(hub, alice.id)
    with pytest.raises(RemoteNotFound):
        await hub.actors.get(alice.id)


async def test_an_old_copy_serves_while_the_server_is_down(hub: Hub,
                                                           remote: RemoteServer) -> None:
    alice = remote.actor("alice")
    known = await hub.actors.get(alice.id)
    await _age(hub, alice.id)
    await remote.stop()
    assert (await hub.actors.get(alice.id)).inbox == known.inbox
    with pytest.raises(Unreachable):  # asked to refresh, it says so
        await hub.actors.get(alice.id, refresh=True)


async def test_servers_marked_down_are_bounded(hub: Hub, remote: RemoteServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # While a server is down its actors are not asked for again for a few minutes; the
    # record of that holds a bounded number, even when all of them are still down.
    monkeypatch.setattr(actors_module, "KEY_CACHE_SIZE", 2)
    people = [remote.actor(name) for name in ("ann", "ben", "cat")]
    for person in people:
        await hub.actors.get(person.id)
        await _age(hub, person.id)
    await remote.stop()
    for person in people:
        await hub.actors.get(person.id)  # the old copy serves; its server is marked down
    assert list(hub.actors._down_until) == [people[1].id, people[2].id]  # not ann, the oldest


async def test_an_actor_never_fetched_needs_its_server(hub: Hub,
                                                       remote: RemoteServer) -> None:
    alice = remote.actor("alice")
    await remote.stop()
    with pytest.raises(Unreachable):
        await hub.actors.get(alice.id)


async def test_a_gone_actor_is_not_served_from_an_old_copy(hub: Hub,
                                                           remote: RemoteServer) -> None:
    alice = remote.actor("alice")
    await hub.actors.get(alice.id)
    await _age(hub, alice.id)
    remote.gone.add("alice")
    with pytest.raises(RemoteNotFound):
        await hub.actors.get(alice.id)


async def _queued(hub: Hub, kind: str) -> int:
    return int(await hub.db.fetchval("SELECT count(*) FROM outbox WHERE type = ?", (kind,)))


@pytest.mark.parametrize("gone", [False, True])
async def test_ending_follows_both_ways(hub: Hub, remote: RemoteServer, gone: bool) -> None:
    # Our follow of alice ends with an Undo, bob's of us with a Reject, each queued in the
    # change's transaction; if their servers say they are gone, the follows end all the same
    # and nobody is told.
    alice, bob = remote.actor("alice"), remote.actor("bob")
    await follows.follow(hub, alice.id)
    await follows.receive_follow(hub, bob.activity("Follow", hub.urls.actor))
    if gone:
        for actor in (alice, bob):
            await _age(hub, actor.id)
            remote.gone.add(actor.username)
    await follows.unfollow(hub, alice.id)
    await follows.reject_follower(hub, bob.id)
    assert await follow_store.get_following(hub.db, alice.id) is None
    assert await follow_store.get_follower(hub.db, bob.id) is None
    told = (0, 0) if gone else (1, 1)
    assert (await _queued(hub, "Undo"), await _queued(hub, "Reject")) == told


async def test_a_follow_ends_even_when_the_actor_cannot_be_had_now(
        hub: Hub, remote: RemoteServer) -> None:
    # Its server refuses us (403): ending does not wait on it; the Undo goes to the inbox of
    # our copy, with the change.
    alice = remote.actor("alice")
    await follows.follow(hub, alice.id)
    await _age(hub, alice.id)
    remote.forbidden.add("alice")
    await follows.unfollow(hub, alice.id)
    assert await follow_store.get_following(hub.db, alice.id) is None
    row = await hub.db.fetchone(
        "SELECT d.inbox FROM deliveries d JOIN outbox o ON o.id = d.outbox_id "
        "WHERE o.type = 'Undo'")
    assert row is not None and row["inbox"] == f"{alice.id}/inbox"


async def test_a_server_found_down_is_not_asked_again_on_every_call(
        hub: Hub, remote: RemoteServer) -> None:
    alice = remote.actor("alice")
    await hub.actors.get(alice.id)
    await _age(hub, alice.id)
    remote.unavailable.add("alice")
    await hub.actors.get(alice.id)  # tries, is told 503, serves our copy
    remote.unavailable.clear()
    remote.actors.pop("alice")  # were it asked again, the answer would now be 404
    assert (await hub.actors.get(alice.id)).id == alice.id  # our copy, without asking
