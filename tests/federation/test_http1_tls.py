"""The delivery client over TLS, as production deliveries go: against an aiohttp https server
on loopback whose certificates come from a throwaway CA made here. A trusted certificate for
the right name is answered, with the connection kept and reused, and both answer framings
parse; an untrusted certificate or one for another name is refused before any request is
sent, and the delivery worker does not record such a delivery as done."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from federation.delivery import DeliveryWorker
from federation.http1 import DETAIL_BYTES, Answer, ConnectionFailed, DeliveryClient
from hub.store.db import Database
from hub.store.deliveries import SqliteDeliveryStore, deliveries_of, enqueue
from tests.federation.conftest import StartServer
from tests.federation.test_delivery import HUB_KEY, Clock

HEADERS = {"Content-Type": "application/activity+json", "Signature": 'keyId="k"'}
CHUNKS = (b"first part; ", b"second part; ", b"x" * 3000)


# Certificates --------------------------------------------------------------------------------
def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@dataclass(frozen=True)
class Authority:
    """A throwaway certificate authority, and the certificates it signs for servers."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def make(cls, common: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(_name(common))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=False, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .sign(key, hashes.SHA256()))
        return cls(key, cert)

    def server_files(self, directory: Path, names: list[x509.GeneralName]) -> tuple[Path, Path]:
        """A server certificate for `names` (as subjectAltName), and its key, as PEM files."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(_name("inbox server"))
                .issuer_name(self.cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.key.public_key()), critical=False)
                .sign(self.key, hashes.SHA256()))
        serial = cert.serial_number
        cert_file, key_file = directory / f"{serial}.crt", directory / f"{serial}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_file, key_file

    def trusting_context(self) -> ssl.SSLContext:
        """A client context as the hub makes it (verify, check the name), trusting only us."""
        context = ssl.create_default_context(
            cadata=self.cert.public_bytes(serialization.Encoding.PEM).decode())
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        return context


LOOPBACK = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


# The server ----------------------------------------------------------------------------------
@dataclass
class Inbox:
    """An https inbox on 127.0.0.1: records each POST with the client's port (one port, one
    connection) and whether it came over TLS."""

    port: int = 0
    received: list[tuple[int, bool, bytes]] = field(default_factory=list)

    def url(self, path: str = "/inbox", host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}{path}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/inbox", self.accept)
        app.router.add_post("/chunked", self.chunked)
        app.router.add_post("/long", self.long)
        return app

    async def _record(self, request: web.Request) -> None:
        transport = request.transport
        assert transport is not None
        self.received.append((transport.get_extra_info("peername")[1],
                              transport.get_extra_info("ssl_object") is not None,
                              await request.read()))

    async def accept(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=202, text="accepted")

    async def chunked(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        response = web.StreamResponse(status=200)
        response.enable_chunked_encoding()
        await response.prepare(request)
        for chunk in CHUNKS:
            await response.write(chunk)
        await response.write_eof()
        return response

    async def long(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=400, body=b"why: " + b"y" * 5000)


StartInbox = Callable[[Path, Path], Awaitable[Inbox]]


@pytest.fixture
async def start_inbox() -> AsyncIterator[StartInbox]:
    runners: list[web.AppRunner] = []

    async def start(cert_file: Path, key_file: Path) -> Inbox:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        inbox = Inbox()
        runner = web.AppRunner(inbox.app())
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        inbox.port = runner.addresses[0][1]
        return inbox

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority.make("commonhub test CA")


async def post(client: DeliveryClient, url: str, body: bytes = b'{"type":"Create"}') -> Answer:
    deadline = asyncio.get_running_loop().time() + 10
    return await client.post(url, HEADERS, body, deadline=deadline)


# Tests ---------------------------------------------------------------------------------------
async def test_posts_over_tls_are_answered_on_one_kept_connection(
        authority: Authority, start_inbox: StartInbox, tmp_path: Path) -> None:
    inbox = await start_inbox(*authority.server_files(tmp_path, LOOPBACK))
    async with DeliveryClient(allow_loopback=True,
                              ssl_context=authority.trusting_context()) as client:
        answers = [await post(client, inbox.url(), f'{{"n":{n}}}'.encode()) for n in range(3)]
        by_name = await post(client, inbox.url(host="localhost"))
    assert [(a.status, a.detail) for a in answers] == [(202, b"accepted")] * 3
    assert by_name.status == 202
    assert [body for _, _, body in inbox.received[:3]] == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
    assert all(tls for _, tls, _ in inbox.received)
    ports = [port for port, _, _ in inbox.received]
    # The three POSTs to 127.0.0.1 share one connection; "localhost" is another origin.
    assert len(set(ports[:3])) == 1 and ports[3] != ports[0]


async def test_chunked_and_content_length_answers_parse_over_tls(
        authority: Authority, start_inbox: StartInbox, tmp_path: Path) -> None:
    inbox = await start_inbox(*authority.server_files(tmp_path, LOOPBACK))
    async with DeliveryClient(allow_loopback=True,
                              ssl_context=authority.trusting_context()) as client:
        chunked = await post(client, inbox.url("/chunked"))
        sized = await post(client, inbox.url())
        long = await post(client, inbox.url("/long"))
    assert chunked.status == 200 and chunked.headers["transfer-encoding"] == "chunked"
    assert chunked.detail == b"".join(CHUNKS)[:DETAIL_BYTES]
    assert (sized.status, sized.headers["content-length"], sized.detail) == (
        202, "8", b"accepted")
    assert long.status == 400 and long.detail == (b"why: " + b"y" * 5000)[:DETAIL_BYTES]
    # The chunked answer was read to its end: the next POST went on the same connection.
    assert len({port for port, _, _ in inbox.received}) == 1


@asynccontextmanager
async def _answer_once_and_close(authority: Authority, tmp_path: Path,
                                 answer: bytes) -> AsyncIterator[tuple[int, list[int]]]:
    """A plain TLS server that reads one request per connection, writes `answer`, and
    closes (with TLS's close_notify); yields its port and a count per connection."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*authority.server_files(tmp_path, LOOPBACK))
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await reader.readexactly(length)
        writer.write(answer)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1], connections
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(("answer", "detail"), [
    # aiohttp always frames its answers: this one has no length, and the close ends it.
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it, then close",
     b"all of it, then close"),
    # Framed and not saying "close", but closed all the same: the next POST must not fail.
    (b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok", b"ok")])
async def test_a_server_closing_after_its_answer_over_tls(
        authority: Authority, tmp_path: Path, answer: bytes, detail: bytes) -> None:
    async with _answer_once_and_close(authority, tmp_path, answer) as (port, connections):
        async with DeliveryClient(allow_loopback=True,
                                  ssl_context=authority.trusting_context()) as client:
            answers = [await post(client, f"https://127.0.0.1:{port}/inbox") for _ in range(3)]
        assert [a.detail for a in answers] == [detail] * 3
        assert len(connections) == 3


async def test_an_untrusted_certificate_is_refused_before_anything_is_sent(
        authority: Authority, start_inbox: StartInbox, tmp_path: Path) -> None:
    stranger = Authority.make("someone else's CA")
    inbox = await start_inbox(*stranger.server_files(tmp_path, LOOPBACK))
    async with DeliveryClient(allow_loopback=True,
                              ssl_context=authority.trusting_context()) as client:
        with pytest.raises(ConnectionFailed, match="CERTIFICATE_VERIFY_FAILED"):
            await post(client, inbox.url())
    # Nor does the system's trust store (the client's default) know a private CA.
    async with DeliveryClient(allow_loopback=True) as client:
        with pytest.raises(ConnectionFailed, match="CERTIFICATE_VERIFY_FAILED"):
            await post(client, inbox.url())
    assert inbox.received == []


async def test_a_certificate_for_another_name_is_refused(
        authority: Authority, start_inbox: StartInbox, tmp_path: Path) -> None:
    inbox = await start_inbox(*authority.server_files(
        tmp_path, [x509.DNSName("elsewhere.example")]))
    async with DeliveryClient(allow_loopback=True,
                              ssl_context=authority.trusting_context()) as client:
        for host in ("127.0.0.1", "localhost"):
            with pytest.raises(ConnectionFailed, match="mismatch"):
                await post(client, inbox.url(host=host))
    assert inbox.received == []


async def test_an_https_url_on_a_plain_http_server_is_refused_not_sent_in_clear(
        authority: Authority, serve: StartServer) -> None:
    received: list[bytes] = []

    async def accept(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/inbox", accept)
    server = await serve(app)
    async with DeliveryClient(allow_loopback=True,
                              ssl_context=authority.trusting_context()) as client:
        with pytest.raises(ConnectionFailed, match="SSL"):
            await post(client, f"https://127.0.0.1:{server.port}/inbox")
    assert received == []


async def test_the_worker_does_not_record_a_refused_tls_delivery_as_done(
        authority: Authority, start_inbox: StartInbox, tmp_path: Path) -> None:
    trusted = await start_inbox(*authority.server_files(tmp_path, LOOPBACK))
    stranger = Authority.make("someone else's CA")
    untrusted = await start_inbox(*stranger.server_files(tmp_path, LOOPBACK))
    misnamed = await start_inbox(*authority.server_files(
        tmp_path, [x509.DNSName("elsewhere.example")]))
    db = await Database.open(tmp_path / "hub.db")
    await db.migrate()
    clock = Clock()
    activity = {"id": "https://hub.example/activities/1", "type": "Create",
                "actor": "https://hub.example/hub"}
    inboxes = [trusted.url(), untrusted.url(), misnamed.url()]
    try:
        outbox_id = await enqueue(db, activity, inboxes, activity_type="Create")
        store = SqliteDeliveryStore(db, clock=clock)
        async with DeliveryClient(allow_loopback=True,
                                  ssl_context=authority.trusting_context()) as client:
            worker = DeliveryWorker(store, client, lambda signer: HUB_KEY, clock=clock,
                                    rand=lambda: 0.5)
            assert await worker.run_once() == 3
            await worker.close()
        await store.flush()
        rows: dict[str, dict[str, Any]] = {r["inbox"]: r for r in await deliveries_of(
            db, outbox_id)}
    finally:
        await db.close()
    assert (rows[trusted.url()]["state"], rows[trusted.url()]["last_status"]) == ("done", 202)
    for url, why in ((untrusted.url(), "CERTIFICATE_VERIFY_FAILED"), (misnamed.url(), "mismatch")):
        row = rows[url]
        assert (row["state"], row["attempts"], row["last_status"]) == ("pending", 1, None)
        assert "ConnectionFailed" in row["last_error"] and why in row["last_error"]
    assert len(trusted.received) == 1 and untrusted.received == misnamed.received == []
