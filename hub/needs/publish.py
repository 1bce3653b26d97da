"""Sending needs to followers: Create when posted, Update on every public change (status
included), Delete when cancelled or removed; one activity per change, through the outbox."""

from __future__ import annotations

from hub.activitypub.needs import deleted_need_activity, need_activity
from hub.runtime import Hub
from hub.services.outbox import Also, publish_to_followers
from hub.store.needs import LocalNeed


async def publish_need(hub: Hub, kind: str, need: LocalNeed, *,
                       also: Also | None = None) -> None:
    """`Create` or `Update` of the need to every follower; `also` writes the change itself
    in the transaction that queues it."""
    when = (need.updated_at or need.published_at) if kind == "Update" else need.published_at
    await publish_to_followers(hub, need_activity(kind, need, hub.urls, when=when), also=also)


async def publish_need_deletion(hub: Hub, need: LocalNeed, *, when: float,
                                also: Also | None = None) -> None:
    await publish_to_followers(hub, deleted_need_activity(need, hub.urls, when=when),
                               also=also)
