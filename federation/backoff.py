"""When to try again: the retry schedule, `Retry-After`, and waiting for a worker's next turn.

The schedule is Mastodon's (app/workers/activitypub/delivery_worker.rb): before retry number
`count` (0 for the first retry) wait `count**4 + 15` seconds, plus Sidekiq's jitter
`rand(10) * (count + 1)` and Mastodon's own `rand(0.5 * count**4)`. Sixteen attempts then
span about two days: 15-25 s, 16-36 s, 31-49 s, 96-... s, ..., ~14 h before the last.
The jitter spreads retries of one fan-out so that a recovering host is not hit all at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime


def retry_delay(count: int, *, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `count` (0-based), at most `cap`."""
    base = count**4 + 15
    jitter = rand() * 10 * (count + 1) + rand() * 0.5 * count**4
    return min(float(base + jitter), cap)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds asked for by a `Retry-After` header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT by definition
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


async def wait_for_turn(wake: asyncio.Event, stop: asyncio.Event, poll: float) -> None:
    """Sleep until `wake` or `stop` is set or `poll` seconds pass; clears `wake`.

    Workers poll as well as wait for a wake-up, so rows written by another process, or
    retries that fall due, are still picked up if nobody calls `wake()`.
    """
    if not wake.is_set() and not stop.is_set():
        waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
    wake.clear()
