"""Volunteer needs: this hub's own (`needs`) and those hubs it follows sent (`remote_needs`).

Both kinds are read back as a `NeedDraft` (hub.needs.model) plus their state, so one converter
(`hub.needs.matching.to_matcher_need`) serves both. A local need's `private_notes` is read only
here and in staff views; nothing that publishes or renders public pages may send it out.
"""

from __future__ import annotations

import sqlite3
import time
import uuid as uuid_module
from dataclasses import dataclass
from datetime import date
from datetime import time as clock
from typing import Any

import aiosqlite
import orjson

from hub.needs.model import STATUSES, NeedDraft
from hub.store.db import Database

# Columns both tables share, in the draft's terms.
_LISTS = ("skills", "interests", "tags", "checks_required", "languages_required",
          "languages_preferred")
_DATES = ("on_date", "starts_on", "ends_on")
_CLOCKS = ("start_time", "end_time")
_SHARED = ("kind", "title", "description", *_LISTS, "accessibility", "district", "latitude",
           "longitude", "max_distance_km", "volunteers_wanted", "timezone", *_DATES, "slots",
           *_CLOCKS, "effort_minutes")
_LOCAL = (*_SHARED, "private_notes", "event_id")
LIVE_STATUSES = ("open", "matching")


@dataclass(frozen=True)
class LocalNeed:
    """A need this hub posted. `draft.event` is the linked event's uuid (group roles)."""

    id: int
    uuid: str
    draft: NeedDraft
    event_id: int | None
    status: str
    created_at: float
    updated_at: float | None
    published_at: float
    filled_at: float | None
    closed_at: float | None
    deleted_at: float | None

    @property
    def matcher_id(self) -> str:
        return self.uuid

    @property
    def time_to_fill(self) -> float | None:
        """Seconds from publication to filled, once filled."""
        return None if self.filled_at is None else self.filled_at - self.published_at


@dataclass(frozen=True)
class RemoteNeed:
    """A need another hub published, as this hub understood it (no private notes exist)."""

    id: int
    object_id: str
    actor: str
    url: str | None
    draft: NeedDraft
    status: str
    published_at: float | None
    raw: dict[str, Any]
    received_at: float
    updated_at: float | None
    deleted: bool
    deleted_at: float | None

    @property
    def matcher_id(self) -> str:
        return self.object_id


# Rows <-> values ---------------------------------------------------------------------------
def _column_values(draft: NeedDraft) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _SHARED:
        value = getattr(draft, name)
        if name in _LISTS:
            value = orjson.dumps(list(value)).decode()
        elif name in _DATES:
            value = value.isoformat() if value else None
        elif name in _CLOCKS:
            value = value.strftime("%H:%M") if value else None
        elif name == "slots":
            value = orjson.dumps({d: list(p) for d, p in value.items()}).decode()
        values[name] = value
    return values


def _draft(row: aiosqlite.Row, *, private_notes: str = "", event: str | None = None) -> NeedDraft:
    data: dict[str, Any] = {}
    for name in _SHARED:
        value = row[name]
        if name in _LISTS:
            value = tuple(orjson.loads(value))
        elif name in _DATES:
            value = date.fromisoformat(value) if value else None
        elif name in _CLOCKS:
            value = clock.fromisoformat(value) if value else None
        elif name == "slots":
            value = {d: tuple(p) for d, p in orjson.loads(value).items()}
        data[name] = value
    return NeedDraft(**data, private_notes=private_notes, event=event)


def _local(row: aiosqlite.Row) -> LocalNeed:
    draft = _draft(row, private_notes=row["private_notes"], event=row["event_uuid"])
    return LocalNeed(row["id"], row["uuid"], draft, row["event_id"], row["status"],
                     row["created_at"], row["updated_at"], row["published_at"],
                     row["filled_at"], row["closed_at"], row["deleted_at"])


def _remote(row: aiosqlite.Row) -> RemoteNeed:
    return RemoteNeed(row["id"], row["object_id"], row["actor"], row["url"], _draft(row),
                      row["status"], row["published_at"], orjson.loads(row["raw"]),
                      row["received_at"], row["updated_at"], bool(row["deleted"]),
                      row["deleted_at"])


_SELECT_LOCAL = ("SELECT n.*, e.uuid AS event_uuid FROM needs n "
                 "LEFT JOIN events e ON e.id = n.event_id ")


# Local needs -------------------------------------------------------------------------------
# Each change is written by a `write_*` function inside the caller's transaction; the service
# reads the need back there (`get_need_in`) and queues the activity telling followers, built
# from the row as written (`hub.needs.publish`), so followers hear of every change that was
# stored, and of no other, and never of a state a concurrent change had already replaced.
# The async functions below write one change on its own.
def write_new_need(conn: sqlite3.Connection, draft: NeedDraft, *, event_id: int | None,
                   now: float) -> int:
    """Insert an open need, published now, with a fresh uuid; its row id."""
    values = _local_values(draft, event_id)
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = conn.execute(
        f"INSERT INTO needs (uuid, {names}, status, created_at, published_at) "
        f"VALUES (?, {marks}, 'open', ?, ?)",
        (str(uuid_module.uuid4()), *values.values(), now, now))
    return int(cursor.lastrowid or 0)


def write_draft(conn: sqlite3.Connection, need_id: int, draft: NeedDraft, *,
                event_id: int | None, now: float) -> bool:
    """Store an edited draft; False if the need was removed meanwhile."""
    values = _local_values(draft, event_id)
    assignments = ", ".join(f"{name} = ?" for name in values)
    return conn.execute(
        f"UPDATE needs SET {assignments}, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
        (*values.values(), now, need_id)).rowcount > 0


def write_status(conn: sqlite3.Connection, need: LocalNeed, status: str, *, now: float) -> bool:
    """Move the need from its status as read (`need.status`) to `status`, recording when it
    was filled or closed (reopened, it is neither any more); False if its status changed or
    it was removed meanwhile: the caller re-reads and decides again."""
    if status not in STATUSES:
        raise ValueError(f"unknown need status {status!r}")
    extra = {"filled": ", filled_at = :now",
             "closed": ", closed_at = :now", "cancelled": ", closed_at = :now"}.get(status, "")
    if status in LIVE_STATUSES:
        extra = ", filled_at = NULL, closed_at = NULL"
    return conn.execute(
        f"UPDATE needs SET status = :status, updated_at = :now{extra} "
        "WHERE id = :id AND status = :before AND deleted_at IS NULL",
        {"status": status, "now": now, "id": need.id, "before": need.status}).rowcount > 0


def write_removal(conn: sqlite3.Connection, need_id: int, *, now: float) -> bool:
    """Mark the need removed (its URL then answers 410 with a Tombstone); False if it
    already was."""
    return conn.execute("UPDATE needs SET deleted_at = ?, updated_at = ? "
                        "WHERE id = ? AND deleted_at IS NULL", (now, now, need_id)).rowcount > 0


def get_need_in(conn: sqlite3.Connection, need_id: int) -> LocalNeed | None:
    """`get_need_by_id` inside the caller's transaction."""
    row = conn.execute(_SELECT_LOCAL + "WHERE n.id = ?", (need_id,)).fetchone()
    return None if row is None else _local(row)


def _local_values(draft: NeedDraft, event_id: int | None) -> dict[str, Any]:
    return {**_column_values(draft), "private_notes": draft.private_notes, "event_id": event_id}


async def add_need(db: Database, draft: NeedDraft, *, event_id: int | None = None,
                   now: float | None = None) -> LocalNeed:
    """Store a new open need (published now) with a fresh uuid."""
    now = time.time() if now is None else now
    need_id = await db.run_in_writer(lambda conn: write_new_need(conn, draft, event_id=event_id,
                                                                 now=now))
    return await _stored(db, need_id)


async def get_need(db: Database, need_uuid: str) -> LocalNeed | None:
    """The need by uuid, deleted or not (a deleted one has `deleted_at`)."""
    row = await db.fetchone(_SELECT_LOCAL + "WHERE n.uuid = ?", (need_uuid,))
    return None if row is None else _local(row)


async def get_need_by_id(db: Database, need_id: int) -> LocalNeed | None:
    row = await db.fetchone(_SELECT_LOCAL + "WHERE n.id = ?", (need_id,))
    return None if row is None else _local(row)


async def update_need(db: Database, need: LocalNeed, draft: NeedDraft, *,
                      event_id: int | None, now: float | None = None) -> LocalNeed | None:
    """Store an edited draft; None if the need was deleted meanwhile."""
    now = time.time() if now is None else now
    if not await db.run_in_writer(lambda conn: write_draft(conn, need.id, draft,
                                                           event_id=event_id, now=now)):
        return None
    return await _stored(db, need.id)


async def set_status(db: Database, need: LocalNeed, status: str, *,
                     now: float | None = None) -> LocalNeed | None:
    """Move the need from its current status to `status`, recording when it was filled or
    closed. None if its status changed meanwhile (the caller re-reads and decides again)."""
    now = time.time() if now is None else now
    if not await db.run_in_writer(lambda conn: write_status(conn, need, status, now=now)):
        return None
    return await _stored(db, need.id)


async def delete_need(db: Database, need: LocalNeed, *, now: float | None = None) -> bool:
    """Mark the need removed (its URL then answers 410 with a Tombstone)."""
    now = time.time() if now is None else now
    return bool(await db.run_in_writer(lambda conn: write_removal(conn, need.id, now=now)))


async def _stored(db: Database, need_id: int) -> LocalNeed:
    need = await get_need_by_id(db, need_id)
    if need is None:
        raise LookupError(f"need {need_id} vanished after it was written")
    return need


async def list_needs(db: Database, *, statuses: tuple[str, ...] | None = None,
                     kind: str | None = None, limit: int = 200,
                     offset: int = 0) -> list[LocalNeed]:
    """Live (not deleted) needs, newest first, optionally of some statuses or one kind."""
    where, params = ["n.deleted_at IS NULL"], []
    if statuses:
        where.append(f"n.status IN ({', '.join('?' for _ in statuses)})")
        params += list(statuses)
    if kind:
        where.append("n.kind = ?")
        params.append(kind)
    rows = await db.fetchall(
        _SELECT_LOCAL + "WHERE " + " AND ".join(where)
        + " ORDER BY n.published_at DESC, n.id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset))
    return [_local(r) for r in rows]


async def count_needs(db: Database, *, statuses: tuple[str, ...] | None = None) -> int:
    where, params = "deleted_at IS NULL", []
    if statuses:
        where += f" AND status IN ({', '.join('?' for _ in statuses)})"
        params = list(statuses)
    return int(await db.fetchval(f"SELECT count(*) FROM needs WHERE {where}", params))


# Remote needs ------------------------------------------------------------------------------
async def upsert_remote_need(db: Database, object_id: str, actor: str, draft: NeedDraft, *,
                             status: str, url: str | None, published_at: float | None,
                             raw: dict[str, Any], now: float | None = None) -> bool:
    """Insert or update a need a followed hub sent; False if nothing changed because the
    stored one belongs to another actor or was deleted (a late Update never revives it)."""
    if status not in STATUSES:
        raise ValueError(f"unknown need status {status!r}")
    now = time.time() if now is None else now
    values = {**_column_values(draft), "status": status, "url": url,
              "published_at": published_at, "raw": orjson.dumps(raw).decode()}
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    updates = ", ".join(f"{name} = excluded.{name}" for name in values)
    async with db.transaction() as conn:
        cursor = await conn.execute(
            f"INSERT INTO remote_needs (object_id, actor, {names}, received_at) "
            f"VALUES (?, ?, {marks}, ?) ON CONFLICT (object_id) DO UPDATE SET {updates}, "
            "updated_at = excluded.received_at "
            "WHERE remote_needs.actor = excluded.actor AND remote_needs.deleted = 0",
            (object_id, actor, *values.values(), now))
        return cursor.rowcount > 0


async def delete_remote_need(db: Database, object_id: str, actor: str, *,
                             now: float | None = None) -> bool:
    """Mark it deleted, only if `actor` published it; False if unknown or already gone."""
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE remote_needs SET deleted = 1, deleted_at = ? "
            "WHERE object_id = ? AND actor = ? AND deleted = 0", (now, object_id, actor))
        return cursor.rowcount > 0


async def forget_remote_actor(db: Database, actor: str, *, now: float | None = None) -> int:
    """The publishing hub deleted itself: its needs go with it. Returns how many."""
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE remote_needs SET deleted = 1, deleted_at = ? WHERE actor = ? AND deleted = 0",
            (now, actor))
        return cursor.rowcount


async def get_remote_need(db: Database, object_id: str) -> RemoteNeed | None:
    """The remote need by its ActivityPub id, deleted or not."""
    row = await db.fetchone("SELECT * FROM remote_needs WHERE object_id = ?", (object_id,))
    return None if row is None else _remote(row)


async def get_remote_need_by_id(db: Database, row_id: int) -> RemoteNeed | None:
    row = await db.fetchone("SELECT * FROM remote_needs WHERE id = ?", (row_id,))
    return None if row is None else _remote(row)


async def list_remote_needs(db: Database, *, statuses: tuple[str, ...] | None = LIVE_STATUSES,
                            actor: str | None = None, followed_only: bool = True,
                            limit: int = 200, offset: int = 0) -> list[RemoteNeed]:
    """Remote needs not deleted, newest first: by default the live ones (open or matching)
    from hubs this hub still follows; `actor` narrows to one publishing hub."""
    where, params = ["r.deleted = 0"], []
    if statuses:
        where.append(f"r.status IN ({', '.join('?' for _ in statuses)})")
        params += list(statuses)
    if actor:
        where.append("r.actor = ?")
        params.append(actor)
    if followed_only:
        where.append("EXISTS (SELECT 1 FROM following f WHERE f.actor_id = r.actor "
                     "AND f.state = 'accepted')")
    rows = await db.fetchall(
        "SELECT r.* FROM remote_needs r WHERE " + " AND ".join(where)
        + " ORDER BY COALESCE(r.published_at, r.received_at) DESC, r.id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset))
    return [_remote(r) for r in rows]
