"""The hub's signed statement of a volunteer's checks verified by a real Fedify 2.3.6: Fedify
fetches the hub's Ed25519 Multikey from its actor's assertionMethod and checks the
eddsa-jcs-2022 proof (FEP-8b32) as Fedify checks any object's; a changed statement fails."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable

import pytest

from hub.exchange.attestation import sign_attestation
from tests.interop.fedify_peer import FedifyPeer
from tests.support.hubs import RunningHub

pytestmark = pytest.mark.interop

HubFactory = Callable[..., Awaitable[RunningHub]]
CHECKS = [{"checkType": "dbs_enhanced_adult", "validThrough": "2028-10-22"}]


async def test_fedify_verifies_the_hubs_attestation_and_refuses_a_changed_one(
    fedify_peer: FedifyPeer, hubs: HubFactory
) -> None:
    running = await hubs("hub")
    statement = sign_attestation(running.hub, pseudonym="k3Xq9v",
                                 need_id="https://alder.example/needs/1", checks=CHECKS,
                                 training=[], lifetime=3600)

    verified = await fedify_peer.verify_proof(statement)
    assert verified["ok"], verified
    assert verified["key"] == running.hub.urls.assertion_key_id
    assert verified["controller"] == running.actor_url

    changed = copy.deepcopy(statement)
    changed["checksHeld"][0]["validThrough"] = "2031-01-01"
    refused = await fedify_peer.verify_proof(changed)
    assert not refused["ok"], refused
