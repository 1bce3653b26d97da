"""WebFinger: handle parsing, the JRD we serve, and a lookup round trip over loopback."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from federation.errors import RemoteNotFound, UnsafeURLError, ValidationError
from federation.fetch import LD_JSON_AS, SafeFetcher
from federation.webfinger import (
    PROFILE_PAGE_REL,
    lookup,
    make_webfinger_handler,
    parse_handle,
    webfinger_document,
)

StartServer = Callable[[web.Application], Awaitable[TestServer]]


@pytest.mark.parametrize(
    ("handle", "expected"),
    [
        ("@alice@hub.example", ("alice", "hub.example")),
        ("alice@hub.example", ("alice", "hub.example")),
        ("acct:alice@hub.example", ("alice", "hub.example")),
        ("ACCT:Alice@HUB.Example", ("Alice", "hub.example")),
        ("  alice@hub.example.  ", ("alice", "hub.example")),
        ("alice@bücher.example", ("alice", "xn--bcher-kva.example")),
        ("alice@hub.example:8443", ("alice", "hub.example:8443")),
        ("alice@127.0.0.1:4000", ("alice", "127.0.0.1:4000")),
        ("alice@[::1]:4000", ("alice", "[::1]:4000")),
        ("first.last-2_x~y@hub.example", ("first.last-2_x~y", "hub.example")),
    ],
)
def test_parse_handle(handle: str, expected: tuple[str, str]) -> None:
    assert parse_handle(handle) == expected


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "alice",
        "@alice",
        "alice@",
        "@@hub.example",
        "al ice@hub.example",
        "a/b@hub.example",
        "a?b@hub.example",
        "alice@hub.example/path",
        "alice@hub.example?x=1",
        "alice@hub example",
        "alice@bob@hub.example",
        "alice@-hub.example",
        "alice@hub..example",
        "alice@hub.example:0",
        "alice@hub.example:65536",
        "alice@hub.example:",
        "alice@[not-ip]",
        "alice@[127.0.0.1]",
        "mailto:alice@hub.example",
    ],
)
def test_parse_handle_rejects_junk(handle: str) -> None:
    with pytest.raises(ValidationError):
        parse_handle(handle)


def test_webfinger_document_shape() -> None:
    document = webfinger_document(
        "hub",
        "hub.example",
        "https://hub.example/actor",
        "https://hub.example/@hub",
        aliases=["https://hub.example/actor", "https://old.example/hub"],
    )
    assert document == {
        "subject": "acct:hub@hub.example",
        "aliases": [
            "https://hub.example/@hub",
            "https://hub.example/actor",
            "https://old.example/hub",
        ],
        "links": [
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": "https://hub.example/actor",
            },
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": "https://hub.example/@hub"},
        ],
    }


class Directory:
    """The accounts a fake hub knows; its domain is filled in once the server has a port."""

    def __init__(self) -> None:
        self.domain = ""
        self.base = ""
        self.overrides: dict[str, Any] = {}

    async def resolve(self, username: str, domain: str) -> dict[str, Any] | None:
        if domain != self.domain or username.lower() != "alice":
            return None
        document = webfinger_document("alice", domain, f"{self.base}/users/alice")
        return document | self.overrides

    async def resolve_url(self, url: str) -> dict[str, Any] | None:
        return await self.resolve("alice", self.domain) if url.endswith("/users/alice") else None


async def start_hub(serve: StartServer, directory: Directory) -> TestServer:
    app = web.Application()
    handler = make_webfinger_handler(directory.resolve, resolve_url=directory.resolve_url)
    app.router.add_get("/.well-known/webfinger", handler)
    server = await serve(app)
    directory.domain = f"127.0.0.1:{server.port}"
    directory.base = f"http://{directory.domain}"
    return server


@pytest.fixture
async def hub(serve: StartServer) -> tuple[TestServer, Directory]:
    directory = Directory()
    return await start_hub(serve, directory), directory


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    async with SafeFetcher(allow_loopback=True, https_only=False) as safe:
        yield safe


async def test_handler_serves_jrd_with_cors(hub: tuple[TestServer, Directory]) -> None:
    server, directory = hub
    async with TestClient(server) as client:
        response = await client.get(
            "/.well-known/webfinger", params={"resource": f"acct:alice@{directory.domain}"}
        )
        assert response.status == 200
        assert response.content_type == "application/jrd+json"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        body = await response.json(content_type=None)
        assert body["subject"] == f"acct:alice@{directory.domain}"

        by_url = await client.get(
            "/.well-known/webfinger", params={"resource": f"{directory.base}/users/alice"}
        )
        assert by_url.status == 200
        assert (await by_url.json(content_type=None))["subject"] == body["subject"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"resource": ""}, 400),
        ({"resource": "acct:not a handle"}, 400),
        ({"resource": "acct:bob@{domain}"}, 404),
        ({"resource": "acct:alice@elsewhere.example"}, 404),
        ({"resource": "https://elsewhere.example/users/alice/nope"}, 404),
    ],
)
async def test_handler_errors_are_json(
    hub: tuple[TestServer, Directory], params: dict[str, str], status: int
) -> None:
    server, directory = hub
    params = {k: v.format(domain=directory.domain) for k, v in params.items()}
    async with TestClient(server) as client:
        response = await client.get("/.well-known/webfinger", params=params)
        assert response.status == status
        assert "error" in await response.json()


async def test_lookup_round_trip(hub: tuple[TestServer, Directory], fetcher: SafeFetcher) -> None:
    _, directory = hub
    actor = await lookup(fetcher, f"@Alice@{directory.domain}", scheme="http")
    assert actor == f"{directory.base}/users/alice"


async def test_lookup_accepts_the_ld_json_self_link(
    hub: tuple[TestServer, Directory], fetcher: SafeFetcher
) -> None:
    _, directory = hub
    href = f"{directory.base}/users/alice"
    directory.overrides = {"links": [{"rel": "self", "type": LD_JSON_AS, "href": href}]}
    assert await lookup(fetcher, f"alice@{directory.domain}", scheme="http") == href


@pytest.mark.parametrize(
    "overrides",
    [
        {"links": []},
        {"links": [{"rel": "self", "type": "text/html", "href": "http://x.example/a"}]},
        {"links": [{"rel": "self", "type": "application/activity+json", "href": "ftp://x/a"}]},
        {"links": [{"rel": "self", "type": "application/activity+json"}]},
        {"links": "nope"},
        {"subject": None},
        {"subject": "https://elsewhere.example/alice"},
        # Names another account whose host does not confirm it (nothing answers there)
        {"subject": "acct:mallory@{domain}"},
    ],
)
async def test_lookup_refuses_insane_answers(
    hub: tuple[TestServer, Directory], fetcher: SafeFetcher, overrides: dict[str, Any]
) -> None:
    _, directory = hub
    if isinstance(overrides.get("subject"), str):
        overrides = {"subject": overrides["subject"].format(domain=directory.domain)}
    directory.overrides = overrides
    with pytest.raises((ValidationError, RemoteNotFound)):
        await lookup(fetcher, f"alice@{directory.domain}", scheme="http")


async def test_lookup_of_unknown_account_is_not_found(
    hub: tuple[TestServer, Directory], fetcher: SafeFetcher
) -> None:
    _, directory = hub
    with pytest.raises(RemoteNotFound):
        await lookup(fetcher, f"bob@{directory.domain}", scheme="http")


async def test_lookup_follows_a_confirmed_canonical_account(
    serve: StartServer, fetcher: SafeFetcher
) -> None:
    # Given a web host that names its account domain as canonical, and that domain agrees
    canonical, web_host = Directory(), Directory()
    await start_hub(serve, canonical)
    await start_hub(serve, web_host)
    actor = f"{canonical.base}/users/alice"
    web_host.overrides = {
        "subject": f"acct:alice@{canonical.domain}",
        "links": [{"rel": "self", "type": "application/activity+json", "href": actor}],
    }
    # Then the lookup on the web host gives the canonical actor
    assert await lookup(fetcher, f"alice@{web_host.domain}", scheme="http") == actor

    # But if the canonical host points somewhere else, the claim is refused
    canonical.overrides = {
        "links": [{"rel": "self", "type": "application/activity+json", "href": actor + "x"}]
    }
    with pytest.raises(ValidationError):
        await lookup(fetcher, f"alice@{web_host.domain}", scheme="http")


async def test_lookup_goes_through_the_fetchers_address_guard() -> None:
    async with SafeFetcher(https_only=False) as strict:
        with pytest.raises(UnsafeURLError):
            await lookup(strict, "alice@127.0.0.1:9", scheme="http")
        with pytest.raises(ValidationError):
            await lookup(strict, "alice@", scheme="http")
