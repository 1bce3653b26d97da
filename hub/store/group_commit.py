"""Group commit: many coroutines' small writes, committed together, each caller told after.

One commit costs a thread hop and an fsync whether it writes one row or a hundred (see
ARCHITECTURE.md: ~45k rows/s in batches against ~5-10k/s one commit each). A `GroupCommit`
queues items from concurrent callers; one writer task applies everything queued in one
transaction with `Database.run_in_writer`, then resolves each caller's future. While a commit
is in flight new items pile up, so batches grow exactly when load does and a lone write
waits for nobody. A caller's `submit` returns only after its row is committed.

Where writes trickle in one by one (delivery outcomes, as answers arrive) the commits stay
small: an fsync'd commit costs ~190 µs of CPU whether it holds one row or fifty (~14 µs a
row then). A `linger` makes each batch wait that long for company before it is written,
trading that much latency for fewer commits.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Generic, TypeVar

from hub.store.db import Database

T = TypeVar("T")
R = TypeVar("R")

Apply = Callable[[sqlite3.Connection, list[T]], list[R]]


class GroupCommit(Generic[T, R]):
    """Batch `submit(item)` calls into `apply(conn, items) -> results` transactions."""

    def __init__(self, db: Database, apply: Apply[T, R], *, max_batch: int = 1000,
                 linger: float = 0.0) -> None:
        self._db = db
        self._apply = apply
        self._max_batch = max_batch
        self._linger = linger
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Queue `item`; returns its result once the transaction holding it has committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await future

    async def flush(self) -> None:
        """Wait until everything submitted so far is committed (or has failed)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    def abandon(self) -> None:
        """Drop what is queued and not yet being written (a shutdown that must not wait)."""
        queued, self._queue = self._queue, []
        for _, future in queued:
            future.cancel()
        if self._task is not None:
            self._task.cancel()

    async def _drain(self) -> None:
        while self._queue:
            if self._linger > 0 and len(self._queue) < self._max_batch:
                await asyncio.sleep(self._linger)
            batch = self._queue[: self._max_batch]
            del self._queue[: len(batch)]
            try:
                results = await self._db.run_in_writer(self._apply, [item for item, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:  # every caller of the batch sees the store's error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
