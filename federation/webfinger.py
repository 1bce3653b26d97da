"""WebFinger (RFC 7033): `acct:user@host` handles to ActivityPub actors, both ways.

Hosts are normalised once, here (lower case, IDNA, no trailing dot), so two spellings of
one domain never compare unequal, nor two domains equal (CVE-2023-42451).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import idna
from aiohttp import web
from yarl import URL

from federation.errors import ValidationError
from federation.fetch import AP_MEDIA_TYPE, AP_MEDIA_TYPES, SafeFetcher, media_type_matches
from federation.netguard import parse_ip

JRD_MEDIA_TYPE = "application/jrd+json"
JRD_MEDIA_TYPES = (JRD_MEDIA_TYPE, "application/json")
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
WEBFINGER_PATH = "/.well-known/webfinger"

Resolve = Callable[[str, str], Awaitable[dict[str, Any] | None]]
"""(username, domain) -> the JRD document, or None if there is no such account here."""
ResolveURL = Callable[[str], Awaitable[dict[str, Any] | None]]
"""(actor or profile URL) -> the JRD document, or None."""

# RFC 3986 unreserved characters: what fediverse usernames use, and nothing that could
# change how the handle or the lookup URL parses.
_USERNAME = re.compile(r"^[A-Za-z0-9._~-]{1,255}$")
_BRACKETED = re.compile(r"^\[(?P<ip>[0-9A-Fa-f:.]+)\](?::(?P<port>[0-9]{1,5}))?$")
_CORS = {"Access-Control-Allow-Origin": "*"}


def parse_handle(handle: str) -> tuple[str, str]:
    """Split `@user@host`, `user@host` or `acct:user@host` into (user, normalised host).

    The host keeps its port if it has one (`host:8443`). Raises `ValidationError` otherwise.
    """
    text = handle.strip()
    if text[:5].lower() == "acct:":
        text = text[5:]
    elif text.startswith("@"):
        text = text[1:]
    username, at, host = text.partition("@")
    if not at or not _USERNAME.match(username):
        raise ValidationError(f"not a user@host handle: {handle!r}")
    return username, normalise_host(host)


def normalise_host(host: str) -> str:
    """Lower-case, IDNA-encode and strip a trailing dot from `host[:port]`."""
    bracketed = _BRACKETED.match(host)
    if bracketed:
        ip = parse_ip(bracketed["ip"])
        if ip is None or ip.version != 6:
            raise ValidationError(f"bad IPv6 host {host!r}")
        return f"[{ip}]" + _port_suffix(bracketed["port"], host)
    name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    name = name.removesuffix(".")  # the root label: "example.com." is "example.com"
    if not name or name.endswith("."):
        raise ValidationError(f"bad host {host!r}")
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValidationError(f"bad host {host!r}") from exc
    return ascii_name + (_port_suffix(port, host) if colon else "")


def webfinger_document(
    username: str,
    domain: str,
    actor_url: str,
    profile_url: str | None = None,
    aliases: Iterable[str] = (),
) -> dict[str, Any]:
    """The JRD for `acct:username@domain`: a `self` link to the actor, and the HTML profile."""
    links: list[dict[str, str]] = [{"rel": "self", "type": AP_MEDIA_TYPE, "href": actor_url}]
    if profile_url:
        links.append({"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_url})
    own = [profile_url] if profile_url else []
    return {
        "subject": f"acct:{username}@{domain}",
        "aliases": list(dict.fromkeys([*own, actor_url, *aliases])),
        "links": links,
    }


def make_webfinger_handler(
    resolve: Resolve, *, resolve_url: ResolveURL | None = None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler for `GET /.well-known/webfinger?resource=...`.

    `acct:` resources go to `resolve(username, domain)`; an `http(s)` resource (the actor or
    profile URL itself) goes to `resolve_url`, and is not found if none is given.
    """

    async def webfinger(request: web.Request) -> web.Response:
        resource = request.query.get("resource", "").strip()
        if not resource:
            return _error(400, "missing resource parameter")
        if resource.startswith(("https://", "http://")):
            document = await resolve_url(resource) if resolve_url else None
        else:
            try:
                username, domain = parse_handle(resource)
            except ValidationError as exc:
                return _error(400, exc.message)
            document = await resolve(username, domain)
        if document is None:
            return _error(404, "no such resource")
        return web.json_response(document, content_type=JRD_MEDIA_TYPE, headers=_CORS)

    return webfinger


async def lookup(fetcher: SafeFetcher, handle: str, *, scheme: str = "https") -> str:
    """The actor URL that `handle` names, as its own server says.

    If the server answers with another canonical account (split-domain set-ups, where
    `alice@social.example` is really `alice@example`), that account's host must confirm
    the same actor before it is believed.
    """
    username, host = parse_handle(handle)
    document = await _get_jrd(fetcher, scheme, username, host)
    actor = _self_href(document)
    subject = _subject(document)
    if _same_account(subject, (username, host)):
        return actor
    canonical = await _get_jrd(fetcher, scheme, *subject)
    if _self_href(canonical) != actor or not _same_account(_subject(canonical), subject):
        raise ValidationError(f"{host} names {subject} for {handle}, which does not confirm it")
    return actor


async def _get_jrd(fetcher: SafeFetcher, scheme: str, username: str, host: str) -> dict[str, Any]:
    url = URL.build(
        scheme=scheme,
        authority=host,
        path=WEBFINGER_PATH,
        query={"resource": f"acct:{username}@{host}"},
    )
    fetched = await fetcher.get_json(
        str(url), accept=", ".join(JRD_MEDIA_TYPES), media_types=JRD_MEDIA_TYPES, signed=False
    )
    return fetched.data


def _self_href(document: dict[str, Any]) -> str:
    links = document.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        href = link.get("href")
        if media_type_matches(link.get("type"), AP_MEDIA_TYPES) and _is_http_url(href):
            return str(href)
    raise ValidationError("WebFinger answer has no ActivityPub self link")


def _subject(document: dict[str, Any]) -> tuple[str, str]:
    subject = document.get("subject")
    if not isinstance(subject, str) or not subject.lower().startswith("acct:"):
        raise ValidationError(f"WebFinger subject {subject!r} is not an acct: URI")
    return parse_handle(subject)


def _same_account(a: tuple[str, str], b: tuple[str, str]) -> bool:
    # Usernames are case-insensitive on every major server; hosts are already normalised.
    return a[0].casefold() == b[0].casefold() and a[1] == b[1]


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        url = URL(value)
    except ValueError:
        return False
    return url.absolute and url.scheme in ("http", "https") and bool(url.raw_host)


def _port_suffix(port: str | None, host: str) -> str:
    if port is None:
        return ""
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValidationError(f"bad port in host {host!r}")
    return f":{int(port)}"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=_CORS)
