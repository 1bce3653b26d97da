"""Events other servers published (`remote_events`), normalised, for the nearby calendar.

`hub.events.remote.parse_remote_event` makes a `RemoteEvent` from foreign Event JSON; this
module only stores and reads them. The object as received goes to `remote_objects` in the
same transaction, so an event is never half-stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from hub.store.db import Database

STATUSES = ("scheduled", "tentative", "postponed", "cancelled", "moved_online", "rescheduled")


@dataclass(frozen=True)
class RemoteEvent:
    """An event from another server, as the hub understands it."""

    id: str
    origin_actor_id: str
    origin_host: str
    url: str
    name: str
    start: datetime                     # aware, UTC
    end: datetime | None = None         # aware, UTC
    timezone: str | None = None         # IANA zone, when the sender gave a valid one
    utc_offset: int | None = None       # seconds east of UTC of the start as written
    summary_html: str = ""
    content_html: str = ""
    place_name: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    online_url: str | None = None
    status: str = "scheduled"
    capacity: int | None = None
    remaining: int | None = None
    participants: int | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    banner_url: str | None = None
    organiser_id: str | None = None

    @property
    def zone(self) -> tzinfo:
        """Where its times are read: its IANA zone, else the offset it was sent with
        (Gancio sends no zone), else UTC."""
        if self.timezone:
            return ZoneInfo(self.timezone)
        if self.utc_offset is not None:
            return timezone(timedelta(seconds=self.utc_offset))
        return UTC


@dataclass(frozen=True)
class StoredRemoteEvent:
    event: RemoteEvent
    origin_name: str | None             # the origin actor's display name, when known
    received_at: float
    updated_at: float | None
    deleted_at: float | None


_COLUMNS = ("id", "origin_actor_id", "origin_host", "organiser_id", "url", "name",
            "summary_html", "content_html", "start_at", "end_at", "timezone", "utc_offset",
            "place_name", "address", "latitude", "longitude", "online_url", "status",
            "capacity", "remaining", "participants", "category", "tags", "banner_url")
_UPDATABLE = [c for c in _COLUMNS if c not in ("id", "origin_actor_id")]

# An existing row changes only for the actor it came from, and never once deleted: a late
# Update must not bring a deleted event back.
_UPSERT_EVENT = (
    f"INSERT INTO remote_events ({', '.join(_COLUMNS)}, received_at) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}, ?) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _UPDATABLE)
    + ", updated_at = excluded.received_at "
    "WHERE remote_events.origin_actor_id = excluded.origin_actor_id "
    "AND remote_events.deleted_at IS NULL")
# The same rule as hub.store.remote_objects.upsert_remote_object, in this transaction.
_UPSERT_OBJECT = (
    "INSERT INTO remote_objects (id, type, actor_id, document, received_at) "
    "VALUES (?, 'Event', ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET type = excluded.type, document = excluded.document, "
    "updated_at = excluded.received_at WHERE remote_objects.actor_id = excluded.actor_id")

_SELECT = ("SELECT e.*, COALESCE(a.name, a.preferred_username) AS origin_name "
           "FROM remote_events e LEFT JOIN remote_actors a ON a.id = e.origin_actor_id ")
_FOLLOWED = ("EXISTS (SELECT 1 FROM following f WHERE f.actor_id = e.origin_actor_id "
             "AND f.state = 'accepted')")


def _values(event: RemoteEvent) -> tuple[Any, ...]:
    return (event.id, event.origin_actor_id, event.origin_host, event.organiser_id, event.url,
            event.name, event.summary_html, event.content_html, event.start.timestamp(),
            event.end.timestamp() if event.end else None, event.timezone, event.utc_offset,
            event.place_name, event.address, event.latitude, event.longitude,
            event.online_url, event.status, event.capacity, event.remaining,
            event.participants, event.category, orjson.dumps(list(event.tags)).decode(),
            event.banner_url)


async def save_remote_event(db: Database, event: RemoteEvent, document: dict[str, Any]) -> bool:
    """Insert or update the event and its raw object; False if the row was not changed
    (it belongs to another actor, or was deleted)."""
    now = time.time()
    async with db.transaction() as conn:
        cursor = await conn.execute(_UPSERT_EVENT, (*_values(event), now))
        if cursor.rowcount == 0:
            return False
        await conn.execute(_UPSERT_OBJECT, (event.id, event.origin_actor_id,
                                            orjson.dumps(document).decode(), now))
        return True


async def get_remote_event(db: Database, event_id: str) -> StoredRemoteEvent | None:
    row = await db.fetchone(_SELECT + "WHERE e.id = ?", (event_id,))
    return None if row is None else _stored(row)


async def tombstone_remote_event(db: Database, event_id: str) -> bool:
    """Mark the event (and its raw object) deleted; False if it was not there or already gone."""
    now = time.time()
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE remote_events SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
            (now, event_id))
        await conn.execute(
            "UPDATE remote_objects SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
            (now, event_id))
        return cursor.rowcount > 0


async def forget_origin(db: Database, actor_id: str) -> int:
    """The origin actor deleted itself: its events go with it. Returns how many."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE remote_events SET deleted_at = ? "
            "WHERE origin_actor_id = ? AND deleted_at IS NULL", (time.time(), actor_id))
        return cursor.rowcount


async def list_upcoming(db: Database, *, now: float, include_cancelled: bool = False,
                        followed_only: bool = True, limit: int = 500) -> list[StoredRemoteEvent]:
    """Events not over yet (the end, or the start when there is none, is at or after
    `now`), soonest first; by default only from actors the hub still follows."""
    where = ["e.deleted_at IS NULL", "COALESCE(e.end_at, e.start_at) >= ?"]
    if not include_cancelled:
        where.append("e.status != 'cancelled'")
    if followed_only:
        where.append(_FOLLOWED)
    rows = await db.fetchall(
        _SELECT + "WHERE " + " AND ".join(where) + " ORDER BY e.start_at, e.id LIMIT ?",
        (now, limit))
    return [_stored(r) for r in rows]


async def list_by_origin(db: Database, origin_actor_id: str, *, now: float | None = None,
                         limit: int = 500) -> list[StoredRemoteEvent]:
    """One origin's live events, soonest first; only those not over yet when `now` is given."""
    where, params = "e.origin_actor_id = ? AND e.deleted_at IS NULL", [origin_actor_id]
    if now is not None:
        where += " AND COALESCE(e.end_at, e.start_at) >= ?"
        params.append(now)
    rows = await db.fetchall(_SELECT + f"WHERE {where} ORDER BY e.start_at, e.id LIMIT ?",
                             (*params, limit))
    return [_stored(r) for r in rows]


def _instant(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _stored(row: Any) -> StoredRemoteEvent:
    data = dict(row)
    fields = {c: data[c] for c in _COLUMNS if c not in ("start_at", "end_at", "tags")}
    event = RemoteEvent(**fields, start=datetime.fromtimestamp(data["start_at"], UTC),
                        end=_instant(data["end_at"]), tags=tuple(orjson.loads(data["tags"])))
    return StoredRemoteEvent(event, data["origin_name"], data["received_at"],
                             data["updated_at"], data["deleted_at"])
