"""Raising an event's capacity moves the waitlist up at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hub.rsvp.service import Person, request_place
from hub.store import events as event_store
from hub.store import participants as participant_store
from tests.hub.events.factories import draft_input
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]


async def test_more_places_promote_the_waitlist_in_order(hubs: HubFactory) -> None:
    running = await hubs()
    status, body = await running.api("POST", "/api/v1/events", draft_input(
        start="2031-03-08T14:00", end="2031-03-08T16:00", capacity=1))
    assert status == 201, body
    event = await event_store.get_event(running.hub.db, body["id"])
    for name in ("Ann", "Bo", "Cy"):
        await request_place(running.hub, event, Person(name=name, email=f"{name}@example.org"),
                            "web")
    status, body = await running.api("PATCH", f"/api/v1/events/{event.uuid}", {"capacity": 2})
    assert status == 200, body
    rows = await participant_store.list_participants(running.hub.db, event.id)
    assert {p.name: p.state for p in rows} == {"Ann": "going", "Bo": "going",
                                               "Cy": "waitlisted"}
    promoted = await running.hub.db.fetchval(
        "SELECT count(*) FROM rsvp_notifications WHERE news = 'promoted'")
    assert promoted == 1
