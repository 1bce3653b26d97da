"""Scheduled jobs: durable rows that the job runner plans and runs (see 0006_jobs.sql)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from hub.store.db import Database

FINAL_STATES = ("done", "skipped", "failed")


@dataclass(frozen=True)
class Job:
    id: int
    key: str
    kind: str
    run_at: float
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class PlannedJob:
    key: str
    kind: str
    run_at: float
    payload: dict[str, Any]


async def plan(db: Database, jobs: Iterable[PlannedJob]) -> int:
    """Store jobs not already known by key; returns how many were new."""
    rows = [(j.key, j.kind, j.run_at, orjson.dumps(j.payload).decode(), time.time())
            for j in jobs]
    if not rows:
        return 0

    def write(conn: sqlite3.Connection) -> int:
        before = conn.total_changes
        conn.executemany(
            "INSERT INTO scheduled_jobs (key, kind, run_at, payload, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING", rows)
        return conn.total_changes - before

    return int(await db.run_in_writer(write))


async def due(db: Database, now: float, limit: int = 100) -> list[Job]:
    rows = await db.fetchall(
        "SELECT id, key, kind, run_at, payload, attempts FROM scheduled_jobs "
        "WHERE state = 'pending' AND run_at <= ? ORDER BY run_at, id LIMIT ?", (now, limit))
    return [Job(r["id"], r["key"], r["kind"], r["run_at"], orjson.loads(r["payload"]),
                r["attempts"]) for r in rows]


def finisher(job_id: int, state: str = "done",
             error: str | None = None) -> Callable[[sqlite3.Connection], None]:
    """A write that finishes the job, for use inside another transaction (`also=`)."""
    if state not in FINAL_STATES:
        raise ValueError(f"unknown final state {state!r}")

    def write(conn: sqlite3.Connection) -> None:
        conn.execute(
            "UPDATE scheduled_jobs SET state = ?, last_error = ?, finished_at = ?, "
            "attempts = attempts + 1 WHERE id = ? AND state = 'pending'",
            (state, error, time.time(), job_id))

    return write


async def finish(db: Database, job_id: int, state: str = "done",
                 error: str | None = None) -> None:
    await db.run_in_writer(finisher(job_id, state, error))


async def retry_later(db: Database, job_id: int, run_at: float, error: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE scheduled_jobs SET run_at = ?, last_error = ?, attempts = attempts + 1 "
            "WHERE id = ? AND state = 'pending'", (run_at, error, job_id))


async def prune(db: Database, kinds: Iterable[str], *, finished_before: float) -> int:
    """Drop finished jobs of these kinds that ended before the time given; how many."""
    kinds = list(kinds)
    marks = ", ".join("?" * len(kinds))
    async with db.transaction() as conn:
        cursor = await conn.execute(
            f"DELETE FROM scheduled_jobs WHERE kind IN ({marks}) AND state != 'pending' "
            "AND finished_at < ?", (*kinds, finished_before))
        return cursor.rowcount


@dataclass(frozen=True)
class Failures:
    counts: dict[str, int]  # by kind, most first
    latest_key: str
    latest_error: str


async def failed_since(db: Database, since: float) -> Failures | None:
    """Jobs that ended failed since then, or None if none did."""
    rows = await db.fetchall("SELECT kind, count(*) AS n FROM scheduled_jobs WHERE state = "
                             "'failed' AND finished_at >= ? GROUP BY kind ORDER BY n DESC, kind",
                             (since,))
    if not rows:
        return None
    latest = await db.fetchone("SELECT key, last_error FROM scheduled_jobs WHERE state = "
                               "'failed' AND finished_at >= ? ORDER BY finished_at DESC, id DESC",
                               (since,))
    assert latest is not None
    return Failures({r["kind"]: r["n"] for r in rows}, latest["key"], latest["last_error"] or "")


async def pending_keys(db: Database, prefix: str) -> set[str]:
    """Keys of the jobs still to run whose key starts with `prefix`."""
    rows = await db.fetchall("SELECT key FROM scheduled_jobs WHERE state = 'pending' AND "
                             "substr(key, 1, ?) = ?", (len(prefix), prefix))
    return {row["key"] for row in rows}


async def get_job(db: Database, key: str) -> dict[str, Any] | None:
    row = await db.fetchone("SELECT * FROM scheduled_jobs WHERE key = ?", (key,))
    return None if row is None else dict(row)


async def jobs_of_kind(db: Database, kind: str) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT * FROM scheduled_jobs WHERE kind = ? ORDER BY id", (kind,))
    return [dict(r) for r in rows]


async def finished_at(db: Database, keys: list[str]) -> dict[str, float]:
    """When each of these jobs was done (keys of jobs not done are left out)."""
    if not keys:
        return {}
    marks = ", ".join("?" * len(keys))
    rows = await db.fetchall(f"SELECT key, finished_at FROM scheduled_jobs WHERE key IN "
                             f"({marks}) AND state = 'done'", keys)
    return {r["key"]: r["finished_at"] for r in rows}
