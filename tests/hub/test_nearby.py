"""Events from other servers: Mobilizon, Gancio, Friendica and peer-hub payloads normalised,
stored, and shown in the nearby calendar, end to end through a real hub's inbox."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from federation.errors import ValidationError
from federation.keys import public_key_to_pem
from hub.events.remote import parse_remote_event
from hub.store import follows as follow_store
from hub.store import inbound, remote_events, remote_objects
from hub.store.db import Database
from hub.web.nearby import day_heading, when_text, zone_label
from tests.support.hubs import RunningHub, wait_until
from tests.support.remote import RemoteActor, RemoteServer

HubFactory = Callable[..., Awaitable[RunningHub]]
DATA = Path(__file__).parent.parent / "data"
MOBILIZON_GROUP = "https://mobilizon.example/@repair_cafe_lyon"
GANCIO_APP = "https://gancio.example/federation/u/relay"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# Normalising --------------------------------------------------------------------------------
def test_mobilizon_event_in_europe_paris() -> None:
    obj = fixture("mobilizon_create_event.json")["object"]
    event = parse_remote_event(obj, MOBILIZON_GROUP)
    assert event.id == event.url == obj["id"]
    assert event.name == "Repair Café : on répare vos grille-pain"
    assert event.start == datetime(2027, 1, 16, 13, 0, tzinfo=UTC)
    assert event.end == datetime(2027, 1, 16, 16, 30, tzinfo=UTC)
    assert (event.timezone, event.utc_offset) == ("Europe/Paris", 3600)
    assert zone_label(event) == "Europe/Paris" and when_text(event) == "14:00\u201317:30"
    assert event.place_name == "Maison des Passages"
    assert event.address == "44 Rue Saint-Georges, 69005 Lyon, Auvergne-Rhône-Alpes, France"
    assert (event.latitude, event.longitude) == (45.7597, 4.8277)
    assert event.online_url == "https://visio.example/repair-cafe-lyon"
    assert event.status == "scheduled" and event.category == "COMMUNITY"
    assert (event.capacity, event.remaining, event.participants) == (40, 28, 12)
    assert event.tags == ("RepairCafe", "ZeroDéchet")
    assert event.banner_url == ("https://mobilizon.example/media/"
                                "5d2c8e1f7a3b4c6d9e0f1a2b3c4d5e6f.jpg")
    assert event.organiser_id == "https://mobilizon.example/@camille"
    assert (event.origin_actor_id, event.origin_host) == (MOBILIZON_GROUP, "mobilizon.example")
    assert event.content_html.startswith("<p>Apportez un objet cassé")


def test_mobilizon_update_carries_the_cancellation() -> None:
    obj = fixture("mobilizon_update_event_cancelled.json")["object"]
    assert parse_remote_event(obj, MOBILIZON_GROUP).status == "cancelled"


def test_gancio_event_keeps_the_offset_it_was_sent_with() -> None:
    obj = fixture("gancio_create_event.json")["object"]
    event = parse_remote_event(obj, GANCIO_APP)
    assert event.start == datetime(2027, 1, 23, 14, 0, tzinfo=UTC)
    assert event.end == datetime(2027, 1, 23, 18, 0, tzinfo=UTC)
    assert (event.timezone, event.utc_offset) == (None, 3600)
    assert zone_label(event) == "UTC+01:00" and when_text(event) == "15:00\u201319:00"
    assert event.url == "https://gancio.example/event/ciclofficina-aperta-ripara-la-tua-bici"
    assert (event.place_name, event.address) == ("Ciclofficina Popolare",
                                                 "Via Paolo Fabbri 110, Bologna")
    assert (event.latitude, event.longitude) == (44.5075, 11.3641)
    assert event.tags == ("ciclofficina", "bici") and event.online_url is None
    assert event.banner_url == "https://gancio.example/media/3fa1c9e2b7d04e58a6f1c2d3e4b5a697.jpg"
    assert event.capacity is None and event.status == "scheduled"
    assert event.origin_host == "gancio.example"
    moved = parse_remote_event(fixture("gancio_update_event.json")["object"], GANCIO_APP)
    assert moved.start == datetime(2027, 1, 23, 15, 0, tzinfo=UTC)


def test_friendica_event_with_utc_times_and_string_coordinates() -> None:
    obj = fixture("friendica_event.json")["object"]
    event = parse_remote_event(obj, "https://friendica.example/profile/kiezladen")
    assert event.name == "Nähtreff" and event.start == datetime(2027, 2, 6, 17, tzinfo=UTC)
    assert (event.latitude, event.longitude) == (52.4987, 13.4289)
    assert event.place_name == "Kiezladen, Lausitzer Str. 10, Berlin" and event.address is None
    assert event.url == "https://friendica.example/display/0b6a1c4e-1567-8fd1-2c9a-35e4f1000321"
    assert "<br>" in event.content_html and zone_label(event) == "UTC+00:00"


def peer_hub_event() -> dict[str, Any]:
    """A commonhub peer's Event, as docs/federation.md shows it (a hybrid event)."""
    base = "https://hub.example.org"
    return {
        "id": f"{base}/events/5b1f0c3e-8f7a-4c1e-9a57-0f3d2b6c9e11", "type": "Event",
        "name": "Knit and natter", "summary": "Sun 6 Dec, 14:00\u201316:00 · Library",
        "content": "<p>Learn to knit: <strong>all welcome</strong>.</p>",
        "url": f"{base}/events/5b1f0c3e-8f7a-4c1e-9a57-0f3d2b6c9e11",
        "startTime": "2026-12-06T14:00:00+00:00", "endTime": "2026-12-06T16:00:00+00:00",
        "timezone": "Europe/London", "eventStatus": "EventPostponed", "status": "TENTATIVE",
        "ical:status": "TENTATIVE", "maximumAttendeeCapacity": 12,
        "remainingAttendeeCapacity": 5, "participantCount": 7,
        "category": "WORKSHOPS_SKILL_SHARING",
        "tag": [{"type": "Hashtag", "href": f"{base}/tags/knitting", "name": "#Knitting"},
                {"type": "Mention", "href": "https://craft.example/users/ada", "name": "@ada"}],
        "attachment": [
            {"type": "Document", "mediaType": "image/jpeg", "url": f"{base}/media/0d4c",
             "name": "Hands knitting red wool", "isBannerImage": True},
            {"type": "Link", "name": "Website", "mediaType": "text/html",
             "href": "https://meet.example/knit"}],
        "location": [
            {"type": "Place", "name": "Redbridge Library",
             "address": {"type": "PostalAddress", "streetAddress": "Clements Road",
                         "postalCode": "IG1 1EA", "addressLocality": "Ilford",
                         "addressCountry": "GB"}, "latitude": 51.5586, "longitude": 0.0725},
            {"type": "VirtualLocation", "name": "Online", "url": "https://meet.example/knit"}],
    }


def test_peer_hub_event_with_fep_8a8e_status_and_a_hybrid_location() -> None:
    event = parse_remote_event(peer_hub_event(), "https://hub.example.org/actors/redbridge")
    assert event.status == "postponed", "eventStatus is finer than ical:status"
    assert event.place_name == "Redbridge Library"
    assert event.address == "Clements Road, IG1 1EA Ilford, GB"
    assert event.online_url == "https://meet.example/knit"
    assert event.banner_url == "https://hub.example.org/media/0d4c"
    assert event.tags == ("Knitting",) and event.category == "WORKSHOPS_SKILL_SHARING"


def test_a_time_without_offset_is_read_in_the_event_timezone() -> None:
    doc = peer_hub_event() | {"startTime": "2027-07-03T10:00:00", "endTime": None,
                              "timezone": "America/New_York",
                              "eventStatus": "https://w3id.org/fep/8a8e/EventCancelled"}
    event = parse_remote_event(doc, "https://hub.example.org/actors/redbridge")
    assert event.start == datetime(2027, 7, 3, 14, 0, tzinfo=UTC)  # EDT, UTC-4
    assert event.end is None and event.status == "cancelled"


@pytest.mark.parametrize("start", [None, "", "next Tuesday", "2027-13-40T10:00:00Z", 1798000000,
                                   "2027-01-16T14:00:00"])
def test_a_missing_or_unreadable_start_is_invalid(start: Any) -> None:
    obj = fixture("gancio_create_event.json")["object"]
    obj["startTime"] = start
    with pytest.raises(ValidationError, match="startTime"):
        parse_remote_event(obj, GANCIO_APP)


def test_not_an_event_is_invalid() -> None:
    with pytest.raises(ValidationError):
        parse_remote_event({"id": "https://x.example/notes/1", "type": "Note"}, GANCIO_APP)


def test_foreign_values_are_never_trusted() -> None:
    obj = fixture("mobilizon_create_event.json")["object"]
    obj.update({
        "name": "<b>Fête</b><script>alert(1)</script>",
        "content": '<p onclick="x()">Hi</p><script>alert(2)</script><img src=x onerror=y()>'
                   '<a href="javascript:alert(3)">link</a>',
        "url": "https://phishing.example/events/1", "timezone": "../../etc/passwd",
        "endTime": "2027-01-16T10:00:00+01:00", "maximumAttendeeCapacity": "lots",
        "participantCount": -3, "category": "<b>x</b>",
    })
    obj["location"] = obj["location"] | {"latitude": 200, "longitude": "nan"}
    obj["attachment"] = [{"type": "Document", "mediaType": "image/png",
                          "url": "javascript:alert(4)", "name": "Banner"}]
    event = parse_remote_event(obj, MOBILIZON_GROUP)
    assert event.name == "Fête"
    assert "script" not in event.content_html and "onclick" not in event.content_html
    assert "onerror" not in event.content_html and "javascript:" not in event.content_html
    assert event.url == obj["id"], "a page on another host is not the event's page"
    assert event.timezone is None and event.utc_offset == 3600
    assert event.end is None, "an end before the start is dropped"
    assert event.capacity is None and event.participants is None and event.category is None
    assert event.latitude is None and event.longitude is None and event.banner_url is None


# Store --------------------------------------------------------------------------------------
async def _followed(db: Database, actor_id: str) -> None:
    await follow_store.add_following(db, actor_id, f"{actor_id}#follow")
    await follow_store.set_following_state(db, actor_id, "accepted")


def _stored_event(obj_id: str, start: datetime, **fields: Any) -> dict[str, Any]:
    return {"id": obj_id, "type": "Event", "name": obj_id.rsplit("/", 1)[-1],
            "startTime": start.isoformat(), **fields}


async def test_upcoming_events_by_status_time_and_follow(db: Database) -> None:
    now = datetime.now(UTC)
    origin, stranger = "https://a.example/u/a", "https://b.example/u/b"
    await _followed(db, origin)
    docs = [
        _stored_event("https://a.example/e/soon", now + timedelta(days=1)),
        _stored_event("https://a.example/e/going-on", now - timedelta(hours=1),
                      endTime=(now + timedelta(hours=1)).isoformat()),
        _stored_event("https://a.example/e/over", now - timedelta(days=1)),
        _stored_event("https://a.example/e/off", now + timedelta(days=2),
                      status="CANCELLED"),
        _stored_event("https://b.example/e/unfollowed", now + timedelta(days=1)),
    ]
    for doc in docs:
        actor = stranger if "b.example" in doc["id"] else origin
        assert await remote_events.save_remote_event(db, parse_remote_event(doc, actor), doc)
    names = [s.event.name for s in await remote_events.list_upcoming(db, now=now.timestamp())]
    assert names == ["going-on", "soon"]
    with_cancelled = await remote_events.list_upcoming(db, now=now.timestamp(),
                                                       include_cancelled=True)
    assert [s.event.name for s in with_cancelled] == ["going-on", "soon", "off"]
    assert [s.event.name for s in await remote_events.list_by_origin(db, stranger)] == [
        "unfollowed"]
    stored = await remote_events.get_remote_event(db, "https://a.example/e/soon")
    assert stored is not None and stored.event == parse_remote_event(docs[0], origin)
    assert (await remote_objects.get_remote_object(db, docs[0]["id"]))["document"] == docs[0]


async def test_only_the_origin_changes_an_event_and_deleted_stays_deleted(db: Database) -> None:
    origin = "https://a.example/u/a"
    doc = _stored_event("https://a.example/e/1", datetime.now(UTC) + timedelta(days=1))
    assert await remote_events.save_remote_event(db, parse_remote_event(doc, origin), doc)
    other = parse_remote_event(doc | {"name": "Hijacked"}, "https://a.example/u/mallory")
    assert not await remote_events.save_remote_event(db, other, doc)
    assert await remote_events.tombstone_remote_event(db, doc["id"])
    assert not await remote_events.save_remote_event(db, parse_remote_event(doc, origin), doc)
    stored = await remote_events.get_remote_event(db, doc["id"])
    assert stored.deleted_at is not None and stored.event.name == "1"
    assert (await remote_objects.get_remote_object(db, doc["id"]))["deleted_at"] is not None
    doc2 = _stored_event("https://a.example/e/2", datetime.now(UTC) + timedelta(days=1))
    await remote_events.save_remote_event(db, parse_remote_event(doc2, origin), doc2)
    assert await remote_events.forget_origin(db, origin) == 1


# End to end ---------------------------------------------------------------------------------
@dataclass
class FixtureActor(RemoteActor):
    """A fake-server actor whose document is a captured one (Mobilizon's Group, Gancio's
    Application), moved to the fake server, with the fake's own key."""

    template: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        doc = copy.deepcopy(self.template)
        doc["publicKey"] = {"id": self.key.key_id, "owner": self.id,
                            "publicKeyPem": public_key_to_pem(self.key.private_key)}
        return doc


def on_server(doc: Any, server: RemoteServer, host: str, actor_path: str) -> Any:
    """A fixture with its server's URLs moved to the fake server (actors at /users/...)."""
    text = json.dumps(doc).replace(f"https://{host}{actor_path}", f"{server.base_url}/users/")
    return json.loads(text.replace(f"https://{host}", server.base_url))


def redated(obj: dict[str, Any], days: int) -> dict[str, Any]:
    """The event moved to `days` from today at the same local times, written as its sender
    writes them (Mobilizon: its zone's offset on that day; Gancio: the same offset, with
    milliseconds), so end-to-end tests stay in the future."""
    obj = copy.deepcopy(obj)
    first = datetime.fromisoformat(obj["startTime"])
    zone = ZoneInfo(obj["timezone"]) if obj.get("timezone") else first.tzinfo
    target = date.today() + timedelta(days=days)
    for key in ("startTime", "endTime"):
        if obj.get(key):
            local = datetime.fromisoformat(obj[key])
            moved = datetime.combine(target + (local.date() - first.date()), local.time(), zone)
            spec = "milliseconds" if "." in obj[key] else "seconds"
            obj[key] = moved.isoformat(timespec=spec)
    return obj


@pytest.fixture
async def gancio_server() -> AsyncIterator[RemoteServer]:
    server = RemoteServer()
    await server.start()
    yield server
    await server.stop()


def serve(server: RemoteServer, username: str, template: dict[str, Any]) -> FixtureActor:
    actor = FixtureActor(server, username, template=template)
    server.actors[username] = actor
    assert actor.document()["id"] == actor.id
    return actor


async def follow(running: RunningHub, server: RemoteServer, actor: RemoteActor) -> None:
    status, _ = await running.api("POST", "/api/v1/following", {"target": actor.id})
    assert status == 202

    async def follow_sent() -> list:
        return [a for a in server.received if a["type"] == "Follow" and a["object"] == actor.id]

    sent = (await wait_until(follow_sent, what="the hub's Follow"))[0]
    assert (await actor.post(running.hub.urls.inbox, actor.activity("Accept", sent)))[0] == 202

    async def accepted() -> bool:
        row = await follow_store.get_following(running.hub.db, actor.id)
        return row is not None and row["state"] == "accepted"

    await wait_until(accepted, what="the Accept")


async def deliver(running: RunningHub, actor: RemoteActor, activity: dict[str, Any]) -> None:
    """POST a signed activity and wait until the hub's worker has dealt with it."""
    status, text = await actor.post(running.hub.urls.inbox, activity)
    assert status == 202, text

    async def processed() -> bool:
        row = await inbound.get_item(running.hub.db, activity["id"])
        return row is not None and row["state"] != "pending"

    await wait_until(processed, what=f"the hub to process {activity['type']}")


async def nearby(running: RunningHub) -> tuple[str, list[dict[str, Any]]]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{running.base_url}/calendar/nearby") as response:
            assert response.status == 200 and response.content_type == "text/html"
            page = await response.text()
        async with session.get(f"{running.base_url}/calendar/nearby.json") as response:
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            events = (await response.json())["events"]
    return page, events


def gancio_activity(server: RemoteServer, name: str, days: int = 10) -> dict[str, Any]:
    activity = on_server(fixture(name), server, "gancio.example", "/federation/u/")
    activity["object"] = redated(activity["object"], days)
    return activity


async def test_gancio_events_arrive_change_and_go(hubs: HubFactory,
                                                  gancio_server: RemoteServer) -> None:
    # Given a hub following a Gancio calendar's single Application actor,
    running = await hubs()
    app = serve(gancio_server, "relay",
                on_server(fixture("gancio_actor.json"), gancio_server, "gancio.example",
                          "/federation/u/"))
    await follow(running, gancio_server, app)
    # when it publishes an event, the nearby page and JSON show it, with its origin;
    create = gancio_activity(gancio_server, "gancio_create_event.json")
    await deliver(running, app, create)
    page, events = await nearby(running)
    host = gancio_server.base_url.removeprefix("http://")
    assert "Ciclofficina aperta: ripara la tua bici" in page
    assert f"From Gancio Bologna ({host})" in page
    assert "15:00\u201319:00</time> (UTC+01:00 time)" in page
    assert day_heading(date.today() + timedelta(days=10)) in page
    [event] = events
    assert event["origin"] == {"actor": app.id, "host": host, "name": "Gancio Bologna"}
    assert event["url"] == f"{gancio_server.base_url}/event/ciclofficina-aperta-ripara-la-tua-bici"
    assert event["start"].endswith("T15:00:00+01:00") and event["timezone"] is None
    assert event["location"]["address"] == "Via Paolo Fabbri 110, Bologna"
    # when it moves the event an hour later, the page follows;
    await deliver(running, app, gancio_activity(gancio_server, "gancio_update_event.json"))
    page, events = await nearby(running)
    assert "16:00\u201320:00" in page and events[0]["start"].endswith("T16:00:00+01:00")
    # and when it deletes it (Gancio sends the whole Event, not a Tombstone), it is gone.
    await deliver(running, app, gancio_activity(gancio_server, "gancio_delete_event.json"))
    page, events = await nearby(running)
    assert events == [] and "Ciclofficina" not in page


def mobilizon_activity(server: RemoteServer, name: str, days: int = 7) -> dict[str, Any]:
    activity = on_server(fixture(name), server, "mobilizon.example", "/@")
    if isinstance(activity["object"], dict) and activity["object"]["type"] == "Event":
        activity["object"] = redated(activity["object"], days)
    return activity


def announced(server: RemoteServer, event: dict[str, Any], n: int) -> dict[str, Any]:
    """The group's relay of an event, shaped as mobilizon_announce_event.json."""
    relay = mobilizon_activity(server, "mobilizon_announce_event.json")
    return relay | {"id": f"{relay['id']}-{n}", "object": event}


async def test_mobilizon_group_events_come_through_the_group(hubs: HubFactory,
                                                             remote: RemoteServer) -> None:
    # Given a hub following a Mobilizon group, whose events its organiser sends,
    running = await hubs()
    group = serve(remote, "repair_cafe_lyon",
                  on_server(fixture("mobilizon_group_actor.json"), remote, "mobilizon.example",
                            "/@"))
    organiser = remote.actor("camille")
    await follow(running, remote, group)
    # when the organiser's Create arrives it is not taken on its own word (the hub does not
    # follow the organiser), but the group's Announce of it is;
    create = mobilizon_activity(remote, "mobilizon_create_event.json")
    await deliver(running, organiser, create)
    assert (await nearby(running))[1] == []
    await deliver(running, group, announced(remote, create["object"], 1))
    page, events = await nearby(running)
    [event] = events
    host = remote.base_url.removeprefix("http://")
    assert event["origin"] == {"actor": group.id, "host": host, "name": "Repair Café Lyon"}
    assert event["timezone"] == "Europe/Paris" and event["status"] == "scheduled"
    assert (event["capacity"], event["remaining"], event["participants"]) == (40, 28, 12)
    assert "Repair Café : on répare vos grille-pain" in page
    assert "14:00\u201317:30</time> (Europe/Paris time)" in page
    assert f"From Repair Café Lyon ({host})" in page
    # when it is cancelled (the organiser's Update reuses the Create's id, so the hub sees
    # the group's relay of it), it shows as cancelled;
    update = mobilizon_activity(remote, "mobilizon_update_event_cancelled.json")
    await deliver(running, group, announced(remote, update["object"], 2))
    page, events = await nearby(running)
    assert events[0]["status"] == "cancelled" and ">Cancelled</span>" in page
    # and when the organiser deletes it, it is gone.
    await deliver(running, organiser, mobilizon_activity(remote, "mobilizon_delete_event.json"))
    assert (await nearby(running))[1] == []


async def _person_event(running: RunningHub, remote: RemoteServer) -> tuple[RemoteActor, dict]:
    """A Mobilizon event organised by a person the hub follows (no group)."""
    person = remote.actor("camille")
    await follow(running, remote, person)
    create = mobilizon_activity(remote, "mobilizon_create_event.json")
    create["attributedTo"] = create["object"]["attributedTo"] = person.id
    await deliver(running, person, create)
    return person, create


async def test_an_update_is_taken_from_the_origin_only(hubs: HubFactory,
                                                       remote: RemoteServer) -> None:
    running = await hubs()
    person, _ = await _person_event(running, remote)
    update = mobilizon_activity(remote, "mobilizon_update_event_cancelled.json")
    update["attributedTo"] = update["object"]["attributedTo"] = person.id
    # Another account on the same server may not change it,
    mallory = remote.actor("mallory")
    forged = mallory.activity("Update", update["object"])
    await deliver(running, mallory, forged)
    row = await inbound.get_item(running.hub.db, forged["id"])
    assert row["state"] == "failed" and "may not change" in row["error"]
    assert (await nearby(running))[1][0]["status"] == "scheduled"
    # its organiser may.
    await deliver(running, person, update | {"id": f"{update['id']}#2"})
    assert (await nearby(running))[1][0]["status"] == "cancelled"


# Mobilizon gives Create and Update of an event the same id (<event>/activity, utils.ex
# make_update_data): the inbox deduplicates by id and body, so the Update is applied.
async def test_a_mobilizon_update_with_its_own_id_is_applied(hubs: HubFactory,
                                                             remote: RemoteServer) -> None:
    running = await hubs()
    person, create = await _person_event(running, remote)
    update = mobilizon_activity(remote, "mobilizon_update_event_cancelled.json")
    update["attributedTo"] = update["object"]["attributedTo"] = person.id
    assert update["id"] == create["id"]
    status, _ = await person.post(running.hub.urls.inbox, update)
    assert status == 202
    await wait_until(lambda: _no_pending(running), what="the inbox to settle")
    assert (await nearby(running))[1][0]["status"] == "cancelled"


async def _no_pending(running: RunningHub) -> bool:
    return (await inbound.counts(running.hub.db))["pending"] == 0


async def test_invalid_and_hostile_events(hubs: HubFactory,
                                          gancio_server: RemoteServer) -> None:
    running = await hubs()
    app = serve(gancio_server, "relay",
                on_server(fixture("gancio_actor.json"), gancio_server, "gancio.example",
                          "/federation/u/"))
    await follow(running, gancio_server, app)
    # An event without a start is recorded as failed, with the reason, and nothing is kept;
    broken = gancio_activity(gancio_server, "gancio_create_event.json")
    del broken["object"]["startTime"]
    await deliver(running, app, broken)
    row = await inbound.get_item(running.hub.db, broken["id"])
    assert row["state"] == "failed" and "startTime" in row["error"]
    assert await remote_events.get_remote_event(running.hub.db, broken["object"]["id"]) is None
    assert await remote_objects.get_remote_object(running.hub.db,
                                                  broken["object"]["id"]) is None
    # and script in a foreign event never reaches the page or the JSON.
    hostile = gancio_activity(gancio_server, "gancio_create_event.json")
    hostile["id"] += "-hostile"
    hostile["object"]["name"] = "Bike night<script>alert('name')</script>"
    hostile["object"]["content"] = ("<p>Fun</p><script>alert('content')</script>"
                                    "<img src=x onerror=\"alert('img')\">")
    hostile["object"]["location"]["name"] = "<script>alert('place')</script>Garage"
    await deliver(running, app, hostile)
    page, events = await nearby(running)
    assert "Bike night" in page and "Garage" in page
    assert "<script>alert" not in page and "onerror" not in page
    assert "alert(" not in json.dumps(events)


async def test_empty_nearby_calendar_says_how_to_follow_a_server(hubs: HubFactory) -> None:
    running = await hubs()
    page, events = await nearby(running)
    assert events == []
    assert "This hub follows no servers with events yet" in page
    assert "commonhub follow @group@mobilizon.example" in page


def test_the_redating_helper_keeps_local_times() -> None:
    obj = redated(fixture("mobilizon_create_event.json")["object"], 200)
    start = datetime.fromisoformat(obj["startTime"])
    assert start.astimezone(ZoneInfo("Europe/Paris")).hour == 14
    assert start.date() == date.today() + timedelta(days=200)
    assert time.time() < start.timestamp()
