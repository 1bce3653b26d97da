"""A cookie-keeping HTTP client for the volunteer's public pages, and a filled-in form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import MultiDict

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Page:
    status: int
    text: str
    headers: Any

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    def csrf(self) -> str:
        found = _CSRF.search(self.text)
        assert found, "the page has no csrf_token field"
        return found[1]


class Visitor:
    """A browser without JavaScript: cookies kept, redirects not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             headers={"Accept": "text/html"})

    async def request(self, method: str, path: str, **kw: Any) -> Page:
        url = path if path.startswith("http") else self.base + path
        async with self.session.request(method, url, allow_redirects=False, **kw) as response:
            return Page(response.status, await response.text(), response.headers)

    async def get(self, path: str, **kw: Any) -> Page:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, data: Any, **kw: Any) -> Page:
        return await self.request("POST", path, data=data, **kw)

    async def close(self) -> None:
        await self.session.close()


def signup_form(**changes: Any) -> MultiDict[str]:
    """A complete sign-up form as a browser sends it (repeated names for ticked boxes); a
    change of None leaves that field out."""
    fields: dict[str, Any] = {
        "name": "Asha Patel", "email": "asha.patel@example.org", "handle": "",
        "phone": "020 7946 0321", "district": "ig1", "latitude": "", "longitude": "",
        "skills": ["befriending", "gardening"], "interests": ["cooking"],
        "tags": "bike repair, Scrabble", "languages": ["en", "gu"], "other_languages": "it",
        "availability": ["sat:morning", "wed:evening"], "max_commitments": "2",
        "consent_match_here": "yes", "consent_contact_by_dm": "yes", **changes}
    form: MultiDict[str] = MultiDict()
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                form.add(name, item)
    return form
