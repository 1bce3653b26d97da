"""SafeFetcher against a fake peer on loopback: redirects, media types, size, time, signing."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from federation.errors import (
    BlockedDomain,
    FetchError,
    NotFound,
    PayloadTooLarge,
    RemoteNotFound,
    Unreachable,
    UnsafeURLError,
    UnsupportedMediaType,
    ValidationError,
)
from federation.fetch import (
    AP_ACCEPT,
    GuardedResolver,
    SafeFetcher,
    make_guarded_session,
    media_type_matches,
    same_origin,
)
from federation.policy import DomainPolicy

AP = "application/activity+json"
HITS = web.AppKey("hits", list[str])
StartServer = Callable[[web.Application], Awaitable[TestServer]]
LD_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def _json(data: object, content_type: str = AP, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": content_type}
    )


async def _document(request: web.Request) -> web.Response:
    """Serves an object whose id is its own URL, with the media type asked for in ?ct=."""
    request.app[HITS].append(request.path)
    own_id = str(request.url.with_query(None))
    return _json({"id": own_id, "type": "Note"}, request.query.get("ct", AP))


async def _redirect(request: web.Request) -> web.Response:
    hops = int(request.match_info["hops"])
    target = "/doc" if hops == 0 else f"/redirect/{hops - 1}"
    raise web.HTTPFound(target)


async def _to(request: web.Request) -> web.Response:
    # A raw header, so that malformed targets reach the client as sent.
    return web.Response(status=302, headers={"Location": request.query["target"]})


async def _echo_headers(request: web.Request) -> web.Response:
    own_id = str(request.url)
    return _json({"id": own_id, "headers": dict(request.headers)})


async def _status(request: web.Request) -> web.Response:
    return _json({"error": "x"}, status=int(request.match_info["code"]))


async def _raw(request: web.Request) -> web.Response:
    return web.Response(body=request.query["body"].encode(), headers={"Content-Type": AP})


async def _claims(request: web.Request) -> web.Response:
    """A document claiming whatever id the query says (or none)."""
    data = {"type": "Note"} | ({"id": request.query["id"]} if "id" in request.query else {})
    return _json(data)


async def _big(request: web.Request) -> web.Response:
    return web.Response(body=b" " * 20_000 + b"{}", headers={"Content-Type": AP})


async def _chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": AP})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        for _ in range(int(request.query.get("chunks", "40"))):
            await response.write(b" " * 1000)
            await asyncio.sleep(float(request.query.get("pause", "0")))
        await response.write(b"{}")
        await response.write_eof()
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the fetcher hung up, which is the point
    return response


async def _cut_off(request: web.Request) -> web.StreamResponse:
    """Promises 1,000 bytes, sends 10, and closes the connection."""
    response = web.StreamResponse(headers={"Content-Type": AP, "Content-Length": "1000"})
    await response.prepare(request)
    await response.write(b'{"id": "x"')
    assert request.transport is not None
    request.transport.close()
    return response


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return _json({})


def _peer() -> web.Application:
    app = web.Application()
    app[HITS] = []
    app.router.add_get("/doc", _document)
    app.router.add_get("/redirect/{hops}", _redirect)
    app.router.add_get("/to", _to)
    app.router.add_get("/headers", _echo_headers)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/raw", _raw)
    app.router.add_get("/claims", _claims)
    app.router.add_get("/big", _big)
    app.router.add_get("/chunked", _chunked)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/cut-off", _cut_off)
    return app


@pytest.fixture
async def peer(serve: StartServer) -> TestServer:
    return await serve(_peer())


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    async with SafeFetcher(allow_loopback=True, https_only=False) as safe:
        yield safe


def url(server: TestServer, path: str) -> str:
    return str(server.make_url(path))


async def test_fetches_an_activitypub_document(peer: TestServer, fetcher: SafeFetcher) -> None:
    fetched = await fetcher.get_json(url(peer, "/doc"))
    assert fetched.url == url(peer, "/doc")
    assert fetched.data == {"id": url(peer, "/doc"), "type": "Note"}
    assert fetched.headers["Content-Type"] == AP


async def test_follows_redirects_up_to_the_limit(peer: TestServer, fetcher: SafeFetcher) -> None:
    # /redirect/2 -> /redirect/1 -> /redirect/0 -> /doc is three redirects: the limit.
    fetched = await fetcher.get_json(url(peer, "/redirect/2"))
    assert fetched.url == url(peer, "/doc")
    with pytest.raises(FetchError, match="redirects"):
        await fetcher.get_json(url(peer, "/redirect/3"))


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:a00:1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[64:ff9b::a00:1]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://10.1/",
        "ftp://example.com/",
        "file:///etc/passwd",
        "http://user:secret@example.com/",
        "http://[::1",
    ],
)
async def test_refuses_redirect_to_unsafe_url_before_connecting(
    peer: TestServer, fetcher: SafeFetcher, target: str
) -> None:
    # Given a peer that redirects into a non-public address
    # When we follow it with loopback allowed (the peer itself is on loopback)
    # Then the hop is refused by the address check, before any connection to it is made
    with pytest.raises(UnsafeURLError):
        await fetcher.get_json(url(peer, f"/to?target={target}"))


async def test_loopback_is_refused_unless_allowed(peer: TestServer) -> None:
    async with SafeFetcher(https_only=False) as strict:
        for host in ("127.0.0.1", "localhost", "[::ffff:127.0.0.1]"):
            target = f"http://{host}:{peer.port}/doc"
            with pytest.raises(UnsafeURLError):
                await strict.get_json(target)
    assert peer.app[HITS] == []


async def test_guarded_session_refuses_ip_literal_hosts(peer: TestServer) -> None:
    # aiohttp connects to an IP-literal host without asking the resolver, so the session
    # itself must judge it: deliveries POST to inbox URLs taken from remote documents.
    strict = make_guarded_session()
    try:
        for host in ("127.0.0.1", "[::ffff:127.0.0.1]"):
            with pytest.raises(UnsafeURLError):
                await strict.get(f"http://{host}:{peer.port}/doc")
    finally:
        await strict.close()
    assert peer.app[HITS] == []
    loopback_ok = make_guarded_session(allow_loopback=True)
    try:
        async with loopback_ok.get(f"http://127.0.0.1:{peer.port}/doc") as response:
            assert response.status == 200
    finally:
        await loopback_ok.close()


async def test_https_only_refuses_plain_http(peer: TestServer) -> None:
    async with SafeFetcher(allow_loopback=True) as https_only:
        with pytest.raises(UnsafeURLError, match="scheme"):
            await https_only.get_json(url(peer, "/doc"))
    assert peer.app[HITS] == []


@pytest.mark.parametrize(
    "content_type",
    [
        AP,
        f"{AP}; charset=utf-8",
        LD_AS,
        "application/ld+json; profile=https://www.w3.org/ns/activitystreams",  # unquoted
        'application/ld+json;profile="x https://www.w3.org/ns/activitystreams"',
    ],
)
async def test_accepts_activitypub_media_types(
    peer: TestServer, fetcher: SafeFetcher, content_type: str
) -> None:
    fetched = await fetcher.get_json(str(peer.make_url("/doc").with_query(ct=content_type)))
    assert fetched.data["type"] == "Note"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "application/json",
        "application/ld+json",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams/evil"',
        "text/html; x=application/activity+json",
        'text/html; profile="https://www.w3.org/ns/activitystreams"',
        "application/activity+jsonp",
        "application/activity+json garbage",
    ],
)
async def test_refuses_other_media_types(
    peer: TestServer, fetcher: SafeFetcher, content_type: str
) -> None:
    with pytest.raises(UnsupportedMediaType):
        await fetcher.get_json(str(peer.make_url("/doc").with_query(ct=content_type)))


def test_media_type_matching_parses_parameters() -> None:
    webfinger = ("application/jrd+json", "application/json")
    assert media_type_matches("application/json; charset=utf-8", webfinger)
    assert media_type_matches("Application/JRD+JSON", webfinger)
    assert not media_type_matches(None, webfinger)
    assert not media_type_matches("", webfinger)
    assert not media_type_matches('application/json; x="unterminated', webfinger)


async def test_announced_oversize_body_is_refused(peer: TestServer) -> None:
    async with SafeFetcher(allow_loopback=True, https_only=False, max_bytes=10_000) as small:
        with pytest.raises(PayloadTooLarge, match="announces"):
            await small.get_json(url(peer, "/big"))


async def test_streamed_oversize_body_is_cut_off(peer: TestServer) -> None:
    async with SafeFetcher(allow_loopback=True, https_only=False, max_bytes=10_000) as small:
        with pytest.raises(PayloadTooLarge, match="more than"):
            await small.get_json(url(peer, "/chunked?chunks=40"))
        fetched = await small.get_json(url(peer, "/chunked?chunks=5"))
    assert fetched.data == {}


async def test_slow_server_times_out(peer: TestServer) -> None:
    async with SafeFetcher(
        allow_loopback=True, https_only=False, read_timeout=0.2, total_timeout=1.0
    ) as impatient:
        with pytest.raises(FetchError):
            await impatient.get_json(url(peer, "/slow"))


async def test_slowly_dripping_body_hits_the_total_timeout(peer: TestServer) -> None:
    # Each chunk arrives well within the read timeout; only the total bound stops it.
    async with SafeFetcher(
        allow_loopback=True, https_only=False, read_timeout=1.0, total_timeout=0.5
    ) as impatient:
        with pytest.raises(FetchError, match="timed out"):
            await impatient.get_json(url(peer, "/chunked?chunks=100&pause=0.05"))


@pytest.mark.parametrize(("code", "gone"), [(404, False), (410, True)])
async def test_missing_documents_raise_remote_not_found(
    peer: TestServer, fetcher: SafeFetcher, code: int, gone: bool
) -> None:
    with pytest.raises(RemoteNotFound) as raised:
        await fetcher.get_json(url(peer, f"/status/{code}"))
    assert isinstance(raised.value, NotFound) and isinstance(raised.value, FetchError)
    assert raised.value.gone is gone


@pytest.mark.parametrize("code", [400, 401, 403, 204, 300])
async def test_other_failures_raise_fetch_error(
    peer: TestServer, fetcher: SafeFetcher, code: int
) -> None:
    with pytest.raises(FetchError) as raised:
        await fetcher.get_json(url(peer, f"/status/{code}"))
    assert not isinstance(raised.value, Unreachable)  # asking again will not help


@pytest.mark.parametrize("code", [429, 500, 502, 503])
async def test_passing_failures_say_the_server_is_unreachable_for_now(
    peer: TestServer, fetcher: SafeFetcher, code: int
) -> None:
    with pytest.raises(Unreachable):
        await fetcher.get_json(url(peer, f"/status/{code}"))


async def test_a_refused_connection_a_time_out_and_a_cut_off_body_are_unreachable(
        peer: TestServer) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = closed.getsockname()[1]
    async with SafeFetcher(
        allow_loopback=True, https_only=False, read_timeout=0.2, total_timeout=1.0
    ) as impatient:
        with pytest.raises(Unreachable, match="could not fetch"):
            await impatient.get_json(f"http://127.0.0.1:{port}/actor")
        with pytest.raises(Unreachable, match="timed out"):
            await impatient.get_json(url(peer, "/slow"))
        with pytest.raises(Unreachable, match="could not fetch"):  # the body cut off
            await impatient.get_json(url(peer, "/cut-off"))
    closed.close()


@pytest.mark.parametrize("body", ["[1, 2]", '"id"', "null", "{not json", ""])
async def test_body_must_be_a_json_object(
    peer: TestServer, fetcher: SafeFetcher, body: str
) -> None:
    with pytest.raises(ValidationError):
        await fetcher.get_json(str(peer.make_url("/raw").with_query(body=body)))


async def test_signed_get_sends_the_signers_headers_on_every_hop(peer: TestServer) -> None:
    calls: list[tuple[str, str, dict[str, str]]] = []

    def signer(method: str, target: str, headers: Mapping[str, str]) -> Mapping[str, str]:
        calls.append((method, target, dict(headers)))
        return {**headers, "Signature": f'keyId="k",signature="{method} {target}"'}

    async with SafeFetcher(signer=signer, allow_loopback=True, https_only=False) as signed:
        fetched = await signed.get_json(url(peer, "/to?target=/headers"))
        unsigned = await signed.get_json(url(peer, "/headers"), signed=False)

    assert [(m, t) for m, t, _ in calls] == [
        ("GET", url(peer, "/to?target=/headers")),
        ("GET", url(peer, "/headers")),
    ]
    assert calls[0][2]["Accept"] == AP_ACCEPT
    received = fetched.data["headers"]
    assert received["Signature"] == f'keyId="k",signature="GET {url(peer, "/headers")}"'
    assert received["Accept"] == AP_ACCEPT
    assert received["User-Agent"] == "commonhub"
    assert "Signature" not in unsigned.data["headers"]
    assert len(calls) == 2


async def test_get_object_accepts_an_id_on_the_final_origin(
    serve: StartServer, fetcher: SafeFetcher
) -> None:
    first, second = await serve(_peer()), await serve(_peer())
    fetched = await fetcher.get_object(url(first, f"/to?target={url(second, '/doc')}"))
    assert fetched.url == url(second, "/doc")


async def test_get_object_refuses_an_id_from_the_redirecting_origin(
    serve: StartServer, fetcher: SafeFetcher
) -> None:
    # Given a document on origin B claiming to be an object of origin A, reached from A
    first, second = await serve(_peer()), await serve(_peer())
    claim = str(second.make_url("/claims").with_query(id=url(first, "/users/alice")))
    # Then it is not trusted as A's object: only the origin that served it counts
    with pytest.raises(ValidationError):
        await fetcher.get_object(url(first, "/to") + "?target=" + _quote(claim))


@pytest.mark.parametrize("claimed", [None, "https://evil.example/users/alice", 42, "/relative"])
async def test_get_object_refuses_missing_or_foreign_ids(
    peer: TestServer, fetcher: SafeFetcher, claimed: object
) -> None:
    query = {} if claimed is None else {"id": str(claimed)}
    with pytest.raises(ValidationError):
        await fetcher.get_object(str(peer.make_url("/claims").with_query(query)))


def test_same_origin_normalises_scheme_host_and_default_port() -> None:
    assert same_origin("https://Hub.Example/a", "https://hub.example:443/b")
    assert same_origin("http://hub.example:80/a", "HTTP://hub.example/b")
    assert not same_origin("http://hub.example/a", "https://hub.example/a")
    assert not same_origin("https://hub.example:8443/a", "https://hub.example/a")
    assert not same_origin("https://hub.example.evil/a", "https://hub.example/a")
    assert not same_origin("/a", "https://hub.example/a")


class _FakeResolver(AbstractResolver):
    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=0, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_resolver_keeps_only_permitted_addresses() -> None:
    inner = _FakeResolver(["10.0.0.7", "93.184.216.34", "::ffff:127.0.0.1", "2606:4700::1"])
    resolver = GuardedResolver(resolver=inner)
    results = await resolver.resolve("rebind.example", 443)
    assert [r["host"] for r in results] == ["93.184.216.34", "2606:4700::1"]


async def test_resolver_refuses_a_name_with_no_public_address() -> None:
    resolver = GuardedResolver(resolver=_FakeResolver(["127.0.0.1", "169.254.169.254", "junk"]))
    with pytest.raises(UnsafeURLError):
        await resolver.resolve("internal.example", 80)
    loopback_ok = GuardedResolver(allow_loopback=True, resolver=_FakeResolver(["127.0.0.1"]))
    assert len(await loopback_ok.resolve("localhost", 80)) == 1


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


async def test_a_blocked_domain_gets_no_request_not_even_through_a_redirect(
        peer: TestServer, serve: StartServer) -> None:
    # Given a second server whose authority the policy blocks,
    blocked = await serve(_peer())
    policy = DomainPolicy([f"127.0.0.1:{blocked.port}"])
    async with SafeFetcher(allow_loopback=True, https_only=False,
                           is_blocked=policy.is_blocked) as safe:
        # a direct fetch and a redirect into it are both refused before connecting,
        with pytest.raises(BlockedDomain, match="is blocked"):
            await safe.get_json(url(blocked, "/doc"))
        with pytest.raises(BlockedDomain):
            await safe.get_json(url(peer, f"/to?target={url(blocked, '/doc')}"))
        # while the other server is fetched as usual.
        assert (await safe.get_json(url(peer, "/doc"))).data["type"] == "Note"
    assert blocked.app[HITS] == []
