"""Fixtures shared by the exchange tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.smtp import FakeSmtp


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSmtp]:
    """A mail server on loopback that keeps what it is sent, stopped at the end."""
    server = FakeSmtp()
    await server.start()
    yield server
    await server.stop()
