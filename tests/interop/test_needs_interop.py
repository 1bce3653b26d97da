"""A volunteer need reaches a real Fedify 2.3.6 server: Fedify verifies the hub's signature,
reads the `["Page", "Proposal"]` object with its JSON-LD processor, and keeps the terms a
reader needs (name, summary, url, the ValueFlows intent), and never sees the private notes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest

from tests.hub.needs.factories import regular_need
from tests.interop.fedify_peer import FedifyPeer
from tests.interop.test_hub_interop import activity_on, alice_follows, assert_hub_settled
from tests.support.hubs import RunningHub

pytestmark = pytest.mark.interop

HubFactory = Callable[..., Awaitable[RunningHub]]


async def test_a_need_its_status_and_its_cancellation_reach_fedify(
    fedify_peer: FedifyPeer, hubs: HubFactory
) -> None:
    # Given alice follows the hub
    running = await hubs("hub")
    await alice_follows(fedify_peer, running)

    # When staff post a need
    status, need = await running.api("POST", "/api/v1/needs", regular_need())
    assert status == 201, need

    # Then Fedify verifies the Create and reads the object
    create = await fedify_peer.wait_for(activity_on("Create", need["url"]))
    assert create["actor"] == running.actor_url
    obj = create["json"]["object"]
    # Fedify's vocabulary knows vf:Proposal (FEP-0837) and takes the need as one, with
    # what Mastodon-like readers show and the ValueFlows request for work.
    assert obj["id"] == need["url"]
    assert obj["type"] == "https://w3id.org/valueflows/ont/vf#Proposal"
    assert obj["https://w3id.org/valueflows/ont/vf#purpose"] == "request"
    intent = obj["https://w3id.org/valueflows/ont/vf#publishes"]
    assert intent["https://w3id.org/valueflows/ont/vf#action"] == "work"
    assert obj["url"] == need["url"] and obj["content"].startswith("<p>A retired teacher")
    assert obj["name"] == "Weekly befriending"
    assert "IG1" in obj["summary"]
    for secret in ("Kaur", "Cranbrook", "07700"):
        assert secret not in json.dumps(create["json"])

    # When it is filled, then Fedify gets the Update; when cancelled, the Delete
    for move in ("filled", "cancelled"):
        status, _ = await running.api("POST", f"/api/v1/needs/{need['id']}/status",
                                      {"status": move})
        assert status == 200
    await fedify_peer.wait_for(activity_on("Update", need["url"]))
    await fedify_peer.wait_for(activity_on("Delete", need["url"]))
    assert await fedify_peer.rejected() == []
    await assert_hub_settled(running)
