"""Objects other servers sent us (a followed hub's posts...), kept as received."""

from __future__ import annotations

import time

import orjson

from hub.store.db import Database


async def upsert_remote_object(db: Database, obj: dict, actor_id: str) -> None:
    now = time.time()
    async with db.transaction() as conn:
        await conn.execute(
            """INSERT INTO remote_objects (id, type, actor_id, document, received_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET type = excluded.type,
                   document = excluded.document, updated_at = excluded.received_at
               WHERE remote_objects.actor_id = excluded.actor_id""",
            (obj["id"], str(obj.get("type", "Object")), actor_id,
             orjson.dumps(obj).decode(), now))


async def delete_remote_object(db: Database, object_id: str, actor_id: str) -> bool:
    """Tombstone an object, only if it belongs to that actor."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE remote_objects SET deleted_at = ? "
            "WHERE id = ? AND actor_id = ? AND deleted_at IS NULL",
            (time.time(), object_id, actor_id))
        return cursor.rowcount > 0


async def get_remote_object(db: Database, object_id: str) -> dict | None:
    row = await db.fetchone("SELECT * FROM remote_objects WHERE id = ?", (object_id,))
    if row is None:
        return None
    data = dict(row)
    data["document"] = orjson.loads(data["document"])
    return data


async def list_remote_objects(db: Database, *, limit: int = 20, offset: int = 0) -> list[dict]:
    rows = await db.fetchall(
        "SELECT * FROM remote_objects WHERE deleted_at IS NULL "
        "ORDER BY received_at DESC LIMIT ? OFFSET ?", (limit, offset))
    result = []
    for row in rows:
        data = dict(row)
        data["document"] = orjson.loads(data["document"])
        result.append(data)
    return result
