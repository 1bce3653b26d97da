"""The volunteers API on a real hub: staff CRUD, checks, export, erasure, the volunteer's own
link, and an audit row for every staff read or change."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from hub.store import audit
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]
PERSONAL = ("Asha Patel", "asha.patel@example.org", "+44 20 7946 0321", "@asha@social.example")


def volunteer_input(**fields: Any) -> dict[str, Any]:
    return {"name": PERSONAL[0], "email": PERSONAL[1], "phone": PERSONAL[2],
            "handle": PERSONAL[3], "latitude": 51.558734, "longitude": 0.071289,
            "skills": ["lifts-driving"], "interests": ["gardening"], "tags": ["cats"],
            "languages": ["en", "gu"], "availability": {"sat": ["morning"]},
            "max_commitments": 2, "consents": {"match_here": True}, **fields}


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


async def _request(method: str, url: str, json: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.request(
            method, url, json=json) as response:
        if response.content_type != "application/json":
            return response.status, await response.text()  # error pages for people are HTML
        return response.status, await response.json()


async def _counts(hub: RunningHub) -> tuple[int, int]:
    db = hub.hub.db
    return (int(await db.fetchval("SELECT count(*) FROM volunteers")),
            int(await db.fetchval("SELECT count(*) FROM volunteer_checks")))


async def test_staff_create_read_correct_and_list(hubs: HubFactory) -> None:
    hub = await hubs("north")
    status, made = await hub.api("POST", "/api/v1/volunteers", volunteer_input())
    assert status == 201, made
    assert (made["latitude"], made["longitude"]) == (51.56, 0.07)
    assert made["consents"] == {"match_here": True, "match_neighbours": False,
                                "contact_by_dm": False}
    path = f"/api/v1/volunteers/{made['id']}"
    status, fixed = await hub.api("PATCH", path, {"district": "ig2", "references_received": 2})
    assert status == 200 and fixed["district"] == "IG2" and fixed["references_received"] == 2
    status, read = await hub.api("GET", path)
    assert read == fixed
    status, listed = await hub.api("GET", "/api/v1/volunteers?skill=gardening&district=IG2")
    assert [v["id"] for v in listed["items"]] == [made["id"]]
    status, listed = await hub.api("GET", "/api/v1/volunteers?skill=befriending")
    assert listed["items"] == []


async def test_bad_input_names_the_field_and_stores_nothing(hubs: HubFactory) -> None:
    hub = await hubs("north")
    for change, field in (({"district": "IG1 4AB", "latitude": None, "longitude": None},
                           "district"),
                          ({"availability": {"mon": ["night"]}}, "availability"),
                          ({"max_commitments": 0}, "max_commitments"),
                          ({"certificate_number": "0012"}, "certificate_number")):
        status, answer = await hub.api("POST", "/api/v1/volunteers", volunteer_input(**change))
        assert (status, answer["field"]) == (400, field), answer
    _, made = await hub.api("POST", "/api/v1/volunteers", volunteer_input())
    checks = f"/api/v1/volunteers/{made['id']}/checks"
    for body, field in (({"type": "dbs_basic", "checked_on": _day(-10),
                          "renewal_on": _day(-20), "decision": "clear"}, "renewal_on"),
                        ({"type": "dbs_gold", "checked_on": _day(-10),
                          "renewal_on": _day(900), "decision": "clear"}, "type")):
        status, answer = await hub.api("POST", checks, body)
        assert (status, answer["field"]) == (400, field)
    status, answer = await hub.api("PATCH", f"/api/v1/volunteers/{made['id']}",
                                   {"email": None, "handle": None})
    assert (status, answer["field"]) == (400, "email")
    assert await _counts(hub) == (1, 0)
    _, read = await hub.api("GET", f"/api/v1/volunteers/{made['id']}")
    assert read["email"] == PERSONAL[1]


async def _populate(hub: RunningHub) -> str:
    _, made = await hub.api("POST", "/api/v1/volunteers", volunteer_input())
    base = f"/api/v1/volunteers/{made['id']}"
    status, check = await hub.api("POST", f"{base}/checks", {
        "type": "dbs_enhanced_adult", "checked_on": _day(-1000), "renewal_on": _day(10),
        "decision": "clear"})
    assert status == 201 and check["status"] == "clear", check
    status, _ = await hub.api("POST", f"{base}/training", {
        "course": "safeguarding_adults", "completed_on": _day(-30)})
    assert status == 201
    await hub.api("PATCH", base, {"consents": {"match_here": False, "contact_by_dm": True}})
    return str(made["id"])


async def test_export_holds_everything(hubs: HubFactory) -> None:
    hub = await hubs("north")
    volunteer_id = await _populate(hub)
    status, export = await hub.api("GET", f"/api/v1/volunteers/{volunteer_id}/export")
    assert status == 200
    assert (export["name"], export["email"], export["phone"], export["handle"]) == PERSONAL
    assert export["pseudonym"] and export["availability"] == {"sat": ["morning"]}
    assert [c["type"] for c in export["checks"]] == ["dbs_enhanced_adult"]
    assert [t["course"] for t in export["training"]] == ["safeguarding_adults"]
    assert [(c["consent"], c["given"]) for c in export["consent_history"]] == [
        ("match_here", True), ("match_here", False), ("contact_by_dm", True)]
    status, lapsing = await hub.api("GET", "/api/v1/checks/lapsing?within_days=30")
    assert [(i["volunteer"], i["reminder"]) for i in lapsing["items"]] == [
        (volunteer_id, "lapsing")]


def _rows_mentioning(path: Path, needles: tuple[str, ...]) -> list[str]:
    with sqlite3.connect(path) as raw:
        dump = list(raw.iterdump())
    return [line for line in dump if any(n.lower() in line.lower() for n in needles)]


async def test_delete_leaves_no_personal_data(hubs: HubFactory) -> None:
    hub = await hubs("north")
    volunteer_id = await _populate(hub)
    assert _rows_mentioning(hub.hub.db.path, PERSONAL)
    status, answer = await hub.api("DELETE", f"/api/v1/volunteers/{volunteer_id}")
    assert status == 200 and answer["deleted_at"]
    assert _rows_mentioning(hub.hub.db.path, PERSONAL) == []
    assert await _counts(hub) == (0, 0)
    status, _ = await hub.api("GET", f"/api/v1/volunteers/{volunteer_id}")
    assert status == 410


async def test_the_volunteers_own_link(hubs: HubFactory) -> None:
    hub = await hubs("north")
    volunteer_id = await _populate(hub)
    status, link = await hub.api("POST", f"/api/v1/volunteers/{volunteer_id}/access-link")
    assert status == 201 and link["url"].startswith(f"{hub.base_url}/me/")
    token = link["url"].rsplit("/", 1)[1]
    assert _rows_mentioning(hub.hub.db.path, (token,)) == []  # only its hash is stored
    status, mine = await _request("GET", link["url"])
    assert status == 200 and mine["name"] == PERSONAL[0]
    status, mine = await _request("PATCH", link["url"], {"phone": None,
                                                         "consents": {"match_neighbours": True}})
    assert status == 200 and mine["phone"] is None and mine["consents"]["match_neighbours"]
    status, refused = await _request("PATCH", link["url"], {"references_received": 5})
    assert (status, refused["field"]) == (400, "references_received")
    status, export = await _request("GET", link["url"] + "/export")
    assert status == 200 and export["checks"] and len(export["consent_history"]) == 4
    status, _ = await _request("DELETE", link["url"])
    assert status == 200 and await _counts(hub) == (0, 0)
    status, _ = await _request("GET", link["url"])
    assert status == 404
    status, _ = await _request("GET", f"{hub.base_url}/me/not-a-token")
    assert status == 404


async def test_a_new_link_replaces_the_old(hubs: HubFactory) -> None:
    hub = await hubs("north")
    volunteer_id = await _populate(hub)
    _, first = await hub.api("POST", f"/api/v1/volunteers/{volunteer_id}/access-link")
    _, second = await hub.api("POST", f"/api/v1/volunteers/{volunteer_id}/access-link")
    assert (await _request("GET", first["url"]))[0] == 404
    assert (await _request("GET", second["url"]))[0] == 200


async def test_staff_reads_and_changes_are_audited(hubs: HubFactory) -> None:
    hub = await hubs("north")
    volunteer_id = await _populate(hub)
    base = f"/api/v1/volunteers/{volunteer_id}"
    await hub.api("GET", base)
    await hub.api("GET", f"{base}/export")
    await hub.api("GET", "/api/v1/volunteers")
    await hub.api("DELETE", base)
    entries = list(reversed(await audit.recent(hub.hub.db, limit=50)))
    assert [e.action for e in entries] == [
        "volunteer.create", "volunteer.check.record", "volunteer.training.record",
        "volunteer.update", "volunteer.read", "volunteer.export", "volunteer.list",
        "volunteer.delete"]
    assert all(e.detail["via"] == "api" and e.detail["token"] for e in entries)
    assert entries[3].detail["fields"] == ["consents"]
    assert not [e for e in entries if any(p in str(e.detail) for p in PERSONAL)]


async def test_the_staff_api_needs_a_token(hubs: HubFactory) -> None:
    hub = await hubs("north")
    status, _ = await _request("GET", f"{hub.base_url}/api/v1/volunteers")
    assert status == 401
