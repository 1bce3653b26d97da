"""The inbox: accept signed activities fast, store them once, process them later in order.

`InboxReceiver.handle` is the aiohttp handler for `POST /inbox` and `POST /users/x/inbox`.
It does only what must happen before answering: cheap checks first (blocked host, media
type, size, JSON shape), then the signature, then the origin rules, then one durable insert;
it answers 202 and leaves the work to `InboxProcessor`, which takes stored activities in
order and hands them to the `Dispatcher`. The request path touches no JSON-LD processor and
reads nothing from the database: key lookups are the app's injected, cached callable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from federation.backoff import retry_delay, wait_for_turn
from federation.delivery import host_of
from federation.dispatch import Dispatcher, RetryableError
from federation.errors import (
    FederationError,
    ForbiddenActivity,
    PayloadTooLarge,
    RateLimited,
    SignatureError,
    Unreachable,
    UnsupportedMediaType,
    ValidationError,
)
from federation.keys import KeyLookup, PublicKey
from federation.policy import authority_of
from federation.signatures import verify_request, verify_with_key
from federation.verifier import Checked, Refused, VerifierPool

log = logging.getLogger(__name__)

ACCEPTED_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json"})
# Activities that create or change an object: the object must live where the actor lives,
# or anyone could Update someone else's post by naming it (Mastodon checks the same).
_OBJECT_OWNING_TYPES = frozenset({"Create", "Update", "Delete"})
_KEY_ID = re.compile(r'keyid\s*=\s*"([^"]*)"', re.IGNORECASE)
_DEFAULT_PORTS = {"https": 443, "http": 80}
# The usual shape of an id (lower-case scheme and host name, optional port, then a path, a
# query, a fragment or nothing), read without urlsplit: a fresh URL costs urlsplit ~10 µs
# and the inbox checks three per activity. Anything else takes the full parse, so the
# results (and the errors) are urlsplit's.
_SIMPLE_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+)(?::([0-9]{1,5}))?(?=[/?#]|\Z)")

Outcome = Literal["done", "ignored", "failed"]
YIELD_EVERY = 8  # activities the processor handles between two turns of the event loop
LULL = 0.05  # seconds without a new activity stored that let the processor take a batch


@dataclass(frozen=True, slots=True)
class InboundItem:
    """A stored inbound activity waiting to be processed."""

    id: int
    activity_id: str
    actor_id: str
    body: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class InboundMark:
    """What became of one processed activity: an outcome, or a retry at `retry_at`."""

    item_id: int
    state: Outcome | Literal["retry"]
    error: str | None = None
    retry_at: float = 0.0


class InboundStore(Protocol):
    """Durable storage of inbound activities; `hub.store.inbound` implements it."""

    async def add(self, activity_id: str, actor_id: str, body: bytes) -> bool:
        """Store once, committed before returning; False if this activity id is known."""
        ...

    async def claim(self, limit: int) -> list[InboundItem]:
        """Pending activities whose time has come, oldest first."""
        ...

    async def record(self, marks: list[InboundMark]) -> None:
        """Write the outcomes of processed activities, committed before returning."""
        ...


class HostRateLimit(Protocol):
    """Per-host request budget; `hub.web.ratelimit.TokenBucket` implements it.

    Both return 0.0 when allowed, else the seconds until the host may send again.
    """

    def peek(self, key: str) -> float: ...

    def take(self, key: str) -> float: ...


class InboxReceiver:
    """The aiohttp handler for inbox POSTs. See the module docstring for the order of checks."""

    def __init__(self, store: InboundStore, key_lookup: KeyLookup, *, base_url: str,
                 max_body: int = 1_000_000, window: int = 3900, max_depth: int = 32,
                 is_blocked: Callable[[str], bool] | None = None,
                 on_stored: Callable[[], None] | None = None,
                 rate_limit: HostRateLimit | None = None,
                 on_verified: Callable[[str], None] | None = None,
                 verifier: VerifierPool | None = None,
                 cached_key: Callable[[str], PublicKey | None] | None = None) -> None:
        self._store = store
        self._key_lookup = key_lookup
        # Behind a reverse proxy request.url is the proxy's view; signatures cover the public one.
        self._base_url = base_url.rstrip("/")
        self._max_body = max_body
        self._window = window
        self._max_depth = max_depth
        self._is_blocked = is_blocked
        self._on_stored = on_stored
        self._rate_limit = rate_limit
        self._on_verified = on_verified  # told the host (host[:port]) of each verified signer
        # With both, deliveries signed by a key held in memory are checked in a worker
        # process (federation.verifier); anything else here, by the same functions.
        self._verifier = verifier
        self._cached_key = cached_key

    @property
    def verifier(self) -> VerifierPool | None:
        """The verifier processes this inbox uses, if any."""
        return self._verifier

    async def handle(self, request: web.Request) -> web.Response:
        try:
            activity_id, actor_id, body = await self.receive(request)
            stored = await self._store.add(activity_id, actor_id, body)
        except FederationError as exc:
            log.debug("inbox refused a POST from %s: %s", request.remote, exc.message)
            return error_response(exc)

        if stored and self._on_stored is not None:
            self._on_stored()
        # A duplicate answers 202 too: the sender only needs to know we have it.
        return web.Response(status=202)

    async def receive(self, request: web.Request) -> tuple[str, str, bytes]:
        """Run every check; returns (activity id, actor id, raw body) of an acceptable POST."""
        key_id = _key_id(request.headers)
        self._refuse_blocked(key_id)
        self._check_rate(key_id, spend=False)
        check_media_type(request.content_type)
        body = await read_capped(request, self._max_body)
        url = self._base_url + request.raw_path
        checked = await self._check_in_worker(request, url, key_id, body)
        if checked is None:
            activity = parse_activity(body, self._max_depth)
            activity_id, actor_id = activity_ids(activity)
            self._refuse_blocked(actor_id)
            verified = await verify_request(request.method, url, request.headers, body,
                                            self._key_lookup, window=self._window)
            check_signer(verified.owner, actor_id)
            check_origins(activity, actor_id)
            signer = verified.key_id
        else:
            activity_id, actor_id, signer = checked.activity_id, checked.actor_id, checked.key_id
        self._check_rate(signer, spend=True)
        if self._on_verified is not None:
            self._on_verified(_sender(signer))
        return activity_id, actor_id, body

    async def _check_in_worker(self, request: web.Request, url: str, key_id: str | None,
                               body: bytes) -> Checked | None:
        """The checks in a verifier process, in the same order; None: do them here."""
        if self._verifier is None or self._cached_key is None or not key_id:
            return None
        key = self._cached_key(key_id)
        if key is None:
            return None
        result = await self._verifier.check(request.method, url, request.raw_headers, body,
                                            key, window=self._window,
                                            max_depth=self._max_depth)
        if isinstance(result, Refused):
            if result.actor_id:
                self._refuse_blocked(result.actor_id)
            raise result.error
        if result is not None and self._cached_key(key_id) is not key:
            return None  # the key was dropped (rotated, deleted) meanwhile: check again here
        if result is not None:
            self._refuse_blocked(result.actor_id)
        return result

    def _refuse_blocked(self, url: str | None) -> None:
        if self._is_blocked is None or not url:
            return
        try:
            host = authority_of(url)  # `host[:port]`: see federation.policy
        except ValueError as exc:
            raise ValidationError(f"malformed URL {url!r}") from exc
        if host and self._is_blocked(host):
            raise ForbiddenActivity(f"{host} is blocked on this hub")

    def _check_rate(self, key_id: str | None, *, spend: bool) -> None:
        """429 once the key's host has used its budget.

        Only verified requests spend a token, so forged key ids cannot use up a real peer's
        budget; a host already over it is refused before its body is read or verified.
        """
        if self._rate_limit is None or not key_id:
            return
        host = _sender(key_id)
        if not host:
            return
        wait = self._rate_limit.take(host) if spend else self._rate_limit.peek(host)
        if wait > 0:
            raise RateLimited(f"too many activities from {host}", retry_after=wait)


def check_signer(owner: str, actor_id: str) -> None:
    """The key's owner must be the activity's actor."""
    if owner != actor_id:
        # CVE-2025-54888: a valid signature by someone else proves nothing about the actor.
        raise SignatureError(f"the request is signed by {owner}, not by the actor {actor_id}")


def verify_known(activity: Mapping[str, Any], actor_id: str, method: str, url: str,
                 headers: Mapping[str, str], body: bytes, key: PublicKey, *,
                 window: int) -> str | None:
    """The checks after parsing, with the signer's key already in hand and no I/O (what a
    verifier process runs): the signature, signer = actor, the origins. Returns the key id,
    or None when only `verify_request` can decide (another key is named, or the signature
    does not verify with this one and a refreshed key might)."""
    verified = verify_with_key(method, url, headers, body, key, window=window)
    if verified is None:
        return None
    check_signer(verified.owner, actor_id)
    check_origins(activity, actor_id)
    return verified.key_id


def _sender(key_id: str) -> str:
    """The signer's host as deliveries name hosts (`host[:port]`): two servers on one name
    are two senders. Empty if the key id is no URL."""
    try:
        return host_of(key_id)
    except ValueError:
        return ""


def error_response(exc: FederationError) -> web.Response:
    response = web.Response(status=exc.status, body=orjson.dumps({"error": exc.message}),
                            content_type="application/json")
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return response


def check_media_type(content_type: str) -> None:
    # aiohttp's content_type is the bare media type, lower-cased, parameters such as
    # ld+json's profile already split off.
    if content_type not in ACCEPTED_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type {content_type or '(none)'} is not an ActivityStreams media type")


async def read_capped(request: web.Request, cap: int) -> bytes:
    """The body, never holding more than `cap` bytes, after gzip too (413 past it)."""
    if request.content_length is not None and request.content_length > cap:
        raise PayloadTooLarge(f"the body is over {cap} bytes")
    chunks: list[bytes] = []
    size = 0
    content = request.content
    try:
        if content.is_eof():  # all of it has arrived (a small body usually has): take it
            chunks.append(content.read_nowait())
            size = len(chunks[0])
        else:
            # aiohttp's server decompresses gzip/deflate as it reads (in bounded pieces), so
            # this cap already bounds the decompressed size: a gzip bomb stops here.
            # readany() in a loop: iter_any() costs an iterator and a StopAsyncIteration more.
            while size <= cap and (chunk := await content.readany()):
                size += len(chunk)
                chunks.append(chunk)
    except web.RequestPayloadError as exc:  # a broken gzip stream, a cut chunked body
        raise ValidationError(f"the body cannot be read: {' '.join(str(exc).split())}") from exc
    if size > cap:
        raise PayloadTooLarge(f"the body is over {cap} bytes")
    body = b"".join(chunks)
    if body[:2] == b"\x1f\x8b" and "gzip" in request.headers.get("Content-Encoding", ""):
        body = _gunzip_capped(body, cap)  # a server run with auto_decompress=False
    return body


def _gunzip_capped(data: bytes, cap: int) -> bytes:
    decompressor = zlib.decompressobj(wbits=31)
    try:
        out = decompressor.decompress(data, cap + 1)
    except zlib.error as exc:
        raise ValidationError(f"the gzip body cannot be decoded: {exc}") from exc
    if len(out) > cap or decompressor.unconsumed_tail:
        raise PayloadTooLarge(f"the body is over {cap} bytes once decompressed")
    return out


def parse_activity(body: bytes, max_depth: int) -> dict[str, Any]:
    try:
        activity = orjson.loads(body)  # orjson stops at 1024 levels itself: no stack blowup
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(activity, dict):
        raise ValidationError("an activity must be a JSON object")
    if too_deep(activity, max_depth, body):
        raise ValidationError(f"the activity is nested deeper than {max_depth} levels")
    return activity


def too_deep(value: Any, limit: int, raw: bytes | None = None) -> bool:
    """Is `value` nested more than `limit` levels? Iterative, so depth cannot hurt us."""
    if raw is not None and raw.count(b"{") + raw.count(b"[") <= limit:
        return False  # the bracket count bounds the depth: typical activities stop here
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def activity_ids(activity: Mapping[str, Any]) -> tuple[str, str]:
    """The activity's id and its actor's id; 400 unless both, and `type`, are strings."""
    activity_id, actor = activity.get("id"), activity.get("actor")
    if not isinstance(activity_id, str) or not activity_id:
        raise ValidationError("the activity has no string id")
    if not isinstance(activity.get("type"), str):
        raise ValidationError("the activity has no string type")
    if isinstance(actor, dict):
        actor = actor.get("id")
    if not isinstance(actor, str) or not actor:
        raise ValidationError("the activity has no actor id")
    return activity_id, actor


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, with the default port filled in."""
    simple = _SIMPLE_ORIGIN.match(url)
    if simple is not None:
        scheme, host, port = simple.groups()
        if port is None or int(port) <= 65535:  # else the full parse raises
            return scheme, host, int(port or 0) or _DEFAULT_PORTS[scheme]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"{url!r} is not a valid URL") from exc
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        raise ValidationError(f"{url!r} is not an http(s) URL")
    return scheme, host, port or _DEFAULT_PORTS[scheme]


def check_origins(activity: Mapping[str, Any], actor_id: str) -> None:
    """The activity, and any object it creates or changes, must come from the actor's origin."""
    origin = origin_of(actor_id)
    if origin_of(activity["id"]) != origin:
        raise ValidationError("the activity id is not on its actor's server")
    if activity["type"] not in _OBJECT_OWNING_TYPES:
        return
    objects = activity.get("object")
    for obj in objects if isinstance(objects, list) else [objects]:
        obj_id = obj.get("id") if isinstance(obj, dict) else obj
        # Delete/Update of the actor itself is allowed, and trivially same-origin.
        if isinstance(obj_id, str) and obj_id != actor_id and origin_of(obj_id) != origin:
            raise ValidationError(
                f"{activity['type']} of {obj_id}, which is not on its actor's server")


def _key_id(headers: Mapping[str, str]) -> str | None:
    # Works for both draft-cavage `Signature: keyId="..."` and RFC 9421 `Signature-Input`.
    for name in ("Signature", "Signature-Input"):
        value = headers.get(name)
        match = _KEY_ID.search(value) if value else None
        if match:
            return match[1]
    return None


class InboxProcessor:
    """Takes stored activities in order and dispatches them; records every outcome."""

    def __init__(self, store: InboundStore, dispatcher: Dispatcher, *, batch: int = 100,
                 max_attempts: int = 10, backoff_cap: float = 3600.0,
                 poll_interval: float = 5.0, clock: Callable[[], float] = time.time,
                 wake_delay: float = 0.0, give_way: float = 0.0,
                 max_lag: float = 10.0) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._batch = batch
        self._max_attempts = max_attempts
        self._backoff_cap = backoff_cap
        self._poll_interval = poll_interval
        self._clock = clock
        self._wake = asyncio.Event()
        self._wake_delay = wake_delay
        self._wake_timer: asyncio.TimerHandle | None = None
        self._running = asyncio.Lock()  # one pass at a time, or a row could run twice
        # Receipt first during a burst: while activities keep arriving (one stored in the
        # last LULL seconds), wait before each batch for a lull, at most `give_way` seconds;
        # and not at all once the queue has not been empty for `max_lag` seconds. The
        # senders' requests get the event loop (remote servers wait on them; stored
        # activities cannot be lost), and what is stored is processed in the lulls: at least
        # a batch every `give_way` seconds, and all of it once it lags that long.
        self._give_way = give_way
        self._max_lag = max_lag
        self._last_arrival = float("-inf")
        self._caught_up_at = time.monotonic()  # when a claim last found the queue empty

    def arrived(self) -> None:
        """A new activity was stored (the inbox's `on_stored`): process it soon."""
        self._last_arrival = time.monotonic()
        self.wake()

    def wake(self) -> None:
        """Process soon: call after storing a new activity.

        With a `wake_delay`, wake-ups within that many seconds of the first are coalesced:
        during a burst the processor claims bigger batches, less often, and leaves the
        event loop to the requests in between.
        """
        if self._wake_delay <= 0 or self._wake.is_set():
            self._wake.set()
            return
        if self._wake_timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self._wake.set()
                return
            self._wake_timer = loop.call_later(self._wake_delay, self._wake_now)

    def _wake_now(self) -> None:
        self._wake_timer = None
        self._wake.set()

    async def run_once(self) -> int:
        """Process one batch in order; returns how many activities were taken."""
        async with self._running:
            items = await self._store.claim(self._batch)
            if len(items) < self._batch:
                self._caught_up_at = time.monotonic()
            # The batch's outcomes are written together, in one commit, after it is done: a
            # crash before they land only means those activities run again.
            marks = []
            for n, item in enumerate(items, 1):
                marks.append(await self._process(item))
                if n % YIELD_EVERY == 0:
                    # Most activities are handled without waiting for anything: let the
                    # requests in flight move between them, or a batch holds them all up.
                    await asyncio.sleep(0)
            if marks:
                await self._store.record(marks)
            return len(items)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._wait_for_a_lull(stop)
            try:
                taken = await self.run_once()
            except Exception:  # the store is unavailable: rows wait, nothing is lost
                log.exception("inbox processing pass failed; retrying after a pause")
                taken = 0
            if taken < self._batch:
                await wait_for_turn(self._wake, stop, self._poll_interval)

    async def _wait_for_a_lull(self, stop: asyncio.Event) -> None:
        if self._give_way <= 0:
            return
        deadline = min(time.monotonic() + self._give_way, self._caught_up_at + self._max_lag)
        while not stop.is_set():
            until = min(self._last_arrival + LULL, deadline)
            if until <= time.monotonic():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), until - time.monotonic())

    async def _process(self, item: InboundItem) -> InboundMark:
        """Dispatch one activity; returns its outcome, not yet written."""
        try:
            handled = await self._dispatcher.dispatch(orjson.loads(item.body))
        except ValidationError as exc:
            return InboundMark(item.id, "failed", f"invalid: {exc.message}")
        except RetryableError as exc:
            return self._retry(item, exc.message, exc.retry_after)
        except Unreachable as exc:  # a fetch the handler needed failed for now
            return self._retry(item, f"{type(exc).__name__}: {exc.message}")
        except FederationError as exc:
            log.warning("inbound %s (%s) failed: %s", item.id, item.activity_id, exc.message)
            return InboundMark(item.id, "failed", f"{type(exc).__name__}: {exc.message}")
        except Exception as exc:
            # A handler bug must not stop the queue nor lose the activity: the row keeps
            # the body and the error, so it can be replayed once the bug is fixed.
            log.exception("handler for inbound %s (%s) crashed", item.id, item.activity_id)
            return InboundMark(item.id, "failed", f"crashed: {exc!r}")
        return InboundMark(item.id, "done" if handled else "ignored")

    def _retry(self, item: InboundItem, message: str,
               soon: float | None = None) -> InboundMark:
        attempts = item.attempts + 1
        if attempts >= self._max_attempts:
            return InboundMark(item.id, "failed", f"gave up after {attempts}: {message}")
        delay = retry_delay(attempts - 1, cap=self._backoff_cap)
        if soon is not None:  # x4 a time: ~2.3 h in all, as far as the sender's own retries
            delay = min(delay, max(soon, 1.0) * 4 ** (attempts - 1))
        return InboundMark(item.id, "retry", message, self._clock() + delay)
