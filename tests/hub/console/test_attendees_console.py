"""Who is coming, as staff see it: the waitlist in order, requests to approve, contact
details for coordinators only, and a CSV export that no spreadsheet runs as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from hub.events import service
from hub.events.model import parse_draft
from hub.rsvp.service import Person, request_place, say_maybe
from hub.store import audit
from hub.store import participants as participant_store
from hub.store.events import Event
from tests.hub.console.conftest import Browser
from tests.support.hubs import RunningHub

Browsers = Callable[[RunningHub], Browser]


async def _event(staffed: RunningHub, **fields: Any) -> Event:
    draft = parse_draft({"title": "Soup & songs", "timezone": "Europe/London",
                         "start": "2031-05-02T18:00", "end": "2031-05-02T20:00", **fields})
    return await service.create_event(staffed.hub, draft)


def _person(name: str, email: str | None = None, handle: str | None = None) -> Person:
    actor = f"https://remote.example/users/{handle.split('@')[1]}" if handle else None
    return Person(name=name, email=email, handle=handle, actor_id=actor)


async def _full_event(staffed: RunningHub) -> Event:
    """Given two places: Ann and Bo going, Cy then Di waiting, Ed maybe."""
    event = await _event(staffed, capacity=2)
    for person in (_person("Ann", "ann@example.org"), _person("Bo", handle="@bo@remote.example"),
                   _person("Cy", "cy@example.org"), _person("Di", "di@example.org")):
        await request_place(staffed.hub, event, person, "web")
    await say_maybe(staffed.hub, event, _person("Ed", "ed@example.org"), "web")
    return event


async def test_the_waitlist_is_shown_in_order_with_contacts_for_coordinators(
        staffed: RunningHub, alice: Browser) -> None:
    event = await _full_event(staffed)
    page = await alice.get(f"/console/events/{event.uuid}/attendees")
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.text
    assert "Going (2)" in text and "Waitlist (2)" in text and "Maybe (1)" in text
    # Names as table cells: a bare "Cy" may also turn up inside the page's random CSRF token.
    cells = [text.index(f"<td>{name}</td>") for name in ("Ann", "Bo", "Cy", "Di")]
    assert cells == sorted(cells)
    assert "<td>1</td>\n    <td>Cy</td>" in text and "<td>2</td>\n    <td>Di</td>" in text
    assert "ann@example.org" in text and "@bo@remote.example" in text
    assert "attendees.csv" in text


async def test_helpers_see_names_only_and_cannot_export(staffed: RunningHub,
                                                        browsers: Browsers) -> None:
    event = await _full_event(staffed)
    bob = browsers(staffed)
    await bob.login("bob")
    page = await bob.get(f"/console/events/{event.uuid}/attendees")
    assert page.status == 200 and "Ann" in page.text and "Cy" in page.text
    assert "@example.org" not in page.text and "@bo@remote.example" not in page.text
    assert "attendees.csv" not in page.text
    refused = await bob.get(f"/console/events/{event.uuid}/attendees.csv")
    assert refused.status == 403 and "@example.org" not in refused.text
    assert await audit.recent(staffed.hub.db, action="attendees.export") == []


async def test_the_csv_export(staffed: RunningHub, alice: Browser) -> None:
    event = await _full_event(staffed)
    page = await alice.get(f"/console/events/{event.uuid}/attendees.csv")
    assert page.status == 200 and page.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert page.headers["Content-Disposition"] == (
        'attachment; filename="attendees-soup-songs-2031-05-02.csv"')
    assert page.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(page.text.removeprefix("\ufeff"))))
    assert rows[0] == ["name", "contact", "status", "position", "via", "requested at"]
    assert [r[:5] for r in rows[1:]] == [
        ["Ann", "ann@example.org", "going", "", "Web form"],
        ["Bo", "'@bo@remote.example", "going", "", "Web form"],
        ["Cy", "cy@example.org", "waitlist", "1", "Web form"],
        ["Di", "di@example.org", "waitlist", "2", "Web form"],
        ["Ed", "ed@example.org", "maybe", "", "Web form"]]
    assert all(len(r[5]) == len("2031-05-02 18:00") for r in rows[1:])
    [entry] = await audit.recent(staffed.hub.db, action="attendees.export")
    assert entry.username == "alice" and entry.detail == {"rows": 5}
    assert entry.target == staffed.hub.urls.event(event.uuid)


async def test_names_that_look_like_formulas_are_defused(staffed: RunningHub,
                                                         alice: Browser) -> None:
    event = await _event(staffed)
    hostile = ['=HYPERLINK("https://evil.example","Click")', "+1+1", "-2+3", "@SUM(A1)",
               "\t=1", "Plain = fine"]
    for number, name in enumerate(hostile):
        await request_place(staffed.hub, event, _person(name, f"p{number}@example.org"), "web")
    page = await alice.get(f"/console/events/{event.uuid}/attendees.csv")
    rows = list(csv.reader(io.StringIO(page.text.removeprefix("\ufeff"))))
    names = [r[0] for r in rows[1:]]
    assert names == ["'" + n for n in hostile[:5]] + ["Plain = fine"]


async def test_approving_and_declining_requests(staffed: RunningHub, alice: Browser) -> None:
    event = await _event(staffed, join_mode="restricted", capacity=5)
    for name in ("Fay", "Gus"):
        await request_place(staffed.hub, event, _person(name, f"{name.lower()}@example.org"),
                            "web")
    page = await alice.get(f"/console/events/{event.uuid}/attendees")
    assert "Waiting for approval (2)" in page.text and "Approve Fay" in page.text
    fay, gus = await participant_store.list_participants(staffed.hub.db, event.id, "pending")
    base = f"/console/events/{event.uuid}/attendees"
    done = await alice.post(f"{base}/{fay.id}/approve", {"csrf_token": page.csrf()})
    assert done.status == 303 and done.location == f"{base}?done=approved"
    await alice.post(f"{base}/{gus.id}/decline", {"csrf_token": page.csrf()})
    states = {p.name: p.state for p in
              await participant_store.list_participants(staffed.hub.db, event.id)}
    assert states == {"Fay": "going", "Gus": "declined"}
    assert [e.detail for e in await audit.recent(staffed.hub.db, action="participant.approve")
            ] == [{"participant": fay.id}]
    assert len(await audit.recent(staffed.hub.db, action="participant.decline")) == 1
    again = await alice.post(f"{base}/{fay.id}/approve", {"csrf_token": page.csrf()})
    assert again.status == 404 and "already answered" in again.text
    shown = await alice.get(f"{base}?done=approved")
    assert "Going (1)" in shown.text and "Approved" in shown.text
