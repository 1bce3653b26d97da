"""The needs API on a real hub: the lifecycle with 409s, the check policy, personal-detail
warnings, the ranked candidate list with reasons, and private notes kept to staff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import aiohttp
import orjson
import pytest

from hub.needs import service
from hub.store import audit
from hub.store import follows as follow_store
from tests.hub.events.factories import draft_input
from tests.hub.needs.factories import (
    NEIGHBOUR_NOTES,
    enhanced_check,
    one_off_need,
    regular_need,
    volunteer,
)
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]


async def _get(url: str, accept: str = "text/html") -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(
            url, headers={"Accept": accept}) as response:
        return response.status, await response.text()


async def _post_need(hub: RunningHub, data: dict[str, Any]) -> dict[str, Any]:
    status, need = await hub.api("POST", "/api/v1/needs?confirm=true", data)
    assert status == 201, need
    return need


async def test_a_need_moves_through_its_lifecycle_and_refuses_other_moves(
        hubs: HubFactory) -> None:
    hub = await hubs("north")
    need = await _post_need(hub, one_off_need())
    assert need["status"] == "open" and need["allowed_statuses"] == [
        "matching", "filled", "cancelled"]
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[
        date.fromisoformat(need["on_date"]).weekday()]
    assert need["slots"] == {weekday: ["morning"]}  # 10:00-11:30, from the time window
    path = f"/api/v1/needs/{need['id']}"

    status, body = await hub.api("POST", path + "/status", {"status": "closed"})
    assert status == 409
    assert body["status"] == "open" and body["allowed"] == ["matching", "filled", "cancelled"]
    assert "cannot become closed" in body["error"]

    for step in ("matching", "filled"):
        status, body = await hub.api("POST", path + "/status", {"status": step})
        assert status == 200 and body["status"] == step
    assert body["filled_at"] is not None and body["time_to_fill_seconds"] >= 0
    status, body = await hub.api("POST", path + "/status", {"status": "closed"})
    assert status == 200 and body["closed_at"] is not None and body["allowed_statuses"] == []

    status, body = await hub.api("POST", path + "/status", {"status": "open"})
    assert status == 409 and body["allowed"] == []
    status, body = await hub.api("PATCH", path, {"title": "Too late"})
    assert status == 409 and "cannot be edited" in body["error"]
    status, body = await hub.api("POST", path + "/status", {"status": "done"})
    assert status == 400 and body["field"] == "status"
    status, body = await hub.api("POST", path + "/status", {"status": "open", "why": "x"})
    assert status == 400 and body["field"] == "why"


async def test_bad_input_is_refused_with_the_field_and_nothing_is_stored(
        hubs: HubFactory) -> None:
    hub = await hubs("north")
    for data, field in ((one_off_need(on_date=None), "on_date"),
                        (regular_need(slots={}), "slots"),
                        ({"kind": "group_role", "title": "Tea urn", "on_date": "2030-01-01",
                          "start_time": "10:00", "end_time": "11:00"}, "event"),
                        (one_off_need(checks_required=["dbs_gold"]), "checks_required")):
        status, body = await hub.api("POST", "/api/v1/needs?confirm=true", data)
        assert status == 400 and body["field"] == field, body
    status, body = await hub.api("POST", "/api/v1/needs?confirm=maybe", one_off_need())
    assert status == 400
    assert await hub.hub.db.fetchval("SELECT count(*) FROM needs") == 0
    status, _ = await hub.api("GET", "/api/v1/needs/0b6f0a4e-9a3e-4d7e-8f0e-5b0c9e3d2a11")
    assert status == 404


async def test_hub_policy_checks_are_always_carried(hubs: HubFactory) -> None:
    hub = await hubs("north", need_checks_one_off="dbs_basic")
    need = await _post_need(hub, regular_need(checks_required=["dbs_basic"]))
    assert need["checks_required"] == ["dbs_enhanced_adult", "dbs_basic"]
    status, edited = await hub.api("PATCH", f"/api/v1/needs/{need['id']}?confirm=true",
                                   {"checks_required": []})
    assert status == 200 and edited["checks_required"] == ["dbs_enhanced_adult"]
    one_off = await _post_need(hub, one_off_need())
    assert one_off["checks_required"] == ["dbs_basic"]


async def test_personal_details_in_public_text_need_confirming(hubs: HubFactory) -> None:
    hub = await hubs("north")
    data = one_off_need(description="Ring her on 07700 900123 or mail k@example.org first.")
    status, body = await hub.api("POST", "/api/v1/needs", data)
    assert status == 422
    assert {(w["field"], w["kind"]) for w in body["warnings"]} == {
        ("description", "phone"), ("description", "email")}
    assert await hub.hub.db.fetchval("SELECT count(*) FROM needs") == 0

    # Private notes are where these belong: they never raise a warning.
    status, clean = await hub.api("POST", "/api/v1/needs", one_off_need())
    assert status == 201 and clean["warnings"] == []

    # Staff may still save after seeing the warnings.
    status, saved = await hub.api("POST", "/api/v1/needs?confirm=true", data)
    assert status == 201 and len(saved["warnings"]) == 2
    status, body = await hub.api("PATCH", f"/api/v1/needs/{clean['id']}",
                                 {"title": "Shopping for 14 High Street"})
    assert status == 422 and body["warnings"][0]["kind"] == "address"


async def test_private_notes_are_for_staff_only(hubs: HubFactory) -> None:
    hub = await hubs("north")
    need = await _post_need(hub, regular_need())
    status, read = await hub.api("GET", f"/api/v1/needs/{need['id']}")
    assert status == 200 and read["private_notes"] == NEIGHBOUR_NOTES
    status, page = await _get(need["url"])
    assert status == 200 and "Weekly befriending" in page and "IG1" in page
    assert f'href="{hub.base_url}/volunteer"' in page  # how to offer help
    status, doc = await _get(need["url"], "application/activity+json")
    assert status == 200
    for secret in ("Kaur", "Cranbrook", "07700", "4DU", "4471"):
        assert secret not in page and secret not in doc
    # No staff token: no need.
    async with aiohttp.ClientSession() as session, session.get(
            hub.base_url + f"/api/v1/needs/{need['id']}") as response:
        assert response.status == 401


async def test_cancelled_and_removed_needs_are_gone_from_public_view(hubs: HubFactory) -> None:
    hub = await hubs("north")
    need = await _post_need(hub, one_off_need())
    status, _ = await hub.api("POST", f"/api/v1/needs/{need['id']}/status",
                              {"status": "cancelled"})
    assert status == 200
    status, doc = await _get(need["url"], "application/activity+json")
    assert status == 410 and '"Tombstone"' in doc
    status, body = await hub.api("DELETE", f"/api/v1/needs/{need['id']}")
    assert status == 200 and body["deleted_at"] is not None
    status, _ = await hub.api("GET", f"/api/v1/needs/{need['id']}")
    assert status == 404
    status, listed = await hub.api("GET", "/api/v1/needs")
    assert listed["items"] == []


async def test_the_ranked_list_gives_reasons_and_says_why_others_are_left_out(
        hubs: HubFactory) -> None:
    hub = await hubs("north")
    ids: dict[str, str] = {}
    for name, extra in (("Ravi Near", {"languages": ["en", "pa"]}),
                        ("Sue Far", {"latitude": 51.60, "longitude": 0.12}),
                        ("Tom Unchecked", {}),
                        ("Una Private", {"consents": {"match_here": False}}),
                        ("Vic Busy", {"availability": {"mon": ["morning"]}})):
        status, made = await hub.api("POST", "/api/v1/volunteers", volunteer(name, **extra))
        assert status == 201, made
        ids[name] = made["id"]
        if name != "Tom Unchecked":
            status, _ = await hub.api("POST", f"/api/v1/volunteers/{made['id']}/checks",
                                      enhanced_check())
            assert status == 201
    need = await _post_need(hub, regular_need())

    status, body = await hub.api("GET", f"/api/v1/needs/{need['id']}/candidates?excluded=true")
    assert status == 200, body
    ranked = body["candidates"]
    assert [c["name"] for c in ranked] == ["Ravi Near", "Sue Far"]
    assert [c["rank"] for c in ranked] == [1, 2]
    assert ranked[0]["reasons"][0].endswith("km away")
    assert "shares: befriending" in ranked[0]["reasons"]
    assert "speaks Punjabi" in ranked[0]["reasons"]
    assert ranked[0]["distance_km"] < ranked[1]["distance_km"]
    why = {c["name"]: c["excluded_because"] for c in body["excluded"]}
    assert any("enhanced DBS" in r for r in why["Tom Unchecked"])
    assert why["Una Private"] == ["did not consent to matching here"]
    assert why["Vic Busy"] == ["not free at the times needed"]
    actions = [e.action for e in await audit.recent(hub.hub.db, action="need.candidates")]
    assert actions == ["need.candidates"]

    # A lapsed check stops matching; the pool follows the change without a restart.
    status, checks = await hub.api("GET", f"/api/v1/volunteers/{ids['Ravi Near']}/export")
    check_id = checks["checks"][0]["id"]
    status, _ = await hub.api("DELETE",
                              f"/api/v1/volunteers/{ids['Ravi Near']}/checks/{check_id}")
    assert status == 200
    status, body = await hub.api("GET", f"/api/v1/needs/{need['id']}/candidates")
    assert [c["name"] for c in body["candidates"]] == ["Sue Far"]
    assert body["excluded"] is None


async def test_a_group_role_takes_its_date_and_times_from_its_activity(
        hubs: HubFactory) -> None:
    hub = await hubs("north")
    status, event = await hub.api("POST", "/api/v1/events", draft_input(
        start="2030-12-07T14:00", end="2030-12-07T16:00"))
    assert status == 201, event
    need = await _post_need(hub, {"kind": "group_role", "title": "Make the tea",
                                  "event": event["id"], "skills": ["refreshments"]})
    assert (need["on_date"], need["start_time"], need["end_time"]) == (
        "2030-12-07", "14:00", "16:00")
    assert need["event"] == event["id"] and need["slots"] == {"sat": ["afternoon"]}
    status, _ = await hub.api("DELETE", f"/api/v1/events/{event['id']}")
    assert status == 200
    status, body = await hub.api("POST", "/api/v1/needs", {
        "kind": "group_role", "title": "Wash up", "event": event["id"]})
    assert status == 400 and body["field"] == "event"


async def _outbox_types(hub: RunningHub, need_id: str) -> list[str]:
    rows = await hub.hub.db.fetchall("SELECT type FROM outbox WHERE object_id LIKE ? "
                                     "ORDER BY id", (f"%{need_id}",))
    return [row["type"] for row in rows]


async def test_a_change_is_stored_only_with_the_activity_that_tells_followers(
        hubs: HubFactory) -> None:
    """Each change and its Create, Update or Delete are one transaction: if either cannot be
    written, neither is, and the need reads as it was."""
    hub = await hubs("north")
    need = await _post_need(hub, one_off_need())
    path = f"/api/v1/needs/{need['id']}"
    assert await _outbox_types(hub, need["id"]) == ["Create"]

    await hub.hub.db.execute("CREATE TEMP TRIGGER no_outbox BEFORE INSERT ON outbox "
                             "BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    for method, url, data in (("POST", "/api/v1/needs?confirm=true", one_off_need()),
                              ("POST", path + "/status", {"status": "cancelled"}),
                              ("POST", path + "/status", {"status": "filled"}),
                              ("PATCH", path + "?confirm=true", {"title": "Changed"}),
                              ("DELETE", path, None)):
        status, _ = await hub.api(method, url, data)
        assert status == 500, (method, url)
    status, body = await hub.api("GET", path)
    assert status == 200 and body["status"] == "open" and body["title"] == need["title"]
    assert await hub.hub.db.fetchval("SELECT count(*) FROM needs") == 1
    await hub.hub.db.execute("DROP TRIGGER temp.no_outbox")

    await hub.hub.db.execute("CREATE TEMP TRIGGER no_move BEFORE UPDATE ON needs "
                             "BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    status, _ = await hub.api("POST", path + "/status", {"status": "filled"})
    assert status == 500
    assert await _outbox_types(hub, need["id"]) == ["Create"]
    await hub.hub.db.execute("DROP TRIGGER temp.no_move")

    status, body = await hub.api("POST", path + "/status", {"status": "cancelled"})
    assert status == 200 and body["status"] == "cancelled"
    assert await _outbox_types(hub, need["id"]) == ["Create", "Delete"]


async def _last_update(hub: RunningHub) -> dict[str, Any]:
    body = await hub.hub.db.fetchval("SELECT body FROM outbox ORDER BY id DESC LIMIT 1")
    return orjson.loads(body)["object"]


async def test_an_edit_racing_a_move_tells_followers_the_need_as_stored(
        hubs: HubFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each activity is built from the need as written in its own transaction: an edit whose
    # checks were under way when staff marked the need filled says "filled", not "open".
    hub = await hubs("north")
    need = await _post_need(hub, one_off_need())
    checks = service._prepare

    async def move_meanwhile(*args: Any, **kwargs: Any) -> Any:
        prepared = await checks(*args, **kwargs)
        monkeypatch.setattr(service, "_prepare", checks)
        await service.change_status(hub.hub, need["id"], "filled")
        return prepared

    monkeypatch.setattr(service, "_prepare", move_meanwhile)
    edited, _ = await service.update_need(hub.hub, need["id"], {"title": "New title"},
                                          confirmed=True)
    assert (edited.status, edited.draft.title) == ("filled", "New title")
    sent = await _last_update(hub)
    assert (sent["ch:needStatus"], sent["name"]) == ("filled", "New title")

    # And a move whose followers were being read when an edit landed sends the new text.
    followers = follow_store.follower_inboxes

    async def edit_meanwhile(db: Any) -> list[str]:
        monkeypatch.setattr(follow_store, "follower_inboxes", followers)
        await service.update_need(hub.hub, need["id"], {"title": "Newer title"},
                                  confirmed=True)
        return await followers(db)

    monkeypatch.setattr(follow_store, "follower_inboxes", edit_meanwhile)
    await service.change_status(hub.hub, need["id"], "closed")
    sent = await _last_update(hub)
    assert (sent["ch:needStatus"], sent["name"]) == ("closed", "Newer title")
