"""Retry timing: Mastodon's schedule, Retry-After, and the workers' wait."""

import asyncio
import time
from email.utils import formatdate

from federation.backoff import parse_retry_after, retry_delay, wait_for_turn


def test_schedule_is_count_to_the_fourth_plus_fifteen_plus_jitter() -> None:
    assert [retry_delay(c, cap=1e9, rand=lambda: 0.0) for c in range(4)] == [15, 16, 31, 96]
    # Full jitter: Sidekiq's rand(10) * (count + 1) and Mastodon's rand(0.5 * count**4).
    assert retry_delay(2, cap=1e9, rand=lambda: 1.0) == 31 + 30 + 8
    # Sixteen attempts (fifteen waits) span one and a half to two days, as Mastodon's do.
    least = sum(retry_delay(c, cap=86400, rand=lambda: 0.0) for c in range(15))
    most = sum(retry_delay(c, cap=86400, rand=lambda: 1.0) for c in range(15))
    assert 1.4 * 86400 < least < most < 2.3 * 86400


def test_schedule_is_capped() -> None:
    assert retry_delay(15, cap=3600, rand=lambda: 0.5) == 3600


def test_retry_after_seconds_and_http_date() -> None:
    now = time.time()
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 7 ") == 7
    assert parse_retry_after(formatdate(now + 300, usegmt=True), now=now) == 300 - (now % 1)
    assert parse_retry_after(formatdate(now - 300, usegmt=True), now=now) == 0
    for bad in (None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2024"):
        assert parse_retry_after(bad) is None


async def test_wait_for_turn_wakes_on_wake_stop_or_poll() -> None:
    wake, stop = asyncio.Event(), asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, wake.set)
    await asyncio.wait_for(wait_for_turn(wake, stop, 30), 5)
    assert not wake.is_set()  # consumed
    asyncio.get_running_loop().call_later(0.01, stop.set)
    await asyncio.wait_for(wait_for_turn(wake, stop, 30), 5)
    await asyncio.wait_for(wait_for_turn(wake, stop, 0.01), 5)  # stop set: returns at once
    await asyncio.wait_for(wait_for_turn(wake, asyncio.Event(), 0.01), 5)  # poll
