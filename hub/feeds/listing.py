"""Events as the calendar's outputs list them: each with its count of people going."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from hub.feeds.selection import Selection
from hub.store import events as event_store
from hub.store.db import Database
from hub.store.events import Event

RECENT_SECONDS = 30 * 24 * 3600  # the hub's iCalendar feed keeps a month of past events
FEED_LIMIT = 1000


@dataclass(frozen=True)
class Listed:
    event: Event
    going: int

    @property
    def changed_at(self) -> float:
        """When the event was last revised (its DTSTAMP, LAST-MODIFIED and Atom `updated`)."""
        return self.event.updated_at or self.event.published_at


async def with_counts(db: Database, events: Iterable[Event]) -> list[Listed]:
    listed = []
    for event in events:
        going, _ = await event_store.participation_counts(db, event.id)
        listed.append(Listed(event, going))
    return listed


async def upcoming(db: Database, selection: Selection, *, limit: int, offset: int = 0,
                   now: float | None = None) -> list[Listed]:
    """Live events not yet ended, soonest first."""
    events = await event_store.list_upcoming(db, now=now, limit=limit, offset=offset,
                                             tag=selection.tag, category=selection.category)
    return await with_counts(db, events)


async def for_calendar_feed(db: Database, selection: Selection) -> list[Listed]:
    """Upcoming events and those that ended in the last month, so a subscribed calendar
    still shows what just happened."""
    since = time.time() - RECENT_SECONDS
    return await upcoming(db, selection, limit=FEED_LIMIT, now=since)
