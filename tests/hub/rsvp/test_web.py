"""The web RSVP form, the private cancel link and the staff API, against a real hub."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from hub.store import participants as store
from tests.hub.rsvp.test_federation import new_event, participants, received
from tests.support.hubs import RunningHub
from tests.support.remote import RemoteServer

_CONFIRM_LINK = re.compile(r"http://[^\s<\"]+/rsvp/confirm/[A-Za-z0-9_-]+")

HubFactory = Callable[..., Awaitable[RunningHub]]
_TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe: keep cookies from an IP-address host (the hub is on 127.0.0.1).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def get(browser: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with browser.get(url, headers={"Accept": "text/html"}) as response:
        return response.status, await response.text()


async def submit(browser: aiohttp.ClientSession, url: str, data: dict[str, str],
                 **headers: str) -> tuple[int, str, str | None]:
    """POST a form without following redirects: (status, body, Location)."""
    async with browser.post(url, data=data, allow_redirects=False,
                            headers={"Accept": "text/html", **headers}) as response:
        return response.status, await response.text(), response.headers.get("Location")


async def form_token(browser: aiohttp.ClientSession, event: dict[str, Any]) -> str:
    status, page = await get(browser, f"{event['url']}/rsvp")
    assert status == 200, page
    match = _TOKEN_FIELD.search(page)
    assert match, page
    return match.group(1)


async def sign_up(browser: aiohttp.ClientSession, running: RunningHub, event: dict[str, Any],
                  name: str, contact: str) -> tuple[str, str]:
    """Sign up with the token; returns (the private link, its page)."""
    token = await form_token(browser, event)
    status, body, location = await submit(browser, f"{event['url']}/rsvp", {
        "name": name, "contact": contact, "csrf_token": token})
    assert status == 303 and location and location.startswith("/rsvp/"), body
    link = running.base_url + location.split("?")[0]
    status, page = await get(browser, running.base_url + location)
    assert status == 200, page
    return link, page


async def test_web_signup_waitlist_and_cancel_link(hubs: HubFactory,
                                                   browser: aiohttp.ClientSession) -> None:
    running = await hubs()
    event = await new_event(running, capacity=1)

    # The event page carries the form, which posts without a token (that page sets no
    # cookie): the hub stores nothing and shows the details back to confirm.
    status, page = await get(browser, event["url"])
    assert status == 200 and f'action="{event["url"]}/rsvp"' in page
    status, body, _ = await submit(browser, f"{event['url']}/rsvp", {
        "name": "Ann", "contact": "ann@example.org"})
    assert status == 200 and "Check your details" in body and _TOKEN_FIELD.search(body)
    assert (await participants(running, event))["items"] == []

    # Confirmed with the token: going, on a private page.
    ann_link, page = await sign_up(browser, running, event, "Ann", "ann@example.org")
    assert "Thank you, Ann" in page and "You&#39;re going." in page
    # The next one is waitlisted, and the page says where.
    ben_link, page = await sign_up(browser, running, event, "Ben", "ben@example.org")
    assert "waitlist" in page and "number 1" in page
    # The same address again changes nothing and gives no link.
    token = await form_token(browser, event)
    status, body, location = await submit(browser, f"{event['url']}/rsvp", {
        "name": "Someone", "contact": "ANN@example.org", "csrf_token": token})
    assert (status, location) == (200, None) and "already signed up" in body

    # Cancelling from the private link frees the place, and Ben is promoted.
    status, _, location = await submit(browser, ann_link, {})
    assert status == 303
    status, page = await get(browser, ann_link)
    assert "not going" in page and "Cancel my place" not in page
    listed = await participants(running, event)
    assert [(p["email"], p["state"]) for p in listed["items"]] == [
        ("ben@example.org", "going"), ("ann@example.org", "not_going")]
    ben = await store.get_participant(running.hub.db, listed["items"][0]["id"])
    assert ben is not None
    news = await store.list_notifications(running.hub.db, ben.id)
    assert [(n["news"], n["channel"], n["sent_at"]) for n in news] == [
        ("waitlisted", "email", None), ("promoted", "email", None)]
    assert news[0]["detail"] == ben_link

    # Email addresses are never public.
    async with browser.get(event["url"], headers={
            "Accept": "application/activity+json"}) as response:
        public = await response.text()
    status, page = await get(browser, event["url"])
    assert "ann@" not in public + page and "ben@" not in public + page
    assert '"participantCount":1' in public


async def test_bad_input_foreign_origin_and_unknown_links(
        hubs: HubFactory, browser: aiohttp.ClientSession) -> None:
    running = await hubs()
    event = await new_event(running, capacity=3)
    token = await form_token(browser, event)
    url = f"{event['url']}/rsvp"
    status, body, _ = await submit(browser, url, {"name": "Cy", "contact": "not an address",
                                                  "csrf_token": token})
    assert status == 400 and 'aria-invalid="true"' in body and "There is a problem" in body
    status, body, _ = await submit(browser, url, {"name": "", "contact": "cy@example.org",
                                                  "csrf_token": token})
    assert status == 400 and "Enter your name" in body
    # A valid token sent from another site does not count: confirm first.
    status, body, _ = await submit(browser, url, {"name": "Cy", "contact": "cy@example.org",
                                                  "csrf_token": token},
                                   Origin="https://evil.example")
    assert status == 200 and "Check your details" in body
    assert (await participants(running, event))["items"] == []
    status, page = await get(browser, f"{running.base_url}/rsvp/{'x' * 43}")
    assert status == 404 and "Link not found" in page


async def test_web_signup_with_a_fediverse_account_is_confirmed_by_dm(
        hubs: HubFactory, remote: RemoteServer, browser: aiohttp.ClientSession) -> None:
    running = await hubs()
    event = await new_event(running, capacity=2)
    dee = remote.actor("dee")
    # Anyone can type Dee's handle: the form books nothing, it sends Dee a link.
    token = await form_token(browser, event)
    status, body, location = await submit(browser, f"{event['url']}/rsvp", {
        "name": "Dee", "contact": dee.id, "csrf_token": token})
    assert (status, location) == (200, None) and "Check your inbox" in body
    assert "direct messages" in body
    assert (await participants(running, event))["items"] == []
    ask = await received(remote, lambda a: a["type"] == "Create"
                         and a["object"].get("to") == [dee.id], "Dee's confirmation link")
    confirm = _CONFIRM_LINK.search(ask["object"]["content"])
    assert confirm, ask["object"]["content"]
    # Opening the link (as a mail scanner would) changes nothing; its button books the place.
    status, page = await get(browser, confirm[0])
    assert status == 200 and "Confirm my place" in page and "Dee" in page
    assert (await participants(running, event))["items"] == []
    status, _, location = await submit(browser, confirm[0], {})
    assert status == 303 and location and location.startswith("/rsvp/")
    link = running.base_url + location.split("?")[0]
    status, page = await get(browser, running.base_url + location)
    assert status == 200 and "You&#39;re going." in page
    dm = await received(remote, lambda a: a["type"] == "Create" and link
                        in a["object"].get("content", ""), "Dee's private link")
    assert dm["object"]["to"] == [dee.id]
    listed = await participants(running, event)
    assert [(p["actor"], p["handle"], p["email"], p["via"]) for p in listed["items"]] == [
        (dee.id, f"@dee@{remote.base_url[7:]}", None, "web")]
    # A link confirms once.
    status, _, _ = await submit(browser, confirm[0], {})
    assert status == 404


async def test_the_form_is_rate_limited(hubs: HubFactory,
                                        browser: aiohttp.ClientSession) -> None:
    running = await hubs()
    event = await new_event(running)
    statuses = [(await submit(browser, f"{event['url']}/rsvp", {"name": "", "contact": ""}))[0]
                for _ in range(12)]
    assert statuses[:10] == [400] * 10 and statuses[10:] == [429, 429]


async def test_staff_api_lists_and_adds_participants(hubs: HubFactory) -> None:
    running = await hubs()
    event = await new_event(running, capacity=1)
    base = f"/api/v1/events/{event['id']}/participants"
    status, body = await running.api("POST", base, {"name": "Eve", "contact": "eve@x.example"})
    assert (status, body["state"]) == (201, "going")
    status, body = await running.api("POST", base, {"name": "Fay", "contact": "fay@x.example"})
    assert (status, body["state"], body["position"]) == (201, "waitlisted", 1)
    status, body = await running.api("POST", base, {"name": "Gil", "contact": "nope"})
    assert (status, body["field"]) == (400, "contact")
    status, body = await running.api("GET", f"{base}?state=waitlisted")
    assert [(p["name"], p["email"], p["position"]) for p in body["items"]] == [
        ("Fay", "fay@x.example", 1)]
    assert body["counts"]["going"] == 1 and body["counts"]["waitlisted"] == 1
    status, _ = await running.api("GET", f"{base}?state=everyone")
    assert status == 400
    status, spec = await running.api("GET", "/api/openapi.json")
    assert {f"/api/v1/events/{{uuid}}/{p}" for p in ("participants", "poll")} <= set(
        spec["paths"])
