"""Sending events to followers: Create, Update and Delete, one activity per event.

A fediverse teacher is addressed in `cc` and their inbox is added to the deliveries, so
their server (which may have no follower of the hub) receives the mention and notifies them.

The activities are queued in the transaction that changes the events (`Announcement`, passed
to the store's writes as `then`), built from the rows as written: followers hear of every
change that was stored, and of none that was not.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from federation.errors import FederationError
from hub.activitypub.events import (
    EventExtras,
    deleted_event_activity,
    event_activity,
    event_object,
)
from hub.runtime import Hub
from hub.services.outbox import also_send
from hub.store import events as event_store
from hub.store import follows as follow_store
from hub.store import media as media_store
from hub.store.deliveries import Targets, inbox_host
from hub.store.events import Event, SeriesChange
from hub.urls import Urls

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


def extras_in(conn: sqlite3.Connection, event: Event) -> EventExtras:
    """`extras_for`, read inside the transaction that wrote the event."""
    banner = (None if event.banner_id is None
              else media_store.media_by_id_in(conn, event.banner_id))
    going, _ = event_store.participation_counts_in(conn, event.id)
    series_uuid = (None if event.series_id is None
                   else event_store.series_uuid_in(conn, event.series_id))
    return EventExtras(banner=banner, going=going, series_uuid=series_uuid)


async def event_document(hub: Hub, event: Event) -> dict[str, Any]:
    """The event's JSON as served at its URL (a Tombstone once deleted)."""
    return event_object(event, hub.urls, await extras_for(hub, event))


@dataclass(frozen=True)
class Announcement:
    """Who hears of some events' changes: the followers, and with them each fediverse
    teacher (by actor id), read and checked before the change's transaction; `queue` runs
    inside it."""

    urls: Urls
    followers: Targets
    with_teacher: Mapping[str, Targets]

    def queue(self, conn: sqlite3.Connection, kind: str, events: Iterable[Event]) -> None:
        """`Create`, `Update` or `Delete` of each event, in the caller's transaction."""
        for event in events:
            if kind == "Delete":
                activity = deleted_event_activity(event, self.urls,
                                                  when=event.deleted_at or time.time())
            else:
                when = ((event.updated_at or event.published_at) if kind == "Update"
                        else event.published_at)
                activity = event_activity(kind, event, self.urls, extras_in(conn, event),
                                          when=when)
            targets = self.with_teacher.get(event.teacher_actor_id or "", self.followers)
            also_send(activity, targets, public=True)(conn)

    def created(self, conn: sqlite3.Connection, events: list[Event]) -> None:
        self.queue(conn, "Create", events)

    def updated(self, conn: sqlite3.Connection, events: list[Event]) -> None:
        self.queue(conn, "Update", events)

    def deleted(self, conn: sqlite3.Connection, events: list[Event]) -> None:
        self.queue(conn, "Delete", events)

    def series_changed(self, conn: sqlite3.Connection, change: SeriesChange) -> None:
        self.queue(conn, "Delete", change.deleted)
        self.queue(conn, "Update", change.updated)
        self.queue(conn, "Create", change.created)


async def announcement(hub: Hub, teachers: Iterable[str | None]) -> Announcement:
    """Read who will hear of a change to events taught by `teachers` (actor ids, or None);
    queue it with the change (a `then` of `hub.store.events`), then `hub.wake_delivery()`."""
    followers = Targets.of(sorted(await follow_store.follower_inboxes(hub.db)))
    with_teacher = {}
    for actor_id in {t for t in teachers if t}:
        inbox = await _teacher_inbox(hub, actor_id)
        if inbox is not None:
            with_teacher[actor_id] = followers.plus([inbox])
    return Announcement(hub.urls, followers, with_teacher)


async def _teacher_inbox(hub: Hub, actor_id: str) -> str | None:
    """Checked here, before the change's transaction: an inbox we cannot use must not undo
    the change (followers still get the activity; only the teacher's own copy is missed)."""
    try:
        actor = await hub.actors.get(actor_id)
        inbox_host(actor.delivery_inbox)  # one we can use: checked before the transaction
    except FederationError as exc:
        log.warning("cannot reach teacher %s: %s", actor_id, exc)
        return None
    return actor.delivery_inbox
