"""Events and skill-share sessions: create, edit, change status, delete, each sent to
followers as Create / Update / Delete of an `Event`.

The public API other parts of the hub build on (RSVPs, feeds, pages, the console):

- `create_event(hub, draft)`, `update_event(hub, uuid, patch)`, `delete_event(hub, uuid)`
- `change_status(hub, uuid, status, ...)` and its shorthands `postpone_event`,
  `cancel_event`, `move_online`, `reschedule_event`
- series: `create_series`, `update_series`, `add_exceptions`, `delete_series`,
  `extend_series`, `extend_all_series` (in `hub.events.series`, re-exported here)
- reading: `get_event`, `list_upcoming`, `participation_counts` (from `hub.store.events`)

Input is checked first (`hub.events.model`), look-ups second; nothing is stored on a refusal.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from federation.errors import NotFound
from hub.events import series as series_service
from hub.events.model import (
    STATUSES,
    EventDraft,
    FieldError,
    check_timezone,
    check_url,
    merge_patch,
    parse_times,
)
from hub.events.publish import announcement
from hub.events.recurrence import to_utc
from hub.events.rows import changed, columns, draft_of, resolve, resolved_of
from hub.rsvp.service import promote_waitlist
from hub.runtime import Hub
from hub.store import events as event_store
from hub.store import media as media_store
from hub.store.events import Event, get_event, list_upcoming, participation_counts

create_series = series_service.create_series
update_series = series_service.update_series
add_exceptions = series_service.add_exceptions
delete_series = series_service.delete_series
extend_series = series_service.extend_series
extend_all_series = series_service.extend_all_series

__all__ = [
    "add_exceptions", "cancel_event", "change_status", "create_event", "create_series",
    "delete_event", "delete_series", "extend_all_series", "extend_series", "get_event",
    "list_upcoming", "live_event", "move_online", "participation_counts", "postpone_event",
    "reschedule_event", "update_event", "update_series",
]


async def live_event(hub: Hub, event_uuid: str) -> Event:
    """The event, or NotFound if there is none or it was deleted."""
    event = await get_event(hub.db, event_uuid)
    if event is None or event.deleted:
        raise NotFound(f"no event {event_uuid}")
    return event


async def create_event(hub: Hub, draft: EventDraft) -> Event:
    """Store a single event and send `Create` to followers."""
    resolved = await resolve(hub, draft)
    told = await announcement(hub, [resolved.teacher_actor_id])
    event = await event_store.insert_event(hub.db, str(uuid.uuid4()), columns(draft, resolved),
                                           then=told.created)
    hub.wake_delivery()
    return event


async def _draft(hub: Hub, event: Event) -> EventDraft:
    banner = None
    if event.banner_id is not None:
        media = await media_store.get_media_by_id(hub.db, event.banner_id)
        banner = media.uuid if media else None
    return draft_of(event, banner)


async def _save(hub: Hub, event: Event, cols: Mapping[str, Any]) -> Event:
    """Write the columns that changed and send `Update`; unchanged means nothing is sent."""
    diff = changed(event, dict(cols))
    if not diff:
        return event
    told = await announcement(hub, [diff.get("teacher_actor_id", event.teacher_actor_id)])
    updated = await event_store.update_events(hub.db, [(event.id, diff)], then=told.updated)
    if not updated:
        raise NotFound(f"no event {event.uuid}")
    hub.wake_delivery()
    return updated[0]


async def update_event(hub: Hub, event_uuid: str, patch: Mapping[str, Any]) -> Event:
    """Edit one event (or one occurrence of a series) with some of its fields."""
    event = await live_event(hub, event_uuid)
    draft = merge_patch(await _draft(hub, event), patch)
    resolved = await resolve(hub, draft, resolved_of(event))
    updated = await _save(hub, event, columns(draft, resolved))
    if _more_places(event, updated):
        await promote_waitlist(hub, updated)  # the waitlist moves up at once, and is told
    return updated


def _more_places(before: Event, after: Event) -> bool:
    if before.capacity is None:
        return False
    return after.capacity is None or after.capacity > before.capacity


def _new_times(event: Event, options: Mapping[str, Any]) -> dict[str, Any]:
    for name in ("start", "end"):
        if options.get(name) is None:
            raise FieldError(name, "is required to reschedule: the new local time")
    timezone = check_timezone(options.get("timezone") or event.timezone)
    start, end = parse_times(options, timezone)
    zone = ZoneInfo(timezone)
    return {"timezone": timezone, "start_local": start.isoformat(),
            "end_local": end.isoformat(), "start_at": to_utc(start, zone).timestamp(),
            "end_at": to_utc(end, zone).timestamp(), "previous_start_at": event.start_at}


def _status_columns(event: Event, status: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    if status not in STATUSES:
        raise FieldError("status", f"is one of {', '.join(STATUSES)}")
    allowed = {"moved_online": {"online_url"},
               "rescheduled": {"start", "end", "timezone"}}.get(status, set())
    extra = sorted(k for k, v in options.items() if v is not None and k not in allowed)
    if extra:
        raise FieldError(extra[0], f"is not used when the status is {status}")
    cols: dict[str, Any] = {"status": status}
    if status == "moved_online":
        url = options.get("online_url") or event.online_url
        if url is None:
            raise FieldError("online_url", "is required to move an event online")
        cols["online_url"] = check_url("online_url", url)
    if status == "rescheduled":
        cols.update(_new_times(event, options))
    return cols


async def change_status(hub: Hub, event_uuid: str, status: str, *,
                        online_url: str | None = None, start: str | None = None,
                        end: str | None = None, timezone: str | None = None) -> Event:
    """Postpone, cancel, move online (with an online URL), reschedule (with new local start
    and end) or set back to scheduled; followers get `Update` with the new `eventStatus`."""
    event = await live_event(hub, event_uuid)
    options = {"online_url": online_url, "start": start, "end": end, "timezone": timezone}
    return await _save(hub, event, _status_columns(event, status, options))


async def postpone_event(hub: Hub, event_uuid: str) -> Event:
    return await change_status(hub, event_uuid, "postponed")


async def cancel_event(hub: Hub, event_uuid: str) -> Event:
    return await change_status(hub, event_uuid, "cancelled")


async def move_online(hub: Hub, event_uuid: str, online_url: str | None = None) -> Event:
    return await change_status(hub, event_uuid, "moved_online", online_url=online_url)


async def reschedule_event(hub: Hub, event_uuid: str, start: str, end: str, *,
                           timezone: str | None = None) -> Event:
    return await change_status(hub, event_uuid, "rescheduled", start=start, end=end,
                               timezone=timezone)


async def delete_event(hub: Hub, event_uuid: str) -> Event:
    """Delete an event (its URL then answers 410 with a Tombstone) and send `Delete`. An
    occurrence's date becomes an exception of its series, so it is not made again."""
    event = await live_event(hub, event_uuid)
    if event.series_id is not None:
        deleted = await series_service.delete_occurrence(hub, event)
    else:
        told = await announcement(hub, [event.teacher_actor_id])
        gone = await event_store.delete_events(hub.db, [event.id], then=told.deleted)
        if not gone:
            raise NotFound(f"no event {event_uuid}")
        hub.wake_delivery()
        deleted = gone[0]
    return deleted
