"""Our copies of remote actors: fresh for a day, refetched after; an old copy still serves
while its server is down (so a message waits in the delivery queue rather than an action
failing), but never when the server says the actor is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from federation.errors import RemoteNotFound, Unreachable
from hub.runtime import Hub, open_hub
from hub.setup import init_hub
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
