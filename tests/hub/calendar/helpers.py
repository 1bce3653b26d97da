"""Making events through the API and fetching the calendar's pages and feeds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from typing import Any

import aiohttp

from tests.hub.events.factories import draft_input
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]


async def create(hub: RunningHub, **fields: Any) -> dict[str, Any]:
    """An event (or series) made through `POST /api/v1/events`, as the API answers."""
    body = draft_input(**{"start": "2030-12-07T14:00", "end": "2030-12-07T16:00", **fields})
    status, event = await hub.api("POST", "/api/v1/events", body)
    assert status == 201, event
    return event


async def fetch(url: str, accept: str = "*/*") -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session, session.get(
            url, headers={"Accept": accept}) as response:
        return response.status, dict(response.headers), await response.read()


async def page(url: str) -> tuple[int, dict[str, str], str]:
    status, headers, body = await fetch(url, "text/html")
    return status, headers, body.decode()


class _Head(HTMLParser):
    """Collects `<meta>` tags, `<link rel=alternate>` and JSON-LD scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.alternates: dict[str, str] = {}
        self.scripts: list[str] = []
        self._in_jsonld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        elif tag == "link" and a.get("rel") == "alternate":
            self.alternates[a["type"]] = a["href"]
        elif tag == "script":
            self._in_jsonld = a.get("type") == "application/ld+json"
            if self._in_jsonld:
                self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_jsonld = False

    def handle_data(self, data: str) -> None:
        if self._in_jsonld:
            self.scripts[-1] += data


def head_of(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    parser.close()
    return parser
