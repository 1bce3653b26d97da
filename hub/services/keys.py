"""The hub's signing keys: rotating the hub actor's key and telling peers about it."""

from __future__ import annotations

import time

from hub.activitypub.actors import group_actor
from hub.activitypub.notes import wrap
from hub.keyring import create_key
from hub.runtime import Hub
from hub.services.outbox import publish
from hub.store import follows as follow_store


async def rotate_key(hub: Hub) -> int:
    """Make a new key pair for the hub actor and sign with it from now on (in this process;
    another running hub reloads it within its key-reload interval), then queue an actor
    `Update` to followers and followed actors so that peers which cached the old key learn the
    new one. Returns how many inboxes the Update is queued for.
    """
    await create_key(hub.db, "hub")
    await hub.keyring.load()
    actor = group_actor(hub.settings, hub.urls, hub.keyring.public_pem("hub"),
                        hub.keyring.assertion_multikey())
    update = wrap("Update", actor, hub.urls, when=time.time())
    inboxes = await follow_store.follower_inboxes(hub.db)
    for row in await follow_store.list_following(hub.db, limit=100_000):
        inboxes.append((await hub.actors.get(row["actor_id"])).delivery_inbox)
    await publish(hub, update, inboxes)
    return len(set(inboxes))
