"""The inbox's per-host budget: a real hub, real signatures, two remote servers on loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import orjson

from federation.keys import SigningKey, generate_rsa_key
from federation.signatures import sign_request
from tests.support.hubs import RunningHub
from tests.support.remote import RemoteServer

HubFactory = Callable[..., Awaitable[RunningHub]]


async def _stored(running: RunningHub) -> int:
    return int(await running.hub.db.fetchval("SELECT count(*) FROM inbound"))


async def test_a_host_over_its_budget_gets_429_with_retry_after_and_others_do_not(
        hubs: HubFactory, remote: RemoteServer) -> None:
    # Given a hub that takes 3 activities a minute from one host
    running = await hubs(inbox_rate_limit=3, inbox_rate_window=60.0)
    alice = remote.actor("alice")
    other = RemoteServer()
    await other.start()
    try:
        bob = other.actor("bob")
        inbox = running.hub.urls.inbox
        note = {"type": "Note", "content": "hi"}
        # When alice's server sends four
        statuses = [(await alice.post(inbox, alice.activity("Create", {
            **note, "id": f"{alice.id}/notes/{i}", "attributedTo": alice.id})))[0]
            for i in range(4)]
        # Then the fourth is refused with 429, a Retry-After and a JSON reason, and not stored
        assert statuses == [202, 202, 202, 429]
        activity = alice.activity("Create", {**note, "id": f"{alice.id}/notes/9",
                                             "attributedTo": alice.id})
        body = orjson.dumps(activity)
        signed = sign_request("POST", inbox, {"Content-Type": "application/activity+json"},
                              body, alice.key)
        async with aiohttp.ClientSession() as session, session.post(
                inbox, data=body, headers=signed) as response:
            assert response.status == 429
            assert 1 <= int(response.headers["Retry-After"]) <= 20
            assert "too many" in (await response.json())["error"]
        assert await _stored(running) == 3
        # And another host still gets in
        status, _ = await bob.post(inbox, bob.activity("Create", {
            **note, "id": f"{bob.id}/notes/1", "attributedTo": bob.id}))
        assert status == 202
        assert await _stored(running) == 4
    finally:
        await other.stop()


async def test_forged_requests_naming_a_host_do_not_spend_its_budget(
        hubs: HubFactory, remote: RemoteServer) -> None:
    # Given a hub that takes 2 activities a minute from one host
    running = await hubs(inbox_rate_limit=2, inbox_rate_window=60.0)
    alice = remote.actor("alice")
    inbox = running.hub.urls.inbox
    forged_key = SigningKey(alice.key.key_id, generate_rsa_key())
    # When someone sends ten requests under alice's key id, signed with another key
    for i in range(10):
        activity = alice.activity("Create", {"id": f"{alice.id}/notes/f{i}", "type": "Note",
                                             "attributedTo": alice.id})
        assert (await alice.post(inbox, activity, key=forged_key))[0] == 401
    # Then alice's own deliveries still get through
    for i in range(2):
        activity = alice.activity("Create", {"id": f"{alice.id}/notes/{i}", "type": "Note",
                                             "attributedTo": alice.id})
        assert (await alice.post(inbox, activity))[0] == 202
    assert await _stored(running) == 2
