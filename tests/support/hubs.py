"""Real hubs for tests: each initialised in a temporary folder and served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from hub.app import create_app
from hub.runtime import Hub
from hub.settings import Settings
from hub.setup import init_hub
from hub.store import tokens
from hub.web.keys import HUB


@dataclass
class RunningHub:
    settings: Settings
    app: web.Application
    runner: web.AppRunner
    token: str

    @property
    def hub(self) -> Hub:
        return self.app[HUB]

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def actor_url(self) -> str:
        return self.hub.urls.actor

    async def api(self, method: str, path: str, json: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with aiohttp.ClientSession() as session, session.request(
                method, self.base_url + path, json=json, headers=headers) as response:
            return response.status, await response.json(content_type=None)

    async def stop(self) -> None:
        await self.runner.cleanup()


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def start_hub(home: Path, *, name: str = "hub", settings: Settings | None = None,
                    sock: socket.socket | None = None,
                    prepare: Callable[[Settings], Awaitable[None]] | None = None,
                    **extra: Any) -> RunningHub:
    """Initialise (unless `settings` is given) and serve a hub on a free loopback port, or on
    `sock` (bound with `free_socket()`, for settings made beforehand with its port).

    `prepare(settings)` runs after the hub is initialised and before it starts serving (to
    put something in its database first, say)."""
    sock = sock or free_socket()
    port = sock.getsockname()[1]
    if settings is None:
        settings = await init_hub(home, domain=f"127.0.0.1:{port}", name=name, dev=True,
                                  display_name=f"{name.title()} hub", **extra)
    if prepare is not None:
        await prepare(settings)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    token = secrets.token_urlsafe(16)
    await tokens.add_token(app[HUB].db, token, "tests")
    return RunningHub(settings, app, runner, token)


async def ready(value: Any) -> Any:
    """`value`, awaitable: for `wait_until` on something already in hand (a list filling up)."""
    return value


async def wait_until(check: Callable[[], Awaitable[Any]], *, within: float = 10.0,
                     interval: float = 0.05, what: str = "condition") -> Any:
    """Poll an async check until it returns something truthy; fail clearly on timeout."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(interval)
