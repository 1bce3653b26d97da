"""Staff JSON API for asking volunteers, choosing among candidates and offers, and logging
hours (under /api/v1/, staff token). See docs/volunteers.md ("Matching") for the flow."""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from federation.errors import NotFound, ValidationError
from hub.exchange import asking, matching, offers
from hub.exchange.targets import Target
from hub.runtime import Hub
from hub.store import asks as ask_store
from hub.store import matches as match_store
from hub.store import needs as need_store
from hub.store import offers as offer_store
from hub.store import signups
from hub.store import volunteers as volunteer_store
from hub.web.keys import HUB
from hub.web.render import json_response, read_json_object

MAX_ASK = 20


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _private(data: Any, *, status: int = 200) -> web.Response:
    response = json_response(data, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _local_target(hub: Hub, need_uuid: str) -> Target:
    need = await need_store.get_need(hub.db, need_uuid)
    if need is None or need.deleted_at is not None:
        raise NotFound("no such need")
    return Target(need)


async def _remote_target(hub: Hub, object_id: Any) -> Target:
    if not isinstance(object_id, str):
        raise ValidationError("need: give the neighbour's need by its ActivityPub id")
    need = await need_store.get_remote_need(hub.db, object_id)
    if need is None or need.deleted:
        raise NotFound("no such need from a neighbouring hub")
    if not await offers.is_neighbour(hub, need.actor):
        raise ValidationError("that hub is not a neighbour (this hub and it must follow "
                              "each other)")
    return Target(need)


async def _ask_json(hub: Hub, ask: ask_store.Ask,
                    undelivered_ids: Collection[int] = ()) -> dict[str, Any]:
    """`undelivered_ids`: the asks whose email was given up (none, for asks just made)."""
    volunteer = await volunteer_store.get_volunteer_by_id(hub.db, ask.volunteer_id)
    undelivered = ["email"] if ask.id in undelivered_ids else []
    return {"id": ask.uuid, "volunteer": volunteer.uuid if volunteer else None,
            "name": volunteer.profile.name if volunteer else None, "status": ask.status,
            "asked_by": ask.asked_by, "channels": list(ask.channels),
            "undelivered": undelivered,
            "answered_via": ask.answered_via, "asked_at": _iso(ask.asked_at),
            "expires_at": _iso(ask.expires_at), "answered_at": _iso(ask.answered_at)}


async def _make_asks(hub: Hub, target: Target, data: dict[str, Any]) -> list[asking.Asked]:
    if "volunteer" in data:
        volunteer = await volunteer_store.get_volunteer(hub.db, str(data["volunteer"]))
        if volunteer is None:
            raise NotFound("no such volunteer")
        try:
            return [await asking.ask(hub, target, volunteer, asked_by="staff")]
        except asking.NotAskable as exc:
            raise ValidationError(str(exc)) from exc
    count = data.get("count", 3)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_ASK:
        raise ValidationError(f"count: a whole number from 1 to {MAX_ASK}")
    if not target.open:
        raise ValidationError("the need is no longer open")
    return await asking.ask_top(hub, target, count, asked_by="staff")


async def ask_for_need(request: web.Request) -> web.Response:
    """`{"count": N}` asks the N best-ranked not yet asked; `{"volunteer": uuid}` asks one."""
    hub = request.app[HUB]
    target = await _local_target(hub, request.match_info["id"])
    made = await _make_asks(hub, target, await read_json_object(request))
    return _private({"items": [await _ask_json(hub, a.ask) for a in made]}, status=201)


async def ask_for_neighbour_need(request: web.Request) -> web.Response:
    """`{"need": <object id>, "count": N}` or `{"need": ..., "volunteer": uuid}`."""
    hub = request.app[HUB]
    data = await read_json_object(request)
    target = await _remote_target(hub, data.get("need"))
    made = await _make_asks(hub, target, {k: v for k, v in data.items() if k != "need"})
    return _private({"items": [await _ask_json(hub, a.ask) for a in made]}, status=201)


def _offer_json(offer: offer_store.OfferReceived) -> dict[str, Any]:
    return {"id": offer.uuid, "from": offer.actor, "pseudonym": offer.pseudonym,
            "distance_band": offer.distance_band, "skills": list(offer.skills),
            "availability": list(offer.availability), "languages": list(offer.languages),
            "checks_held": list(offer.checks_held), "status": offer.status,
            "received_at": _iso(offer.received_at), "expires_at": _iso(offer.expires_at)}


async def _match_json(hub: Hub, match: match_store.Match) -> dict[str, Any]:
    sessions = await match_store.list_sessions(hub.db, match.id)
    return {"id": match.uuid, "status": match.status, "accepted_at": _iso(match.accepted_at),
            "contact": match.contact, "contact_at": _iso(match.contact_at),
            "sessions": [{"date": s.on_date.isoformat(), "minutes": s.minutes,
                          "logged_by": s.logged_by} for s in sessions],
            "hours": matching.hours_text(sessions)}


async def need_matching(request: web.Request) -> web.Response:
    """Local asks and neighbours' offers for one need, in one list, with the matches made
    and the time the need took to fill."""
    hub = request.app[HUB]
    target = await _local_target(hub, request.match_info["id"])
    need = target.need
    assert isinstance(need, need_store.LocalNeed)
    listed = await ask_store.list_asks(hub.db, need_id=need.id)
    undelivered = await signups.undelivered_asks(hub.db, [a.id for a in listed])
    asks = [await _ask_json(hub, a, undelivered) for a in listed]
    received = [_offer_json(o) for o in await offer_store.offers_for_need(hub.db, need.id)]
    made = [await _match_json(hub, m) for m in await match_store.matches_for_need(hub.db,
                                                                                 need.id)]
    return _private({"need": need.uuid, "status": need.status, "asks": asks,
                     "offers": received, "matches": made,
                     "time_to_fill_hours": None if need.time_to_fill is None
                     else round(need.time_to_fill / 3600, 1)})


async def _offer(hub: Hub, offer_uuid: str) -> offer_store.OfferReceived:
    offer = await offer_store.offer_received_by_uuid(hub.db, offer_uuid)
    if offer is None:
        raise NotFound("no such offer")
    return offer


async def accept_offer(request: web.Request) -> web.Response:
    """Accept a neighbour's offer; `{"shared_note": "..."}` is passed to that hub's volunteer
    with the coordinator's contact (the neighbour's private notes are never sent)."""
    hub = request.app[HUB]
    data = await read_json_object(request) if request.can_read_body else {}
    note = data.get("shared_note", "")
    if not isinstance(note, str) or len(note) > 1000:
        raise ValidationError("shared_note: text of at most 1000 characters")
    match_uuid = await offers.accept_offer(hub, await _offer(hub, request.match_info["uuid"]),
                                           shared_note=note)
    return _private({"match": match_uuid, "status": "accepted"})


async def reject_offer(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    await offers.reject_offer(hub, await _offer(hub, request.match_info["uuid"]))
    return _private({"status": "rejected"})


async def accept_local(request: web.Request) -> web.Response:
    """Accept one of this hub's volunteers who said yes to one of its needs."""
    hub = request.app[HUB]
    ask = await ask_store.ask_by_uuid(hub.db, request.match_info["uuid"])
    if ask is None:
        raise NotFound("no such ask")
    data = await read_json_object(request) if request.can_read_body else {}
    note = data.get("shared_note", "")
    if not isinstance(note, str) or len(note) > 1000:
        raise ValidationError("shared_note: text of at most 1000 characters")
    match_uuid = await matching.accept_volunteer(hub, ask, shared_note=note)
    return _private({"match": match_uuid, "status": "accepted"})


async def _match(hub: Hub, match_uuid: str) -> match_store.Match:
    match = await match_store.get_match(hub.db, match_uuid)
    if match is None:
        raise NotFound("no such match")
    return match


async def get_match(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return _private(await _match_json(hub, await _match(hub, request.match_info["uuid"])))


async def log_session(request: web.Request) -> web.Response:
    """`{"date": "YYYY-MM-DD", "minutes": 60}`, logged by staff."""
    hub = request.app[HUB]
    match = await _match(hub, request.match_info["uuid"])
    session = matching.parse_session(await read_json_object(request),
                                     datetime.fromtimestamp(time.time(), UTC).date())
    await matching.log_session(hub, match, session, by="staff")
    return _private(await _match_json(hub, match), status=201)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/needs/{id}/asks", ask_for_need)
    r.add_get("/api/v1/needs/{id}/matching", need_matching)
    r.add_post("/api/v1/neighbour-needs/asks", ask_for_neighbour_need)
    r.add_post("/api/v1/offers/{uuid}/accept", accept_offer)
    r.add_post("/api/v1/offers/{uuid}/reject", reject_offer)
    r.add_post("/api/v1/asks/{uuid}/accept", accept_local)
    r.add_get("/api/v1/matches/{uuid}", get_match)
    r.add_post("/api/v1/matches/{uuid}/sessions", log_session)
