"""RSVPs between a real hub and a real Fedify 2.3.6 server (alice), both on 127.0.0.1.

alice follows the hub, joins an event (Accept), joins a full event (TentativeAccept: the
waitlist), leaves, and the next on the waitlist (a fake remote actor) is promoted and sent
the Accept of their own Join; when the place alice waits for frees up, Fedify receives the
Accept of alice's Join; a Join to an event that takes no RSVPs gets Ignore. Fedify only
hands verified activities to its listeners, so each `wait_for` also proves the signature.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.hub.events.factories import draft_input
from tests.interop.fedify_peer import Entry, FedifyPeer
from tests.interop.test_hub_interop import alice_follows, assert_hub_settled, posts_by_scheme
from tests.support.hubs import RunningHub, wait_until
from tests.support.remote import RemoteActor, RemoteServer

pytestmark = pytest.mark.interop

HubFactory = Callable[..., Awaitable[RunningHub]]


async def new_event(running: RunningHub, **fields: Any) -> dict[str, Any]:
    status, event = await running.api("POST", "/api/v1/events", draft_input(
        **{"start": "2030-12-07T14:00", "end": "2030-12-07T16:00", **fields}))
    assert status == 201, event
    return event


async def alice_sends(fedify_peer: FedifyPeer, running: RunningHub, kind: str,
                      obj: str) -> Entry:
    """alice sends a Join or Leave of `obj` to the hub, through Fedify; returns its id."""
    activity = {"id": f"{fedify_peer.actor_url}/{kind.lower()}s/{uuid.uuid4()}", "type": kind,
                "actor": fedify_peer.actor_url, "object": obj, "to": [running.actor_url]}
    result = await fedify_peer.send(running.actor_url, activity)
    assert result["ok"], (result, await fedify_peer.diagnostics())
    assert posts_by_scheme(result) == [("rfc9421", 202)]
    return result


async def remote_join(remote: RemoteServer, actor: RemoteActor, running: RunningHub,
                      event: dict[str, Any]) -> dict[str, Any]:
    join = actor.activity("Join", event["url"])
    status, body = await actor.post(running.hub.urls.inbox, join)
    assert status == 202, body
    return join


async def remote_answer(remote: RemoteServer, kind: str, join: dict[str, Any]) -> None:
    async def arrived() -> bool:
        return any(a["type"] == kind and isinstance(a.get("object"), dict)
                   and a["object"].get("id") == join["id"] for a in remote.received)
    await wait_until(arrived, what=f"{kind} of {join['id']} at the fake server")


def answer_to(kind: str, join_id: str) -> Callable[[Entry], bool]:
    return lambda e: e["type"] == kind and e["object"] == join_id


async def states(running: RunningHub, event: dict[str, Any]) -> list[tuple[str, str]]:
    status, body = await running.api("GET", f"/api/v1/events/{event['id']}/participants")
    assert status == 200, body
    return [(p["actor"], p["state"]) for p in body["items"]]


async def test_fedify_joins_waits_leaves_and_is_promoted(
        fedify_peer: FedifyPeer, hubs: HubFactory, remote: RemoteServer) -> None:
    # Given alice follows the hub, and two events with one place each,
    running = await hubs("hub")
    await alice_follows(fedify_peer, running)
    first, second = await new_event(running, capacity=1), await new_event(running, capacity=1)
    carol, bob = remote.actor("carol"), remote.actor("bob")

    # When alice joins the first event, Fedify receives (and verifies) the Accept of her Join,
    joined = await alice_sends(fedify_peer, running, "Join", first["url"])
    accept = await fedify_peer.wait_for(answer_to("Accept", joined["id"]))
    assert accept["actor"] == running.actor_url and accept["json"]["object"]["type"] == "Join"
    # and followers (alice) get the Event's new counts as an Update.
    await fedify_peer.wait_for(lambda e: e["type"] == "Update" and e["object"] == first["url"])
    # carol (a fake remote) joins the full first event: waitlisted.
    carol_join = await remote_join(remote, carol, running, first)
    await remote_answer(remote, "TentativeAccept", carol_join)

    # When bob takes the second event's place, alice's Join there is a TentativeAccept.
    bob_join = await remote_join(remote, bob, running, second)
    await remote_answer(remote, "Accept", bob_join)
    waiting = await alice_sends(fedify_peer, running, "Join", second["url"])
    tentative = await fedify_peer.wait_for(answer_to("TentativeAccept", waiting["id"]))
    assert tentative["json"]["object"]["id"] == waiting["id"]
    assert await states(running, second) == [(bob.id, "going"),
                                             (fedify_peer.actor_url, "waitlisted")]

    # When alice leaves the first event, carol is promoted and sent the Accept of her Join.
    await alice_sends(fedify_peer, running, "Leave", first["url"])
    await remote_answer(remote, "Accept", carol_join)
    assert await states(running, first) == [(carol.id, "going"),
                                            (fedify_peer.actor_url, "not_going")]
    # When bob leaves the second, alice is promoted: Fedify gets the Accept of her Join.
    status, body = await bob.post(running.hub.urls.inbox, bob.activity("Leave", second["url"]))
    assert status == 202, body
    await fedify_peer.wait_for(answer_to("Accept", waiting["id"]))
    assert await states(running, second) == [(fedify_peer.actor_url, "going"),
                                             (bob.id, "not_going")]
    assert await fedify_peer.rejected() == []
    await assert_hub_settled(running)


async def test_fedify_join_to_an_event_without_signup_is_ignored(
        fedify_peer: FedifyPeer, hubs: HubFactory) -> None:
    running = await hubs("hub")
    event = await new_event(running, join_mode="none")
    join = await alice_sends(fedify_peer, running, "Join", event["url"])
    ignore = await fedify_peer.wait_for(answer_to("Ignore", join["id"]))
    assert ignore["actor"] == running.actor_url and ignore["scheme"] == "draft-cavage"
    assert await states(running, event) == []
