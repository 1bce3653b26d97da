"""A small HTTP/1.1 client for deliveries: signed POSTs on kept-alive connections.

The delivery worker sends one POST per inbox and reads little more than the status of the
answer. aiohttp's client spent ~300 µs of the event loop per such request (most of the
deliverer's time beside signing); this client writes the request in one piece and reads
the answer with a small parser, at a fraction of that. What it does:

* Connections are kept alive per origin (scheme, host, port) and reused; an idle one is
  dropped after `keepalive` seconds, or as soon as the server closes it. How many are open
  per host is the caller's business (the worker's per-host limit).
* Every address is judged by `federation.netguard.check_address` before connecting, after
  name resolution, and the connection goes to the judged address (no second lookup), as
  `fetch.GuardedResolver` does for aiohttp. `https` is verified TLS with the host's name.
* Answers: `Content-Length`, `chunked`, or read-until-close bodies; interim 1xx answers are
  skipped. Only the first `DETAIL_BYTES` of a body are kept; a body over `MAX_DRAIN` closes
  the connection rather than being read to its end.
* A reused connection that the server closed as the request went out (no byte of an answer
  came back) is retried once on a new connection, as browsers do. The POST may then arrive
  twice; inboxes deduplicate by activity id, and deliveries are at-least-once anyway.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from federation.errors import UnsafeURLError
from federation.netguard import check_address, parse_ip

DETAIL_BYTES = 2048  # enough of an error body to say why
MAX_DRAIN = 65536  # a longer answer body closes the connection instead
_DEFAULT_PORTS = {"https": 443, "http": 80}
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: |\r|$)")
_FORBIDDEN = re.compile(r"[\r\n\0]")
_FRAMING = frozenset({"content-length", "connection", "transfer-encoding"})  # ours to write

Origin = tuple[str, str, int]  # scheme, host, port


class InvalidURL(ValueError):
    """Not an http(s) URL this client can send to."""


class ConnectionFailed(Exception):
    """The connection could not be made, or broke before a whole answer came back."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased; a repeated field keeps its last value
    detail: bytes  # the start of the body, at most DETAIL_BYTES


@dataclass(frozen=True, slots=True)
class _Target:
    origin: Origin
    authority: str  # what the Host header says
    path: str  # the request target: path and query


@lru_cache(maxsize=4096)  # a fan-out sends to the same inboxes post after post
def _target(url: str) -> _Target:
    if _FORBIDDEN.search(url) or " " in url:
        raise InvalidURL(f"{url!r} holds characters a request line cannot")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"{url!r} is not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidURL(f"{url!r} is not an http(s) URL")
    authority = parts.netloc.rpartition("@")[2]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target((scheme, parts.hostname, port or _DEFAULT_PORTS[scheme]), authority, path)


def request_bytes(method: str, path: str, authority: str, headers: Mapping[str, str],
                  body: bytes) -> bytes:
    """The whole request as written: request line, headers, Content-Length, body."""
    lines = [f"{method} {path} HTTP/1.1"]
    if not any(name.lower() == "host" for name in headers):
        lines.append(f"Host: {authority}")
    lines += [f"{name}: {value}" for name, value in headers.items()
              if name.lower() not in _FRAMING]
    if _FORBIDDEN.search("".join(lines)) or any(":" in name for name in headers):
        raise InvalidURL("a header cannot be sent as given (line break or colon in it)")
    lines.append(f"Content-Length: {len(body)}\r\n\r\n")
    return "\r\n".join(lines).encode("latin-1") + body


class _Connection(asyncio.Protocol):
    """One connection: writes a request, parses its answer, and may then be reused."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = False
        self.used_at = time.monotonic()
        self._buffer = bytearray()
        self._waiter: asyncio.Future[Answer] | None = None
        self._answered_bytes = False
        self._head: tuple[int, dict[str, str], bool] | None = None  # status, headers, keep
        self._body = bytearray()
        self._body_size = 0
        self._remaining: int | None = None  # Content-Length bytes still to come
        self._chunked = False
        self._until_close = False

    # asyncio.Protocol ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.close()  # bytes nobody asked for: this connection is unusable
            return
        self._answered_bytes = True
        self._buffer += data
        try:
            self._parse()
        except ConnectionFailed as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._until_close and self._head is not None:
            self._finish(reusable=False)
        else:
            reason = f": {exc}" if exc else ""
            waiter.set_exception(ConnectionFailed(f"connection closed before the answer{reason}"))

    # Use -----------------------------------------------------------------------------------
    async def exchange(self, request: bytes, deadline: float) -> Answer:
        """Send `request`; the answer once it is whole. Raises ConnectionFailed, or
        TimeoutError at `deadline` (event loop time), which closes the connection."""
        assert self.transport is not None and self._waiter is None
        self._reset()
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        # A timer on the loop rather than asyncio.timeout: ~15 µs less per request.
        timer = loop.call_at(deadline, self._time_out, waiter)
        try:
            self.transport.write(request)
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _time_out(self, waiter: asyncio.Future[Answer]) -> None:
        if not waiter.done():
            waiter.set_exception(TimeoutError("no whole answer in time"))
        self.close()

    @property
    def answered_bytes(self) -> bool:
        """Did any byte of an answer arrive (then a retry could repeat a received POST)?"""
        return self._answered_bytes

    def close(self) -> None:
        self.closed = True
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    # Parsing -------------------------------------------------------------------------------
    def _reset(self) -> None:
        self.reusable = False
        self._answered_bytes = False
        self._head = None
        self._body.clear()
        self._body_size = 0
        self._remaining = None
        self._chunked = self._until_close = False

    def _parse(self) -> None:
        while self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > 65536:
                    raise ConnectionFailed("the answer's header is over 64 KiB")
                return
            head = bytes(self._buffer[:end])
            del self._buffer[:end + 4]
            self._start(head)
        if self._chunked:
            self._read_chunks()
        elif self._remaining is not None:
            take = min(self._remaining, len(self._buffer))
            self._keep(self._buffer[:take])
            del self._buffer[:take]
            self._remaining -= take
            if self._remaining == 0 and self._head is not None:
                self._finish(reusable=True)
        else:  # until close
            self._keep(self._buffer)
            self._buffer.clear()

    def _start(self, head: bytes) -> None:
        status_line, _, rest = head.partition(b"\r\n")
        match = _STATUS_LINE.match(status_line)
        if match is None:
            raise ConnectionFailed(f"not an HTTP/1 answer: {status_line[:80]!r}")
        status = int(match[2])
        if 100 <= status < 200:
            return  # interim answer (100 Continue...): the real one follows
        headers: dict[str, str] = {}
        for line in rest.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        keep = match[1] == b"1" and "close" not in headers.get("connection", "").lower()
        self._head = (status, headers, keep)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._chunked = True
        elif "content-length" in headers:
            try:
                self._remaining = int(headers["content-length"])
            except ValueError as exc:
                raise ConnectionFailed("the answer's Content-Length is not a number") from exc
            if self._remaining < 0:
                raise ConnectionFailed("the answer's Content-Length is negative")
        elif status in (204, 304):
            self._remaining = 0
        else:
            self._until_close = True

    def _read_chunks(self) -> None:
        while True:
            if self._remaining:  # inside a chunk (its data, then CRLF)
                take = min(self._remaining, len(self._buffer))
                self._keep(self._buffer[:take])
                del self._buffer[:take]
                self._remaining -= take
                if self._remaining or self._head is None:
                    return
            line_end = self._buffer.find(b"\r\n")
            if line_end < 0:
                return
            line = bytes(self._buffer[:line_end]).split(b";", 1)[0].strip()
            if self._remaining == 0:  # the CRLF that ends a chunk's data
                if line:
                    raise ConnectionFailed("malformed chunked answer")
                del self._buffer[:2]
                self._remaining = None
                continue
            try:
                size = int(line, 16)
            except ValueError as exc:
                raise ConnectionFailed("malformed chunk size in the answer") from exc
            if size == 0:  # the last chunk, then trailer lines (usually none) and CRLF
                if self._buffer[line_end + 2:line_end + 4] == b"\r\n":
                    end = line_end + 4
                else:
                    end = self._buffer.find(b"\r\n\r\n", line_end + 2)
                    if end < 0:
                        return  # trailers still coming
                    end += 4
                del self._buffer[:end]
                self._finish(reusable=True)
                return
            del self._buffer[:line_end + 2]
            self._remaining = size

    def _keep(self, data: bytes | bytearray) -> None:
        room = DETAIL_BYTES - len(self._body)
        if room > 0:
            self._body += data[:room]
        self._body_size += len(data)
        if self._body_size > MAX_DRAIN and self._head is not None:
            self._finish(reusable=False)  # not worth reading on: close instead

    def _finish(self, *, reusable: bool) -> None:
        if self._head is None:
            return  # already answered
        status, headers, keep = self._head
        waiter = self._waiter
        self.reusable = reusable and keep and not self._buffer
        if waiter is not None and not waiter.done():
            waiter.set_result(Answer(status, headers, bytes(self._body)))
        if not self.reusable:
            self.close()
        self._head = None

    def _fail(self, exc: ConnectionFailed) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        self.close()


class DeliveryClient:
    """POSTs over kept-alive connections, refusing addresses `check_address` refuses."""

    def __init__(self, *, allow_loopback: bool = False, allow_private: bool = False,
                 keepalive: float = 15.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self._allow_loopback, self._allow_private = allow_loopback, allow_private
        self._keepalive = keepalive
        self._ssl = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._swept = time.monotonic()

    async def post(self, url: str, headers: Mapping[str, str], body: bytes, *,
                   deadline: float) -> Answer:
        """POST `body` to `url` with `headers` (Host included, as signed).

        Raises InvalidURL, `UnsafeURLError` (a refused address), ConnectionFailed, or
        TimeoutError when there is no whole answer by `deadline` (in the event loop's
        time). A connection that timed out or was cancelled mid-answer is closed.
        """
        target = _target(url)
        request = request_bytes("POST", target.path, target.authority, headers, body)
        connection, reused = await self._connection(target.origin, deadline)
        try:
            answer = await self._exchange(connection, request, deadline)
        except ConnectionFailed:
            if not reused or connection.answered_bytes:
                raise
            connection, _ = await self._connection(target.origin, deadline, fresh=True)
            answer = await self._exchange(connection, request, deadline)
        if connection.reusable:
            connection.used_at = now = time.monotonic()
            self._idle.setdefault(target.origin, []).append(connection)
            if now - self._swept > self._keepalive:
                self._sweep(now)
        return answer

    def _sweep(self, now: float) -> None:
        """Close idle connections past their time, and forget origins with none left."""
        self._swept = now
        for origin, idle in list(self._idle.items()):
            for connection in [c for c in idle if c.closed or now - c.used_at >= self._keepalive]:
                idle.remove(connection)
                connection.close()
                self._open.discard(connection)
            if not idle:
                del self._idle[origin]

    async def _exchange(self, connection: _Connection, request: bytes,
                        deadline: float) -> Answer:
        try:
            return await connection.exchange(request, deadline)
        except BaseException:
            connection.close()  # timed out or cancelled mid-answer: never reused
            raise
        finally:
            if connection.closed:
                self._open.discard(connection)

    async def _connection(self, origin: Origin, deadline: float, *, fresh: bool = False,
                          ) -> tuple[_Connection, bool]:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle and not fresh:
            connection = idle.pop()
            if not connection.closed and now - connection.used_at < self._keepalive:
                return connection, True
            connection.close()
            self._open.discard(connection)
        async with asyncio.timeout_at(deadline):
            return await self._connect(origin), False

    async def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        error: OSError | None = None
        for address in await self._addresses(host, port):
            try:
                _, connection = await loop.create_connection(
                    _Connection, address, port,
                    ssl=self._tls() if scheme == "https" else None,
                    server_hostname=host if scheme == "https" else None)
            except OSError as exc:
                error = exc
                continue
            self._open.add(connection)
            return connection
        raise ConnectionFailed(f"cannot connect to {host}:{port}: {error}")

    async def _addresses(self, host: str, port: int) -> list[str]:
        """The addresses to try, each judged by check_address (which raises for a literal)."""
        literal = parse_ip(host)
        guard = {"allow_loopback": self._allow_loopback, "allow_private": self._allow_private}
        if literal is not None:
            check_address(literal, **guard)
            return [str(literal)]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ConnectionFailed(f"cannot resolve {host}: {exc}") from exc
        allowed = []
        for info in infos:
            address = str(info[4][0])
            ip = parse_ip(address)
            if ip is None or address in allowed:
                continue
            try:
                check_address(ip, **guard)
            except UnsafeURLError:
                continue
            allowed.append(address)
        if not allowed:
            raise UnsafeURLError(f"{host} resolves to no public address")
        return allowed

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def close(self) -> None:
        """Close every connection (idle or in use)."""
        for connection in list(self._open):
            connection.close()
        self._open.clear()
        self._idle.clear()

    async def __aenter__(self) -> DeliveryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
