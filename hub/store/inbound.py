"""The inbound queue (`inbound` table): verified activities stored once, processed in order.

Implements `federation.inbox.InboundStore`. `add` runs on the inbox's hot path and must be
committed before the inbox answers 202, so concurrent adds share one commit (group commit).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from typing import Any

from federation.inbox import InboundItem, Outcome
from hub.store.db import Database
from hub.store.group_commit import GroupCommit

# ON CONFLICT on the id only: a NOT NULL or CHECK violation must still fail loudly.
# Deduplicated by id and body (0007_inbound_dedupe.sql): a redelivery is stored once, while
# Mobilizon's Updates, which reuse their Create's id, are new activities.
_INSERT = ("INSERT INTO inbound (activity_id, dedupe_key, actor_id, body, received_at) "
           "VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING")
_DONE = ("UPDATE inbound SET state = ?, error = ?, processed_at = ?, attempts = attempts + 1 "
         "WHERE id = ?")
_RETRY = ("UPDATE inbound SET next_attempt_at = ?, error = ?, attempts = attempts + 1 "
          "WHERE id = ? AND state = 'pending'")


_Row = tuple[str, str, str, bytes, float]


def _insert_batch(conn: sqlite3.Connection, rows: list[_Row]) -> list[bool]:
    # One statement per row, not executemany: each caller needs its own "was it new?".
    return [conn.execute(_INSERT, row).rowcount == 1 for row in rows]


def _mark_batch(conn: sqlite3.Connection, marks: list[tuple[str, tuple[Any, ...]]]) -> list[None]:
    for sql, params in marks:
        conn.execute(sql, params)
    return [None] * len(marks)


class SqliteInboundStore:
    """`InboundStore` over the hub's SQLite database."""

    def __init__(self, db: Database, *, clock: Any = time.time) -> None:
        self._db = db
        self._clock = clock
        self._adds: GroupCommit[_Row, bool] = GroupCommit(
            db, _insert_batch)
        self._marks: GroupCommit[tuple[str, tuple[Any, ...]], None] = GroupCommit(
            db, _mark_batch)

    async def add(self, activity_id: str, actor_id: str, body: bytes) -> bool:
        key = f"{activity_id} sha256:{hashlib.sha256(body).hexdigest()}"
        return await self._adds.submit((activity_id, key, actor_id, body, self._clock()))

    async def claim(self, limit: int) -> list[InboundItem]:
        # Fresh rows have next_attempt_at 0, so this is id order for them; a row that is
        # retried later takes its turn when its time comes.
        rows = await self._db.fetchall(
            "SELECT id, activity_id, actor_id, body, attempts FROM inbound "
            "WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?", (self._clock(), limit))
        return [InboundItem(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]

    async def done(self, item_id: int, state: Outcome, error: str | None = None) -> None:
        if state not in ("done", "ignored", "failed"):
            raise ValueError(f"unknown inbound outcome {state!r}")
        await self._marks.submit((_DONE, (state, error, self._clock(), item_id)))

    async def retry_later(self, item_id: int, next_attempt_at: float, error: str) -> None:
        await self._marks.submit((_RETRY, (next_attempt_at, error, item_id)))

    async def flush(self) -> None:
        """Wait for queued writes, before closing the database."""
        await self._adds.flush()
        await self._marks.flush()


async def get_item(db: Database, activity_id: str) -> dict[str, Any] | None:
    """One row by activity id, for tests and the staff console."""
    row = await db.fetchone(
        "SELECT id, activity_id, actor_id, state, attempts, next_attempt_at, error, "
        "received_at, processed_at FROM inbound WHERE activity_id = ?", (activity_id,))
    return None if row is None else dict(row)


async def counts(db: Database) -> dict[str, int]:
    """How many inbound rows are in each state."""
    rows = await db.fetchall("SELECT state, count(*) FROM inbound GROUP BY state")
    found = {r[0]: r[1] for r in rows}
    return {state: found.get(state, 0) for state in ("pending", "done", "ignored", "failed")}
