"""Someone signs up for an event in a real browser, then cancels from their private page: the
forms' posts carry the hub's own Origin, so the CSRF and origin checks let them through."""

from __future__ import annotations

from typing import Any

from tests.hub.rsvp.test_federation import new_event, participants
from tests.support.hubs import RunningHub


async def test_sign_up_for_an_event_and_cancel_in_a_browser(hubs: Any, chromium: Any) -> None:
    running: RunningHub = await hubs("redbridge")
    event = await new_event(running, capacity=5)
    page = await chromium.new_page()
    await page.goto(event["url"] + "/rsvp")
    await page.get_by_label("Your name").fill("Ann")
    await page.get_by_label("Email address or fediverse handle").fill("ann@example.org")
    await page.get_by_role("button", name="Count me in").click()
    await page.get_by_role("button", name="Cancel my place").click()
    await page.wait_for_load_state()
    assert "not going" in (await page.get_by_role("status").inner_text()).lower()
    [ann] = (await participants(running, event))["items"]
    assert (ann["name"], ann["state"]) == ("Ann", "not_going")
