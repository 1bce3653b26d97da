"""A hub opened in-process (no HTTP) for the RSVP engine's tests, and events to answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hub.events import service as events
from hub.events.model import parse_draft
from hub.runtime import Hub, open_hub
from hub.setup import init_hub
from hub.store.events import Event
from tests.hub.events.factories import draft_input

EventFactory = Callable[..., Awaitable[Event]]


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    settings = await init_hub(tmp_path / "hub", domain="127.0.0.1:9", name="hub", dev=True)
    async with open_hub(settings) as opened:
        yield opened


@pytest.fixture
def make_event(hub: Hub) -> EventFactory:
    """An event in 2030 (so it has not started), with the given fields."""
    async def make(**fields: Any) -> Event:
        data = draft_input(**{"start": "2030-12-07T14:00", "end": "2030-12-07T16:00", **fields})
        return await events.create_event(hub, parse_draft(data))
    return make
