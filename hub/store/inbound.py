"""The inbound queue (`inbound` table): verified activities stored once, processed in order.

Implements `federation.inbox.InboundStore`. `add` runs on the inbox's hot path and must be
committed before the inbox answers 202, so concurrent adds share one commit (group commit).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from typing import Any

from federation.inbox import InboundItem, InboundMark
from hub.store.db import Database
from hub.store.group_commit import GroupCommit

# ON CONFLICT on the key only: a NOT NULL or CHECK violation must still fail loudly.
# Deduplicated by id and body (0007_inbound_dedupe.sql): a redelivery is stored once, while
# Mobilizon's Updates, which reuse their Create's id, are new activities.
_COLUMNS = "(activity_id, dedupe_key, actor_id, body, received_at)"
_RETRY = ("UPDATE inbound SET next_attempt_at = ?, error = ?, attempts = attempts + 1 "
          "WHERE id = ? AND state = 'pending'")
# Rows per statement: 5 variables a row, under SQLite's 32,766.
_CHUNK = 500


_Row = tuple[str, str, str, bytes, float]


def _insert_batch(conn: sqlite3.Connection, rows: list[_Row]) -> list[bool]:
    """Insert a batch; for each row, was it new? Usually one statement for the whole batch:
    on the writer's thread each statement waits for the GIL again, and the event loop holds
    it most of the time during a burst."""
    if len(rows) > _CHUNK:
        if not conn.in_transaction:  # alone (GroupCommit atomic): all chunks or none
            conn.execute("BEGIN IMMEDIATE")
            news = _insert_batch(conn, rows)
            conn.commit()
            return news
        return [new for start in range(0, len(rows), _CHUNK)
                for new in _insert_batch(conn, rows[start:start + _CHUNK])]
    cursor = conn.execute(f"INSERT INTO inbound {_COLUMNS} VALUES "
                          f"{','.join(['(?,?,?,?,?)'] * len(rows))} "
                          "ON CONFLICT (dedupe_key) DO NOTHING",
                          [field for row in rows for field in row])
    added = cursor.rowcount  # rows this statement inserted (sqlite3_changes)
    if added == len(rows):
        return [True] * len(rows)
    # Some were known (or came twice). The rows added have the ids after the table's
    # largest (an INTEGER PRIMARY KEY without AUTOINCREMENT): the last is `lastrowid`.
    fresh: set[str] = set()
    if added:
        marks = ",".join("?" * len(rows))
        fresh.update(key for (key,) in conn.execute(
            f"SELECT dedupe_key FROM inbound WHERE id > ? AND dedupe_key IN ({marks})",
            [cursor.lastrowid - added, *(row[1] for row in rows)]))
    new = []
    for row in rows:  # the same activity twice in one batch: only the first is new
        new.append(row[1] in fresh)
        fresh.discard(row[1])
    return new


_Marks = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]  # (done rows, _RETRY rows)


def _mark_batch(conn: sqlite3.Connection, batches: list[_Marks]) -> list[None]:
    # Outcomes that say the same (state, error) are one UPDATE: most of a batch is "done".
    same: dict[tuple[Any, Any, Any], list[int]] = {}
    for done, retry in batches:
        for state, error, now, item_id in done:
            same.setdefault((state, error, now), []).append(item_id)
        conn.executemany(_RETRY, retry)
    for (state, error, now), ids in same.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            conn.execute("UPDATE inbound SET state = ?, error = ?, processed_at = ?, "
                         f"attempts = attempts + 1 WHERE id IN ({','.join('?' * len(chunk))})",
                         [state, error, now, *chunk])
    return [None] * len(batches)


class SqliteInboundStore:
    """`InboundStore` over the hub's SQLite database."""

    def __init__(self, db: Database, *, clock: Any = time.time) -> None:
        self._db = db
        self._clock = clock
        self._adds: GroupCommit[_Row, bool] = GroupCommit(db, _insert_batch, atomic=True)
        self._marks: GroupCommit[_Marks, None] = GroupCommit(db, _mark_batch)

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

    async def record(self, marks: list[InboundMark]) -> None:
        now = self._clock()
        done, retry = [], []
        for mark in marks:
            if mark.state == "retry":
                retry.append((mark.retry_at, mark.error, mark.item_id))
            elif mark.state in ("done", "ignored", "failed"):
                done.append((mark.state, mark.error, now, mark.item_id))
            else:
                raise ValueError(f"unknown inbound outcome {mark.state!r}")
        await self._marks.submit((done, retry))

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
