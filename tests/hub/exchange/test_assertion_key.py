"""The hub's Ed25519 key for integrity proofs: published as a Multikey, kept across restarts."""

from __future__ import annotations

import aiohttp

from federation.integrity import add_proof, verify_proof
from federation.keys import find_key
from hub.keyring import Keyring
from hub.store import keys as key_store
from tests.support.hubs import RunningHub


async def _actor(hub: RunningHub) -> dict:
    async with aiohttp.ClientSession() as session, session.get(
            hub.actor_url, headers={"Accept": "application/activity+json"}) as response:
        return await response.json(content_type=None)


async def test_the_actor_publishes_the_key_that_signs_its_proofs(hubs) -> None:
    a = await hubs("a")
    actor = await _actor(a)
    assert "https://w3id.org/security/multikey/v1" in actor["@context"]
    key = find_key(actor, a.hub.urls.assertion_key_id)
    signed = add_proof({"type": "Note"}, a.hub.keyring.assertion_private_key(),
                       a.hub.urls.assertion_key_id, created="2026-01-01T00:00:00Z")
    assert verify_proof(signed, key.public_key) == {"type": "Note"}
    # The RSA key still signs requests: it is the actor's main key as before.
    assert actor["publicKey"]["id"] == a.hub.urls.key_id


async def test_a_hub_without_one_gets_one_once_and_keeps_it(hubs) -> None:
    a = await hubs("a")
    db, urls = a.hub.db, a.hub.urls
    first = a.hub.keyring.assertion_multikey()
    again = Keyring(db, urls)
    await again.load()
    assert again.assertion_multikey() == first
    # A database from before integrity proofs: no Ed25519 key row at all.
    await db.execute("DELETE FROM local_assertion_keys")
    fresh = Keyring(db, urls)
    await fresh.load()
    assert fresh.assertion_multikey() != first
    assert await key_store.current_assertion_key(db) is not None
