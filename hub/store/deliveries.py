"""The outbox and the delivery queue (`outbox`, `deliveries` tables).

`enqueue` records a published activity and one delivery row per distinct inbox in one
transaction. `SqliteDeliveryStore` is what `federation.delivery.DeliveryWorker` reads and
writes; outcomes of concurrent deliveries share commits (group commit), because at fan-out
rates one commit per delivery would cost more than the delivery.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from federation.delivery import DeliveryJob, host_of
from federation.errors import ValidationError
from hub.store.db import Database
from hub.store.group_commit import GroupCommit

_DUE = """
SELECT d.id, d.inbox, o.body, o.signer, d.attempts, d.host
FROM deliveries AS d JOIN outbox AS o ON o.id = d.outbox_id
WHERE d.state = 'pending' AND d.next_attempt_at <= ?
  AND d.id NOT IN (SELECT value FROM json_each(?))
  AND d.host NOT IN (SELECT value FROM json_each(?))
ORDER BY d.next_attempt_at, d.id
LIMIT ?
"""
_SUCCEEDED = ("UPDATE deliveries SET state = 'done', attempts = attempts + 1, last_status = ?, "
              "last_error = NULL, finished_at = ? WHERE id = ?")
# The same for many rows: (status, finished_at, id) triples.
_SUCCEEDED_MANY = ("UPDATE deliveries SET state = 'done', attempts = attempts + 1, "
                   "last_status = v.column1, last_error = NULL, finished_at = v.column2 "
                   "FROM (VALUES {}) AS v WHERE deliveries.id = v.column3")
_CHUNK = 1000  # rows per statement: 3 variables each, under SQLite's 32,766
_RETRY = ("UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_status = ?, "
          "last_error = ? WHERE id = ? AND state = 'pending'")
_FAILED = ("UPDATE deliveries SET state = 'failed', attempts = attempts + 1, last_status = ?, "
           "last_error = ?, finished_at = ? WHERE id = ?")

Outcome = tuple[str, tuple[Any, ...]]
# Outcomes arrive one per answer: waiting this long gathers several per fsync'd commit
# (measured: ~100 µs of commit CPU per delivery without it, at ~1,000 deliveries/s).
OUTCOME_LINGER = 0.01


def inbox_host(inbox: str) -> str:
    """The host an inbox URL is delivered to; ValidationError if it is not one we can use."""
    try:
        host = host_of(inbox)
    except ValueError as exc:
        raise ValidationError(f"{inbox!r} is not a valid inbox URL") from exc
    if not inbox.startswith(("https://", "http://")) or not host:
        raise ValidationError(f"{inbox!r} is not an http(s) inbox URL")
    return host


@dataclass(frozen=True)
class Targets:
    """Distinct inboxes, each checked, with the host each is delivered to: made once, before
    a transaction, for every activity it queues (a change that announces several events to
    the same followers checks their inboxes once, not once an activity on the writer)."""

    hosts: Mapping[str, str]  # inbox -> host, in the order given

    @classmethod
    def of(cls, inboxes: Iterable[str]) -> Targets:
        """ValidationError if any inbox cannot be delivered to."""
        return cls({inbox: inbox_host(inbox) for inbox in dict.fromkeys(inboxes)})

    def plus(self, inboxes: Iterable[str]) -> Targets:
        """These and more inboxes (only the new ones are checked)."""
        more = {inbox: inbox_host(inbox) for inbox in inboxes if inbox not in self.hosts}
        return Targets({**self.hosts, **more}) if more else self


async def enqueue(db: Database, activity: dict[str, Any], inboxes: Iterable[str], *,
                  activity_type: str, object_id: str | None = None, public: bool = True,
                  signer: str = "hub",
                  also: Callable[[sqlite3.Connection], None] | None = None) -> int:
    """Record `activity` in the outbox and queue it for each distinct inbox; returns its id.

    `also` runs in the same transaction, so a caller's own record of having sent something
    (a scheduled job marked done) commits together with the sending, or not at all.
    Call the delivery worker's `wake()` afterwards; rows are picked up on its next poll anyway.
    """
    write_one = outbox_writer(activity, inboxes, activity_type=activity_type,
                              object_id=object_id, public=public, signer=signer)

    def write(conn: sqlite3.Connection) -> int:
        outbox_id = write_one(conn)
        if also is not None:
            also(conn)
        return outbox_id

    return int(await db.run_in_writer(write))


def outbox_writer(activity: dict[str, Any], inboxes: Iterable[str] | Targets, *,
                  activity_type: str, object_id: str | None = None, public: bool = True,
                  signer: str = "hub") -> Callable[[sqlite3.Connection], int]:
    """What `enqueue` writes, as a function of a connection, for a caller's transaction that
    sends more than one activity (inboxes are checked here, unless given as `Targets`)."""
    body = orjson.dumps(activity)
    targets = (inboxes if isinstance(inboxes, Targets) else Targets.of(inboxes)).hosts.items()

    def write(conn: sqlite3.Connection) -> int:
        now = time.time()
        outbox_id = conn.execute(
            "INSERT INTO outbox (activity_id, type, object_id, public, body, signer, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (activity["id"], activity_type, object_id, int(public), body, signer, now),
        ).lastrowid
        conn.executemany(
            "INSERT INTO deliveries (outbox_id, inbox, host, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(outbox_id, inbox, host, now, now) for inbox, host in targets])
        return int(outbox_id or 0)

    return write


def _apply_outcomes(conn: sqlite3.Connection, outcomes: list[Outcome]) -> list[None]:
    # Successes, nearly all of a fan-out's outcomes, are one statement per batch: on the
    # writer's thread every statement has to win the GIL back from a busy event loop.
    done = [params for sql, params in outcomes if sql is _SUCCEEDED]
    for start in range(0, len(done), _CHUNK):
        chunk = done[start:start + _CHUNK]
        conn.execute(_SUCCEEDED_MANY.format(",".join(["(?,?,?)"] * len(chunk))),
                     [value for params in chunk for value in params])
    for sql, params in outcomes:
        if sql is not _SUCCEEDED:
            conn.execute(sql, params)
    return [None] * len(outcomes)


class SqliteDeliveryStore:
    """`federation.delivery.DeliveryStore` over the hub's SQLite database."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._outcomes: GroupCommit[Outcome, None] = GroupCommit(
            db, _apply_outcomes, linger=OUTCOME_LINGER)

    async def due(self, now: float, limit: int, exclude: Collection[int],
                  exclude_hosts: Collection[str] = ()) -> list[DeliveryJob]:
        # The exclusions travel as two JSON parameters: no statement-length or variable
        # limits however many jobs are in flight.
        rows = await self._db.fetchall(_DUE, (now, orjson.dumps(list(exclude)),
                                              orjson.dumps(list(exclude_hosts)), limit))
        return [DeliveryJob(r[0], r[1], bytes(r[2]), r[3], r[4], r[5]) for r in rows]

    async def succeeded(self, job_id: int, status: int) -> None:
        await self._outcomes.submit((_SUCCEEDED, (status, self._clock(), job_id)))

    async def retry(self, job_id: int, attempts: int, next_attempt_at: float,
                    status: int | None, error: str) -> None:
        await self._outcomes.submit((_RETRY, (attempts, next_attempt_at, status, error, job_id)))

    async def failed(self, job_id: int, status: int | None, error: str) -> None:
        await self._outcomes.submit((_FAILED, (status, error, self._clock(), job_id)))

    def hurry(self) -> None:
        """The next outcome is written at once, with any that wait for company."""
        self._outcomes.hurry()

    async def flush(self) -> None:
        """Wait for queued outcome writes, before closing the database."""
        await self._outcomes.flush()

    def abandon(self) -> None:
        """Drop outcome writes not yet started (used to simulate a crash in tests)."""
        self._outcomes.abandon()


async def pending_count(db: Database) -> int:
    return int(await db.fetchval("SELECT count(*) FROM deliveries WHERE state = 'pending'"))


async def delivery_stats(db: Database) -> dict[str, int]:
    """Deliveries per state, and how many pending ones are due now."""
    rows = await db.fetchall("SELECT state, count(*) FROM deliveries GROUP BY state")
    found = {r[0]: r[1] for r in rows}
    stats = {state: found.get(state, 0) for state in ("pending", "done", "failed")}
    stats["due"] = int(await db.fetchval(
        "SELECT count(*) FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?",
        (time.time(),)))
    return stats


async def deliveries_of(db: Database, outbox_id: int) -> list[dict[str, Any]]:
    """Every delivery row of one activity, for the staff console and tests."""
    rows = await db.fetchall(
        "SELECT id, inbox, host, state, attempts, next_attempt_at, last_status, last_error, "
        "finished_at FROM deliveries WHERE outbox_id = ? ORDER BY id", (outbox_id,))
    return [dict(r) for r in rows]
