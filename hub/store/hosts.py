"""Health of remote hosts (`hosts` table), so the hub stops hammering a dead one.

Mastodon's rule (DeliveryFailureTracker): a host becomes unreachable after failed deliveries
on 7 distinct UTC days with no success in between; any success clears the record. What
counts as a failure is the delivery worker's call: network errors, timeouts and 5xx.

The delivery worker asks `is_unreachable` for every job, so the answer comes from memory,
loaded at start-up; the table is written only when a host's state changes (its first
failure of a day, or a success that clears failures), not once per delivery. The worker
puts off jobs for an unreachable host by a day, letting one probe through per host per day
(see `federation.delivery`). A verified activity arriving from a host is proof that it is
back too: the inbox tells the app (`hub.app`), which calls `record_success`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from hub.store.db import Database

UNREACHABLE_AFTER_DAYS = 7

_UPSERT_FAILURE = """
INSERT INTO hosts (host, last_failure_at, failure_days, unreachable_since) VALUES (?, ?, ?, ?)
ON CONFLICT (host) DO UPDATE SET last_failure_at = excluded.last_failure_at,
    failure_days = excluded.failure_days, unreachable_since = excluded.unreachable_since
"""
_UPSERT_SUCCESS = """
INSERT INTO hosts (host, last_success_at) VALUES (?, ?)
ON CONFLICT (host) DO UPDATE SET last_success_at = excluded.last_success_at,
    failure_days = '[]', unreachable_since = NULL
"""


@dataclass
class _Failing:
    days: set[str] = field(default_factory=set)
    unreachable_since: float | None = None


def utc_day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


class SqliteHostHealth:
    """`federation.delivery.HostHealth` over the hub's SQLite database."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time,
                 days: int = UNREACHABLE_AFTER_DAYS) -> None:
        self._db = db
        self._clock = clock
        self._days = days
        self._failing: dict[str, _Failing] = {}

    async def load(self) -> None:
        """Read the hosts with failures on record; call once before the worker starts."""
        rows = await self._db.fetchall(
            "SELECT host, failure_days, unreachable_since FROM hosts "
            "WHERE failure_days != '[]' OR unreachable_since IS NOT NULL")
        self._failing = {r[0]: _Failing(set(orjson.loads(r[1])), r[2]) for r in rows}

    def is_unreachable(self, host: str) -> bool:
        state = self._failing.get(host)
        return state is not None and state.unreachable_since is not None

    def failure_days(self, host: str) -> int:
        state = self._failing.get(host)
        return 0 if state is None else len(state.days)

    async def record_failure(self, host: str) -> None:
        now = self._clock()
        state = self._failing.setdefault(host, _Failing())
        day = utc_day(now)
        if day in state.days:
            return  # already counted today: nothing changes
        state.days.add(day)
        if len(state.days) >= self._days and state.unreachable_since is None:
            state.unreachable_since = now
        days = orjson.dumps(sorted(state.days)).decode()
        await self._db.execute(_UPSERT_FAILURE, (host, now, days, state.unreachable_since))

    async def record_success(self, host: str) -> None:
        # Only a success that clears failures is written: the common case costs nothing.
        if self._failing.pop(host, None) is None:
            return
        await self._db.execute(_UPSERT_SUCCESS, (host, self._clock()))


async def unreachable_hosts(db: Database) -> list[str]:
    rows = await db.fetchall(
        "SELECT host FROM hosts WHERE unreachable_since IS NOT NULL ORDER BY host")
    return [r[0] for r in rows]


async def host_row(db: Database, host: str) -> dict[str, object] | None:
    row = await db.fetchone("SELECT * FROM hosts WHERE host = ?", (host,))
    return None if row is None else dict(row)
