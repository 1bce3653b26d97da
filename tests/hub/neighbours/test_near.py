"""Search without a centre: what's on, and help wanted, near a postcode district or point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from hub.events.remote import parse_remote_event
from hub.neighbours.postcodes import district_point
from hub.store import follows as follow_store
from hub.store import remote_events
from tests.support.hubs import RunningHub

ORIGIN = "https://lambeth.example/actors/lambeth"


async def _get(running: RunningHub, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(running.base_url + path) as r:
        body = await (r.json() if path.split("?")[0].endswith(".json") else r.text())
        return r.status, body


async def _events(running: RunningHub) -> None:
    db = running.hub.db
    await follow_store.add_following(db, ORIGIN, f"{ORIGIN}#follow")
    await follow_store.set_following_state(db, ORIGIN, "accepted")
    now = datetime.now(UTC)
    places = {"brixton-swap": (51.462, -0.114, 2), "clapham-choir": (51.462, -0.138, 3),
              "far-walk": (51.60, -0.10, 1), "next-month": (51.468, -0.114, 30)}
    for name, (lat, lon, days) in places.items():
        doc = {"id": f"https://lambeth.example/events/{name}", "type": "Event", "name": name,
               "startTime": (now + timedelta(days=days)).isoformat(),
               "location": {"type": "Place", "name": name, "latitude": lat, "longitude": lon}}
        assert await remote_events.save_remote_event(db, parse_remote_event(doc, ORIGIN), doc)


async def test_whats_on_near_a_district_this_week(hubs) -> None:
    running = await hubs("stockwell", area_name="Stockwell", area_latitude=51.468,
                         area_longitude=-0.114, area_radius_km=2, neighbourhood_radius_km=5)
    await _events(running)
    # Near SW9 (Stockwell) within 5 km this week: nearest first, the far and late ones out,
    status, body = await _get(running, "/calendar/nearby.json?near=sw9")
    assert status == 200
    assert body["search"]["centre"]["district"] == "SW9" and body["search"]["days"] == 7
    assert [e["name"] for e in body["events"]] == ["brixton-swap", "clapham-choir"]
    assert body["events"][0]["distance_km"] < body["events"][1]["distance_km"] < 5
    # a point and a wider radius and window bring the others in,
    status, body = await _get(running,
                              "/calendar/nearby.json?lat=51.468&lon=-0.114&km=20&days=40")
    assert [e["name"] for e in body["events"]] == ["next-month", "brixton-swap",
                                                   "clapham-choir", "far-walk"]
    # the page says the same in words,
    status, page = await _get(running, "/calendar/nearby?near=SW9")
    assert status == 200 and "near SW9 (Stockwell)" in page
    assert page.index("brixton-swap") < page.index("clapham-choir") and "far-walk" not in page
    # and bad places are refused with a reason.
    for query, reason in (("near=ZZ99", "unknown postcode district"),
                          ("lat=51.5", "both lat and lon"), ("near=SW9&km=-3", "km must be"),
                          ("near=SW9&days=x", "days must be")):
        status, body = await _get(running, f"/calendar/nearby.json?{query}")
        assert status == 400 and reason in body["error"], query


async def test_needs_near_a_district(hubs) -> None:
    running = await hubs("ilford", area_latitude=51.558, area_longitude=0.072,
                         area_radius_km=2)
    base = {"kind": "one_off", "on_date": (datetime.now(UTC) + timedelta(days=5)).date()
            .isoformat(), "start_time": "10:00", "end_time": "12:00"}
    for title, district in (("Shopping run", "IG1"), ("Garden tidy", "IG11"),
                            ("Lift to clinic", "E17")):
        status, body = await running.api("POST", "/api/v1/needs",
                                         {**base, "title": title, "district": district})
        assert status == 201, body
    status, body = await _get(running, "/needs/nearby.json?near=IG1&km=4")
    assert status == 200
    assert [(n["title"], n["local"]) for n in body["needs"]] == [
        ("Shopping run", True), ("Garden tidy", True)]
    status, page = await _get(running, "/needs/nearby?near=IG1&km=4")
    assert status == 200 and "Garden tidy" in page and "Lift to clinic" not in page


def test_districts_and_sub_districts() -> None:
    assert district_point("sw1a")[0] == "SW1" and district_point(" E8 ")[0] == "E8"
    assert district_point("ZZ9") is None


async def test_the_searches_are_described_in_openapi(hubs) -> None:
    running = await hubs()
    status, spec = await running.api("GET", "/api/openapi.json")
    assert status == 200
    for path in ("/calendar/nearby.json", "/needs/nearby.json"):
        operation = spec["paths"][path]["get"]
        assert operation["security"] == [] and "near" in {p["name"] for p in
                                                          operation["parameters"]}
