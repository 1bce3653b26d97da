"""RSVP polls sent as `Question`s, and the votes that came back (one per voter)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from hub.store.db import Database

CHOICES = ("going", "maybe", "not_going")


@dataclass(frozen=True)
class Poll:
    id: int
    uuid: str
    event_id: int
    audience: tuple[str, ...]   # actor ids, or the hub's followers collection
    end_at: float
    created_at: float
    updated_at: float | None


def _poll(row: Any) -> Poll:
    data = dict(row)
    data["audience"] = tuple(orjson.loads(data["audience"]))
    return Poll(**data)


async def insert_poll(db: Database, poll_uuid: str, event_id: int, audience: Sequence[str],
                      end_at: float) -> Poll:
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO polls (uuid, event_id, audience, end_at, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING *",
            (poll_uuid, event_id, orjson.dumps(list(audience)).decode(), end_at, time.time()))
        return _poll(await cursor.fetchone())


async def get_poll(db: Database, poll_uuid: str) -> Poll | None:
    row = await db.fetchone("SELECT * FROM polls WHERE uuid = ?", (poll_uuid,))
    return None if row is None else _poll(row)


async def record_vote(db: Database, poll: Poll, actor_id: str, choice: str,
                      note_id: str) -> bool:
    """Store (or change) a voter's choice; True if it must now be answered: a new choice, or
    this same vote (`note_id`) again before `vote_answered` (it is being processed again
    after a stop). False for a choice already recorded from another vote, or answered."""
    now = time.time()
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO poll_votes (poll_id, actor_id, choice, note_id, voted_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id, actor_id) DO UPDATE SET "
            "choice = excluded.choice, note_id = excluded.note_id, voted_at = excluded.voted_at, "
            "answered_at = NULL WHERE choice != excluded.choice "
            "OR (note_id = excluded.note_id AND answered_at IS NULL) RETURNING id",
            (poll.id, actor_id, choice, note_id, now))
        changed = await cursor.fetchone() is not None
        if changed:
            await conn.execute("UPDATE polls SET updated_at = ? WHERE id = ?", (now, poll.id))
        return changed


async def vote_answered(db: Database, poll: Poll, actor_id: str, note_id: str) -> None:
    """The vote has been answered and the voter told: processing it again does nothing."""
    await db.execute("UPDATE poll_votes SET answered_at = ? WHERE poll_id = ? AND actor_id = ? "
                     "AND note_id = ?", (time.time(), poll.id, actor_id, note_id))


async def vote_counts(db: Database, poll_id: int) -> dict[str, int]:
    rows = await db.fetchall("SELECT choice, count(*) AS n FROM poll_votes WHERE poll_id = ? "
                             "GROUP BY choice", (poll_id,))
    found = {r["choice"]: int(r["n"]) for r in rows}
    return {choice: found.get(choice, 0) for choice in CHOICES}
