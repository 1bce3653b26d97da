"""Signing deliveries on a few threads that pull their own work.

RSA signing releases the GIL, so threads sign while the event loop sends. A request to sign
goes into a thread-safe queue, and each signing thread takes the next one as soon as it is
free, without waiting for the event loop. It hands results back a few at a time (one wake-up
of the loop for several), and at once when the queue is empty: the first signed deliveries of
a fan-out go out while the rest are still being signed.

An earlier design had the event loop hand whole batches to an executor (fewer hand-offs per
signature), but a thread that finished its batch then waited for a busy event loop to give
it the next one, and a batch's first signature waited for its last: on two cores the
signing threads sat idle ~15% of a fan-out (bench/fanout.py, docs/performance.md).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_Job = tuple[asyncio.AbstractEventLoop, Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]


# A thread hands back the first result of a burst at once, then every few signatures, and
# as soon as the queue is empty: one wake-up of the event loop for several results, and no
# delivery waits for more than this many signatures (~3 ms).
_HAND_BACK_EVERY = 4
_HAND_BACK: Any = object()  # "nothing to sign just now": hand back what is done


def _settle_all(done: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in done:
        if future.done():
            continue  # its delivery was cancelled meanwhile
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class BatchSigner:
    """Runs `sign(fn, *args)` calls on `threads` threads (started at the first call)."""

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError("a BatchSigner needs at least one thread")
        self._count = threads
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._closed = False

    async def sign(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on a signing thread; its result, or its exception raised here."""
        if self._closed:
            raise RuntimeError("the signer is closed")
        if not self._threads:
            self._threads = [threading.Thread(target=self._work, name=f"sign_{n}", daemon=True)
                             for n in range(self._count)]
            for thread in self._threads:
                thread.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((loop, fn, args, future))
        return await future

    def _work(self) -> None:
        done: list[tuple[asyncio.Future[Any], bool, Any]] = []
        loop: asyncio.AbstractEventLoop | None = None
        while True:
            waited = not done  # block only once everything signed so far is handed back
            try:
                job = self._queue.get(block=waited)
            except queue.Empty:
                job = None if loop is None else _HAND_BACK
            if done and (job is _HAND_BACK or job is None or len(done) >= _HAND_BACK_EVERY
                         or job[0] is not loop):
                self._hand_back(loop, done)
                done = []
            if job is None:
                return
            if job is _HAND_BACK:
                continue
            loop, fn, args, future = job
            if future.cancelled():  # read from another thread: at worst, one wasted signature
                continue
            try:
                done.append((future, True, fn(*args)))
            except Exception as exc:  # one bad key must not stop the thread
                done.append((future, False, exc))
            except BaseException as exc:  # SystemExit and the like: tell, then stop
                done.append((future, False, exc))
                self._hand_back(loop, done)
                raise
            if waited:  # the first of a burst goes out at once, in the order it came
                self._hand_back(loop, done)
                done = []

    @staticmethod
    def _hand_back(loop: asyncio.AbstractEventLoop | None,
                   done: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
        """One wake-up of the event loop for a few results."""
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(_settle_all, done)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def close(self) -> None:
        """Stop the threads; signatures still waiting fail."""
        self._closed = True
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None and not job[3].done():
                job[3].set_exception(RuntimeError("the signer is closed"))
        for _ in self._threads:
            self._queue.put(None)
