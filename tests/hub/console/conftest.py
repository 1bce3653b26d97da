"""A browser-like client for the staff console, and hubs with staff accounts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from hub.store import staff as staff_store
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Page:
    status: int
    text: str
    headers: Any  # the response's headers (a CIMultiDictProxy)

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    def csrf(self) -> str:
        found = _CSRF.search(self.text)
        assert found, "the page has no csrf_token field"
        return found[1]


class Browser:
    """Real HTTP with a cookie jar, redirects not followed, as a browser without JS."""

    def __init__(self, running: RunningHub) -> None:
        self.running = running
        self.base = running.base_url
        # unsafe=True: the jar refuses cookies for IP-address hosts otherwise.
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             headers={"Accept": "text/html"})

    async def request(self, method: str, path: str, **kw: Any) -> Page:
        async with self.session.request(method, self.base + path, allow_redirects=False,
                                        **kw) as response:
            return Page(response.status, await response.text(), response.headers)

    async def get(self, path: str, **kw: Any) -> Page:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, data: dict[str, str], **kw: Any) -> Page:
        return await self.request("POST", path, data=data, **kw)

    async def login(self, username: str, password: str = PASSWORD,
                    next_path: str | None = None) -> Page:
        form = await self.get("/console/login")
        data = {"csrf_token": form.csrf(), "username": username, "password": password}
        if next_path is not None:
            data["next"] = next_path
        return await self.post("/console/login", data)

    async def submit(self, path: str, data: dict[str, str], **kw: Any) -> Page:
        """POST a console form with the CSRF token from the console home, as a browser would."""
        home = await self.get("/console/")
        assert home.status == 200, home.status
        return await self.post(path, {"csrf_token": home.csrf(), **data}, **kw)

    def cookie(self, name: str) -> str | None:
        for cookie in self.session.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return None

    async def close(self) -> None:
        await self.session.close()


@pytest.fixture
async def browsers() -> AsyncIterator[Callable[[RunningHub], Browser]]:
    opened: list[Browser] = []

    def make(running: RunningHub) -> Browser:
        browser = Browser(running)
        opened.append(browser)
        return browser

    yield make
    for browser in opened:
        await browser.close()


@pytest.fixture
async def staffed(hubs: HubFactory) -> RunningHub:
    """A hub with a coordinator `alice` and a helper `bob`, both with PASSWORD."""
    running = await hubs("hub")
    await staff_store.add_staff(running.hub.db, "alice", PASSWORD, "coordinator")
    await staff_store.add_staff(running.hub.db, "bob", PASSWORD, "helper")
    return running


@pytest.fixture
async def alice(staffed: RunningHub, browsers: Callable[[RunningHub], Browser]) -> Browser:
    """A browser logged in to `staffed` as the coordinator alice."""
    browser = browsers(staffed)
    page = await browser.login("alice")
    assert page.status == 303 and page.location == "/console/", page.text
    return browser
