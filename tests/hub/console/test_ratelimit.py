"""The in-memory token buckets behind rate-limited forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from hub.web import ratelimit
from hub.web.ratelimit import RateLimits, TokenBucket
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_capacity_then_says_how_long_to_wait() -> None:
    clock = Clock()
    bucket = TokenBucket(10, 300, clock)  # 10 per 5 minutes: one token every 30 s
    assert [bucket.take("1.2.3.4") for _ in range(10)] == [0.0] * 10
    assert bucket.take("1.2.3.4") == pytest.approx(30.0)
    clock.now += 29
    assert bucket.take("1.2.3.4") == pytest.approx(1.0)
    clock.now += 1
    assert bucket.take("1.2.3.4") == 0.0
    assert bucket.take("1.2.3.4") > 0


def test_refused_requests_do_not_dig_a_deeper_hole() -> None:
    clock = Clock()
    bucket = TokenBucket(2, 10, clock)
    bucket.take("a"), bucket.take("a")
    for _ in range(50):
        assert bucket.take("a") == pytest.approx(5.0)
    clock.now += 5
    assert bucket.take("a") == 0.0


def test_clients_have_their_own_buckets_and_refill_to_capacity_only() -> None:
    clock = Clock()
    bucket = TokenBucket(3, 3, clock)
    for _ in range(3):
        bucket.take("a")
    assert bucket.take("a") > 0
    assert bucket.take("b") == 0.0
    clock.now += 3600  # an hour idle refills to 3, not to 3600
    assert [bucket.take("a") for _ in range(4)][-1] > 0


def test_the_least_recently_seen_clients_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "MAX_KEYS", 3)
    clock = Clock()
    bucket = TokenBucket(1, 60, clock)
    for key in ("a", "b", "c", "d"):
        assert bucket.take(key) == 0.0
    assert bucket.take("a") == 0.0  # "a" was dropped, so it starts full again
    assert bucket.take("d") > 0


def test_groups_are_separate_and_bad_limits_are_refused() -> None:
    limits = RateLimits(Clock())
    login = limits.bucket("login", 1, 60)
    assert limits.bucket("login", 99, 1) is login  # made once per group
    assert login.take("a") == 0.0 and login.take("a") > 0
    assert limits.bucket("rsvp", 1, 60).take("a") == 0.0
    with pytest.raises(ValueError, match="capacity"):
        TokenBucket(0, 60)
    with pytest.raises(ValueError, match="per_seconds"):
        TokenBucket(1, 0)


async def _refused_after(running: RunningHub, forwarded: list[str]) -> int:
    """POST the login form once per address given; how many got through before a 429."""
    async with aiohttp.ClientSession() as session:
        for count, address in enumerate(forwarded):
            async with session.post(f"{running.base_url}/console/login", data={},
                                    headers={"X-Forwarded-For": f"10.0.0.9, {address}"}) as r:
                if r.status == 429:
                    return count
                assert r.status == 403  # no CSRF token: refused, but the attempt counted
    return len(forwarded)


async def test_forwarded_addresses_count_only_when_trusted(hubs: HubFactory) -> None:
    # Not behind a trusted proxy: a made-up X-Forwarded-For does not buy fresh attempts.
    direct = await hubs("direct")
    assert await _refused_after(direct, [f"192.0.2.{i}" for i in range(12)]) == 10
    # Behind one: each client address has its own bucket, the proxy's address does not count.
    proxied = await hubs("proxied", trust_forwarded_for=True)
    assert await _refused_after(proxied, [f"192.0.2.{i}" for i in range(12)]) == 12
    assert await _refused_after(proxied, ["198.51.100.7"] * 12) == 10
