"""The SQLite database: one writer connection, one reader connection, numbered migrations.

SQLite in WAL mode lets readers run beside the single writer. All writes go through
`Database.transaction()`, which serialises writers with an asyncio lock so statements of two
coroutines never interleave inside one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

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
        """Run `fn(sqlite3_connection, *args)` on the writer's thread inside one transaction.

        Batches of many small statements cost one thread hand-off instead of one each
        (see ARCHITECTURE.md: ~100 µs a hop against ~10 µs a statement).
        The whole transaction (BEGIN IMMEDIATE, `fn`, COMMIT, or ROLLBACK on any error) is
        one call on the writer's thread: one hand-off, not three. As with `transaction()`,
        a caller cancelled before the COMMIT has begun leaves nothing written, and the lock
        is held until the writer's thread is done with the transaction.
        """
        cancelled = False

        def call(conn: sqlite3.Connection) -> Any:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot start a write: {exc}") from exc
            try:
                result = fn(conn, *args)
                if cancelled:
                    raise asyncio.CancelledError
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):  # a full disk may refuse this too
                    conn.rollback()
                failure = storage_error(exc)
                if failure is not None:
                    raise failure from exc
                raise
            try:
                conn.commit()
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.rollback()
                raise storage_error(exc) or StoreError(f"cannot commit: {exc}") from exc
            return result

        async with self._lock:
            writer = self._writer
            done = asyncio.ensure_future(writer._execute(call, writer._conn))
            try:
                return await asyncio.shield(done)
            except asyncio.CancelledError:
                if done.done():
                    raise
                cancelled = True
                await asyncio.wait([done])
                if not done.cancelled():
                    done.exception()  # retrieved: the caller hears of its cancellation
                raise

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

