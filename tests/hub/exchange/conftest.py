"""Fixtures shared by the exchange tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hub.mailsink import MailSink


@pytest.fixture
async def smtp() -> AsyncIterator[MailSink]:
    """A mail server on loopback that keeps what it is sent, stopped at the end."""
    server = MailSink()
    await server.start()
    yield server
    await server.stop()
