"""A keep-alive HTTP load generator for the benchmarks.

N connections each send their next request as soon as the previous answer is in, for a
fixed time, and the statuses are counted. It runs in its own process (the caller's job), so
it never shares an event loop with the server it measures.

Two clients drive the same connections the same way:

* `aiohttp`: `aiohttp.ClientSession.post` over a kept-alive connector, what a Python peer
  would send with.
* `raw`: an asyncio protocol writing requests serialised before timing and reading the
  answers' status and Content-Length only. It costs the client several times less CPU per
  request, which matters on a 2-core machine where the client and the server share the CPU:
  it shows whether a fast server is measured or the client's own ceiling.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
ERROR = 0  # the status recorded for a request that got no HTTP answer


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def wire(self) -> bytes:
        """The whole HTTP/1.1 request as sent on a kept-alive connection."""
        lines = [f"POST {self.path} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        lines += [f"Content-Length: {len(self.body)}", "Connection: keep-alive", "", ""]
        return "\r\n".join(lines).encode("latin-1") + self.body


@dataclass
class Pool:
    """Request indexes handed out in order: each once, or round and round (`cycle`)."""

    size: int
    position: int = 0
    cycle: bool = False

    def take(self) -> int | None:
        if self.position >= self.size:
            if not self.cycle or self.size == 0:
                return None
            self.position = 0
        index = self.position
        self.position += 1
        return index


@dataclass
class Load:
    """The requests to send, and for the raw client the same requests as wire bytes."""

    requests: list[Request]
    wires: list[bytes] = field(default_factory=list)

    @classmethod
    def build(cls, requests: list[Request], client: str) -> Load:
        return cls(requests, [r.wire() for r in requests] if client == "raw" else [])


@dataclass
class Shot:
    """One timed run: what was sent, what came back, and what the client's CPU did."""

    statuses: Counter[int] = field(default_factory=Counter)
    accepted: list[int] = field(default_factory=list)  # indexes answered 202, warm-up too
    warmup: Counter[int] = field(default_factory=Counter)  # statuses of the warm-up
    elapsed: float = 0.0
    client_cpu: float = 0.0  # CPU seconds the generator process used while timing
    total_cpu: float = 0.0  # the same over warm-up and timing
    exhausted: bool = False  # every request was sent before the time was up

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    @property
    def rate(self) -> float:
        return self.statuses[202] / self.elapsed if self.elapsed else 0.0


async def fire(base_url: str, load: Load, pool: Pool, *, concurrency: int, seconds: float,
               warmup: float) -> Shot:
    """Warm up for `warmup` seconds (untimed, still counted), then time `seconds` of load."""
    run = _fire_raw if load.wires else _fire_aiohttp
    warm, first_cpu = Shot(), time.process_time()
    await run(base_url, load, pool, warm, concurrency, time.perf_counter() + warmup)
    shot = Shot(accepted=warm.accepted, warmup=warm.statuses)
    cpu, start = time.process_time(), time.perf_counter()
    await run(base_url, load, pool, shot, concurrency, start + seconds)
    shot.elapsed = time.perf_counter() - start
    shot.client_cpu = time.process_time() - cpu
    shot.total_cpu = time.process_time() - first_cpu
    shot.exhausted = not pool.cycle and pool.position >= pool.size
    return shot


async def _fire_aiohttp(base_url: str, load: Load, pool: Pool, shot: Shot,
                        concurrency: int, deadline: float) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=60)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:
        await asyncio.gather(*(_aiohttp_worker(session, load.requests, pool, shot, deadline)
                               for _ in range(concurrency)))


async def _aiohttp_worker(session: aiohttp.ClientSession, requests: list[Request], pool: Pool,
                          shot: Shot, deadline: float) -> None:
    while time.perf_counter() < deadline:
        index = pool.take()
        if index is None:
            return
        request = requests[index]
        try:
            async with session.post(request.path, data=request.body,
                                    headers=request.headers) as response:
                await response.read()
                status = response.status
        except aiohttp.ClientError:
            status = ERROR
        _record(shot, status, index)


def _record(shot: Shot, status: int, index: int) -> None:
    shot.statuses[status] += 1
    if status == 202:
        shot.accepted.append(index)


async def _fire_raw(base_url: str, load: Load, pool: Pool, shot: Shot,
                    concurrency: int, deadline: float) -> None:
    host, _, port = base_url.removeprefix("http://").partition(":")
    loop = asyncio.get_running_loop()
    finished = []
    for _ in range(concurrency):
        done: asyncio.Future[None] = loop.create_future()
        await loop.create_connection(
            lambda done=done: _RawConnection(load.wires, pool, shot, deadline, done),
            host, int(port))
        finished.append(done)
    await asyncio.gather(*finished)


class _RawConnection(asyncio.Protocol):
    """One kept-alive connection: write a request, read its answer, write the next."""

    def __init__(self, wires: list[bytes], pool: Pool, shot: Shot, deadline: float,
                 done: asyncio.Future[None]) -> None:
        self._wires, self._pool, self._shot = wires, pool, shot
        self._deadline, self._done = deadline, done
        self._buffer = bytearray()
        self._index: int | None = None
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._send_next()

    def _send_next(self) -> None:
        assert self._transport is not None
        self._index = self._pool.take() if time.perf_counter() < self._deadline else None
        if self._index is None:
            self._transport.close()
            return
        self._transport.write(self._wires[self._index])

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._index is not None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            match = _CONTENT_LENGTH.search(self._buffer, 0, end + 2)
            if match is None:
                raise RuntimeError("the raw client reads only Content-Length answers")
            total = end + 4 + int(match[1])
            if len(self._buffer) < total:
                return
            status = int(self._buffer[9:12])
            del self._buffer[:total]
            _record(self._shot, status, self._index)
            self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._index is not None:  # the server closed on us mid-request
            _record(self._shot, ERROR, self._index)
        if not self._done.done():
            self._done.set_result(None)
