"""The SQLite database: one writer connection, one reader connection, numbered migrations.

SQLite in WAL mode lets readers run beside the single writer. Writes go through
`Database.transaction()` (a coroutine's statements, one by one) or, batched, through
`run_in_writer` and `GroupCommit`; an asyncio lock gives the writer to one of them at a time,
so statements of two coroutines never interleave inside one transaction. Batched writes
run in turns of the writer's thread: transaction after transaction, each taking what was
queued meanwhile, without a trip through the event loop between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# secure_delete: deleted rows (a volunteer who asked to be erased) are overwritten with zeros,
# in their pages and in free pages, not merely unlinked.
_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000",
            "PRAGMA secure_delete=ON")


class StoreError(Exception):
    """The database cannot be opened, migrated or written (full or read-only disk...)."""


# SQLite's answers when the storage, not the statement, is at fault: the disk is full (or a
# file-size limit is reached), read-only, failing, or the file cannot be opened.
_STORAGE_ERRORS = ("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN")
# One turn of the writer's thread runs transactions back to back while writes keep coming, up
# to this many or this long, then lets a waiting `transaction()` take the writer.
_TURN_BATCHES = 16
_TURN_SECONDS = 0.05


def storage_error(exc: BaseException) -> StoreError | None:
    """A `StoreError` saying what went wrong, if `exc` is SQLite reporting trouble with its
    storage; None for anything else (a constraint, a bug), which callers let through."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if isinstance(exc, sqlite3.Error) and name.startswith(_STORAGE_ERRORS):
        return StoreError(f"cannot write the database: {exc} ({name}; is its disk full "
                          "or read-only?)")
    return None


class Database:
    """An open hub database. Create with `await Database.open(path)`; close with `close()`."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()
        # What waits for the next transaction: run_in_writer calls, and the GroupCommits that
        # asked. The event loop adds; the writer's thread takes (deque and set operations are
        # atomic), so a transaction can follow the last one without a trip through the loop.
        # Each caller's writes keep their order; two GroupCommits' batches in one transaction
        # may come in either order.
        self._writes: deque[_Write] = deque()
        self._asked: set[_Source] = set()
        self._writing: asyncio.Task[None] | None = None
        self._stop_turn = False

    @classmethod
    async def open(cls, path: Path, *, synchronous: str = "FULL") -> Database:
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise StoreError(f"unknown sqlite synchronous mode {synchronous!r}")
        if not path.parent.is_dir():  # checked first: sqlite's own failure leaks its thread
            raise StoreError(f"cannot open database {path}: no folder {path.parent}")
        if not os.access(path.parent, os.W_OK):  # SQLite would only say "unable to open"
            raise StoreError(f"cannot open database {path}: {path.parent} is read-only for "
                             "this process, and the hub writes its journal beside the database")
        writer = await _connect(path, synchronous)
        try:
            reader = await _connect(path, synchronous)
        except StoreError:
            await writer.close()
            raise
        return cls(path, writer, reader)

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    # Reads ---------------------------------------------------------------------------------
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        async with self._reader.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self._reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    # Writes --------------------------------------------------------------------------------
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run writes atomically: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""
        async with self._lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except aiosqlite.Error as exc:
                raise StoreError(f"cannot start a write: {exc}") from exc
            try:
                yield self._writer
            except BaseException as exc:
                await _rollback(self._writer)
                failure = storage_error(exc)
                if failure is not None:
                    raise failure from exc
                raise
            try:
                await self._writer.commit()
            except aiosqlite.Error as exc:
                await _rollback(self._writer)
                raise storage_error(exc) or StoreError(f"cannot commit: {exc}") from exc

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own transaction; returns the last row id."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.lastrowid or 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def run_in_writer(self, fn: Any, *args: Any) -> Any:
        """Run `fn(sqlite3_connection, *args)` on the writer's thread inside a transaction.

        Batches of many small statements cost one thread hand-off instead of one each
        (see ARCHITECTURE.md: ~100 µs a hop against ~10 µs a statement). Calls that arrive
        while the writer is busy share the next transaction with each other and with the
        batches of every `GroupCommit` (BEGIN IMMEDIATE, each write in a savepoint of its
        own, one COMMIT: one hand-off and one fsync for all), and each caller hears only
        of its own `fn`: its result, or its error with its writes rolled back. A caller
        cancelled before its `fn` has run (or while it runs) leaves nothing written; one
        cancelled later waits until the transaction is done, then hears of it.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        write = _Write(fn, args, lambda ok, value: settle(future, ok, value))
        self._writes.append(write)
        self._start_writing()
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            write.cancelled = True
            if future.done():
                if not future.cancelled():
                    future.exception()  # retrieved: the caller hears of its cancellation
            else:
                await asyncio.wait([future])
            raise

    def write_soon(self, source: _Source) -> None:
        """A `GroupCommit` has items for the next transaction."""
        self._asked.add(source)
        self._start_writing()

    async def drained(self) -> None:
        """Wait until the writer has nothing queued or in flight."""
        while self._writing is not None and not self._writing.done():
            await asyncio.shield(self._writing)

    def _start_writing(self) -> None:
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_all())

    async def _write_all(self) -> None:
        """Write everything queued: turns of the writer's thread, each holding the lock."""
        loop = asyncio.get_running_loop()
        self._stop_turn = False
        while self._writes or self._asked:
            async with self._lock:
                writer = self._writer
                try:
                    await writer._execute(self._turn, writer._conn, loop)
                except asyncio.CancelledError:  # stopped: the thread stops after this batch
                    self._stop_turn = True
                    raise
                except Exception as exc:  # no writer (closed): whatever waits fails now
                    self._fail_queued(StoreError(f"cannot write the database: {exc}"))

    def _fail_queued(self, error: StoreError) -> None:
        batch, skipped = [], []
        while self._writes or self._asked:
            more, gave_up = self._next_batch()
            batch += more
            skipped += gave_up
        _finish(skipped, [(False, asyncio.CancelledError())] * len(skipped))
        _finish(batch, [(False, error)] * len(batch))

    def _turn(self, conn: sqlite3.Connection, loop: asyncio.AbstractEventLoop) -> None:
        """On the writer's thread: transactions back to back until nothing is queued (or the
        turn is long enough); each batch's callers hear of it through the event loop."""
        deadline = time.monotonic() + _TURN_SECONDS
        for _ in range(_TURN_BATCHES):
            if self._stop_turn:
                return
            batch, skipped = self._next_batch()
            if skipped:  # their callers gave up before they were written: nothing is
                loop.call_soon_threadsafe(
                    _finish, skipped, [(False, asyncio.CancelledError())] * len(skipped))
            if not batch:
                return
            try:
                outcomes = _run_batch(conn, batch)
            except BaseException as exc:  # the transaction failed: every write of it did
                outcomes = [(False, exc)] * len(batch)
            loop.call_soon_threadsafe(_finish, batch, outcomes)
            if time.monotonic() > deadline:
                return

    def _next_batch(self) -> tuple[list[_Write], list[_Write]]:
        """On the writer's thread: (what the next transaction writes, cancelled writes)."""
        batch: list[_Write] = []
        skipped: list[_Write] = []
        while self._writes:
            write = self._writes.popleft()
            (skipped if write.cancelled else batch).append(write)
        sources = []
        while self._asked:
            sources.append(self._asked.pop())
        for source in sources:
            taken = source.take()
            if taken is not None:
                batch.append(_Write(*taken))
            if source.waiting():  # more than one transaction's worth, or new since
                self._asked.add(source)
        return batch, skipped

    async def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file and truncate the log, so pages as
        they were before a deletion survive in neither. False if a reader kept it busy."""
        async with self._lock:
            async with self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                row = await cursor.fetchone()
        busy = row is not None and row[0] != 0
        if busy:
            log.warning("the write-ahead log could not be truncated: a reader was busy")
        return not busy

    # Migrations ----------------------------------------------------------------------------
    async def migrate(self) -> list[str]:
        """Apply the numbered migrations not yet recorded; returns the names applied."""
        await self._writer.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        await self._writer.commit()
        done = {row[0] for row in await self._writer.execute_fetchall(
            "SELECT version FROM schema_migrations")}
        applied = []
        for version, name, sql in available_migrations():
            if version in done:
                continue
            await self._apply(version, name, sql)
            applied.append(name)
            log.info("applied migration %04d_%s", version, name)
        return applied

    async def _apply(self, version: int, name: str, sql: str) -> None:
        record = (f"INSERT INTO schema_migrations (version, name, applied_at) "
                  f"VALUES ({version}, '{name}', {time.time()});")
        async with self._lock:
            try:
                await self._writer.executescript(f"BEGIN IMMEDIATE;\n{sql}\n{record}\nCOMMIT;")
            except aiosqlite.Error as exc:
                await self._writer.rollback()
                raise StoreError(f"migration {version:04d}_{name} failed: {exc}") from exc

    async def pending_migrations(self) -> list[str]:
        exists = await self.fetchval(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'")
        done = set()
        if exists:
            done = {r[0] for r in await self.fetchall("SELECT version FROM schema_migrations")}
        return [f"{v:04d}_{n}" for v, n, _ in available_migrations() if v not in done]

    async def integrity_check(self) -> str:
        return str(await self.fetchval("PRAGMA integrity_check"))


class _Source(Protocol):
    """Where a transaction finds more to write: a `GroupCommit`'s queue. Both methods are
    called on the writer's thread, while the event loop may be adding items."""

    def take(self) -> tuple[Any, tuple[Any, ...], Any, bool] | None: ...

    def waiting(self) -> bool: ...


class _Write:
    """One write waiting for, or in, a transaction: `fn(conn, *args)`, then `done(ok,
    result or error)`. `alone_atomic`: when it is all a transaction would hold, `fn`
    runs without one, as it is atomic by itself (one statement, or its own transaction)."""

    __slots__ = ("alone_atomic", "args", "cancelled", "done", "fn")

    def __init__(self, fn: Any, args: tuple[Any, ...], done: Any,
                 alone_atomic: bool = False) -> None:
        self.fn, self.args, self.done = fn, args, done
        self.alone_atomic = alone_atomic
        self.cancelled = False


def _finish(batch: list[_Write], outcomes: list[tuple[bool, Any]]) -> None:
    """On the event loop: tell each write of a batch what became of it."""
    for write, (ok, value) in zip(batch, outcomes, strict=True):
        write.done(ok, value)


def settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Tell a writer's caller what became of its write (unless it stopped listening)."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    elif isinstance(value, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(value)


def _run_batch(conn: sqlite3.Connection, batch: list[_Write]) -> list[tuple[bool, Any]]:
    """One transaction for a batch of writes, on the writer's thread: (ok, result or error)
    for each; raises only if the transaction itself cannot begin or commit. Alone, a write's
    error rolls the transaction back; in company, a savepoint does, so the others still
    commit. If SQLite itself abandons the transaction (a full disk can), none of the batch
    is stored: the failing write gets its error, the others a StoreError saying so."""
    alone = len(batch) == 1
    if alone and batch[0].alone_atomic and not conn.in_transaction:
        # One statement commits itself (and, with synchronous=FULL, syncs): BEGIN and
        # COMMIT would be two more trips to win the GIL back from a busy event loop.
        return [_run_alone(conn, batch[0])]
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot start a write: {exc}") from exc
    outcomes: list[tuple[bool, Any]] = []
    for write in batch:
        try:
            if not alone:
                conn.execute("SAVEPOINT write")
            result = write.fn(conn, *write.args)
            if write.cancelled:
                raise asyncio.CancelledError
            if not alone:
                conn.execute("RELEASE write")
        except BaseException as exc:
            error = storage_error(exc) or exc
            if error is not exc:
                error.__cause__ = exc
            if alone or not conn.in_transaction or not _undo(conn):
                with contextlib.suppress(sqlite3.Error):  # a full disk may refuse this too
                    conn.rollback()
                # The others hear their writes were lost with it, not this write's error: a
                # caller may read its own exceptions as answers ("claimed meanwhile").
                lost = StoreError(f"the write was undone with its transaction: {error}")
                return [(False, error if other is write else lost) for other in batch]
            outcomes.append((False, error))
            continue
        outcomes.append((True, result))
    try:
        conn.commit()
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.rollback()
        raise storage_error(exc) or StoreError(f"cannot commit: {exc}") from exc
    return outcomes


def _run_alone(conn: sqlite3.Connection, write: _Write) -> tuple[bool, Any]:
    """A write that is atomic by itself, outside a transaction: (ok, result or error)."""
    try:
        return True, write.fn(conn, *write.args)
    except BaseException as exc:
        if conn.in_transaction:  # it began one and failed inside: nothing of it stays
            with contextlib.suppress(sqlite3.Error):
                conn.rollback()
        error = storage_error(exc) or _busy_error(exc) or exc
        if error is not exc:
            error.__cause__ = exc
        return False, error


def _busy_error(exc: BaseException) -> StoreError | None:
    """What `BEGIN IMMEDIATE` failing would have said, for a statement that begins its own
    transaction and finds the database locked (another process holds the write lock)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if isinstance(exc, sqlite3.OperationalError) and name.startswith(("SQLITE_BUSY",
                                                                      "SQLITE_LOCKED")):
        return StoreError(f"cannot start a write: {exc}")
    return None


def _undo(conn: sqlite3.Connection) -> bool:
    """Roll back to the current write's savepoint; False if even that fails."""
    try:
        conn.execute("ROLLBACK TO write")
        conn.execute("RELEASE write")
    except sqlite3.Error:
        return False
    return True


async def _rollback(conn: aiosqlite.Connection) -> None:
    try:
        await conn.rollback()
    except sqlite3.Error as exc:  # the write already failed; SQLite rolls back on its own
        log.warning("rollback after a failed write failed too: %s", exc)


def available_migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("hub.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


async def _connect(path: Path, synchronous: str) -> aiosqlite.Connection:
    try:
        conn = await aiosqlite.connect(str(path), isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    conn.row_factory = aiosqlite.Row
    try:
        for pragma in (*_PRAGMAS, f"PRAGMA synchronous={synchronous.upper()}"):
            await conn.execute(pragma)
    except sqlite3.Error as exc:
        await conn.close()
        raise StoreError(f"cannot use database {path}: {exc}") from exc
    return conn

