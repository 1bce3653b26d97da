from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hub.store.db import Database, StoreError, available_migrations
from hub.store.group_commit import GroupCommit


def _holding(gate: asyncio.Event) -> Callable[[sqlite3.Connection], None]:
    """A write that keeps the writer busy until `gate` is set (others queue meanwhile)."""
    loop = asyncio.get_running_loop()

    def hold(conn: sqlite3.Connection) -> None:
        asyncio.run_coroutine_threadsafe(gate.wait(), loop).result(5)
    return hold


def _insert(conn: sqlite3.Connection, label: str) -> str:
    conn.execute("INSERT INTO api_tokens (token_hash, label, created_at) "
                 "VALUES (?, ?, 0)", (label, label))
    return label


async def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "hub.db")
    try:
        applied = await db.migrate()
        assert applied == [name for _, name, _ in available_migrations()]
        assert await db.migrate() == []
        assert await db.pending_migrations() == []
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
    finally:
        await db.close()


async def test_failed_transaction_rolls_back_and_keeps_data(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "hub.db")
    try:
        await db.migrate()
        await db.execute("INSERT INTO api_tokens (token_hash, label, created_at) "
                         "VALUES ('a', 'first', 0)")
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO api_tokens (token_hash, label, created_at) "
                                   "VALUES ('b', 'second', 0)")
                await conn.execute("INSERT INTO api_tokens (token_hash, label, created_at) "
                                   "VALUES ('a', 'duplicate', 0)")
        labels = [r["label"] for r in await db.fetchall("SELECT label FROM api_tokens")]
        assert labels == ["first"]
    finally:
        await db.close()


async def test_unopenable_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open database"):
        await Database.open(tmp_path / "missing-folder" / "hub.db")


async def test_run_in_writer_batches_in_one_transaction(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "hub.db")
    try:
        await db.migrate()

        def insert(conn: sqlite3.Connection, n: int) -> int:
            for i in range(n):
                conn.execute("INSERT INTO api_tokens (token_hash, label, created_at) "
                             "VALUES (?, 'x', 0)", (str(i),))
            return n

        assert await db.run_in_writer(insert, 50) == 50
        assert await db.fetchval("SELECT count(*) FROM api_tokens") == 50
    finally:
        await db.close()


async def test_group_commit_with_a_linger_gathers_trickling_writes_into_one_commit(
        tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "hub.db")
    batches: list[int] = []

    def apply(conn: sqlite3.Connection, items: list[int]) -> list[int]:
        batches.append(len(items))
        return [item * 2 for item in items]

    try:
        commits = GroupCommit(db, apply, linger=0.2)
        first = asyncio.ensure_future(commits.submit(1))
        await asyncio.sleep(0.01)  # the next writes come while the first one lingers
        rest = [asyncio.ensure_future(commits.submit(n)) for n in (2, 3)]
        assert [await first, *[await r for r in rest]] == [2, 4, 6]
        assert batches == [3]
        plain = GroupCommit(db, apply)
        assert await plain.submit(5) == 10
        assert batches == [3, 1]
    finally:
        await db.close()


async def test_a_write_that_loses_the_transaction_tells_the_others_theirs_was_lost(
        tmp_path: Path) -> None:
    """When a write takes the whole transaction down (as SQLite can on a full disk), none of
    the batch is stored: that write hears its own error, the others a StoreError. (Writers
    read some of their own exceptions as answers, so those must not reach the others.)"""
    db = await Database.open(tmp_path / "hub.db")
    try:
        await db.migrate()
        gate = asyncio.Event()
        hold = _holding(gate)

        def abandon(conn: sqlite3.Connection) -> None:
            conn.execute("ROLLBACK")  # the transaction is gone, savepoints and all
            raise LookupError("claimed meanwhile")

        busy = asyncio.ensure_future(db.run_in_writer(hold))
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(db.run_in_writer(_insert, "a")),
                   asyncio.ensure_future(db.run_in_writer(abandon)),
                   asyncio.ensure_future(db.run_in_writer(_insert, "b"))]
        await asyncio.sleep(0.05)
        gate.set()
        await busy
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert isinstance(results[1], LookupError)
        assert all(isinstance(r, StoreError) and "undone" in str(r)
                   for r in (results[0], results[2]))
        assert await db.fetchval("SELECT count(*) FROM api_tokens") == 0
    finally:
        await db.close()


async def test_writes_waiting_together_share_a_commit_and_fail_alone(tmp_path: Path) -> None:
    """Writes queued while the writer is busy go into one transaction; a write that fails
    is rolled back to its own savepoint, and the others still commit."""
    db = await Database.open(tmp_path / "hub.db")
    try:
        await db.migrate()
        gate = asyncio.Event()
        hold = _holding(gate)

        def fail(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO api_tokens (token_hash, label, created_at) "
                         "VALUES ('doomed', 'doomed', 0)")
            raise ValueError("this write changed its mind")

        batches: list[int] = []

        def apply(conn: sqlite3.Connection, items: list[str]) -> list[str]:
            batches.append(len(items))
            return [_insert(conn, item) for item in items]

        commits = GroupCommit(db, apply)
        busy = asyncio.ensure_future(db.run_in_writer(hold))
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(db.run_in_writer(_insert, "a")),
                   asyncio.ensure_future(db.run_in_writer(fail)),
                   asyncio.ensure_future(commits.submit("b")),
                   asyncio.ensure_future(commits.submit("c")),
                   asyncio.ensure_future(db.run_in_writer(_insert, "d"))]
        await asyncio.sleep(0.05)
        gate.set()
        await busy
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert results[0] == "a" and results[2:] == ["b", "c", "d"]
        assert isinstance(results[1], ValueError)
        assert batches == [2]  # both GroupCommit items in the one shared transaction
        labels = {r[0] for r in await db.fetchall("SELECT label FROM api_tokens")}
        assert labels == {"a", "b", "c", "d"}
    finally:
        await db.close()


async def test_a_lone_write_that_fails_leaves_nothing(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "hub.db")
    try:
        await db.migrate()

        def fail(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO api_tokens (token_hash, label, created_at) "
                         "VALUES ('x', 'x', 0)")
            conn.execute("INSERT INTO api_tokens (token_hash, label, created_at) "
                         "VALUES ('x', 'again', 0)")

        with pytest.raises(sqlite3.IntegrityError):
            await db.run_in_writer(fail)
        assert await db.fetchval("SELECT count(*) FROM api_tokens") == 0
    finally:
        await db.close()


async def test_a_write_cancelled_while_it_waits_is_not_written(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "hub.db")
    try:
        await db.migrate()
        gate = asyncio.Event()
        hold = _holding(gate)

        busy = asyncio.ensure_future(db.run_in_writer(hold))
        await asyncio.sleep(0.05)
        dropped = asyncio.ensure_future(db.run_in_writer(_insert, "dropped"))
        kept = asyncio.ensure_future(db.run_in_writer(_insert, "kept"))
        await asyncio.sleep(0.01)
        dropped.cancel()
        gate.set()
        await asyncio.gather(busy, kept)
        with pytest.raises(asyncio.CancelledError):
            await dropped
        labels = {r[0] for r in await db.fetchall("SELECT label FROM api_tokens")}
        assert labels == {"kept"}
    finally:
        await db.close()


async def test_a_transaction_gets_its_turn_while_group_commits_keep_coming(
        tmp_path: Path) -> None:
    """The writer's thread runs transactions back to back while writes keep coming, but
    only for a bounded turn: a `transaction()` waiting for the writer is not starved."""
    db = await Database.open(tmp_path / "hub.db")
    try:
        await db.migrate()

        def apply(conn: sqlite3.Connection, items: list[int]) -> list[None]:
            time.sleep(0.002)  # a commit's worth of work
            return [None] * len(items)

        commits: GroupCommit[int, None] = GroupCommit(db, apply)
        submitted: list[asyncio.Future[None]] = []

        async def keep_writing() -> None:  # new items every millisecond, as requests come
            while True:
                submitted.append(asyncio.ensure_future(commits.submit(len(submitted))))
                await asyncio.sleep(0.001)

        writer = asyncio.ensure_future(keep_writing())
        await asyncio.sleep(0.05)
        try:
            await asyncio.wait_for(db.execute(
                "INSERT INTO api_tokens (token_hash, label, created_at) "
                "VALUES ('t', 't', 0)"), 2)
        finally:
            writer.cancel()
        await asyncio.gather(*submitted)
        assert len(submitted) > 20
    finally:
        await db.close()


async def test_writes_after_close_fail_at_once(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "hub.db")
    await db.migrate()
    commits: GroupCommit[int, list[None]] = GroupCommit(db, lambda conn, items: [None] * len(items))
    await db.close()
    with pytest.raises(StoreError):
        await asyncio.wait_for(db.run_in_writer(lambda conn: None), 2)
    with pytest.raises(StoreError):
        await asyncio.wait_for(commits.submit(1), 2)
