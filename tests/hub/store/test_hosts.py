"""Host health: unreachable after failures on seven distinct UTC days, cleared by a success."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.store.db import Database
from hub.store.hosts import SqliteHostHealth, host_row, unreachable_hosts

DAY = 86400.0


class Clock:
    # 23:00 UTC, so an hour later is another UTC day
    now = datetime(2026, 3, 1, 23, 0, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


async def test_seven_distinct_days_of_failures_make_a_host_unreachable(db: Database) -> None:
    clock = Clock()
    health = SqliteHostHealth(db, clock=clock)
    for _ in range(5):
        await health.record_failure("dead.example")  # the same day counts once
    clock.now += 3600  # just past midnight UTC: a second day
    await health.record_failure("dead.example")
    assert health.failure_days("dead.example") == 2
    for _ in range(4):
        clock.now += DAY
        await health.record_failure("dead.example")
    assert not health.is_unreachable("dead.example")
    clock.now += DAY
    await health.record_failure("dead.example")
    assert health.is_unreachable("dead.example")
    assert await unreachable_hosts(db) == ["dead.example"]
    row = await host_row(db, "dead.example")
    assert row is not None and row["unreachable_since"] == clock.now

    # A restarted hub remembers it
    reloaded = SqliteHostHealth(db, clock=clock)
    await reloaded.load()
    assert reloaded.is_unreachable("dead.example")
    assert reloaded.failure_days("dead.example") == 7


async def test_a_success_clears_the_record(db: Database) -> None:
    clock = Clock()
    health = SqliteHostHealth(db, clock=clock)
    for _ in range(7):
        await health.record_failure("flaky.example")
        clock.now += DAY
    assert health.is_unreachable("flaky.example")
    await health.record_success("flaky.example")
    assert not health.is_unreachable("flaky.example")
    assert health.failure_days("flaky.example") == 0
    row = await host_row(db, "flaky.example")
    assert row is not None
    assert (row["failure_days"], row["unreachable_since"], row["last_success_at"]) == (
        "[]", None, clock.now)
    reloaded = SqliteHostHealth(db, clock=clock)
    await reloaded.load()
    assert not reloaded.is_unreachable("flaky.example")


async def test_successes_of_healthy_hosts_write_nothing(db: Database) -> None:
    health = SqliteHostHealth(db, clock=Clock())
    await health.record_success("fine.example")
    assert await host_row(db, "fine.example") is None
