"""The iCalendar feeds on a real hub parse with `icalendar` and say what the events say:
UIDs, instants (across a daylight-saving change), TZIDs with their VTIMEZONEs, status,
place and coordinates, sequence, and which events each feed holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from tests.hub.calendar.helpers import HubFactory, create, fetch
from tests.support.hubs import RunningHub

LONDON = ZoneInfo("Europe/London")


async def _calendar(url: str) -> tuple[icalendar.Calendar, dict[str, str]]:
    status, headers, body = await fetch(url)
    assert status == 200, body
    return icalendar.Calendar.from_ical(body), headers


def _vevents(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(v["UID"]): v for v in cal.walk("VEVENT")}


def _utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def _assert_times_match(vevent: icalendar.Event, event: dict[str, Any]) -> None:
    start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
    assert vevent["DTSTART"].params["TZID"] == event["timezone"]
    assert vevent["DTEND"].params["TZID"] == event["timezone"]
    assert start.astimezone(UTC) == _utc(event["start_utc"])
    assert end.astimezone(UTC) == _utc(event["end_utc"])
    assert start.replace(tzinfo=None).isoformat() == event["start"]


async def test_the_hub_calendar_matches_its_events(hubs: HubFactory) -> None:
    hub = await hubs("north")
    # Given an event across the night the clocks go forward in London (2030-03-31, 01:00
    # GMT), one in New York, and a weekly series spanning that change
    overnight = await create(hub, title="Night walk", start="2030-03-30T22:00",
                             end="2030-03-31T03:00", category="OUTDOORS_ADVENTURE",
                             hashtags=["Walks"], description="Bring a *torch*.")
    ny = await create(hub, title="Pen pals", timezone="America/New_York", place=None,
                      online_url="https://meet.example/pals")
    series = await create(hub, title="Choir", start="2030-03-19T19:00", end="2030-03-19T21:00",
                          recurrence={"frequency": "weekly", "count": 4})

    # When the hub's calendar is fetched
    cal, headers = await _calendar(f"{hub.base_url}/calendar.ics")

    # Then it is text/calendar, named, and each event is one VEVENT keyed by its URL
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert str(cal["X-WR-CALNAME"]) == "North hub" and str(cal["VERSION"]) == "2.0"
    vevents = _vevents(cal)
    occurrences = series["occurrences"]
    assert set(vevents) == {overnight["url"], ny["url"], *(o["url"] for o in occurrences)}

    night = vevents[overnight["url"]]
    _assert_times_match(night, overnight)
    assert night.decoded("DTSTART").utcoffset().total_seconds() == 0        # GMT
    assert night.decoded("DTEND").utcoffset().total_seconds() == 3600       # BST
    # Four hours, not five: an aware subtraction in one zone would count wall-clock time
    elapsed = night.decoded("DTEND").astimezone(UTC) - night.decoded("DTSTART").astimezone(UTC)
    assert elapsed.total_seconds() == 4 * 3600
    assert str(night["SUMMARY"]) == "Night walk" and str(night["STATUS"]) == "CONFIRMED"
    assert str(night["URL"]) == overnight["url"]
    assert "Bring a torch." in str(night["DESCRIPTION"])
    assert str(night["LOCATION"]) == "Redbridge Library, Clements Road, Ilford, IG1 1EA, GB"
    assert (night["GEO"].latitude, night["GEO"].longitude) == (51.5586, 0.0725)
    assert [str(c) for c in night["CATEGORIES"].cats] == ["Outdoors adventure", "Walks"]
    assert int(night["SEQUENCE"]) == 0 and "DTSTAMP" in night and "LAST-MODIFIED" in night

    # The series' occurrences keep 19:00 London time on both sides of the change
    for occurrence in occurrences:
        vevent = vevents[occurrence["url"]]
        _assert_times_match(vevent, occurrence)
        assert vevent.decoded("DTSTART").hour == 19
        assert "RRULE" not in vevent
    offsets = [vevents[o["url"]].decoded("DTSTART").utcoffset().total_seconds()
               for o in occurrences]
    assert offsets == [0, 0, 3600, 3600]

    # Online only: the link is the location, and there are no coordinates
    pals = vevents[ny["url"]]
    _assert_times_match(pals, ny)
    assert str(pals["LOCATION"]) == "https://meet.example/pals" and "GEO" not in pals

    # Every TZID used has its VTIMEZONE, which icalendar can turn back into the zone
    assert {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")} == {
        "Europe/London", "America/New_York"}
    assert cal.get_missing_tzids() == set()
    london = next(tz for tz in cal.timezones if tz.tz_name == "Europe/London")
    assert datetime(2030, 4, 1, 12, tzinfo=london.to_tz()).utcoffset().total_seconds() == 3600


async def test_status_and_edits_show_in_the_event_calendar(hubs: HubFactory) -> None:
    hub = await hubs("north")
    event = await create(hub, title="Repair café")
    path = f"/api/v1/events/{event['id']}"
    ics = f"{event['url']}.ics"

    first = _vevents((await _calendar(ics))[0])[event["url"]]
    assert int(first["SEQUENCE"]) == 0

    # Each edit a minute after the last (the clock is moved, not waited for)
    await _a_minute_passes(hub, event["id"])
    status, _ = await hub.api("PATCH", path, {"title": "Repair café and swap"})
    assert status == 200
    edited = _vevents((await _calendar(ics))[0])[event["url"]]
    await _a_minute_passes(hub, event["id"])
    status, _ = await hub.api("POST", f"{path}/status", {"status": "cancelled"})
    assert status == 200

    cal, headers = await _calendar(ics)
    vevent = _vevents(cal)[event["url"]]
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["SUMMARY"]) == "Cancelled: Repair café and swap"
    assert int(first["SEQUENCE"]) < int(edited["SEQUENCE"]) < int(vevent["SEQUENCE"])
    assert vevent.decoded("LAST-MODIFIED") >= edited.decoded("LAST-MODIFIED")
    assert vevent.decoded("DTSTAMP") == vevent.decoded("LAST-MODIFIED")

    status, _ = await hub.api("POST", f"{path}/status", {"status": "postponed"})
    vevent = _vevents((await _calendar(ics))[0])[event["url"]]
    assert str(vevent["STATUS"]) == "TENTATIVE"

    # Cancelled events stay in the hub's feed, so subscribed calendars see the change
    assert event["url"] in _vevents((await _calendar(f"{hub.base_url}/calendar.ics"))[0])


async def _a_minute_passes(hub: RunningHub, event_uuid: str) -> None:
    """Move the event's publication and last edit a minute back."""
    await hub.hub.db.execute(
        "UPDATE events SET published_at = published_at - 60, "
        "updated_at = updated_at - 60 WHERE uuid = ?", (event_uuid,))


async def test_category_and_tag_calendars_hold_only_their_events(hubs: HubFactory) -> None:
    hub = await hubs("north")
    crafts = await create(hub, title="Knitting", category="CRAFTS", hashtags=["Wool"])
    music = await create(hub, title="Ukulele", category="MUSIC", hashtags=["wool", "Strings"])
    other = await create(hub, title="Quiz")

    by_category = _vevents((await _calendar(f"{hub.base_url}/calendar/category/CRAFTS.ics"))[0])
    assert set(by_category) == {crafts["url"]}
    cal, _ = await _calendar(f"{hub.base_url}/tags/wool.ics")
    assert set(_vevents(cal)) == {crafts["url"], music["url"]}
    assert str(cal["X-WR-CALNAME"]) == "North hub: #wool"
    everything = _vevents((await _calendar(f"{hub.base_url}/calendar.ics"))[0])
    assert set(everything) == {crafts["url"], music["url"], other["url"]}
    one = _vevents((await _calendar(f"{music['url']}.ics"))[0])
    assert set(one) == {music["url"]}


async def test_deleted_and_unknown_events_have_no_calendar(hubs: HubFactory) -> None:
    hub = await hubs("north")
    event = await create(hub)
    await hub.api("DELETE", f"/api/v1/events/{event['id']}")
    assert (await fetch(f"{event['url']}.ics"))[0] == 404
    assert (await fetch(f"{hub.base_url}/events/00000000-0000-4000-8000-000000000000.ics")
            )[0] == 404
    assert (await fetch(f"{hub.base_url}/events/nope.ics"))[0] == 404
    cal, _ = await _calendar(f"{hub.base_url}/calendar.ics")
    assert cal.walk("VEVENT") == [] and cal.walk("VTIMEZONE") == []
