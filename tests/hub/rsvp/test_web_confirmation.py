"""Web RSVPs by email, on a hub that sends email: nothing is booked until the link is used."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from hub.mailsink import MailSink
from tests.hub.rsvp.test_federation import new_event, participants
from tests.hub.rsvp.test_web import form_token, get, submit
from tests.support.hubs import RunningHub, start_hub

_LINK = re.compile(r"http://\S+/rsvp/confirm/[A-Za-z0-9_-]+")


@pytest.fixture
async def mailing_hub(tmp_path: Path) -> AsyncIterator[tuple[RunningHub, MailSink]]:
    smtp = MailSink()
    await smtp.start()
    running = await start_hub(tmp_path / "hub", name="hub", smtp_host="127.0.0.1",
                              smtp_port=smtp.port, smtp_security="none")
    yield running, smtp
    await running.stop()
    await smtp.stop()


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def test_someone_elses_address_books_nothing_until_its_owner_confirms(
        mailing_hub: tuple[RunningHub, MailSink], browser: aiohttp.ClientSession) -> None:
    running, smtp = mailing_hub
    event = await new_event(running, capacity=1)
    # Given someone who types Ann's address into the form
    token = await form_token(browser, event)
    status, body, location = await submit(browser, f"{event['url']}/rsvp", {
        "name": "Ann", "contact": "ann@example.org", "csrf_token": token})
    # Then no place is taken, and the browser gets no link to one
    assert (status, location) == (200, None) and "Check your inbox" in body
    assert "/rsvp/" not in body.replace(f"{event['url']}", "")
    assert (await participants(running, event))["items"] == []
    # Only Ann's mailbox gets the link
    [message] = smtp.messages
    assert message["To"] == "ann@example.org"
    text = message.get_payload(decode=True).decode()
    link = _LINK.search(text)
    assert link and "Ann" in text

    # When the link is opened, nothing changes until its button is pressed
    status, page = await get(browser, link[0])
    assert status == 200 and "Confirm my place" in page
    # (a form on another site cannot press it)
    status, _, _ = await submit(browser, link[0], {}, Origin="https://evil.example")
    assert status == 403 and (await participants(running, event))["items"] == []
    status, _, location = await submit(browser, link[0], {})
    assert status == 303 and location and location.startswith("/rsvp/")
    listed = await participants(running, event)
    assert [(p["email"], p["state"], p["via"]) for p in listed["items"]] == [
        ("ann@example.org", "going", "web")]
    # Then Ann's private link goes to her by email too, and the confirmation link is used up
    assert len(smtp.messages) >= 1
    status, page = await get(browser, link[0])
    assert status == 404 and "already used or expired" in page


async def test_an_expired_link_books_nothing(
        mailing_hub: tuple[RunningHub, MailSink], browser: aiohttp.ClientSession) -> None:
    running, smtp = mailing_hub
    event = await new_event(running, capacity=3)
    token = await form_token(browser, event)
    await submit(browser, f"{event['url']}/rsvp", {
        "name": "Bo", "contact": "bo@example.org", "csrf_token": token})
    link = _LINK.search(smtp.messages[0].get_payload(decode=True).decode())
    assert link
    await running.hub.db.execute("UPDATE rsvp_confirmations SET expires_at = 0")
    status, _, _ = await submit(browser, link[0], {})
    assert status == 404
    assert (await participants(running, event))["items"] == []
