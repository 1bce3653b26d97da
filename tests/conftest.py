"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hub.mailsink import MailSink
from hub.store.db import Database
from tests.support.hubs import RunningHub, start_hub
from tests.support.remote import RemoteServer


@pytest.fixture
async def hubs(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[RunningHub]]]:
    """A factory of real hubs on loopback; every hub it starts is stopped at the end."""
    started: list[RunningHub] = []

    async def make(name: str = "hub", **extra: Any) -> RunningHub:
        running = await start_hub(tmp_path / name, name=name, **extra)
        started.append(running)
        return running

    yield make
    for running in reversed(started):
        await running.stop()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated hub database in a real SQLite file, closed at the end."""
    database = await Database.open(tmp_path / "hub.db")
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
async def remote() -> AsyncIterator[RemoteServer]:
    """A fake remote fediverse server on loopback, stopped at the end."""
    server = RemoteServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def smtp() -> AsyncIterator[MailSink]:
    """A mail server on loopback that keeps what it is sent, stopped at the end."""
    server = MailSink()
    await server.start()
    yield server
    await server.stop()
