"""The delivery worker: POST each queued activity to its inbox, signed, with retries.

Deliveries are rows (`DeliveryStore`); this worker only decides what to send now, sends it
and records the outcome. What it guarantees:

* A crash loses nothing: a job's row stays pending until its outcome is committed, and the
  in-flight set is memory only, so a restarted worker simply takes the row again.
* Nothing is sent twice to an inbox after its success was recorded: a job leaves the
  in-flight set only after its outcome is committed, so `due()` cannot hand it out again.
  (A crash between the POST and that commit may repeat one POST: at-least-once.)
* One slow host cannot hold up the others: each host has its own semaphore, taken before
  the global one, and only a few of a host's jobs are claimed at a time.

Outcomes: 2xx succeeded; 401 (Mastodon retries it: keys rotate), 408, 429, 5xx, network
errors and timeouts are retried with backoff (`federation.backoff`, `Retry-After` honoured on
429 and 503) until `max_attempts`; every other status is final (a POST is not redirected:
its signature covers the URL). A blocked host's jobs fail unsent. A host that
`host_health` reports unreachable (failures on 7 distinct days, no success since) is not
sent to: its jobs are put off a day, one attempt spent each, except one probe per host per
day, so a host that comes back is noticed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Protocol

from federation.backoff import parse_retry_after, retry_delay, wait_for_turn
from federation.errors import UnsafeURLError
from federation.http1 import ConnectionFailed, DeliveryClient, InvalidURL
from federation.keys import SigningKey
from federation.policy import authority_of
from federation.signatures import sign_request
from federation.signer import BatchSigner

log = logging.getLogger(__name__)

ACTIVITY_JSON = "application/activity+json"
RETRYABLE_STATUSES = frozenset({401, 408, 429})  # and every 5xx
_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    id: int
    inbox: str
    body: bytes
    signer: str
    attempts: int  # attempts made before this one
    host: str = ""  # host_of(inbox), when the store has it at hand


class DeliveryStore(Protocol):
    """The delivery queue; `hub.store.deliveries.SqliteDeliveryStore` implements it."""

    async def due(self, now: float, limit: int, exclude: Collection[int],
                  exclude_hosts: Collection[str] = ()) -> list[DeliveryJob]:
        """Pending jobs due at `now`, oldest first, skipping those ids and hosts."""
        ...

    async def succeeded(self, job_id: int, status: int) -> None: ...

    async def retry(self, job_id: int, attempts: int, next_attempt_at: float,
                    status: int | None, error: str) -> None: ...

    async def failed(self, job_id: int, status: int | None, error: str) -> None: ...

    def hurry(self) -> None:
        """Nothing else is in flight: the next outcome need not wait for others to share
        its commit (a store that batches outcomes may otherwise hold it a moment)."""
        ...


class HostHealth(Protocol):
    """Per-host record of successes and failures; `hub.store.hosts.SqliteHostHealth`."""

    def is_unreachable(self, host: str) -> bool: ...

    async def record_success(self, host: str) -> None: ...

    async def record_failure(self, host: str) -> None: ...


def host_of(url: str) -> str:
    """The `host[:port]` a URL points at, lower-cased, default port left out."""
    return authority_of(url)


@dataclass
class _HostSlot:
    semaphore: asyncio.Semaphore
    claimed: int = 0  # jobs of this host in flight, waiting or sending


@dataclass(frozen=True, slots=True)
class _Attempt:
    status: int | None
    error: str | None
    retry_after: float | None = None
    final: bool = False  # retrying cannot help (a malformed inbox URL)
    ours: bool = False  # our side failed (signing): says nothing about the host


class DeliveryWorker:
    """Sends due deliveries; `run_forever` in the app, `run_once` in tests and the CLI.

    `signing_threads` RSA-signs on threads (`federation.signer`, batches per hand-off),
    which overlaps signing with the event loop (measured: ~70% of the raw one-core signing
    rate against ~45% inline on 2 cores); 0 signs inline on the loop. `client`
    (`federation.http1`) sends the POSTs over kept-alive connections and guards against
    private addresses as the app configures it; the worker bounds how many are open per host.
    """

    def __init__(self, store: DeliveryStore, client: DeliveryClient,
                 signing_key: Callable[[str], SigningKey], *, max_attempts: int = 16,
                 backoff_cap: float = 86400.0, concurrency: int = 200, per_host: int = 8,
                 timeout: float = 30.0, user_agent: str = "commonhub",
                 scheme: str = "draft-cavage", signing_threads: int = 2,
                 is_blocked: Callable[[str], bool] | None = None,
                 host_health: HostHealth | None = None, poll_interval: float = 2.0,
                 clock: Callable[[], float] = time.time,
                 rand: Callable[[], float] = random.random) -> None:
        self._store, self._client, self._signing_key = store, client, signing_key
        self._max_attempts, self._backoff_cap = max_attempts, backoff_cap
        self._per_host, self._scheme, self._user_agent = per_host, scheme, user_agent
        self._timeout = timeout
        self._is_blocked, self._health = is_blocked, host_health
        self._poll_interval, self._clock, self._rand = poll_interval, clock, rand
        self._global = asyncio.Semaphore(concurrency)
        # Claim ahead of sending so connections never idle, but only a few jobs per host,
        # so a host that trickles its answers cannot fill the claim with its own jobs.
        self._max_in_flight = concurrency * 4
        self._host_queue = per_host * 4
        self._claim_batch = max(64, concurrency)
        # Each claim reads past the jobs in flight, so it pays to claim in bigger steps.
        self._refill_step = max(per_host * 2, self._claim_batch // 4)
        self._hosts: dict[str, _HostSlot] = {}
        self._in_flight: dict[int, str] = {}
        self._unrecorded: set[int] = set()  # outcome write failed: never resend in this run
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished_since_claim = 0
        self._maybe_more = False
        self._probes: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._signer = BatchSigner(signing_threads) if signing_threads > 0 else None

    def wake(self) -> None:
        """Look for due deliveries now: call after enqueueing."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def run_once(self) -> int:
        """Start every due job there is room for and wait for them; returns how many."""
        started = await self._start_due()
        if started:
            await asyncio.wait(started)
        return len(started)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Send deliveries until `stop` is set; then let the ones in flight finish."""
        try:
            while not stop.is_set():
                self._maybe_more = False
                try:
                    await self._start_due()
                except Exception:  # the store is unavailable: rows wait, nothing is lost
                    log.exception("claiming deliveries failed; retrying after a pause")
                if not (self._maybe_more and len(self._in_flight) < self._max_in_flight):
                    await wait_for_turn(self._wake, stop, self._poll_interval)
            if self._tasks:
                await asyncio.wait(set(self._tasks))
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        if self._signer is not None:
            self._signer.close()

    async def _start_due(self) -> list[asyncio.Task[None]]:
        room = min(self._max_in_flight - len(self._in_flight), self._claim_batch)
        if room <= 0:
            return []
        self._finished_since_claim = 0
        full = [host for host, slot in self._hosts.items() if slot.claimed >= self._host_queue]
        jobs = await self._store.due(self._clock(), room,
                                     [*self._in_flight, *self._unrecorded], full)
        self._maybe_more = len(jobs) == room
        return [self._start(job, host) for job, host in self._take(jobs)]

    def _take(self, jobs: Iterable[DeliveryJob]) -> list[tuple[DeliveryJob, str]]:
        taken = []
        for job in jobs:
            if job.id in self._in_flight:
                continue
            host = job.host or host_of(job.inbox)
            slot = self._hosts.get(host)
            if slot is None:
                slot = self._hosts[host] = _HostSlot(asyncio.Semaphore(self._per_host))
            if slot.claimed >= self._host_queue:
                continue  # left pending; taken once this host's earlier jobs are done
            slot.claimed += 1
            self._in_flight[job.id] = host
            taken.append((job, host))
        return taken

    def _start(self, job: DeliveryJob, host: str) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run_job(job, host))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_job(self, job: DeliveryJob, host: str) -> None:
        try:
            await self._deliver(job, host)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The outcome could not be recorded. Keep the job out of this run's claims so a
            # success we failed to write is not sent again; a restart will retry it.
            log.exception("recording the outcome of delivery %s failed", job.id)
            self._unrecorded.add(job.id)
        finally:
            self._release(job.id, host)

    def _release(self, job_id: int, host: str) -> None:
        self._in_flight.pop(job_id, None)
        slot = self._hosts[host]
        slot.claimed -= 1
        if slot.claimed == 0:
            del self._hosts[host]
        self._finished_since_claim += 1
        # Refill in steps rather than per finished job: one claim query serves many jobs.
        if self._finished_since_claim >= self._refill_step or not self._in_flight:
            self._wake.set()

    async def _deliver(self, job: DeliveryJob, host: str) -> None:
        now = self._clock()
        if self._is_blocked is not None:
            # `host[:port]`: see federation.policy for how entries match.
            if self._is_blocked(host):
                await self._store.failed(job.id, None, f"{host} is blocked")
                return
        if self._health is not None and self._health.is_unreachable(host):
            if not self._probe_allowed(host, now):
                await self._put_off(job, now)
                return
        async with self._hosts[host].semaphore, self._global:
            attempt = await self._attempt(job)
        if len(self._in_flight) == 1:  # the last of a burst: no outcome will keep it company
            self._store.hurry()
        await self._record(job, host, attempt)

    def _probe_allowed(self, host: str, now: float) -> bool:
        if now - self._probes.get(host, float("-inf")) < _DAY:
            return False
        self._probes[host] = now
        return True

    async def _put_off(self, job: DeliveryJob, now: float) -> None:
        attempts = job.attempts + 1
        if attempts >= self._max_attempts:
            await self._store.failed(job.id, None, "host unreachable")
        else:
            await self._store.retry(job.id, attempts, now + _DAY, None,
                                    "host unreachable: put off for a day")

    async def _attempt(self, job: DeliveryJob) -> _Attempt:
        headers = {"Content-Type": ACTIVITY_JSON, "User-Agent": self._user_agent}
        try:
            key = self._signing_key(job.signer)
            # RSA signing releases the GIL: in a thread it overlaps with the event loop.
            if self._signer is None:
                signed = _sign(job.inbox, headers, job.body, key, self._scheme)
            else:
                signed = await self._signer.sign(
                    _sign, job.inbox, headers, job.body, key, self._scheme)
        except Exception as exc:  # recorded on the row and retried, not swallowed
            log.exception("cannot sign delivery %s as %r", job.id, job.signer)
            return _Attempt(None, f"cannot sign: {exc!r}", ours=True)
        deadline = asyncio.get_running_loop().time() + self._timeout
        try:
            answer = await self._client.post(job.inbox, signed, job.body, deadline=deadline)
        except TimeoutError:
            return _Attempt(None, f"timed out after {self._timeout:g} s")
        except InvalidURL as exc:
            return _Attempt(None, f"invalid inbox URL: {exc}", final=True)
        except UnsafeURLError as exc:  # the client's guard: an internal or special address
            return _Attempt(None, f"refused: {exc.message}", final=True)
        except (ConnectionFailed, OSError) as exc:  # OSError: refused, reset, TLS...
            return _Attempt(None, f"{type(exc).__name__}: {exc}")
        if answer.status < 300:
            return _Attempt(answer.status, None)
        retry_after = parse_retry_after(answer.headers.get("retry-after"), now=self._clock())
        return _Attempt(answer.status, _describe(answer.status, answer.detail), retry_after)

    async def _record(self, job: DeliveryJob, host: str, attempt: _Attempt) -> None:
        status = attempt.status
        if status is not None and 200 <= status < 300:
            await self._store.succeeded(job.id, status)  # first: this is what prevents resends
            if self._health is not None:
                await self._health.record_success(host)
            return
        server_trouble = status is None or status >= 500
        if self._health is not None and server_trouble and not attempt.ours:
            await self._health.record_failure(host)
        attempts = job.attempts + 1
        error = attempt.error or f"HTTP {status}"
        retryable = server_trouble or status in RETRYABLE_STATUSES
        if attempt.final or not retryable:
            await self._store.failed(job.id, status, error)
        elif attempts >= self._max_attempts:
            await self._store.failed(job.id, status, f"gave up after {attempts}: {error}")
        else:
            delay = self._delay(attempts, status, attempt.retry_after)
            await self._store.retry(job.id, attempts, self._clock() + delay, status, error)

    def _delay(self, attempts: int, status: int | None, retry_after: float | None) -> float:
        if retry_after is not None and status in (429, 503):
            return min(max(retry_after, 1.0), self._backoff_cap)
        return retry_delay(attempts - 1, cap=self._backoff_cap, rand=self._rand)


def _sign(url: str, headers: dict[str, str], body: bytes, key: SigningKey,
          scheme: str) -> dict[str, str]:
    return {**headers, **sign_request("POST", url, headers, body, key, scheme=scheme)}


def _describe(status: int, detail: bytes) -> str:
    text = detail.decode("utf-8", "replace").strip().replace("\n", " ")
    return f"HTTP {status}: {text[:200]}" if text else f"HTTP {status}"
