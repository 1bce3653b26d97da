"""Fake remote inboxes for the fan-out bench: many loopback ports in one separate process.

Every port is a distinct host:port, so the delivery worker's per-host limit applies as it
would to distinct servers. Each POST is counted by activity id and inbox URL, one in
`verify_every` has its signature verified against the hub's public key, and the answer is
202. A control port (the last one) reports the tally and the process's CPU time.

Two servers do the same job: `aiohttp` (an aiohttp app, as a Python peer would run) and
`raw` (an asyncio protocol that reads the request line, headers and Content-Length body and
writes a fixed 202). On a 2-core machine the receivers' CPU is taken from the deliverer,
which real remote servers never do; the raw one takes several times less of it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import defaultdict
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from bench.common import LOOPBACK, bound_socket, port_of, watchdog
from federation.errors import SignatureError
from federation.keys import PublicKey, load_public_key_pem
from federation.signatures import verify_request

_ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"


@dataclass(frozen=True)
class ReceiverConfig:
    hosts: int
    key_id: str
    owner: str
    public_pem: str
    verify_every: int
    latency: float
    server: str  # "aiohttp" | "raw"
    time_limit: float


@dataclass
class Tally:
    """What the receivers saw: POSTs per (activity, inbox), and signature checks."""

    key: PublicKey
    verify_every: int
    seen: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    requests: int = 0
    verified: int = 0
    refused: int = 0
    connections: int = 0  # connections that carried POSTs (kept-alive ones are reused)
    transports: set[int] = field(default_factory=set)
    checks: set[asyncio.Task[None]] = field(default_factory=set)

    async def lookup(self, key_id: str, *, refresh: bool = False) -> PublicKey:
        return self.key

    def record(self, inbox: str, body: bytes) -> bool:
        """Count one POST; True when this one should have its signature checked."""
        self.requests += 1
        per_inbox = self.seen[orjson.loads(body)["id"]]
        per_inbox[inbox] = per_inbox.get(inbox, 0) + 1
        return self.requests % self.verify_every == 0

    async def verify(self, url: str, headers: Any, body: bytes) -> None:
        try:
            await verify_request("POST", url, headers, body, self.lookup)
            self.verified += 1
        except SignatureError:
            self.refused += 1

    def summary(self) -> dict[str, Any]:
        return {"requests": self.requests, "verified": self.verified, "refused": self.refused,
                "connections": self.connections, "cpu": time.process_time(), "seen": self.seen}


def aiohttp_inbox(tally: Tally, latency: float) -> Any:
    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        if id(request.transport) not in tally.transports:
            tally.transports.add(id(request.transport))
            tally.connections += 1
        url = f"http://{request.host}{request.path}"
        if tally.record(url, body):
            await tally.verify(url, request.headers, body)
        if latency:
            await asyncio.sleep(latency)
        return web.Response(status=202)

    return inbox


class RawInbox(asyncio.Protocol):
    """A minimal HTTP/1.1 inbox: Content-Length bodies on kept-alive connections, 202."""

    def __init__(self, tally: Tally, latency: float) -> None:
        self._tally, self._latency = tally, latency
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._tally.connections += 1

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            lines = self._buffer[:end].decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip()
                       for k, _, v in (line.partition(":") for line in lines[1:])}
            total = end + 4 + int(headers.get("content-length", "0"))
            if len(self._buffer) < total:
                return
            body = bytes(self._buffer[end + 4:total])
            del self._buffer[:total]
            self._answer(f"http://{headers['host']}{lines[0].split(' ')[1]}", headers, body)

    def _answer(self, url: str, headers: dict[str, str], body: bytes) -> None:
        assert self._transport is not None
        if self._tally.record(url, body):
            check = asyncio.ensure_future(self._tally.verify(url, headers, body))
            self._tally.checks.add(check)
            check.add_done_callback(self._tally.checks.discard)
        if self._latency:
            asyncio.get_running_loop().call_later(self._latency, self._transport.write,
                                                  _ACCEPTED)
        else:
            self._transport.write(_ACCEPTED)


async def _serve(conn: Connection, config: ReceiverConfig) -> None:
    key = PublicKey(config.key_id, config.owner, load_public_key_pem(config.public_pem))
    tally, stop = Tally(key, config.verify_every), asyncio.Event()

    async def report(request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(tally.summary()), content_type="application/json")

    async def cpu(request: web.Request) -> web.Response:
        return web.Response(text=repr(time.process_time()))

    async def stop_now(request: web.Request) -> web.Response:
        stop.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/_tally", report)
    app.router.add_get("/_cpu", cpu)
    app.router.add_post("/_stop", stop_now)
    app.router.add_post("/{path:.*}", aiohttp_inbox(tally, config.latency))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sockets = [bound_socket() for _ in range(config.hosts + 1)]  # the last one: control
    servers = await _listen(runner, sockets, config, tally)
    conn.send([port_of(sock) for sock in sockets])
    try:
        await asyncio.wait_for(stop.wait(), config.time_limit)
    except TimeoutError:
        pass  # stops by itself, whatever the parent does
    finally:
        for server in servers:
            server.close()
        await runner.cleanup()


async def _listen(runner: web.AppRunner, sockets: list[Any], config: ReceiverConfig,
                  tally: Tally) -> list[asyncio.Server]:
    if config.server == "aiohttp":
        for sock in sockets:
            await web.SockSite(runner, sock, backlog=1024).start()
        return []
    await web.SockSite(runner, sockets[-1]).start()
    loop = asyncio.get_running_loop()
    return [await loop.create_server(lambda: RawInbox(tally, config.latency), sock=sock,
                                     backlog=1024) for sock in sockets[:-1]]


def receivers_main(conn: Connection, config: ReceiverConfig) -> None:
    watchdog(config.time_limit + 10)
    asyncio.run(_serve(conn, config))


def start_receivers(config: ReceiverConfig) -> tuple[Any, list[int]]:
    """The receivers' process and its ports (the last port is the control one)."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    process = ctx.Process(target=receivers_main, args=(theirs, config), daemon=True,
                          name="receivers")
    process.start()
    theirs.close()
    if not ours.poll(60):
        process.terminate()
        raise RuntimeError("the receivers did not start within 60 s")
    ports = ours.recv()
    ours.close()
    return process, ports


class Control:
    """Asks the receivers' process what it saw, over its control port."""

    def __init__(self, port: int) -> None:
        self._base = f"http://{LOOPBACK}:{port}"
        self._session = aiohttp.ClientSession()

    async def tally(self) -> dict[str, Any]:
        async with self._session.get(f"{self._base}/_tally") as response:
            return orjson.loads(await response.read())

    async def cpu(self) -> float:
        async with self._session.get(f"{self._base}/_cpu") as response:
            return float(await response.text())

    async def stop(self) -> None:
        try:
            async with self._session.post(f"{self._base}/_stop"):
                pass
        finally:
            await self._session.close()
