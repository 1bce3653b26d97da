"""The staff JSON API for RSVPs (under /api/v1/, staff token): who is coming, approving
and declining requests for restricted events, adding someone, and sending an RSVP poll.

Personal details (email addresses, names) are shown here and in the console only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from federation.errors import NotFound, ValidationError
from hub.rsvp import messages, polls, service
from hub.rsvp.service import Outcome
from hub.runtime import Hub
from hub.store import events as event_store
from hub.store import participants as store
from hub.store.events import Event
from hub.store.participants import STATES, Participant
from hub.web.keys import HUB
from hub.web.render import json_response, read_json_object
from hub.web.rsvp_pages import FormError, parse_signup, person_for


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


async def participant_json(hub: Hub, participant: Participant) -> dict[str, Any]:
    return {"id": participant.id, "name": participant.name, "state": participant.state,
            "position": await store.waitlist_position(hub.db, participant),
            "via": participant.via, "actor": participant.actor_id,
            "handle": participant.handle, "email": participant.email,
            "message": participant.message, "requested_at": _iso(participant.requested_at),
            "updated_at": _iso(participant.updated_at)}


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {"state": outcome.state, "changed": outcome.changed, "position": outcome.position,
            "reason": outcome.reason, "promoted": [p.id for p in outcome.promoted]}



async def _event(request: web.Request) -> Event:
    event = await event_store.get_event(request.app[HUB].db, request.match_info["uuid"])
    if event is None:
        raise NotFound("no such event")
    return event


async def _participant(request: web.Request, event: Event) -> Participant:
    raw = request.match_info["id"]
    found = await store.get_participant(request.app[HUB].db, int(raw)) if raw.isdigit() else None
    if found is None or found.event_id != event.id:
        raise NotFound("no such participant of this event")
    return found


async def list_participants(request: web.Request) -> web.Response:
    hub, event = request.app[HUB], await _event(request)
    state = request.query.get("state")
    if state is not None and state not in STATES:
        raise ValidationError(f"state is one of {', '.join(STATES)}")
    rows = await store.list_participants(hub.db, event.id, state)
    return json_response({"event": event.uuid, "capacity": event.capacity,
                          "counts": await store.state_counts(hub.db, event.id),
                          "items": [await participant_json(hub, p) for p in rows]})


async def add_participant(request: web.Request) -> web.Response:
    """Staff sign someone up (no approval needed); they are told like a web sign-up."""
    hub, event = request.app[HUB], await _event(request)
    body = await read_json_object(request)
    try:
        signup = parse_signup(str(body.get("name", "")), str(body.get("contact", "")))
        person = await person_for(hub, signup)
    except FormError as exc:
        return json_response({"error": exc.message, "field": exc.field}, status=400)
    outcome = await service.request_place(hub, event, person, "staff")
    if outcome.changed and outcome.participant is not None:
        await messages.tell(hub, event, outcome.participant, outcome.state,
                            position=outcome.position)
    status = 201 if outcome.changed else 200
    return json_response(outcome_json(outcome), status=409 if outcome.reason else status)


async def approve(request: web.Request) -> web.Response:
    event = await _event(request)
    outcome = await service.approve(request.app[HUB], await _participant(request, event))
    return json_response(outcome_json(outcome))


async def decline(request: web.Request) -> web.Response:
    event = await _event(request)
    outcome = await service.decline(request.app[HUB], await _participant(request, event))
    return json_response(outcome_json(outcome))


async def send_poll(request: web.Request) -> web.Response:
    """`{"to": ["@someone@host", "https://..."]}` (a direct message) or `{"followers": true}`."""
    hub, event = request.app[HUB], await _event(request)
    body = await read_json_object(request)
    targets = body.get("to", [])
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise ValidationError("`to` is a list of actor URLs or @user@host handles")
    poll = await polls.create_poll(hub, event, targets=targets,
                                   followers=body.get("followers") is True)
    return json_response({"id": poll.uuid, "url": polls.poll_url(hub, poll.uuid),
                          "audience": list(poll.audience), "closes_at": _iso(poll.end_at)},
                         status=201)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/events/{uuid}/participants", list_participants)
    r.add_post("/api/v1/events/{uuid}/participants", add_participant)
    r.add_post("/api/v1/events/{uuid}/participants/{id}/approve", approve)
    r.add_post("/api/v1/events/{uuid}/participants/{id}/decline", decline)
    r.add_post("/api/v1/events/{uuid}/poll", send_poll)
