"""In-memory token buckets, keyed by client address and route group, for forms people submit.

Use the decorator on a handler; each group has its own buckets:

    @rate_limited("login", capacity=10, per_seconds=300)
    async def login_submit(request): ...

A request over the limit gets 429 with `Retry-After` (an HTML page for browsers, JSON for
others) and the handler is not called. The buckets live in the app (`RATE_LIMITS`), so each
app, and each test hub, starts empty; they are per process and forgotten on restart, which is
enough to slow guessing and floods, not to meter anything.
"""

from __future__ import annotations

import functools
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import web

from hub.web.keys import SETTINGS
from hub.web.render import json_response, render_html

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_KEYS = 50_000  # per group; the least recently used client is forgotten beyond this


class TokenBucket:
    """`capacity` requests at once, refilled at `capacity / per_seconds` a second."""

    def __init__(self, capacity: int, per_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1 or per_seconds <= 0:
            raise ValueError("a bucket needs capacity >= 1 and per_seconds > 0")
        self.capacity, self.rate, self.clock = capacity, capacity / per_seconds, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def peek(self, key: str) -> float:
        """Like `take`, but spends nothing: 0.0 if a token is free, else the wait."""
        entry = self._buckets.get(key)
        if entry is None:  # a full bucket
            return 0.0
        tokens, then = entry
        tokens = min(self.capacity, tokens + (self.clock() - then) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def take(self, key: str) -> float:
        """Spend one token for `key`: 0.0 if allowed, else the seconds until one is free."""
        now = self.clock()
        tokens, then = self._buckets.pop(key, (float(self.capacity), now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        if tokens >= 1:
            tokens -= 1
            wait = 0.0
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
        return wait


class RateLimits:
    """The app's buckets, one `TokenBucket` per route group, made on first use."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._groups: dict[str, TokenBucket] = {}

    def bucket(self, group: str, capacity: int, per_seconds: float) -> TokenBucket:
        if group not in self._groups:
            self._groups[group] = TokenBucket(capacity, per_seconds, self.clock)
        return self._groups[group]


RATE_LIMITS = web.AppKey("rate_limits", RateLimits)


def client_address(request: web.Request) -> str:
    """Who is asking: the peer address, or the last X-Forwarded-For hop if the hub is told
    (`trust_forwarded_for`) that a reverse proxy on this machine adds that header."""
    if request.app[SETTINGS].trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.remote or "unknown"


def too_many_requests(request: web.Request, retry_after: float) -> web.Response:
    seconds = max(1, math.ceil(retry_after))
    message = f"Too many attempts from your address. Please wait {seconds} seconds and try again."
    if "text/html" in request.headers.get("Accept", ""):
        response = render_html(request, "error.html", status=429, title="Too many requests",
                               message=message)
    else:
        response = json_response({"error": message}, status=429)
    response.headers["Retry-After"] = str(seconds)
    return response


def check_rate(request: web.Request, group: str, capacity: int,
               per_seconds: float) -> web.Response | None:
    """The 429 answer if this client is over the group's limit, else None (a token is spent).
    For handlers that limit only some paths through them; most want `rate_limited`."""
    bucket = request.app[RATE_LIMITS].bucket(group, capacity, per_seconds)
    wait = bucket.take(client_address(request))
    return too_many_requests(request, wait) if wait > 0 else None


def rate_limited(group: str, *, capacity: int,
                 per_seconds: float) -> Callable[[Handler], Handler]:
    """Limit a handler to `capacity` requests per `per_seconds` from one client address."""
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def limited(request: web.Request) -> web.StreamResponse:
            refused = check_rate(request, group, capacity, per_seconds)
            return refused if refused is not None else await handler(request)
        return limited
    return decorate
