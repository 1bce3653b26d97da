"""The inbound queue over a real SQLite file: durable once-only adds, order, outcomes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from federation.inbox import InboundMark
from hub.store.db import Database, StoreError
from hub.store.inbound import SqliteInboundStore, counts, get_item


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_add_is_once_per_activity_and_committed_on_return(
        db: Database, tmp_path: Path) -> None:
    store = SqliteInboundStore(db)
    assert await store.add("https://a.example/1", "https://a.example/u", b'{"id": 1}')
    with sqlite3.connect(tmp_path / "hub.db") as conn:  # another connection sees it at once
        assert conn.execute("SELECT count(*) FROM inbound").fetchone() == (1,)
    # A redelivery (same id, same body) is a duplicate...
    assert not await store.add("https://a.example/1", "https://a.example/u", b'{"id": 1}')
    # ...but the same id with another body is not: Mobilizon reuses its Create's id for
    # every Update of an event.
    assert await store.add("https://a.example/1", "https://a.example/u", b'{"other": 1}')
    items = await store.claim(10)
    assert [(i.activity_id, i.body, i.attempts) for i in items] == [
        ("https://a.example/1", b'{"id": 1}', 0), ("https://a.example/1", b'{"other": 1}', 0)]


async def test_concurrent_adds_share_commits_and_each_learns_if_it_was_new(
        db: Database) -> None:
    store = SqliteInboundStore(db)
    ids = [f"https://a.example/{n % 150}" for n in range(300)]  # every id twice, some thrice
    results = await asyncio.gather(*(store.add(i, "https://a.example/u", b"{}") for i in ids))
    assert sum(results) == 150
    firsts = {i: n for n, i in reversed(list(enumerate(ids)))}
    assert [n for n, new in enumerate(results) if new] == sorted(firsts.values())
    assert (await counts(db))["pending"] == 150


async def test_a_batch_mixing_known_new_and_repeated_activities_learns_which_are_new(
        db: Database) -> None:
    store = SqliteInboundStore(db)
    known = [f"https://a.example/known/{n}" for n in range(3)]
    for activity_id in known:
        assert await store.add(activity_id, "https://a.example/u", b"{}")
    fresh = [f"https://a.example/new/{n}" for n in range(700)]  # more than one statement's
    ids = [fresh[0], known[1], *fresh[1:400], fresh[3], known[0], *fresh[400:], fresh[650]]
    results = await asyncio.gather(*(store.add(i, "https://a.example/u", b"{}") for i in ids))
    seen: set[str] = set(known)
    expected = []
    for activity_id in ids:
        expected.append(activity_id not in seen)
        seen.add(activity_id)
    assert results == expected
    assert (await counts(db))["pending"] == 703


async def test_a_failing_batch_fails_every_caller_in_it(db: Database) -> None:
    store = SqliteInboundStore(db)
    good = store.add("https://a.example/1", "https://a.example/u", b"{}")
    bad = store.add("https://a.example/2", None, b"{}")  # type: ignore[arg-type]
    results = await asyncio.gather(good, bad, return_exceptions=True)
    assert all(isinstance(r, sqlite3.IntegrityError) for r in results)
    assert await counts(db) == {"pending": 0, "done": 0, "ignored": 0, "failed": 0}
    assert await store.add("https://a.example/1", "https://a.example/u", b"{}")  # still usable


async def test_a_batch_too_big_for_one_statement_fails_whole(db: Database) -> None:
    store = SqliteInboundStore(db)
    adds = [store.add(f"https://a.example/{n}", "https://a.example/u", b"{}")
            for n in range(700)]
    adds.append(store.add("https://a.example/bad", None, b"{}"))  # type: ignore[arg-type]
    results = await asyncio.gather(*adds, return_exceptions=True)
    assert all(isinstance(r, sqlite3.IntegrityError) for r in results)
    assert await counts(db) == {"pending": 0, "done": 0, "ignored": 0, "failed": 0}


async def test_claim_is_in_order_and_skips_what_is_not_due(db: Database) -> None:
    clock = Clock()
    store = SqliteInboundStore(db, clock=clock)
    for n in range(5):
        await store.add(f"https://a.example/{n}", "https://a.example/u", b"{}")
    first, second, *rest = await store.claim(10)
    await store.record([InboundMark(first.id, "retry", "remote down", clock.now + 60),
                        InboundMark(second.id, "ignored")])
    assert [i.activity_id for i in await store.claim(10)] == [i.activity_id for i in rest]
    assert [i.activity_id for i in await store.claim(2)] == [i.activity_id for i in rest[:2]]
    clock.now += 61
    claimed = await store.claim(10)
    assert claimed[-1].activity_id == "https://a.example/0" and claimed[-1].attempts == 1
    row = await get_item(db, "https://a.example/0")
    assert row is not None and (row["state"], row["error"]) == ("pending", "remote down")


async def test_outcomes_are_recorded_with_their_errors(db: Database) -> None:
    clock = Clock()
    store = SqliteInboundStore(db, clock=clock)
    for n in range(3):
        await store.add(f"https://a.example/{n}", "https://a.example/u", b"{}")
    items = await store.claim(10)
    await store.record([InboundMark(items[0].id, "done"),
                        InboundMark(items[1].id, "failed", "bad Join"),
                        InboundMark(items[2].id, "ignored")])
    assert await store.claim(10) == []
    row = await get_item(db, "https://a.example/1")
    assert row is not None
    assert (row["state"], row["error"], row["attempts"], row["processed_at"]) == (
        "failed", "bad Join", 1, clock.now)
    with pytest.raises(ValueError, match="outcome"):
        await store.record([InboundMark(items[0].id, "exploded")])  # type: ignore[arg-type]


async def test_a_locked_database_is_a_store_error_not_a_crash(
        db: Database, tmp_path: Path) -> None:
    """Another process holding the write lock past the busy timeout: the inbox answers
    503 (StoreError), as when a transaction cannot begin, and nothing is half-written."""
    await db.run_in_writer(lambda conn: conn.execute("PRAGMA busy_timeout=100"))
    store = SqliteInboundStore(db)
    other = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="cannot start a write"):
            await store.add("https://a.example/1", "https://a.example/u", b"{}")
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert await store.add("https://a.example/1", "https://a.example/u", b"{}")
