"""Who follows the hub (followers) and whom the hub follows (following)."""

from __future__ import annotations

import sqlite3
import time

from hub.store.db import Database


async def add_follower(db: Database, actor_id: str, follow_id: str, *, accepted: bool) -> None:
    """Record a follow; a repeated Follow from the same actor replaces the follow id."""
    now = time.time()
    state = "accepted" if accepted else "pending"
    async with db.transaction() as conn:
        await conn.execute(
            """INSERT INTO followers (actor_id, follow_id, state, created_at, accepted_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (actor_id) DO UPDATE SET follow_id = excluded.follow_id,
                   state = CASE WHEN followers.state = 'accepted' THEN 'accepted'
                                ELSE excluded.state END,
                   accepted_at = COALESCE(followers.accepted_at, excluded.accepted_at)""",
            (actor_id, follow_id, state, now, now if accepted else None))


async def get_follower(db: Database, actor_id: str) -> dict | None:
    row = await db.fetchone("SELECT * FROM followers WHERE actor_id = ?", (actor_id,))
    return None if row is None else dict(row)


def write_accept_follower(conn: sqlite3.Connection, actor_id: str, follow_id: str) -> bool:
    """Approve that pending follow, inside the caller's transaction (which queues the
    Accept); False if it is no longer pending."""
    return conn.execute(
        "UPDATE followers SET state = 'accepted', accepted_at = ? "
        "WHERE actor_id = ? AND follow_id = ? AND state = 'pending'",
        (time.time(), actor_id, follow_id)).rowcount > 0


def write_remove_follower(conn: sqlite3.Connection, actor_id: str, follow_id: str) -> bool:
    """Remove that follow, inside the caller's transaction (which queues the Reject)."""
    return conn.execute("DELETE FROM followers WHERE actor_id = ? AND follow_id = ?",
                        (actor_id, follow_id)).rowcount > 0


def write_remove_following(conn: sqlite3.Connection, actor_id: str, follow_id: str) -> bool:
    """Forget our follow of that actor, inside the caller's transaction (which queues the
    Undo)."""
    return conn.execute("DELETE FROM following WHERE actor_id = ? AND follow_id = ?",
                        (actor_id, follow_id)).rowcount > 0


async def remove_follower(db: Database, actor_id: str, follow_id: str | None = None) -> bool:
    """Remove a follower (optionally only if its follow id matches); True if one was removed."""
    sql, params = "DELETE FROM followers WHERE actor_id = ?", [actor_id]
    if follow_id is not None:
        sql += " AND follow_id = ?"
        params.append(follow_id)
    async with db.transaction() as conn:
        cursor = await conn.execute(sql, params)
        return cursor.rowcount > 0


async def list_followers(db: Database, *, state: str = "accepted", offset: int = 0,
                         limit: int = 20) -> list[dict]:
    rows = await db.fetchall(
        "SELECT * FROM followers WHERE state = ? ORDER BY id LIMIT ? OFFSET ?",
        (state, limit, offset))
    return [dict(r) for r in rows]


async def count_followers(db: Database, state: str = "accepted") -> int:
    return int(await db.fetchval("SELECT count(*) FROM followers WHERE state = ?", (state,)))


async def follower_inboxes(db: Database) -> list[str]:
    """One inbox per accepted follower, collapsed onto shared inboxes."""
    rows = await db.fetchall(
        """SELECT DISTINCT COALESCE(a.shared_inbox, a.inbox) AS inbox
           FROM followers f JOIN remote_actors a ON a.id = f.actor_id
           WHERE f.state = 'accepted' AND a.deleted_at IS NULL""")
    return [r["inbox"] for r in rows]


async def add_following(db: Database, actor_id: str, follow_id: str) -> None:
    now = time.time()
    async with db.transaction() as conn:
        await conn.execute(
            """INSERT INTO following (actor_id, follow_id, state, created_at, updated_at)
               VALUES (?, ?, 'pending', ?, ?)
               ON CONFLICT (actor_id) DO UPDATE SET follow_id = excluded.follow_id,
                   state = 'pending', updated_at = excluded.updated_at""",
            (actor_id, follow_id, now, now))


async def get_following(db: Database, actor_id: str) -> dict | None:
    row = await db.fetchone("SELECT * FROM following WHERE actor_id = ?", (actor_id,))
    return None if row is None else dict(row)


async def set_following_state(db: Database, actor_id: str, state: str) -> bool:
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE following SET state = ?, updated_at = ? WHERE actor_id = ?",
            (state, time.time(), actor_id))
        return cursor.rowcount > 0


async def remove_following(db: Database, actor_id: str) -> dict | None:
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM following WHERE actor_id = ? RETURNING *", (actor_id,))
        row = await cursor.fetchone()
    return None if row is None else dict(row)


async def list_following(db: Database, *, offset: int = 0, limit: int = 20,
                         state: str = "accepted") -> list[dict]:
    rows = await db.fetchall(
        "SELECT * FROM following WHERE state = ? ORDER BY id LIMIT ? OFFSET ?",
        (state, limit, offset))
    return [dict(r) for r in rows]


async def count_following(db: Database, state: str = "accepted") -> int:
    return int(await db.fetchval("SELECT count(*) FROM following WHERE state = ?", (state,)))
