"""Reading what the hub has published (the outbox collection, activity pages)."""

from __future__ import annotations

import orjson

from hub.store.db import Database


async def count_public(db: Database) -> int:
    return int(await db.fetchval("SELECT count(*) FROM outbox WHERE public = 1"))


async def list_public(db: Database, *, offset: int = 0, limit: int = 20) -> list[dict]:
    """Public activities, newest first, as published."""
    rows = await db.fetchall(
        "SELECT body FROM outbox WHERE public = 1 ORDER BY id DESC LIMIT ? OFFSET ?",
        (limit, offset))
    return [orjson.loads(r["body"]) for r in rows]


async def get_public_activity(db: Database, activity_id: str) -> dict | None:
    row = await db.fetchone(
        "SELECT body FROM outbox WHERE activity_id = ? AND public = 1", (activity_id,))
    return None if row is None else orjson.loads(row["body"])
