"""Web RSVPs waiting for confirmation (`rsvp_confirmations`): one row per link sent."""

from __future__ import annotations

import time
from dataclasses import dataclass

from hub.store.db import Database


@dataclass(frozen=True)
class PendingRsvp:
    event_id: int
    name: str
    email: str | None
    actor_id: str | None
    handle: str | None


async def add(db: Database, token_hash: str, event_id: int, pending: PendingRsvp, *,
              expires_at: float) -> None:
    """Keep a sign-up until its link is opened; expired ones are dropped on the way."""
    now = time.time()
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM rsvp_confirmations WHERE expires_at <= ?", (now,))
        await conn.execute(
            "INSERT INTO rsvp_confirmations (token_hash, event_id, name, email, actor_id, "
            "handle, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (token_hash, event_id, pending.name, pending.email, pending.actor_id, pending.handle,
             now, expires_at))


async def find(db: Database, token_hash: str) -> PendingRsvp | None:
    row = await db.fetchone(
        "SELECT event_id, name, email, actor_id, handle FROM rsvp_confirmations "
        "WHERE token_hash = ? AND expires_at > ?", (token_hash, time.time()))
    return None if row is None else PendingRsvp(*row)


async def take(db: Database, token_hash: str) -> PendingRsvp | None:
    """The sign-up behind a link, removed: a link confirms once."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM rsvp_confirmations WHERE token_hash = ? AND expires_at > ? "
            "RETURNING event_id, name, email, actor_id, handle", (token_hash, time.time()))
        row = await cursor.fetchone()
    return None if row is None else PendingRsvp(*row)
