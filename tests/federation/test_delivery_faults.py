"""Deliveries under faults: a peer down for days, a peer that trickles its answer.

The real delivery client, real SQLite queues, peers on loopback. Time that the worker schedules
by is a simulated clock, moved from one due attempt to the next, so days pass in
milliseconds; the assertions compare attempt times with `federation.backoff`'s schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web

from federation.backoff import retry_delay
from federation.delivery import DeliveryWorker, host_of
from federation.http1 import DeliveryClient
from hub.store.db import Database
from hub.store.deliveries import deliveries_of
from hub.store.hosts import UNREACHABLE_AFTER_DAYS, SqliteHostHealth
from tests.federation.test_delivery import Harness, StartServer

HALF = 0.5  # the jitter's random draw, fixed so the schedule is exact
DAY = 86400.0


@pytest.fixture
async def harness(db: Database, serve: StartServer) -> AsyncIterator[Harness]:
    async with DeliveryClient(allow_loopback=True) as client:
        yield Harness(db, client, serve)


class DownUntil:
    """A peer that answers 503 until the simulated clock reaches `back_at`, then 202."""

    def __init__(self, harness: Harness, back_at: float) -> None:
        self.harness, self.back_at = harness, back_at
        self.attempts: list[float] = []  # simulated times at which a POST arrived
        self.by_activity: dict[str, list[float]] = defaultdict(list)
        self.delivered: list[float] = []

    async def handle(self, request: web.Request) -> web.Response:
        activity = orjson.loads(await request.read())
        now = self.harness.clock.now
        self.attempts.append(now)
        self.by_activity[activity["id"]].append(now)
        if now < self.back_at:
            return web.Response(status=503, text="down for maintenance")
        self.delivered.append(now)
        return web.Response(status=202)

    async def url(self, path: str) -> str:
        app = web.Application()
        app.router.add_post("/{path:.*}", self.handle)
        return str((await self.harness.serve(app)).make_url(path))


def schedule(start: float, retries: int) -> list[float]:
    """The attempt times `federation.backoff.retry_delay` gives, first attempt at `start`."""
    times = [start]
    for count in range(retries):
        times.append(times[-1] + retry_delay(count, cap=DAY, rand=lambda: HALF))
    return times


async def run_until_settled(harness: Harness, worker: DeliveryWorker, until: float) -> None:
    """Move the simulated clock from one due attempt to the next, up to `until`."""
    while True:
        await harness.store.flush()
        due = await harness.db.fetchval(
            "SELECT min(next_attempt_at) FROM deliveries WHERE state = 'pending'")
        if due is None or due > until:
            return
        harness.clock.now = max(harness.clock.now, due)
        assert await worker.run_once() >= 1


async def test_a_peer_down_for_hours_gets_the_delivery_on_the_backoff_schedule(
        harness: Harness) -> None:
    # Given a peer that is down for the next twelve hours
    start = harness.clock.now
    peer = DownUntil(harness, back_at=start + 12 * 3600)
    outbox_id = await harness.publish(await peer.url("/inbox"))
    worker = harness.worker(rand=lambda: HALF)
    # When the worker keeps trying as the days go by
    await run_until_settled(harness, worker, until=start + 3 * DAY)
    # Then it tried exactly at the times of the documented schedule, up to the first one
    # after the peer came back...
    full = schedule(start, retries=15)
    back = next(n for n, t in enumerate(full) if t >= peer.back_at)
    expected = full[:back + 1]
    assert peer.attempts == pytest.approx(expected)
    # ...never more often: every failed attempt was before the peer came back...
    assert all(t < peer.back_at for t in peer.attempts[:-1])
    # ...and the first attempt after it returned delivered it, once
    assert peer.delivered == [peer.attempts[-1]] and peer.attempts[-1] >= peer.back_at
    [row] = await harness.rows(outbox_id)
    assert (row["state"], row["attempts"]) == ("done", len(expected))
    assert len(expected) == 13  # twelve hours is twelve failed attempts
    await worker.close()


async def test_a_peer_down_for_days_is_given_up_then_marked_unreachable_and_probed_daily(
        harness: Harness) -> None:
    # Given a peer down for twelve days, to which the hub publishes once a day
    start = harness.clock.now
    peer = DownUntil(harness, back_at=start + 12 * DAY)
    inbox = await peer.url("/inbox")
    host = host_of(inbox)
    health = SqliteHostHealth(harness.db, clock=harness.clock)
    worker = harness.worker(rand=lambda: HALF, host_health=health)
    first = await harness.publish(inbox, n=0)
    for day in range(1, 14):
        await run_until_settled(harness, worker, until=start + day * DAY)
        harness.clock.now = start + day * DAY
        await harness.publish(inbox, n=day)

    # Then the first delivery followed the whole schedule, then stopped at max_attempts
    [row] = await deliveries_of(harness.db, first)
    assert (row["state"], row["attempts"]) == ("failed", 16)
    assert row["last_error"].startswith("gave up after 16: HTTP 503")
    first_id = "https://hub.example/activities/0"
    assert peer.by_activity[first_id] == pytest.approx(schedule(start, retries=15))
    # And once failures fell on seven distinct days the host was marked unreachable...
    since = await harness.db.fetchval(
        "SELECT unreachable_since FROM hosts WHERE host = ?", (host,))
    assert since is None  # cleared: the peer is back and a probe got through
    marked = [t for t in peer.attempts if t < peer.back_at]
    days_failed = sorted({int((t - start) // DAY) for t in marked})
    assert len(days_failed) >= UNREACHABLE_AFTER_DAYS
    # ...after which at most one probe a day reached it until it came back
    unreachable_from = start + days_failed[UNREACHABLE_AFTER_DAYS - 1] * DAY
    later = [t for t in marked if t >= unreachable_from + DAY]
    per_day: dict[int, int] = {}
    for t in later:
        per_day[int((t - start) // DAY)] = per_day.get(int((t - start) // DAY), 0) + 1
    assert later and max(per_day.values()) == 1
    # And after it returned, a daily probe found it, and every delivery not yet given up got
    # there: none is left pending (but the one published at the very end), none lost
    assert peer.delivered
    await harness.store.flush()
    states = [r[0] for r in await harness.db.fetchall(
        "SELECT state FROM deliveries ORDER BY outbox_id")]
    assert states[-1] == "pending" and set(states[:-1]) == {"failed", "done"}
    gave_up = states.index("done")
    assert states[:gave_up] == ["failed"] * gave_up and "failed" not in states[gave_up:]
    await worker.close()


class Trickler:
    """A server that takes the request, then sends its answer one byte every 50 ms, forever."""

    def __init__(self) -> None:
        self.open_connections = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            for byte in b"HTTP/1.1 202 Accepted\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 10**6:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.05)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)


@pytest.fixture
async def trickler() -> AsyncIterator[Trickler]:
    server = Trickler()
    await server.start()
    yield server
    await server.stop()


async def test_a_peer_that_trickles_its_answer_does_not_hold_up_the_others(
        harness: Harness, trickler: Trickler) -> None:
    # Given four deliveries to a trickling peer queued before thirty to three healthy ones
    fast = [DownUntil(harness, back_at=0) for _ in range(3)]
    slow_inboxes = [f"http://127.0.0.1:{trickler.port}/inbox/{i}" for i in range(4)]
    fast_inboxes = [await peer.url(f"/inbox/{i}") for peer in fast for i in range(10)]
    outbox_id = await harness.publish(*slow_inboxes, *fast_inboxes)
    # When a worker with two requests per host and eight in all sends them
    worker = harness.worker(per_host=2, concurrency=8, timeout=600.0)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop))

    async def fast_done() -> bool:
        rows = await harness.rows(outbox_id)
        return all(r["state"] == "done" for r in rows if r["inbox"] in fast_inboxes)

    for _ in range(600):
        if await fast_done():
            break
        await asyncio.sleep(0.05)
    # Then every healthy delivery completed while the trickled ones are still in flight
    assert await fast_done()
    assert sum(len(peer.delivered) for peer in fast) == 30
    rows = {r["inbox"]: r for r in await harness.rows(outbox_id)}
    assert all(rows[i]["state"] == "pending" and rows[i]["attempts"] == 0 for i in slow_inboxes)
    assert trickler.open_connections == 2  # the per-host limit: two trickling, two waiting
    stop.set()
    await worker.close()
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running


async def test_a_trickled_answer_is_cut_off_by_the_timeout_and_retried(
        harness: Harness, trickler: Trickler) -> None:
    # Given a delivery to a peer that would take hours to finish its answer
    outbox_id = await harness.publish(f"http://127.0.0.1:{trickler.port}/inbox")
    # When the worker sends it with a half-second budget
    worker = harness.worker(timeout=0.5)
    assert await worker.run_once() == 1
    # Then the attempt is cut off and put back on the schedule
    [row] = await harness.rows(outbox_id)
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "timed out after 0.5 s"
    await worker.close()
