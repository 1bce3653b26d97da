"""The events API on one real hub: create, read, edit, status, delete, series; every bad
input answered 400 naming the field, with nothing stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.hub.events.factories import draft_input
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]


def future_input(**fields: Any) -> dict[str, Any]:
    return draft_input(**{"start": "2030-12-07T14:00", "end": "2030-12-07T16:00", **fields})


async def _counts(hub: RunningHub) -> tuple[int, int, int]:
    db = hub.hub.db
    return (int(await db.fetchval("SELECT count(*) FROM events")),
            int(await db.fetchval("SELECT count(*) FROM event_series")),
            int(await db.fetchval("SELECT count(*) FROM outbox")))


async def _get(url: str, accept: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(
            url, headers={"Accept": accept}) as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def test_create_read_and_negotiate(hubs: HubFactory) -> None:
    hub = await hubs("north")
    status, event = await hub.api("POST", "/api/v1/events", future_input(
        capacity=12, hashtags=["Knitting"], description="Bring *wool*"))
    assert status == 201, event
    assert event["start"] == "2030-12-07T14:00:00" and event["start_utc"].startswith(
        "2030-12-07T14:00:00")
    assert event["summary"] == "Sat 7 Dec 2030, 14:00\u201316:00 · Redbridge Library · " \
                               "12 places left"
    status, again = await hub.api("GET", f"/api/v1/events/{event['id']}")
    assert status == 200 and again["title"] == "Knit and natter"

    # Servers get the Event, browsers a page.
    status, kind, text = await _get(event["url"], "application/activity+json")
    assert status == 200 and kind == "application/activity+json" and '"Event"' in text
    status, kind, _ = await _get(event["url"], 'application/ld+json; profile='
                                 '"https://www.w3.org/ns/activitystreams"')
    assert status == 200 and kind == "application/activity+json"
    status, kind, page = await _get(event["url"], "text/html")
    assert status == 200 and kind.startswith("text/html")
    assert "<h1>Knit and natter</h1>" in page and "<address>Redbridge Library" in page
    assert '<time datetime="2030-12-07T14:00:00+00:00">' in page
    assert "<em>wool</em>" in page and 'href="' + hub.hub.urls.tag("knitting") in page
    status, _, listing = await _get(hub.hub.urls.tag("knitting"), "text/html")
    assert status == 200 and event["url"] in listing

    status, listed = await hub.api("GET", "/api/v1/events")
    assert status == 200 and [e["id"] for e in listed["items"]] == [event["id"]]


async def test_a_skillshare_page_shows_what_you_will_learn(hubs: HubFactory) -> None:
    hub = await hubs("north")
    status, event = await hub.api("POST", "/api/v1/events", future_input(
        kind="skillshare", learning_outcome="Darning <socks>", level="all_levels",
        what_to_bring="Odd socks", teacher="Ada from number 12", online_url=None))
    assert status == 201, event
    status, _, page = await _get(event["url"], "text/html")
    assert status == 200
    assert "<dt>What you will learn</dt><dd>Darning &lt;socks&gt;</dd>" in page
    assert "<dd>All levels</dd>" in page and "<dd>Ada from number 12</dd>" in page
    assert '<time datetime="2030-12-07T16:00:00+00:00">16:00</time>' in page


@pytest.mark.parametrize(("change", "field"), [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"end": "2030-12-07T13:00"}, "end"),
    ({"capacity": 0}, "capacity"),
    ({"category": "NOT_A_CATEGORY"}, "category"),
    ({"join_mode": "external"}, "external_url"),
    ({"place": {"name": "Hall", "latitude": 100, "longitude": 0}}, "place.latitude"),
    ({"banner": "00000000-0000-4000-8000-000000000000"}, "banner"),
    ({"recurrence": {"frequency": "hourly"}}, "recurrence.frequency"),
    ({"recurrence": {"frequency": "weekly", "until": "2030-01-01"}}, "recurrence.until"),
])
async def test_bad_input_names_the_field_and_stores_nothing(
        hubs: HubFactory, change: dict[str, Any], field: str) -> None:
    hub = await hubs("north")
    status, body = await hub.api("POST", "/api/v1/events", future_input(**change))
    assert (status, body["field"]) == (400, field), body
    assert await _counts(hub) == (0, 0, 0)


async def test_edit_status_and_delete(hubs: HubFactory) -> None:
    hub = await hubs("north")
    _, event = await hub.api("POST", "/api/v1/events", future_input(capacity=5))
    path = f"/api/v1/events/{event['id']}"
    status, edited = await hub.api("PATCH", path, {"title": "Knit, natter and cake"})
    assert status == 200 and edited["title"] == "Knit, natter and cake"
    assert edited["capacity"] == 5 and edited["updated_at"] is not None
    status, body = await hub.api("PATCH", path, {"capacity": -1})
    assert (status, body["field"]) == (400, "capacity")

    for bad, field in (({"status": "paused"}, "status"),
                       ({"status": "moved_online"}, "online_url"),
                       ({"status": "rescheduled", "start": "2030-12-14T14:00"}, "end"),
                       ({"status": "cancelled", "start": "2030-12-14T14:00"}, "start"),
                       ({"status": "cancelled", "why": "rain"}, "why")):
        status, body = await hub.api("POST", f"{path}/status", bad)
        assert (status, body["field"]) == (400, field), bad
    status, moved = await hub.api("POST", f"{path}/status", {
        "status": "rescheduled", "start": "2030-12-14T15:00", "end": "2030-12-14T17:00"})
    assert status == 200 and moved["status"] == "rescheduled"
    assert moved["start"] == "2030-12-14T15:00:00"
    assert moved["previous_start_utc"] == event["start_utc"]
    status, online = await hub.api("POST", f"{path}/status", {
        "status": "moved_online", "online_url": "https://meet.example/knit"})
    assert status == 200 and online["summary"].startswith("Moved online · ")

    status, deleted = await hub.api("DELETE", path)
    assert status == 200 and deleted["deleted_at"] is not None
    status, _, text = await _get(event["url"], "application/activity+json")
    assert status == 410 and '"Tombstone"' in text
    assert (await _get(event["url"], "text/html"))[0] == 410
    assert (await hub.api("PATCH", path, {"title": "x"}))[0] == 404
    assert (await hub.api("DELETE", path))[0] == 404


async def test_series_create_edit_exceptions_and_pages(hubs: HubFactory) -> None:
    hub = await hubs("north")
    status, series = await hub.api("POST", "/api/v1/events", future_input(
        recurrence={"frequency": "weekly", "count": 4, "exceptions": ["2030-12-14"]}))
    assert status == 201, series
    dates = [o["occurrence_date"] for o in series["occurrences"]]
    assert dates == ["2030-12-07", "2030-12-21", "2030-12-28"]
    assert {o["series"] for o in series["occurrences"]} == {series["id"]}

    status, changed = await hub.api("PATCH", f"/api/v1/series/{series['id']}",
                                    {"title": "Knit club", "capacity": 8})
    assert status == 200 and len(changed["changes"]["updated"]) == 3
    assert {o["title"] for o in changed["occurrences"]} == {"Knit club"}

    status, skipped = await hub.api("POST", f"/api/v1/series/{series['id']}/exceptions",
                                    {"dates": ["2030-12-28"]})
    assert status == 200 and len(skipped["deleted"]) == 1
    assert [o["occurrence_date"] for o in skipped["occurrences"]] == ["2030-12-07",
                                                                      "2030-12-21"]

    status, _, text = await _get(series["url"], "application/activity+json")
    assert status == 200 and '"OrderedCollection"' in text and '"totalItems":2' in text
    status, _, page = await _get(series["url"], "text/html")
    assert status == 200 and page.count("<article") == 2

    status, ended = await hub.api("DELETE", f"/api/v1/series/{series['id']}")
    assert status == 200 and len(ended["deleted"]) == 2 and ended["ended_at"]
    assert (await hub.api("PATCH", f"/api/v1/series/{series['id']}", {"title": "x"}))[0] == 404


async def test_a_change_is_stored_only_with_the_activities_telling_followers(
        hubs: HubFactory) -> None:
    # Events, series and their Create, Update and Delete are written in one transaction:
    # when the outbox cannot be written, nothing changes and the caller gets a JSON 500.
    hub = await hubs("north")
    _, event = await hub.api("POST", "/api/v1/events", future_input())
    _, series = await hub.api("POST", "/api/v1/events", future_input(
        recurrence={"frequency": "weekly", "count": 3}))
    before = await _counts(hub)
    await hub.hub.db.execute("CREATE TEMP TRIGGER no_outbox BEFORE INSERT ON outbox "
                             "BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    path = f"/api/v1/events/{event['id']}"
    for method, url, data in (
            ("POST", "/api/v1/events", future_input()),
            ("POST", "/api/v1/events", future_input(recurrence={"frequency": "weekly",
                                                                "count": 2})),
            ("PATCH", path, {"title": "Changed"}),
            ("POST", f"{path}/status", {"status": "cancelled"}),
            ("DELETE", path, None),
            ("PATCH", f"/api/v1/series/{series['id']}", {"title": "Changed"}),
            ("POST", f"/api/v1/series/{series['id']}/exceptions",
             {"dates": [series["occurrences"][1]["occurrence_date"]]}),
            ("DELETE", f"/api/v1/series/{series['id']}", None)):
        status, body = await hub.api(method, url, data)
        assert status == 500 and "error" in body, (method, url, body)
    await hub.hub.db.execute("DROP TRIGGER temp.no_outbox")
    assert await _counts(hub) == before
    status, stored = await hub.api("GET", path)
    assert status == 200 and stored["title"] == event["title"]
    assert stored["status"] == event["status"] and stored["updated_at"] is None
    status, stored = await hub.api("GET", f"/api/v1/series/{series['id']}")
    assert status == 200 and len(stored["occurrences"]) == 3
    assert {o["title"] for o in stored["occurrences"]} == {series["occurrences"][0]["title"]}


async def test_openapi_describes_the_event_endpoints(hubs: HubFactory) -> None:
    hub = await hubs("north")
    status, doc = await hub.api("GET", "/api/openapi.json")
    assert status == 200
    for path in ("/api/v1/events", "/api/v1/events/{uuid}", "/api/v1/events/{uuid}/status",
                 "/api/v1/series/{uuid}", "/api/v1/series/{uuid}/exceptions",
                 "/api/v1/media"):
        assert path in doc["paths"], path
