"""The one way `federation` GETs remote documents: strict on address, media type, size and time.

Each hop of a redirect chain is checked again before it is requested, IP-literal hosts are
judged by `federation.netguard` directly, and names are resolved through `GuardedResolver`,
which hands the connector only addresses that pass, so a DNS answer that changes between a
check and the connection (rebinding) cannot reach an internal address.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
import orjson
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from federation.errors import (
    BlockedDomain,
    FetchError,
    PayloadTooLarge,
    RemoteNotFound,
    Unreachable,
    UnsafeURLError,
    UnsupportedMediaType,
    ValidationError,
)
from federation.netguard import check_address, parse_ip
from federation.policy import authority_of

AP_MEDIA_TYPE = "application/activity+json"
AS_PROFILE = "https://www.w3.org/ns/activitystreams"
LD_JSON_AS = f'application/ld+json; profile="{AS_PROFILE}"'
AP_ACCEPT = f"{AP_MEDIA_TYPE}, {LD_JSON_AS}"
AP_MEDIA_TYPES: tuple[str, ...] = (AP_MEDIA_TYPE, LD_JSON_AS)

Signer = Callable[[str, str, Mapping[str, str]], Mapping[str, str]]
"""Takes (method, url, headers) and returns the headers to send, signature included."""

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# Hosts such as "2130706433" or "0x7f.1" that getaddrinfo would read as an IPv4 address.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]*))*\.?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched JSON document; `url` is the final URL after redirects."""

    url: str
    data: dict[str, Any]
    headers: Mapping[str, str]


class GuardedResolver(AbstractResolver):
    """A resolver that drops every address `check_address` refuses.

    The connector connects only to what this returns, so the check and the connection use
    the same addresses.
    """

    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        allow_private: bool = False,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self._inner = resolver if resolver is not None else DefaultResolver()
        self._allow_loopback = allow_loopback
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family=family)
        allowed = [r for r in results if self._permits(r["host"])]
        if not allowed:
            raise UnsafeURLError(f"{host} resolves to no public address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()

    def _permits(self, address: str) -> bool:
        ip = parse_ip(address)
        if ip is None:
            return False
        try:
            check_address(
                ip, allow_loopback=self._allow_loopback, allow_private=self._allow_private
            )
        except UnsafeURLError:
            return False
        return True


def make_guarded_session(
    *, allow_loopback: bool = False, allow_private: bool = False, limit: int = 100,
    limit_per_host: int = 0,
) -> aiohttp.ClientSession:
    """A client session whose connector resolves names through `GuardedResolver`.

    Pass this (not a bare `ClientSession`) when sharing a session with `SafeFetcher`.
    Cookies are not kept: a fetch must not carry one server's state to the next request.
    """
    resolver = GuardedResolver(allow_loopback=allow_loopback, allow_private=allow_private)
    # Kept-alive connections: deliveries reuse them across a fan-out (`limit` bounds them).
    connector = aiohttp.TCPConnector(resolver=resolver, limit=limit,
                                     limit_per_host=limit_per_host, keepalive_timeout=60)
    return aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
        middlewares=(_guard_ip_literals(allow_loopback, allow_private),),
    )


def _guard_ip_literals(allow_loopback: bool, allow_private: bool) -> Any:
    """A client middleware judging IP-literal hosts, which aiohttp's connector connects to
    without asking the resolver: without it `https://169.254.169.254/` in an inbox URL
    would be POSTed to."""

    async def guard(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
        ip = parse_ip(request.url.raw_host or "")
        if ip is not None:
            check_address(ip, allow_loopback=allow_loopback, allow_private=allow_private)
        return await handler(request)

    return guard


class SafeFetcher:
    """Every outgoing GET: SSRF-guarded, signed when asked, bounded in size and time.

    `is_blocked(authority)` (see `federation.policy`) is asked before each hop, redirects
    included: a blocked domain gets no request at all.

    Without a `session`, one is made on first use by `make_guarded_session` and closed by
    `close()`. A session passed in is the caller's to close, and must guard DNS itself
    (build it with `make_guarded_session`): only IP-literal hosts are checked here.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        signer: Signer | None = None,
        allow_loopback: bool = False,
        allow_private: bool = False,
        https_only: bool = True,
        max_bytes: int = 1_000_000,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_redirects: int = 3,
        user_agent: str = "commonhub",
        is_blocked: Callable[[str], bool] | None = None,
    ) -> None:
        self._session = session
        self._is_blocked = is_blocked
        self._owns_session = session is None
        self._signer = signer
        self._allow_loopback = allow_loopback
        self._allow_private = allow_private
        self._schemes = frozenset({"https"} if https_only else {"http", "https"})
        self._max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(
            total=total_timeout, sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._total_timeout = total_timeout
        self._max_redirects = max_redirects
        self._user_agent = user_agent

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def get_json(
        self,
        url: str,
        *,
        accept: str = AP_ACCEPT,
        media_types: Collection[str] = AP_MEDIA_TYPES,
        signed: bool = True,
    ) -> Fetched:
        """GET a JSON object, following up to `max_redirects` redirects, each re-checked."""
        start = _parse_url(url)
        try:
            async with asyncio.timeout(self._total_timeout):
                return await self._follow(start, accept, media_types, signed)
        except TimeoutError as exc:
            raise Unreachable(f"timed out fetching {url}") from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            # Refused, reset, DNS, TLS, or the body cut off: worth trying again later.
            raise Unreachable(f"could not fetch {url}: {exc!r}") from exc
        except aiohttp.ClientError as exc:  # an invalid URL, too many redirects...
            raise FetchError(f"could not fetch {url}: {exc!r}") from exc

    async def get_object(self, url: str, **kwargs: Any) -> Fetched:
        """`get_json`, and the document's `id` must be on the origin it was served from.

        A server may only speak for its own objects (CVE-2024-23832): an `id` on another
        origin than the final URL is refused, whatever the document claims.
        """
        fetched = await self.get_json(url, **kwargs)
        object_id = fetched.data.get("id")
        if not isinstance(object_id, str) or not same_origin(object_id, fetched.url):
            raise ValidationError(f"object id {object_id!r} is not on the origin of {fetched.url}")
        return fetched

    def check_url(self, url: URL) -> None:
        """Raise `UnsafeURLError` if `url` may not be fetched (scheme, credentials, address)."""
        if url.scheme not in self._schemes:
            raise UnsafeURLError(f"refusing scheme {url.scheme!r} in {url}")
        host = url.raw_host
        if not url.absolute or not host:
            raise UnsafeURLError(f"not an absolute URL: {url}")
        if url.raw_user or url.raw_password:
            raise UnsafeURLError("refusing credentials in a URL")
        if self._is_blocked is not None:
            authority = authority_of(str(url))
            if self._is_blocked(authority):
                raise BlockedDomain(f"{authority} is blocked on this hub")
        ip = parse_ip(host)
        if ip is not None:
            check_address(
                ip, allow_loopback=self._allow_loopback, allow_private=self._allow_private
            )
        elif _NUMERIC_HOST.match(host):
            raise UnsafeURLError(f"refusing non-canonical numeric host {host!r}")

    async def _follow(
        self, url: URL, accept: str, media_types: Collection[str], signed: bool
    ) -> Fetched:
        for _hop in range(self._max_redirects + 1):
            self.check_url(url)
            async with self._request(url, accept, signed) as response:
                if response.status not in _REDIRECTS:
                    return await self._read(url, response, media_types)
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"redirect without Location from {url}")
                url = url.join(_parse_url(location))
        raise FetchError(f"more than {self._max_redirects} redirects fetching {url}")

    def _request(self, url: URL, accept: str, signed: bool) -> Any:
        headers: Mapping[str, str] = {"Accept": accept, "User-Agent": self._user_agent}
        if signed and self._signer is not None:
            headers = self._signer("GET", str(url), headers)
        return self._client().get(
            url, headers=dict(headers), allow_redirects=False, timeout=self._timeout
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = make_guarded_session(
                allow_loopback=self._allow_loopback, allow_private=self._allow_private
            )
        return self._session

    async def _read(
        self, url: URL, response: aiohttp.ClientResponse, media_types: Collection[str]
    ) -> Fetched:
        if response.status in (404, 410):
            raise RemoteNotFound(f"{url} answered {response.status}", gone=response.status == 410)
        if response.status == 429 or response.status >= 500:
            raise Unreachable(f"{url} answered {response.status}")
        if response.status not in (200, 203):  # 204, 206 and friends carry no whole document
            raise FetchError(f"{url} answered {response.status}")
        content_type = response.headers.get("Content-Type")
        if not media_type_matches(content_type, media_types):
            raise UnsupportedMediaType(f"{url} served {content_type!r}")
        body = await self._read_body(url, response)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ValidationError(f"{url} did not serve valid JSON") from exc
        if not isinstance(data, dict):
            raise ValidationError(f"{url} served JSON that is not an object")
        return Fetched(url=str(url), data=data, headers=response.headers)

    async def _read_body(self, url: URL, response: aiohttp.ClientResponse) -> bytes:
        # Content-Length is a claim, so the streamed (decompressed) size is counted too.
        if response.content_length is not None and response.content_length > self._max_bytes:
            raise PayloadTooLarge(f"{url} announces {response.content_length} bytes")
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > self._max_bytes:
                raise PayloadTooLarge(f"{url} sent more than {self._max_bytes} bytes")
        return bytes(body)


def _parse_url(url: str) -> URL:
    try:
        return URL(url)
    except (TypeError, ValueError) as exc:
        raise UnsafeURLError(f"malformed URL {url!r}") from exc


def parse_media_type(value: str) -> tuple[str, dict[str, str]] | None:
    """Split a media type into its lower-cased essence and parameters; None if malformed."""
    match = _MEDIA_TYPE.match(value)
    if match is None or _WHOLE.fullmatch(value) is None:
        return None
    essence = f"{match['type']}/{match['subtype']}".lower()
    params: dict[str, str] = {}
    for param in _PARAM.finditer(value, match.end()):
        raw = param["value"]
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[param["name"].lower()] = raw
    return essence, params


def media_type_matches(content_type: str | None, allowed: Collection[str]) -> bool:
    """True if `content_type` is one of `allowed`.

    An allowed entry's parameters must be present in `content_type`; `profile` is a
    space-separated list (JSON-LD), so it must contain the required profile rather than
    equal it. Substring tricks such as `text/html; x=application/activity+json` fail.
    """
    parsed = parse_media_type(content_type or "")
    if parsed is None:
        return False
    essence, params = parsed
    for entry in allowed:
        wanted = parse_media_type(entry)
        if wanted is not None and wanted[0] == essence and _params_match(wanted[1], params):
            return True
    return False


def same_origin(a: str, b: str) -> bool:
    """True if two absolute URLs share scheme, host and port (default ports filled in)."""
    try:
        url_a, url_b = URL(a), URL(b)
    except (TypeError, ValueError):
        return False
    if not (url_a.absolute and url_b.absolute):
        return False
    return (url_a.scheme, url_a.host, url_a.port) == (url_b.scheme, url_b.host, url_b.port)


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# Unquoted values are looser than RFC 9110 tokens because servers (aiohttp among them) send
# profile URLs unquoted; ";", whitespace and quotes still end a value, so a parameter can
# never swallow its neighbour.
_VALUE = r'[^\s";]+|"(?:[^"\\]|\\.)*"'
_MEDIA_TYPE = re.compile(rf"\s*(?P<type>{_TOKEN})/(?P<subtype>{_TOKEN})\s*")
_PARAM = re.compile(rf";\s*(?P<name>{_TOKEN})=(?P<value>{_VALUE})\s*")
_WHOLE = re.compile(rf"\s*{_TOKEN}/{_TOKEN}\s*(;\s*{_TOKEN}=({_VALUE})\s*)*;?\s*")


def _params_match(wanted: Mapping[str, str], got: Mapping[str, str]) -> bool:
    for name, value in wanted.items():
        if name == "profile":
            if value not in got.get("profile", "").split():
                return False
        elif got.get(name) != value:
            return False
    return True
