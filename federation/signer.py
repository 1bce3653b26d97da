"""Signing deliveries on a few threads, in batches.

RSA signing releases the GIL, so threads sign while the event loop sends. One executor call
per signature cost the loop ~40 µs in hand-offs (the executor's future and lock, the
result posted back, an asyncio future chained to it) on top of the ~800 µs signature.
`BatchSigner` hands the threads whole batches instead: a request to sign waits in a list,
and whenever a thread is free it takes everything waiting (up to `max_batch`: small
enough that the last batches of a fan-out keep both threads busy). While the
threads are busy the list grows, so batches are large exactly when a fan-out is, and a lone
delivery still goes out at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_Outcome = tuple[bool, Any]  # (True, result) or (False, exception)


def _run_batch(calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[_Outcome]:
    outcomes: list[_Outcome] = []
    for fn, args in calls:
        try:
            outcomes.append((True, fn(*args)))
        except Exception as exc:  # one bad key must not fail the batch
            outcomes.append((False, exc))
    return outcomes


class BatchSigner:
    """Runs `sign(fn, *args)` calls on `threads` threads, a batch per hand-off."""

    def __init__(self, threads: int, *, max_batch: int = 16) -> None:
        if threads < 1:
            raise ValueError("a BatchSigner needs at least one thread")
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="sign")
        self._threads = threads
        self._max_batch = max_batch
        self._waiting: list[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = []
        self._busy = 0

    async def sign(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on a signing thread; its result, or its exception raised here."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._waiting.append((fn, args, future))
        if self._busy < self._threads:
            self._dispatch(loop)
        return await future

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._waiting[:self._max_batch]
        del self._waiting[:len(batch)]
        calls = [(fn, args) for fn, args, future in batch if not future.cancelled()]
        futures = [future for _, _, future in batch if not future.cancelled()]
        if not calls:
            return
        try:
            done = loop.run_in_executor(self._executor, _run_batch, calls)
        except RuntimeError as exc:  # the executor was shut down
            for future in futures:
                if not future.done():
                    future.set_exception(exc)
            return
        self._busy += 1
        done.add_done_callback(lambda d: self._finished(loop, futures, d))

    def _finished(self, loop: asyncio.AbstractEventLoop, futures: list[asyncio.Future[Any]],
                  done: asyncio.Future[list[_Outcome]]) -> None:
        self._busy -= 1
        if done.cancelled():
            for future in futures:
                future.cancel()
        elif (error := done.exception()) is not None:
            for future in futures:
                if not future.done():
                    future.set_exception(error)
        else:
            for future, (ok, value) in zip(futures, done.result(), strict=True):
                if future.done():
                    continue  # its delivery was cancelled meanwhile
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        while self._waiting and self._busy < self._threads:
            before = len(self._waiting)
            self._dispatch(loop)
            if len(self._waiting) == before:
                break

    def close(self) -> None:
        """Stop the threads; signatures still waiting fail."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        waiting, self._waiting = self._waiting, []
        for _, _, future in waiting:
            if not future.done():
                future.set_exception(RuntimeError("the signer is closed"))
