"""Sending events to followers: Create, Update and Delete, one activity per event.

A fediverse teacher is addressed in `cc` and their inbox is added to the deliveries, so
their server (which may have no follower of the hub) receives the mention and notifies them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from federation.errors import FederationError
from hub.activitypub.events import (
    EventExtras,
    deleted_event_activity,
    event_activity,
    event_object,
)
from hub.runtime import Hub
from hub.services.outbox import publish_to_followers
from hub.store import events as event_store
from hub.store import media as media_store
from hub.store.events import Event

log = logging.getLogger(__name__)


async def extras_for(hub: Hub, event: Event,
                     series_uuids: dict[int, str] | None = None) -> EventExtras:
    """Banner, counts and series of an event, read for its JSON."""
    banner = None
    if event.banner_id is not None:
        banner = await media_store.get_media_by_id(hub.db, event.banner_id)
    going, _ = await event_store.participation_counts(hub.db, event.id)
    series_uuid = None
    if event.series_id is not None:
        cache = {} if series_uuids is None else series_uuids
        if event.series_id not in cache:
            series = await event_store.get_series_by_id(hub.db, event.series_id)
            cache[event.series_id] = series.uuid if series else ""
        series_uuid = cache[event.series_id] or None
    return EventExtras(banner=banner, going=going, series_uuid=series_uuid)


async def event_document(hub: Hub, event: Event) -> dict[str, Any]:
    """The event's JSON as served at its URL (a Tombstone once deleted)."""
    return event_object(event, hub.urls, await extras_for(hub, event))


async def _teacher_inboxes(hub: Hub, event: Event) -> list[str]:
    if not event.teacher_actor_id:
        return []
    try:
        actor = await hub.actors.get(event.teacher_actor_id)
    except FederationError as exc:
        # Followers still get the activity; only the teacher's own copy is missed.
        log.warning("cannot reach teacher %s of %s: %s", event.teacher_actor_id, event.uuid,
                    exc)
        return []
    return [actor.delivery_inbox]


async def publish_events(hub: Hub, kind: str, events: Iterable[Event]) -> None:
    """`Create` or `Update` of each event to followers (and its fediverse teacher)."""
    series_uuids: dict[int, str] = {}
    for event in events:
        extras = await extras_for(hub, event, series_uuids)
        when = (event.updated_at or event.published_at) if kind == "Update" else (
            event.published_at)
        activity = event_activity(kind, event, hub.urls, extras, when=when)
        await publish_to_followers(hub, activity, await _teacher_inboxes(hub, event))


async def publish_deletions(hub: Hub, events: Iterable[Event]) -> None:
    for event in events:
        when = event.deleted_at or time.time()
        activity = deleted_event_activity(event, hub.urls, when=when)
        await publish_to_followers(hub, activity, await _teacher_inboxes(hub, event))
