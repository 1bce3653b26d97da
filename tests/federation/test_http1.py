"""The delivery client against a scripted HTTP/1.1 server on loopback: answer framings,
kept-alive connections and when they are not reused, the address guard, bad answers."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

import pytest

from federation.errors import UnsafeURLError
from federation.http1 import (
    DETAIL_BYTES,
    Answer,
    ConnectionFailed,
    DeliveryClient,
    InvalidURL,
)

HEADERS = {"Content-Type": "application/activity+json", "Signature": 'keyId="k"'}
CLOSE = b""  # script entry: close the connection instead of answering
THEN_CLOSE = b"\0close"  # script entry suffix: answer, then close the connection


class Server:
    """Reads requests (Content-Length bodies) and writes the next scripted answer."""

    def __init__(self) -> None:
        self.script: deque[bytes] = deque()
        self.requests: list[tuple[int, bytes, bytes]] = []  # (connection, head, body)
        self.connections = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    def url(self, path: str = "/inbox") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                self.requests.append((number, head, body))
                answer = self.script.popleft() if self.script else _answer(202)
                if answer == CLOSE:
                    break
                writer.write(answer.removesuffix(THEN_CLOSE))
                await writer.drain()
                if answer.endswith(THEN_CLOSE):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def post(client: DeliveryClient, url: str, body: bytes, *, seconds: float = 10.0,
               headers: dict[str, str] = HEADERS) -> Answer:
    deadline = asyncio.get_running_loop().time() + seconds
    return await client.post(url, headers, body, deadline=deadline)


def _answer(status: int, body: bytes = b"", *extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", *extra, f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    s = Server()
    await s.start()
    yield s
    assert s.server is not None
    s.server.close()


@pytest.fixture
async def client() -> AsyncIterator[DeliveryClient]:
    async with DeliveryClient(allow_loopback=True) as c:
        yield c


async def test_posts_the_body_with_the_given_headers_on_one_kept_alive_connection(
        server: Server, client: DeliveryClient) -> None:
    for n in range(3):
        answer = await post(client, server.url(f"/users/{n}/inbox?x=1"), b'{"n": %d}' % n)
        assert (answer.status, answer.detail) == (202, b"")
    assert server.connections == 1
    _, head, body = server.requests[0]
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /users/0/inbox?x=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}" in lines
    assert "Content-Type: application/activity+json" in lines
    assert "Signature: keyId=\"k\"" in lines
    assert "Content-Length: 8" in lines
    assert body == b'{"n": 0}'


async def test_chunked_answers_with_trailers_and_interim_answers_are_read_whole(
        server: Server, client: DeliveryClient) -> None:
    server.script.extend([
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n",
        b"HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ])
    first = await post(client, server.url(), b"{}")
    second = await post(client, server.url(), b"{}")
    third = await post(client, server.url(), b"{}")
    assert (first.status, first.detail) == (401, b"hello world")
    assert (second.status, second.headers["retry-after"]) == (503, "120")
    assert third.status == 202
    assert server.connections == 1  # every answer was read to its end: the connection lives


async def test_connections_that_cannot_be_reused_are_not(server: Server,
                                                         client: DeliveryClient) -> None:
    big = b"x" * 100_000
    server.script.extend([
        _answer(202, b"", "Connection: close"),  # the server says so
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end" + THEN_CLOSE,  # no length: read until closed
        _answer(500, big),  # too long to read on: closed after the detail
    ])
    assert (await post(client, server.url(), b"{}")).status == 202
    until_close = await post(client, server.url(), b"{}")
    assert (until_close.status, until_close.detail) == (200, b"until the end")
    error = await post(client, server.url(), b"{}")
    assert (error.status, error.detail) == (500, big[:DETAIL_BYTES])
    assert (await post(client, server.url(), b"{}")).status == 202
    assert server.connections == 4


async def test_a_kept_alive_connection_closed_by_the_server_is_retried_once_on_a_new_one(
        server: Server, client: DeliveryClient) -> None:
    assert (await post(client, server.url(), b"1")).status == 202
    server.script.append(CLOSE)  # the server drops the idle connection as the POST arrives
    assert (await post(client, server.url(), b"2")).status == 202
    assert [(c, body) for c, _, body in server.requests] == [(1, b"1"), (1, b"2"), (2, b"2")]


async def test_a_new_connection_closed_without_an_answer_fails(server: Server,
                                                               client: DeliveryClient) -> None:
    server.script.append(CLOSE)
    with pytest.raises(ConnectionFailed):
        await post(client, server.url(), b"{}")
    assert len(server.requests) == 1  # not retried: the server may have acted on it


async def test_garbage_answers_fail_and_close_the_connection(server: Server,
                                                             client: DeliveryClient) -> None:
    server.script.extend([b"SMTP ready\r\n\r\n", _answer(202)])
    with pytest.raises(ConnectionFailed):
        await post(client, server.url(), b"{}")
    assert (await post(client, server.url(), b"{}")).status == 202
    assert server.connections == 2


async def test_a_timed_out_post_leaves_no_connection_to_reuse(server: Server,
                                                              client: DeliveryClient) -> None:
    server.script.append(b"HTTP/1.1 202 Accepted\r\nContent-Length: 10\r\n\r\nabc")  # stalls
    with pytest.raises(TimeoutError):
        await post(client, server.url(), b"{}", seconds=0.2)
    assert (await post(client, server.url(), b"{}")).status == 202
    assert server.connections == 2


async def test_refused_connections_are_connection_failures(client: DeliveryClient) -> None:
    s = Server()
    await s.start()
    assert s.server is not None
    s.server.close()
    await s.server.wait_closed()
    with pytest.raises(ConnectionFailed):
        await post(client, s.url(), b"{}")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "169.254.169.254"])
async def test_internal_addresses_are_refused_before_connecting(server: Server,
                                                                host: str) -> None:
    async with DeliveryClient() as strict:
        with pytest.raises(UnsafeURLError):
            await post(strict, f"http://{host}:{server.port}/inbox", b"{}")
    assert server.connections == 0


@pytest.mark.parametrize("url", ["ftp://example.org/inbox", "http:///inbox",
                                 "http://example.org:99999/inbox",
                                 "http://example.org/in box", "http://example.org/a\r\nX: y"])
async def test_urls_that_cannot_be_sent_to_are_invalid(client: DeliveryClient,
                                                       url: str) -> None:
    with pytest.raises(InvalidURL):
        await post(client, url, b"{}")


async def test_headers_that_would_split_the_request_are_refused(
        server: Server, client: DeliveryClient) -> None:
    with pytest.raises(InvalidURL):
        await post(client, server.url(), b"{}", headers={"X-Evil": "a\r\nInjected: 1"})
    assert server.requests == []


async def test_idle_connections_past_their_time_are_closed_and_forgotten(
        server: Server) -> None:
    other = Server()
    await other.start()
    async with DeliveryClient(allow_loopback=True, keepalive=0.05) as client:
        assert (await post(client, server.url(), b"{}")).status == 202
        await asyncio.sleep(0.1)
        assert (await post(client, other.url(), b"{}")).status == 202  # sweeps the first
        assert len(client._idle) == 1 and len(client._open) == 1
        assert (await post(client, server.url(), b"{}")).status == 202
    assert server.connections == 2  # the expired connection was not reused
    assert other.server is not None
    other.server.close()
