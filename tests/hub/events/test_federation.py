"""Events between two real hubs on loopback: south publishes, north (a follower) receives
Create, Update (edits and status changes) and Delete; a series sends one Event per
occurrence, and a series edit updates only the occurrences not yet started."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.events import service
from hub.events.model import parse_draft, parse_recurrence
from hub.store import remote_objects
from tests.hub.events.factories import draft_input
from tests.hub.test_two_hubs import _follows
from tests.support.hubs import RunningHub, wait_until
from tests.support.remote import RemoteServer

HubFactory = Callable[..., Awaitable[RunningHub]]
FEP = "https://w3id.org/fep/8a8e/"


async def _document(hub: RunningHub, object_id: str,
                    check: Callable[[dict[str, Any]], bool] = lambda doc: True,
                    *, deleted: bool = False) -> dict[str, Any]:
    async def arrived() -> dict[str, Any] | None:
        row = await remote_objects.get_remote_object(hub.hub.db, object_id)
        if row is None or (row["deleted_at"] is not None) != deleted:
            return None
        return row["document"] if check(row["document"]) else None

    return await wait_until(arrived, what=f"{object_id} at {hub.settings.name}")


async def _sent(hub: RunningHub, kind: str) -> list[str]:
    rows = await hub.hub.db.fetchall(
        "SELECT object_id FROM outbox WHERE type = ? ORDER BY id", (kind,))
    return [r["object_id"] for r in rows]


async def test_an_event_and_its_changes_reach_a_following_hub(hubs: HubFactory) -> None:
    north, south = await hubs("north"), await hubs("south")
    await _follows(north, south)

    # When south publishes an event, north stores the Event.
    status, event = await south.api("POST", "/api/v1/events", draft_input(
        start="2030-12-07T14:00", end="2030-12-07T16:00", capacity=20,
        category="CRAFTS", hashtags=["knitting"]))
    assert status == 201, event
    doc = await _document(north, event["url"])
    assert doc["type"] == "Event" and doc["name"] == "Knit and natter"
    assert doc["startTime"] == "2030-12-07T14:00:00+00:00" and doc["timezone"] == "Europe/London"
    assert doc["eventStatus"] == "EventScheduled" and doc["remainingAttendeeCapacity"] == 20
    assert doc["location"]["address"]["postalCode"] == "IG1 1EA"

    # An edit arrives as Update.
    status, _ = await south.api("PATCH", f"/api/v1/events/{event['id']}",
                                {"title": "Knit, natter and cake"})
    assert status == 200
    await _document(north, event["url"], lambda d: d["name"] == "Knit, natter and cake")

    # Cancelling is an Update whose eventStatus is EventCancelled.
    status, _ = await south.api("POST", f"/api/v1/events/{event['id']}/status",
                                {"status": "cancelled"})
    assert status == 200
    cancelled = await _document(north, event["url"],
                                lambda d: d["eventStatus"] == "EventCancelled")
    assert cancelled["ical:status"] == "CANCELLED"
    assert cancelled["summary"].startswith("Cancelled · ")

    # Deleting sends Delete.
    status, _ = await south.api("DELETE", f"/api/v1/events/{event['id']}")
    assert status == 200
    await _document(north, event["url"], deleted=True)
    assert await _sent(south, "Create") == [event["url"]]
    assert await _sent(south, "Update") == [event["url"]] * 2
    assert await _sent(south, "Delete") == [event["url"]]


async def test_a_series_federates_each_occurrence_and_edits_only_future_ones(
        hubs: HubFactory) -> None:
    north, south = await hubs("north"), await hubs("south")
    await _follows(north, south)
    london = ZoneInfo("Europe/London")
    tomorrow = datetime.now(london).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, datetime.min.time()).replace(hour=14)
    data = draft_input(start=start.isoformat(), end=(start + timedelta(hours=2)).isoformat())

    # Given a weekly series of three,
    draft = parse_draft(data)
    rule = parse_recurrence({"frequency": "weekly", "count": 3}, draft.start.date())
    series, events = await service.create_series(south.hub, draft, rule)
    assert [e.occurrence_date for e in events] == [
        (tomorrow + timedelta(weeks=w)).isoformat() for w in range(3)]
    urls = [south.hub.urls.event(e.uuid) for e in events]
    # then north receives three Events, each linked to the series.
    for url in urls:
        doc = await _document(north, url)
        assert doc["ch:series"] == south.hub.urls.series(series.uuid)
    assert sorted(await _sent(south, "Create")) == sorted(urls)

    # When the series is renamed after its first occurrence has started,
    during_first = events[0].start_at + 60
    change = await service.update_series(south.hub, series.uuid, {"title": "Knit club"},
                                         now=during_first)
    # then only the two future occurrences change and are sent as Update.
    assert [e.uuid for e in change.updated] == [e.uuid for e in events[1:]]
    assert not change.created and not change.deleted
    assert sorted(await _sent(south, "Update")) == sorted(urls[1:])
    for url in urls[1:]:
        await _document(north, url, lambda d: d["name"] == "Knit club")
    first = await remote_objects.get_remote_object(north.hub.db, urls[0])
    assert first is not None and first["document"]["name"] == "Knit and natter"

    # An edit that changes nothing sends nothing.
    again = await service.update_series(south.hub, series.uuid, {"title": "Knit club"},
                                        now=during_first)
    assert not again.updated and len(await _sent(south, "Update")) == 2

    # Skipping a date deletes that occurrence (Delete), and the top-up does not remake it.
    skipped = date.fromisoformat(events[2].occurrence_date or "")
    gone = await service.add_exceptions(south.hub, series.uuid, [skipped.isoformat()])
    assert [e.uuid for e in gone] == [events[2].uuid]
    await _document(north, urls[2], deleted=True)
    assert await service.extend_series(south.hub, series.id) == []


async def test_a_schedule_change_moves_future_occurrences_across_dst(
        hubs: HubFactory) -> None:
    south = await hubs("south")
    data = draft_input(start="2030-10-19T14:00", end="2030-10-19T16:00")  # UK DST ends 27 Oct
    draft = parse_draft(data)
    rule = parse_recurrence({"frequency": "weekly", "count": 3}, draft.start.date())
    series, events = await service.create_series(south.hub, draft, rule)
    assert [datetime.fromtimestamp(e.start_at, ZoneInfo("UTC")).hour for e in events] == [
        13, 13, 14]
    # Moving the series an hour later keeps local times aligned on both sides of the change,
    change = await service.update_series(south.hub, series.uuid, {
        "start": "2030-10-19T15:00", "end": "2030-10-19T17:00"})
    assert [e.start_local for e in change.updated] == [
        "2030-10-19T15:00:00", "2030-10-26T15:00:00", "2030-11-02T15:00:00"]
    assert [e.start_at - old.start_at for e, old in zip(change.updated, events,
                                                         strict=True)] == [3600.0] * 3
    # and changing the rule deletes occurrences it no longer has and makes the new ones.
    fortnightly = await service.update_series(south.hub, series.uuid, {
        "recurrence": {"frequency": "fortnightly", "count": 3}})
    assert [e.occurrence_date for e in fortnightly.deleted] == ["2030-10-26"]
    assert [e.occurrence_date for e in fortnightly.created] == ["2030-11-16"]


async def test_a_fediverse_teacher_is_mentioned_and_sent_the_event(
        hubs: HubFactory, remote: RemoteServer) -> None:
    south = await hubs("south")
    ada = remote.actor("ada")
    status, event = await south.api("POST", "/api/v1/events", draft_input(
        start="2030-12-07T14:00", end="2030-12-07T16:00", kind="skillshare",
        learning_outcome="Darning socks", level="all_levels", teacher=ada.id))
    assert status == 201, event
    assert event["teacher"] == ada.id and event["teacher_name"] == f"@ada@{remote.base_url[7:]}"

    async def delivered() -> dict[str, Any] | None:
        return next((a for a in remote.received if a.get("type") == "Create"), None)

    create = await wait_until(delivered, what="the Create at the teacher's server")
    assert ada.id in create["cc"] and ada.id in create["object"]["cc"]
    mentions = [t for t in create["object"]["tag"] if t["type"] == "Mention"]
    assert mentions == [{"type": "Mention", "href": ada.id, "name": event["teacher_name"]}]

    status, body = await south.api("POST", "/api/v1/events", draft_input(
        start="2030-12-07T14:00", end="2030-12-07T16:00", kind="skillshare",
        teacher=f"{remote.base_url}/users/nobody"))
    assert (status, body["field"]) == (400, "teacher")
