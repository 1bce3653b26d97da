"""Needs between two real hubs on loopback: south publishes, north (following south) keeps
each need as a remote need, follows its edits and status changes, and drops it when south
cancels or removes it. No delivery ever carries the neighbour's private notes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import pytest

from federation.errors import ForbiddenActivity
from hub.needs.matching import to_matcher_need
from hub.needs.remote import receive_need
from hub.store import needs as needs_store
from hub.store.needs import RemoteNeed
from tests.hub.needs.factories import (
    NEIGHBOUR_NOTES,
    enhanced_check,
    one_off_need,
    regular_need,
    volunteer,
)
from tests.hub.test_two_hubs import _follows
from tests.support.hubs import RunningHub, wait_until

HubFactory = Callable[..., Awaitable[RunningHub]]
SECRETS = ("Kaur", "Cranbrook", "07700", "4DU", "4471", "private_notes")


async def _remote(hub: RunningHub, object_id: str,
                  check: Callable[[RemoteNeed], bool] = lambda n: True) -> RemoteNeed:
    async def arrived() -> RemoteNeed | None:
        need = await needs_store.get_remote_need(hub.hub.db, object_id)
        return need if need is not None and check(need) else None

    return await wait_until(arrived, what=f"{object_id} at {hub.settings.name}")


async def _bodies(hub: RunningHub) -> list[str]:
    rows = await hub.hub.db.fetchall("SELECT body FROM outbox ORDER BY id")
    return [r["body"] if isinstance(r["body"], str) else bytes(r["body"]).decode()
            for r in rows]


async def test_a_need_and_its_changes_reach_a_following_hub(hubs: HubFactory) -> None:
    north, south = await hubs("north"), await hubs("south")
    await _follows(north, south)

    # When south posts a regular befriending need, north stores it as a remote need,
    status, need = await south.api("POST", "/api/v1/needs", regular_need())
    assert status == 201, need
    remote = await _remote(north, need["url"])
    assert remote.actor == south.actor_url and remote.status == "open"
    assert remote.draft.title == "Weekly befriending"
    assert remote.draft.checks_required == ("dbs_enhanced_adult",)
    assert remote.draft.slots == {"tue": ("afternoon",)}
    assert remote.draft.private_notes == ""
    # which north's matcher reads as a neighbour's need.
    matcher_need = to_matcher_need(remote)
    assert matcher_need.from_neighbour_hub and matcher_need.id == need["url"]
    status, listed = await north.api("GET", "/api/v1/remote-needs")
    assert [n["id"] for n in listed["items"]] == [need["url"]]

    # North ranks its own volunteers for it: only those who consented to neighbours' needs.
    for name, consents in (("Ann Neighbourly", {"match_here": True, "match_neighbours": True}),
                           ("Bea Homebody", {"match_here": True})):
        status, made = await north.api("POST", "/api/v1/volunteers",
                                       volunteer(name, consents=consents))
        assert status == 201
        await north.api("POST", f"/api/v1/volunteers/{made['id']}/checks", enhanced_check())
    status, ranked = await north.api(
        "GET", f"/api/v1/remote-needs/candidates?id={quote(need['url'])}&excluded=true")
    assert status == 200, ranked
    assert [c["name"] for c in ranked["candidates"]] == ["Ann Neighbourly"]
    assert ranked["excluded"][0]["excluded_because"] == [
        "did not consent to matching for neighbouring hubs"]
    status, _ = await north.api("GET", "/api/v1/remote-needs/candidates?id=http://x.example/1")
    assert status == 404

    # An edit and a status change arrive as Update.
    status, _ = await south.api("PATCH", f"/api/v1/needs/{need['id']}",
                                {"title": "Weekly befriending and crosswords"})
    assert status == 200
    await _remote(north, need["url"],
                  lambda n: n.draft.title == "Weekly befriending and crosswords")
    status, _ = await south.api("POST", f"/api/v1/needs/{need['id']}/status",
                                {"status": "matching"})
    assert status == 200
    await _remote(north, need["url"], lambda n: n.status == "matching")

    # An edit of the private notes alone sends nothing.
    sent = len(await _bodies(south))
    status, _ = await south.api("PATCH", f"/api/v1/needs/{need['id']}",
                                {"private_notes": NEIGHBOUR_NOTES + " (prefers mornings)"})
    assert status == 200 and len(await _bodies(south)) == sent

    # Cancelling sends Delete: north marks it deleted and lists it no more.
    status, _ = await south.api("POST", f"/api/v1/needs/{need['id']}/status",
                                {"status": "cancelled"})
    assert status == 200
    await _remote(north, need["url"], lambda n: n.deleted)
    status, listed = await north.api("GET", "/api/v1/remote-needs")
    assert listed["items"] == []

    # A one-off need removed outright goes the same way.
    status, other = await south.api("POST", "/api/v1/needs", one_off_need())
    assert status == 201
    await _remote(north, other["url"])
    status, _ = await south.api("DELETE", f"/api/v1/needs/{other['id']}")
    assert status == 200
    await _remote(north, other["url"], lambda n: n.deleted)

    kinds = [r["type"] for r in await south.hub.db.fetchall(
        "SELECT type FROM outbox WHERE object_id IN (?, ?) ORDER BY id",
        (need["url"], other["url"]))]
    assert kinds == ["Create", "Update", "Update", "Delete", "Create", "Delete"]
    # No delivery body ever carried the neighbour's details.
    for body in await _bodies(south):
        for secret in SECRETS:
            assert secret not in body, secret


async def test_needs_from_hubs_not_followed_are_not_kept(hubs: HubFactory) -> None:
    north, south = await hubs("north"), await hubs("south")
    await _follows(south, north)  # south follows north, not the other way round
    status, need = await north.api("POST", "/api/v1/needs", regular_need())
    assert status == 201
    await _remote(south, need["url"])
    status, need = await south.api("POST", "/api/v1/needs", regular_need())
    assert status == 201
    assert await needs_store.get_remote_need(north.hub.db, need["url"]) is None


async def test_only_the_origin_hub_changes_its_need(hubs: HubFactory) -> None:
    north, south = await hubs("north"), await hubs("south")
    await _follows(north, south)
    status, need = await south.api("POST", "/api/v1/needs", regular_need())
    assert status == 201
    await _remote(north, need["url"])
    # A forged Update from another actor is refused by the handler (same-origin rule).
    stored = await needs_store.get_remote_need(north.hub.db, need["url"])
    assert stored is not None
    forged: dict[str, Any] = {**stored.raw, "name": "Forged"}
    with pytest.raises(ForbiddenActivity):
        await receive_need(north.hub, forged, "http://127.0.0.1:9/actors/x")
    kept = await needs_store.get_remote_need(north.hub.db, need["url"])
    assert kept is not None and kept.draft.title == "Weekly befriending"
