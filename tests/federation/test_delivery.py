"""The delivery worker against fake peers (real aiohttp apps on loopback) and a real SQLite queue.

Every peer verifies the signature of what it receives with `verify_request`, as a real
server would. Time that the worker schedules by is a fake clock; ordering, not wall-clock
time, is what the assertions look at.
"""

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.delivery import DeliveryWorker, host_of
from federation.errors import KeyNotFound
from federation.http1 import DeliveryClient
from federation.keys import PublicKey, SigningKey, generate_rsa_key
from federation.signatures import verify_request
from hub.store.db import Database
from hub.store.deliveries import SqliteDeliveryStore, deliveries_of, enqueue, pending_count
from hub.store.hosts import SqliteHostHealth

HUB_KEY = SigningKey("https://hub.example/hub#main-key", generate_rsa_key())
StartServer = Callable[[web.Application], Awaitable[TestServer]]


async def hub_lookup(key_id: str, *, refresh: bool = False) -> PublicKey:
    if key_id != HUB_KEY.key_id:
        raise KeyNotFound(key_id)
    return PublicKey(key_id, "https://hub.example/hub", HUB_KEY.private_key.public_key())


class Clock:
    def __init__(self) -> None:
        self.now = time.time() + 1  # after enqueue's own timestamps: jobs are due

    def __call__(self) -> float:
        return self.now


class Peer:
    """A remote server: verifies, records, and answers from a per-path script (default 202)."""

    def __init__(self, name: str, events: list[tuple[str, str]], delay: float = 0.0,
                 on_arrival: Callable[[], None] = lambda: None) -> None:
        self.name, self.events, self.delay, self.on_arrival = name, events, delay, on_arrival
        self.received: dict[str, list[bytes]] = defaultdict(list)
        self.script: dict[str, deque[tuple[int, dict[str, str]]]] = defaultdict(deque)
        self.active = self.most_active = 0
        self.server: TestServer | None = None

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{path:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            self.events.append((self.name, request.path))
            self.on_arrival()
            body = await request.read()
            verified = await verify_request("POST", str(request.url), request.headers, body,
                                            hub_lookup)
            assert verified.owner == "https://hub.example/hub"
            assert request.content_type == "application/activity+json"
            await asyncio.sleep(self.delay)
            status, headers = (self.script[request.path].popleft()
                               if self.script[request.path] else (202, {}))
            if 200 <= status < 300:
                self.received[request.path].append(body)
            return web.Response(status=status, headers=headers, text="no" if status >= 400 else "")
        finally:
            self.active -= 1


class Harness:
    def __init__(self, db: Database, client: DeliveryClient, serve: StartServer) -> None:
        self.db, self.client, self.serve = db, client, serve
        self.clock = Clock()
        self.store = SqliteDeliveryStore(db, clock=self.clock)
        self.events: list[tuple[str, str]] = []

    async def peer(self, name: str, delay: float = 0.0) -> Peer:
        peer = Peer(name, self.events, delay)
        peer.server = await self.serve(peer.app())
        return peer

    def worker(self, **options: Any) -> DeliveryWorker:
        options.setdefault("clock", self.clock)
        options.setdefault("rand", lambda: 0.5)
        return DeliveryWorker(self.store, self.client, lambda signer: HUB_KEY, **options)

    async def publish(self, *inboxes: str, n: int = 1) -> int:
        activity = {"id": f"https://hub.example/activities/{n}", "type": "Create",
                    "actor": "https://hub.example/hub"}
        return await enqueue(self.db, activity, inboxes, activity_type="Create")

    async def rows(self, outbox_id: int) -> list[dict[str, Any]]:
        await self.store.flush()
        return await deliveries_of(self.db, outbox_id)


@pytest.fixture
async def harness(db: Database, serve: StartServer) -> AsyncIterator[Harness]:
    async with DeliveryClient(allow_loopback=True) as client:
        yield Harness(db, client, serve)


@pytest.mark.parametrize("signing_threads", [2, 0])
async def test_success_is_signed_sent_once_and_recorded(
        harness: Harness, signing_threads: int) -> None:
    peer = await harness.peer("a")
    outbox_id = await harness.publish(peer.url("/inbox"), peer.url("/inbox"))
    worker = harness.worker(signing_threads=signing_threads)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert len(peer.received["/inbox"]) == 1
    [row] = await harness.rows(outbox_id)
    assert (row["state"], row["attempts"], row["last_status"]) == ("done", 1, 202)
    await worker.close()


async def test_server_error_is_retried_on_the_backoff_schedule(harness: Harness) -> None:
    peer = await harness.peer("a")
    peer.script["/inbox"].append((500, {}))
    outbox_id = await harness.publish(peer.url("/inbox"))
    worker = harness.worker()
    start = harness.clock.now
    assert await worker.run_once() == 1
    [row] = await harness.rows(outbox_id)
    # First retry: 0**4 + 15 s, plus jitter rand(10) * 1 with rand = 0.5.
    assert (row["state"], row["attempts"], row["last_status"]) == ("pending", 1, 500)
    assert row["next_attempt_at"] == pytest.approx(start + 20)
    assert row["last_error"] == "HTTP 500: no"
    harness.clock.now = start + 19
    assert await worker.run_once() == 0  # not yet
    harness.clock.now = start + 21
    assert await worker.run_once() == 1
    [row] = await harness.rows(outbox_id)
    assert (row["state"], row["attempts"]) == ("done", 2)
    assert len(peer.received["/inbox"]) == 1
    await worker.close()


@pytest.mark.parametrize("status", [401, 408, 429, 502, 503])
async def test_retryable_statuses(harness: Harness, status: int) -> None:
    peer = await harness.peer("a")
    peer.script["/inbox"].append((status, {}))
    outbox_id = await harness.publish(peer.url("/inbox"))
    worker = harness.worker()
    await worker.run_once()
    assert [r["state"] for r in await harness.rows(outbox_id)] == ["pending"]
    await worker.close()


async def test_too_many_requests_honours_retry_after(harness: Harness) -> None:
    peer = await harness.peer("a")
    peer.script["/inbox"].append((429, {"Retry-After": "120"}))
    outbox_id = await harness.publish(peer.url("/inbox"))
    worker = harness.worker(backoff_cap=100)
    await worker.run_once()
    [row] = await harness.rows(outbox_id)
    assert row["next_attempt_at"] == pytest.approx(harness.clock.now + 100)  # capped
    await worker.close()


@pytest.mark.parametrize("status", [400, 403, 404, 410, 422])
async def test_other_client_errors_are_final(harness: Harness, status: int) -> None:
    peer = await harness.peer("a")
    peer.script["/inbox"].append((status, {}))
    outbox_id = await harness.publish(peer.url("/inbox"))
    worker = harness.worker()
    assert await worker.run_once() == 1
    harness.clock.now += 10 * 86400
    assert await worker.run_once() == 0
    [row] = await harness.rows(outbox_id)
    assert (row["state"], row["attempts"], row["last_status"]) == ("failed", 1, status)
    await worker.close()


async def test_timeout_and_refused_connections_are_retried_then_given_up(
        harness: Harness) -> None:
    slow = await harness.peer("slow", delay=1.0)
    closed = f"http://127.0.0.1:{_unused_port()}/inbox"
    outbox_id = await harness.publish(slow.url("/inbox"), closed)
    worker = harness.worker(timeout=0.2, max_attempts=2)
    assert await worker.run_once() == 2
    rows = await harness.rows(outbox_id)
    assert [(r["state"], r["attempts"]) for r in rows] == [("pending", 1), ("pending", 1)]
    assert rows[0]["last_error"] == "timed out after 0.2 s"
    assert "Connect" in rows[1]["last_error"]
    harness.clock.now += 3600
    assert await worker.run_once() == 2
    rows = await harness.rows(outbox_id)
    assert [(r["state"], r["attempts"]) for r in rows] == [("failed", 2), ("failed", 2)]
    assert rows[1]["last_error"].startswith("gave up after 2: ")
    await worker.close()


async def test_a_slow_host_does_not_hold_up_a_fast_one(harness: Harness) -> None:
    # Given six deliveries to a slow host queued before six to a fast one
    slow = await harness.peer("slow", delay=0.3)
    fast = await harness.peer("fast")
    outbox_id = await harness.publish(*(slow.url(f"/s{i}") for i in range(6)),
                                      *(fast.url(f"/f{i}") for i in range(6)))
    # When the worker sends them with two requests per host
    worker = harness.worker(per_host=2, concurrency=4)
    assert await worker.run_once() == 12
    # Then the fast host got all six before the slow host's third request even started
    names = [name for name, _ in harness.events]
    assert names.index("slow") < names.index("fast")
    third_slow = [i for i, name in enumerate(names) if name == "slow"][2]
    assert max(i for i, name in enumerate(names) if name == "fast") < third_slow
    assert slow.most_active == 2
    assert {r["state"] for r in await harness.rows(outbox_id)} == {"done"}
    await worker.close()


async def test_blocked_hosts_are_failed_unsent(harness: Harness) -> None:
    peer = await harness.peer("a")
    outbox_id = await harness.publish("https://blocked.example/inbox", peer.url("/inbox"))
    worker = harness.worker(is_blocked=lambda host: host == "blocked.example")
    assert await worker.run_once() == 2
    rows = await harness.rows(outbox_id)
    assert [(r["state"], r["last_error"]) for r in rows] == [
        ("failed", "blocked.example is blocked"), ("done", None)]


async def test_inboxes_on_internal_addresses_are_refused_and_failed(
        db: Database, serve: StartServer) -> None:
    # Given an inbox URL (from a remote actor document) naming a loopback address, as an
    # IP literal or as a name, and a hub that is not in development mode
    peer = Peer("internal", [])
    peer.server = await serve(peer.app())
    async with DeliveryClient() as client:
        harness = Harness(db, client, serve)
        literal = peer.url("/inbox")
        named = literal.replace("127.0.0.1", "localhost")
        outbox_id = await harness.publish(literal, named)
        worker = harness.worker()
        # When the worker runs
        assert await worker.run_once() == 2
        # Then nothing reaches the internal server, and both rows fail for good
        assert peer.received == {}
        rows = await harness.rows(outbox_id)
        assert [r["state"] for r in rows] == ["failed", "failed"]
        assert all("address" in r["last_error"] for r in rows)
        await worker.close()


async def test_unreachable_host_gets_one_probe_a_day(harness: Harness) -> None:
    # Given a host that failed on seven distinct days
    peer = await harness.peer("a")
    host = host_of(peer.url("/"))
    health = SqliteHostHealth(harness.db, clock=harness.clock)
    for day in range(7):
        harness.clock.now += 86400 * (day > 0)
        await health.record_failure(host)
    assert health.is_unreachable(host)
    outbox_id = await harness.publish(peer.url("/a"), peer.url("/b"))
    # When the worker runs, one delivery goes out as a probe and the other waits a day
    worker = harness.worker(host_health=health)
    assert await worker.run_once() == 2
    rows = await harness.rows(outbox_id)
    assert sorted((r["state"], r["attempts"]) for r in rows) == [("done", 1), ("pending", 1)]
    assert not health.is_unreachable(host)  # the probe's success cleared the record
    harness.clock.now += 86400
    assert await worker.run_once() == 1
    assert {r["state"] for r in await harness.rows(outbox_id)} == {"done"}
    await worker.close()


async def test_server_errors_are_recorded_against_the_host(harness: Harness) -> None:
    peer = await harness.peer("a")
    peer.script["/inbox"].extend([(503, {}), (404, {})])
    health = SqliteHostHealth(harness.db, clock=harness.clock)
    await harness.publish(peer.url("/inbox"), n=1)
    await harness.publish(peer.url("/inbox"), n=2)
    worker = harness.worker(host_health=health, per_host=1)
    await worker.run_once()
    assert health.failure_days(host_of(peer.url("/"))) == 1  # the 503; a 404 shows life


async def test_run_forever_sends_when_woken_and_stops_cleanly(harness: Harness) -> None:
    peer = await harness.peer("a")
    worker = harness.worker(poll_interval=60, clock=time.time)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop))
    await asyncio.sleep(0.01)  # asleep on an empty queue
    outbox_id = await harness.publish(*(peer.url(f"/inbox/{i}") for i in range(20)))
    worker.wake()
    for _ in range(500):
        if not await pending_count(harness.db):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(running, 5)
    assert {r["state"] for r in await harness.rows(outbox_id)} == {"done"}
    assert sum(len(b) for b in peer.received.values()) == 20
    await worker.close()


async def test_a_signing_failure_is_recorded_and_retried(harness: Harness) -> None:
    peer = await harness.peer("a")
    outbox_id = await harness.publish(peer.url("/inbox"))
    keys = {"hub": HUB_KEY}
    worker = DeliveryWorker(harness.store, harness.client, lambda signer: keys[signer],
                            clock=harness.clock)
    del keys["hub"]
    await worker.run_once()
    [row] = await harness.rows(outbox_id)
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "cannot sign: KeyError('hub')"
    keys["hub"] = HUB_KEY
    harness.clock.now += 60
    await worker.run_once()
    assert [r["state"] for r in await harness.rows(outbox_id)] == ["done"]
    await worker.close()


async def test_a_crash_mid_fanout_loses_nothing_and_repeats_no_recorded_success(
        tmp_path: Path, serve: StartServer) -> None:
    # Given 200 deliveries across four hosts
    db = await Database.open(tmp_path / "hub.db")
    await db.migrate()
    events: list[tuple[str, str]] = []
    sixty_arrived = asyncio.Event()

    def count() -> None:
        if len(events) >= 60:
            sixty_arrived.set()

    peers = [Peer(f"p{i}", events, delay=0.005, on_arrival=count) for i in range(4)]
    for peer in peers:
        peer.server = await serve(peer.app())
    inboxes = [peer.url(f"/inbox/{i}") for peer in peers for i in range(50)]
    await enqueue(db, {"id": "https://hub.example/a/1", "type": "Create"}, inboxes,
                  activity_type="Create")

    # When a worker is killed part-way, its unwritten outcomes dropped with it
    async with DeliveryClient(allow_loopback=True) as client:
        store = SqliteDeliveryStore(db)
        worker = DeliveryWorker(store, client, lambda s: HUB_KEY, concurrency=16, per_host=4)
        running = asyncio.create_task(worker.run_forever(asyncio.Event()))
        await asyncio.wait_for(sixty_arrived.wait(), 30)
        running.cancel()
        store.abandon()
        await worker.close()
    await db.close()
    received_before = _received(peers)
    db = await Database.open(tmp_path / "hub.db")
    recorded = {r["inbox"] for r in await deliveries_of(db, 1) if r["state"] == "done"}
    assert 0 < len(recorded) < 200

    # Then a new worker on the same file finishes the job
    async with DeliveryClient(allow_loopback=True) as client:
        worker = DeliveryWorker(SqliteDeliveryStore(db), client, lambda s: HUB_KEY)
        while await pending_count(db):
            await worker.run_once()
        await worker.close()
    received = _received(peers)
    assert all(received[inbox] >= 1 for inbox in inboxes)
    assert all(received[inbox] == received_before[inbox] == 1 for inbox in recorded)
    assert all(r["state"] == "done" for r in await deliveries_of(db, 1))
    await db.close()


def _received(peers: list[Peer]) -> dict[str, int]:
    return {peer.url(path): len(bodies) for peer in peers for path, bodies in peer.received.items()}


def _unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
