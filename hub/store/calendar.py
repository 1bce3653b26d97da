"""What the calendar page offers as filters: the categories and hashtags of upcoming events."""

from __future__ import annotations

import time

from hub.store.db import Database

_LIVE = "deleted_at IS NULL AND end_at > ?"


async def upcoming_categories(db: Database, *, now: float | None = None) -> list[str]:
    """Categories that upcoming events have, alphabetically."""
    rows = await db.fetchall(
        f"SELECT DISTINCT category FROM events WHERE {_LIVE} AND category IS NOT NULL "
        "ORDER BY category", (time.time() if now is None else now,))
    return [r["category"] for r in rows]


async def upcoming_tags(db: Database, *, now: float | None = None,
                        limit: int = 20) -> list[str]:
    """The hashtags of upcoming events (lower-cased), most used first."""
    rows = await db.fetchall(
        "SELECT lower(json_each.value) AS tag, count(*) AS uses "
        f"FROM events, json_each(events.hashtags) WHERE {_LIVE} "
        "GROUP BY tag ORDER BY uses DESC, tag LIMIT ?",
        (time.time() if now is None else now, limit))
    return [r["tag"] for r in rows]
