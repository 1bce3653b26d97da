"""Events, their recurring series, and the participation counts the Event JSON shows.

Each occurrence of a series is its own `events` row with a stable id and uuid, so RSVPs can
point at it. A deleted event keeps its row (`deleted_at`), and its URL answers with a
Tombstone. Writes that belong together (a series and its occurrences, a series edit) go in
one transaction.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from hub.store.db import Database

T = TypeVar("T")
Then = Callable[[sqlite3.Connection, T], None]

# Columns a service may write; id, uuid, series_id and published_at are set on insert only.
EVENT_COLUMNS = (
    "kind", "title", "description_source", "description_html", "timezone", "start_local",
    "end_local", "start_at", "end_at", "place_name", "street_address", "locality",
    "postal_code", "region", "country", "latitude", "longitude", "online_url", "capacity",
    "join_mode", "external_url", "category", "hashtags", "banner_id", "language", "status",
    "previous_start_at", "learning_outcome", "level", "what_to_bring", "teacher_name",
    "teacher_actor_id")


@dataclass(frozen=True)
class Event:
    id: int
    uuid: str
    series_id: int | None
    occurrence_date: str | None
    kind: str
    title: str
    description_source: str
    description_html: str
    timezone: str
    start_local: str
    end_local: str
    start_at: float
    end_at: float
    place_name: str | None
    street_address: str | None
    locality: str | None
    postal_code: str | None
    region: str | None
    country: str | None
    latitude: float | None
    longitude: float | None
    online_url: str | None
    capacity: int | None
    join_mode: str
    external_url: str | None
    category: str | None
    hashtags: tuple[str, ...]
    banner_id: int | None
    language: str
    status: str
    previous_start_at: float | None
    learning_outcome: str | None
    level: str | None
    what_to_bring: str | None
    teacher_name: str | None
    teacher_actor_id: str | None
    published_at: float
    updated_at: float | None
    deleted_at: float | None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class Series:
    id: int
    uuid: str
    template: dict[str, Any]
    rule: dict[str, Any]
    teacher_name: str | None
    teacher_actor_id: str | None
    created_at: float
    updated_at: float | None
    deleted_at: float | None


def _event(row: Any) -> Event:
    data = dict(row)
    data["hashtags"] = tuple(orjson.loads(data["hashtags"]))
    return Event(**data)


def _series(row: Any) -> Series:
    data = dict(row)
    data["template"], data["rule"] = orjson.loads(data["template"]), orjson.loads(data["rule"])
    return Series(**data)


def _values(columns: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(columns) - set(EVENT_COLUMNS)
    if unknown:
        raise KeyError(f"not event columns: {sorted(unknown)}")
    values = dict(columns)
    if "hashtags" in values:
        values["hashtags"] = orjson.dumps(list(values["hashtags"])).decode()
    return values


def _insert_event(conn: sqlite3.Connection, event_uuid: str, columns: Mapping[str, Any],
                  series_id: int | None, occurrence_date: str | None, now: float) -> Event:
    values = {**_values(columns), "uuid": event_uuid, "series_id": series_id,
              "occurrence_date": occurrence_date, "published_at": now}
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    return _event(conn.execute(f"INSERT INTO events ({names}) VALUES ({marks}) RETURNING *",
                               tuple(values.values())).fetchone())


# Each write below takes `then(conn, what it wrote)`, run in its transaction: the service
# queues the activities telling followers there (`hub.events.publish`), built from the rows
# as written, so they are stored with the change or not at all.
async def insert_event(db: Database, event_uuid: str, columns: Mapping[str, Any], *,
                       then: Then[list[Event]] | None = None) -> Event:
    [event] = await _write(db, lambda conn, now: [
        _insert_event(conn, event_uuid, columns, None, None, now)], then)
    return event


Occurrences = Sequence[tuple[str, str, Mapping[str, Any]]]  # (uuid, date, columns)


async def insert_series(db: Database, series_uuid: str, template: Mapping[str, Any],
                        rule: Mapping[str, Any], teacher: tuple[str | None, str | None],
                        occurrences: Occurrences, *,
                        then: Then[list[Event]] | None = None) -> tuple[Series, list[Event]]:
    """A series, its resolved (teacher name, actor) and its first occurrences, at once."""
    def write(conn: sqlite3.Connection) -> tuple[Series, list[Event]]:
        now = time.time()
        series = _series(conn.execute(
            "INSERT INTO event_series (uuid, template, rule, teacher_name, teacher_actor_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
            (series_uuid, orjson.dumps(template).decode(), orjson.dumps(rule).decode(),
             *teacher, now)).fetchone())
        events = [_insert_event(conn, u, cols, series.id, day, now)
                  for u, day, cols in occurrences]
        _after(conn, then, events)
        return series, events

    return await db.run_in_writer(write)


@dataclass(frozen=True)
class SeriesChange:
    """What one series edit did, each list in date order."""

    updated: list[Event]
    deleted: list[Event]
    created: list[Event]


async def change_series(db: Database, series: Series, *, template: Mapping[str, Any],
                        rule: Mapping[str, Any], teacher: tuple[str | None, str | None],
                        updates: Sequence[tuple[int, Mapping[str, Any]]] = (),
                        deletes: Sequence[int] = (), inserts: Occurrences = (),
                        end: bool = False,
                        then: Then[SeriesChange] | None = None) -> SeriesChange:
    """Save a series' template and rule and change its occurrences in one transaction;
    `end` stops the series making more."""
    def write(conn: sqlite3.Connection) -> SeriesChange:
        now = time.time()
        conn.execute(
            "UPDATE event_series SET template = ?, rule = ?, teacher_name = ?, "
            "teacher_actor_id = ?, updated_at = ?, deleted_at = CASE WHEN ? THEN "
            "COALESCE(deleted_at, ?) ELSE deleted_at END WHERE id = ?",
            (orjson.dumps(template).decode(), orjson.dumps(rule).decode(), *teacher, now,
             end, now, series.id))
        deleted = _delete(conn, deletes, now)
        updated = _update(conn, updates, now)
        created = [_insert_event(conn, u, cols, series.id, day, now)
                   for u, day, cols in inserts]
        change = SeriesChange(updated, deleted, created)
        _after(conn, then, change)
        return change

    return await db.run_in_writer(write)


async def get_event(db: Database, event_uuid: str) -> Event | None:
    """An event (deleted ones too: check `deleted`) by its uuid."""
    row = await db.fetchone("SELECT * FROM events WHERE uuid = ?", (event_uuid,))
    return None if row is None else _event(row)


async def get_event_by_id(db: Database, event_id: int) -> Event | None:
    row = await db.fetchone("SELECT * FROM events WHERE id = ?", (event_id,))
    return None if row is None else _event(row)


def _update(conn: sqlite3.Connection, changes: Iterable[tuple[int, Mapping[str, Any]]],
            now: float) -> list[Event]:
    updated = []
    for event_id, columns in changes:
        values = {**_values(columns), "updated_at": now}
        sets = ", ".join(f"{name} = ?" for name in values)
        row = conn.execute(
            f"UPDATE events SET {sets} WHERE id = ? AND deleted_at IS NULL RETURNING *",
            (*values.values(), event_id)).fetchone()
        if row is not None:
            updated.append(_event(row))
    return updated


def _delete(conn: sqlite3.Connection, event_ids: Iterable[int], now: float) -> list[Event]:
    deleted = []
    for event_id in event_ids:
        row = conn.execute(
            "UPDATE events SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL RETURNING *",
            (now, event_id)).fetchone()
        if row is not None:
            deleted.append(_event(row))
    return deleted


async def update_events(db: Database, changes: Iterable[tuple[int, Mapping[str, Any]]], *,
                        then: Then[list[Event]] | None = None) -> list[Event]:
    """Set columns on live events, all in one transaction; stamps `updated_at`."""
    changes = list(changes)
    return await _write(db, lambda conn, now: _update(conn, changes, now), then)


async def delete_events(db: Database, event_ids: Iterable[int], *,
                        then: Then[list[Event]] | None = None) -> list[Event]:
    """Mark live events deleted, in one transaction; returns those that were live."""
    event_ids = list(event_ids)
    return await _write(db, lambda conn, now: _delete(conn, event_ids, now), then)


async def _write(db: Database, change: Callable[[sqlite3.Connection, float], T],
                 then: Then[T] | None) -> T:
    """`change(conn, now)`, then `then` on what it wrote, in one transaction."""
    def write(conn: sqlite3.Connection) -> T:
        written = change(conn, time.time())
        _after(conn, then, written)
        return written

    result: T = await db.run_in_writer(write)
    return result


def _after(conn: sqlite3.Connection, then: Then[T] | None, written: T) -> None:
    if then is not None:
        then(conn, written)


async def list_upcoming(db: Database, *, now: float | None = None, limit: int = 50,
                        offset: int = 0, tag: str | None = None,
                        category: str | None = None) -> list[Event]:
    """Live events not yet ended, soonest first; optionally with a hashtag or category."""
    sql, params = _upcoming_filter(now, tag, category)
    rows = await db.fetchall(
        f"SELECT * FROM events WHERE {sql} ORDER BY start_at, id LIMIT ? OFFSET ?",
        (*params, limit, offset))
    return [_event(r) for r in rows]


async def count_upcoming(db: Database, *, now: float | None = None, tag: str | None = None,
                         category: str | None = None) -> int:
    sql, params = _upcoming_filter(now, tag, category)
    return int(await db.fetchval(f"SELECT count(*) FROM events WHERE {sql}", params))


def _upcoming_filter(now: float | None, tag: str | None,
                     category: str | None) -> tuple[str, list[Any]]:
    clauses, params = ["deleted_at IS NULL", "end_at > ?"], [time.time() if now is None else now]
    if tag is not None:
        clauses.append("EXISTS (SELECT 1 FROM json_each(events.hashtags) "
                       "WHERE lower(json_each.value) = ?)")
        params.append(tag.lower())
    if category is not None:
        clauses.append("category = ?")
        params.append(category)
    return " AND ".join(clauses), params


async def series_events(db: Database, series_id: int, *,
                        include_deleted: bool = False) -> list[Event]:
    """A series' occurrences in date order (live ones unless asked)."""
    live = "" if include_deleted else " AND deleted_at IS NULL"
    rows = await db.fetchall(
        f"SELECT * FROM events WHERE series_id = ?{live} ORDER BY start_at, id", (series_id,))
    return [_event(r) for r in rows]


async def get_series(db: Database, series_uuid: str) -> Series | None:
    row = await db.fetchone("SELECT * FROM event_series WHERE uuid = ?", (series_uuid,))
    return None if row is None else _series(row)


async def get_series_by_id(db: Database, series_id: int) -> Series | None:
    row = await db.fetchone(_SERIES_BY_ID, (series_id,))
    return None if row is None else _series(row)


def series_uuid_in(conn: sqlite3.Connection, series_id: int) -> str | None:
    """A series' uuid, inside the caller's transaction."""
    row = conn.execute(_SERIES_BY_ID, (series_id,)).fetchone()
    return None if row is None else str(row["uuid"])


_SERIES_BY_ID = "SELECT * FROM event_series WHERE id = ?"


async def live_series_ids(db: Database) -> list[int]:
    """Series still making occurrences (for the daily top-up job)."""
    rows = await db.fetchall("SELECT id FROM event_series WHERE deleted_at IS NULL ORDER BY id")
    return [r["id"] for r in rows]


async def participation_counts(db: Database, event_id: int) -> tuple[int, int]:
    """(going, waitlisted) for an event: what `participantCount`, `remainingAttendeeCapacity`
    and the summary line's "N places left" are computed from.

    One indexed query on the RSVP table (`hub.store.participants`), whose rows every RSVP
    path writes; every caller (Event JSON, pages, summary line) reads the counts here.
    """
    return _counts(await db.fetchone(_COUNTS, (event_id,)))


def participation_counts_in(conn: sqlite3.Connection, event_id: int) -> tuple[int, int]:
    """`participation_counts` inside the caller's transaction."""
    return _counts(conn.execute(_COUNTS, (event_id,)).fetchone())


_COUNTS = ("SELECT coalesce(sum(state = 'going'), 0), coalesce(sum(state = 'waitlisted'), 0) "
           "FROM participants WHERE event_id = ?")


def _counts(row: Any) -> tuple[int, int]:
    return (0, 0) if row is None else (int(row[0]), int(row[1]))
