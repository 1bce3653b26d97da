"""Group commit: many coroutines' small writes, committed together, each caller told after.

One commit costs a thread hop and an fsync whether it writes one row or a hundred (see
ARCHITECTURE.md: ~45k rows/s in batches against ~5-10k/s one commit each). A `GroupCommit`
queues items of one kind from concurrent callers; the database's writer takes everything
queued (in every `GroupCommit`, and every `run_in_writer` call) into its next transaction,
where `apply(conn, items)` writes them, then resolves each caller's future. While a commit
is in flight new items pile up, so batches grow exactly when load does and a lone write
waits for nobody. A caller's `submit` returns only after its row is committed.

Where writes trickle in one by one (delivery outcomes, as answers arrive) the commits stay
small: an fsync'd commit costs ~190 µs of CPU whether it holds one row or fifty (~14 µs a
row then). A `linger` makes an item wait up to that long for company before it asks for a
transaction of its own; any transaction that starts meanwhile takes it along.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from hub.store.db import Database, settle

T = TypeVar("T")
R = TypeVar("R")

Apply = Callable[[sqlite3.Connection, list[T]], list[R]]


class GroupCommit(Generic[T, R]):
    """Batch `submit(item)` calls into `apply(conn, items) -> results` transactions."""

    def __init__(self, db: Database, apply: Apply[T, R], *, max_batch: int = 1000,
                 linger: float = 0.0, atomic: bool = False) -> None:
        self._db = db
        self._apply = apply
        # `apply` is atomic by itself (one statement, or a transaction of its own when it
        # finds none open): a batch with nothing else to write runs without BEGIN/COMMIT.
        self._atomic = atomic
        self._max_batch = max_batch
        self._linger = linger
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._hurry = False
        self._taking = threading.Lock()  # take (the writer's thread) against abandon

    def hurry(self) -> None:
        """The next item asks for a transaction at once (no more company is coming), and
        what already lingers goes with it."""
        self._hurry = True
        if self._queue:
            self._db.write_soon(self)

    async def submit(self, item: T) -> R:
        """Queue `item`; returns its result once the transaction holding it has committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._linger <= 0 or self._hurry or len(self._queue) >= self._max_batch:
            self._hurry = False
            self._db.write_soon(self)
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._linger, self._due)
        return await future

    def _due(self) -> None:
        self._timer = None
        if self._queue:
            self._db.write_soon(self)

    def take(self) -> tuple[Callable[..., Any], tuple[Any, ...], Callable[..., None],
                            bool] | None:
        """For the database's writer (on its thread): the next batch as (fn, args, done,
        atomic), or None. Meanwhile the event loop may append (at the end, so the slice
        and the delete take the same items) or abandon the queue (under the same lock);
        `done` runs on the event loop."""
        with self._taking:
            batch = self._queue[: self._max_batch]
            if not batch:
                return None
            del self._queue[: len(batch)]

        def done(ok: bool, value: Any) -> None:
            for n, (_, future) in enumerate(batch):
                settle(future, ok, value[n] if ok else value)

        return self._apply, ([item for item, _ in batch],), done, self._atomic

    def waiting(self) -> bool:
        """For the database's writer: are items left for another transaction?"""
        return bool(self._queue)

    async def flush(self) -> None:
        """Wait until everything submitted so far is committed (or has failed)."""
        if self._queue:
            self._db.write_soon(self)
        await self._db.drained()

    def abandon(self) -> None:
        """Drop what is queued and not yet being written (a shutdown that must not wait)."""
        with self._taking:
            queued, self._queue = self._queue, []
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for _, future in queued:
            future.cancel()
