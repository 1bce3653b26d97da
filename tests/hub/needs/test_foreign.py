"""Needs-shaped objects from a foreign server the hub follows: a well-formed one is kept, a
malformed one is refused with its reason and leaves nothing, and look-alikes (a marketplace
Proposal with a type array, not a need) are handled as ordinary objects, never a crash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hub.store import follows as follow_store
from hub.store import needs as needs_store
from hub.store import remote_objects
from tests.support.hubs import RunningHub, wait_until
from tests.support.remote import RemoteActor, RemoteServer

HubFactory = Callable[..., Awaitable[RunningHub]]


async def _followed(running: RunningHub, remote: RemoteServer) -> RemoteActor:
    actor = remote.actor("market")
    status, _ = await running.api("POST", "/api/v1/following", {"target": actor.id})
    assert status == 202

    async def follow_sent() -> list[dict[str, Any]]:
        return [a for a in remote.received if a["type"] == "Follow"]

    follow = (await wait_until(follow_sent, what="the hub's Follow"))[0]
    assert (await actor.post(running.hub.urls.inbox, actor.activity("Accept", follow)))[0] == 202

    async def accepted() -> bool:
        row = await follow_store.get_following(running.hub.db, actor.id)
        return row is not None and row["state"] == "accepted"

    await wait_until(accepted, what="the Accept")
    return actor


async def _outcome(running: RunningHub, activity_id: str) -> tuple[str, str | None]:
    async def done() -> tuple[str, str | None] | None:
        row = await running.hub.db.fetchone(
            "SELECT state, error FROM inbound WHERE activity_id = ?", (activity_id,))
        return None if row is None or row["state"] == "pending" else (row["state"], row["error"])

    return await wait_until(done, what=f"{activity_id} processed")


def _need(actor: RemoteActor, number: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"{actor.id}/needs/{number}", "type": ["Page", "Proposal"],
            "attributedTo": actor.id, "name": "Dog walking, Saturdays",
            "ch:needKind": "regular", "ch:startsOn": "2030-01-05",
            "ch:weeklySlots": ["sat-morning"], "ch:skills": ["dog-walking", "unknown-skill"],
            "ch:checksRequired": ["dbs_basic", "local_police_vetting"],
            "content": "<p>Walk <b>Rex</b>.</p>", **extra}


async def test_foreign_needs_and_look_alikes(hubs: HubFactory, remote: RemoteServer) -> None:
    running = await hubs()
    actor = await _followed(running, remote)
    inbox = running.hub.urls.inbox

    good = actor.activity("Create", _need(actor, 1))
    broken = actor.activity("Create", _need(actor, 2, **{"ch:weeklySlots": "whenever"}))
    proposal = {"id": f"{actor.id}/proposals/1", "type": ["Note", "Proposal"],
                "purpose": "offer", "attributedTo": actor.id, "content": "Used bike"}
    look_alike = actor.activity("Create", proposal)
    for activity in (good, broken, look_alike):
        assert (await actor.post(inbox, activity))[0] == 202

    # A well-formed need is kept: unknown skills dropped, every check kept.
    assert (await _outcome(running, good["id"]))[0] == "done"
    kept = await needs_store.get_remote_need(running.hub.db, f"{actor.id}/needs/1")
    assert kept is not None and kept.draft.skills == ("dog-walking",)
    assert kept.draft.checks_required == ("dbs_basic", "local_police_vetting")
    assert kept.draft.description == "Walk Rex."

    # A malformed one is refused with the reason, and nothing is kept.
    state, error = await _outcome(running, broken["id"])
    assert state == "failed" and "slots" in (error or "")
    assert await needs_store.get_remote_need(running.hub.db, f"{actor.id}/needs/2") is None

    # A marketplace Proposal is no need: kept as an ordinary object, without a crash.
    state, error = await _outcome(running, look_alike["id"])
    assert state == "done", error
    assert await remote_objects.get_remote_object(running.hub.db, proposal["id"]) is not None

    # Deleting the kept need from its server drops it.
    delete = actor.activity("Delete", {"id": f"{actor.id}/needs/1", "type": "Tombstone"})
    assert (await actor.post(inbox, delete))[0] == 202
    assert (await _outcome(running, delete["id"]))[0] == "done"
    gone = await needs_store.get_remote_need(running.hub.db, f"{actor.id}/needs/1")
    assert gone is not None and gone.deleted
