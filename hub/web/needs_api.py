"""The staff JSON API for volunteer needs (under /api/v1/, staff token): post, edit, move
through the lifecycle, remove, and rank this hub's volunteers for a need.

Handlers are thin: parse, call one service, shape the answer. A bad field is answered 400
with `{"error", "field"}`; public text that looks like personal details 422 with
`{"error", "warnings"}` (send again with `?confirm=true` to save it anyway); a move the
lifecycle does not allow 409 with `{"error", "status", "allowed"}`. Answers hold the
neighbour's private notes, so none may be cached.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from federation.errors import NotFound, ValidationError
from hub.events.model import FieldError
from hub.exchange.listing import offers_for_staff, one_list
from hub.needs import service
from hub.needs.matching import to_matcher_need
from hub.needs.model import KINDS, STATUSES, draft_json
from hub.needs.pool import RankedVolunteer, candidates_for
from hub.needs.service import NeedsConfirmation, StatusConflict
from hub.needs.summary import summary_line
from hub.needs.warnings import DetailWarning
from hub.runtime import Hub
from hub.store import audit
from hub.store import needs as store
from hub.store.needs import LocalNeed, RemoteNeed
from hub.store.volunteers import api_token_id
from hub.web.events_api import Handler
from hub.web.keys import HUB
from hub.web.render import json_response, read_json_object

MAX_CANDIDATES = 200


def need_errors(handler: Handler) -> Handler:
    """400 with the field, 409 with the allowed moves, 422 with the warnings."""
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except FieldError as exc:
            return _private({"error": exc.message, "field": exc.field}, status=400)
        except (StatusConflict, NeedsConfirmation) as exc:
            return _private(exc.to_json(), status=exc.status)

    return wrapped


def _private(data: Any, *, status: int = 200) -> web.Response:
    response = json_response(data, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def need_json(hub: Hub, need: LocalNeed,
              warnings: list[DetailWarning] | None = None) -> dict[str, Any]:
    """A need as staff see it: the input fields (GET then PATCH round-trips), its lifecycle
    and what the hub derived; `warnings` when it was just saved with some."""
    data: dict[str, Any] = {
        "id": need.uuid, "url": hub.urls.need(need.uuid),
        **draft_json(need.draft, private=True),
        "status": need.status, "allowed_statuses": list(service.allowed_moves(need.status)),
        "summary": summary_line(need.draft, need.status),
        "published_at": iso(need.published_at), "updated_at": iso(need.updated_at),
        "filled_at": iso(need.filled_at), "closed_at": iso(need.closed_at),
        "time_to_fill_seconds": need.time_to_fill, "deleted_at": iso(need.deleted_at),
    }
    if warnings is not None:
        data["warnings"] = [w.to_json() for w in warnings]
    return data


def remote_need_json(need: RemoteNeed) -> dict[str, Any]:
    return {"id": need.object_id, "actor": need.actor, "url": need.url,
            **draft_json(need.draft, private=False), "status": need.status,
            "summary": summary_line(need.draft, need.status),
            "published_at": iso(need.published_at), "received_at": iso(need.received_at),
            "updated_at": iso(need.updated_at)}


def _confirmed(request: web.Request) -> bool:
    value = request.query.get("confirm", "")
    if value not in ("", "true", "false"):
        raise ValidationError("confirm is true or false")
    return value == "true"


def _choices(request: web.Request, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    raw = [v for v in request.query.get(name, "").split(",") if v]
    bad = [v for v in raw if v not in allowed]
    if bad:
        raise FieldError(name, f"{bad[0]!r} is not one of {', '.join(allowed)}")
    return tuple(raw)


async def _token_id(request: web.Request) -> int | None:
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    return await api_token_id(request.app[HUB].db, token)


async def _audit(request: web.Request, action: str, need: LocalNeed, **detail: Any) -> None:
    hub = request.app[HUB]
    await audit.record(hub.db, None, action, hub.urls.need(need.uuid),
                       {"via": "api", "token": await _token_id(request), **detail})


# Handlers --------------------------------------------------------------------------------------
@need_errors
async def list_needs(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    statuses = _choices(request, "status", STATUSES) or None
    kinds = _choices(request, "kind", KINDS)
    if len(kinds) > 1:
        raise FieldError("kind", "give one kind")
    found = await store.list_needs(hub.db, statuses=statuses, kind=kinds[0] if kinds else None)
    return _private({"items": [need_json(hub, n) for n in found]})


@need_errors
async def create_need(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    need, warnings = await service.create_need(hub, await read_json_object(request),
                                               confirmed=_confirmed(request))
    await _audit(request, "need.create", need, kind=need.draft.kind,
                 warnings=len(warnings))
    return _private(need_json(hub, need, warnings), status=201)


async def get_need(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return _private(need_json(hub, await service.live_need(hub, request.match_info["id"])))


@need_errors
async def update_need(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    patch = await read_json_object(request)
    need, warnings = await service.update_need(hub, request.match_info["id"], patch,
                                               confirmed=_confirmed(request))
    await _audit(request, "need.update", need, fields=sorted(patch), warnings=len(warnings))
    return _private(need_json(hub, need, warnings))


@need_errors
async def change_status(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    data = await read_json_object(request)
    unknown = sorted(set(data) - {"status"})
    if unknown:
        raise FieldError(unknown[0], "is not a field here: send {\"status\": ...}")
    need = await service.change_status(hub, request.match_info["id"], data.get("status"))
    await _audit(request, "need.status", need, status=need.status)
    return _private(need_json(hub, need))


async def delete_need(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    need = await service.delete_need(hub, request.match_info["id"])
    await _audit(request, "need.delete", need)
    return _private(need_json(hub, need))


def candidate_json(item: RankedVolunteer) -> dict[str, Any]:
    c = item.candidate
    out: dict[str, Any] = {"volunteer": c.volunteer_id, "name": item.name,
                           "district": item.district}
    if c.rank is None:
        return {**out, "excluded_because": c.exclusions}
    km = None if c.distance_km is None else round(c.distance_km, 1)
    return {"rank": c.rank, **out, "score": c.score, "distance_km": km,
            "reasons": c.reasons}


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_CANDIDATES:
        raise FieldError("limit", f"is a whole number from 1 to {MAX_CANDIDATES}")
    return int(raw)


@need_errors
async def candidates(request: web.Request) -> web.Response:
    """This hub's volunteers who consent to be matched here, ranked for the need, with the
    reasons for each rank; `?excluded=true` adds those left out and why. Neighbours' offers
    follow, and `ranked` puts both in one list by score."""
    hub = request.app[HUB]
    need = await service.live_need(hub, request.match_info["id"])
    ranked, body = await _ranked(request, need)
    await _audit(request, "need.candidates", need, count=len(ranked))
    offers = await offers_for_staff(hub.db, need.id, to_matcher_need(need))
    return _private({"need": need.uuid, **body, "offers": offers,
                     "ranked": one_list([r.candidate for r in ranked], offers)})


async def _ranked(request: web.Request, need: LocalNeed | RemoteNeed,
                  ) -> tuple[list[RankedVolunteer], dict[str, Any]]:
    """The ranking (`?limit`, `?excluded=true`) and its JSON: candidates, and who was left
    out and why when asked."""
    excluded = request.query.get("excluded") == "true"
    ranked = await candidates_for(request.app[HUB].db, need, now=datetime.now(UTC),
                                  limit=_limit(request), explain_excluded=excluded)
    return ranked, {
        "status": need.status,
        "candidates": [candidate_json(r) for r in ranked if r.candidate.rank is not None],
        "excluded": [candidate_json(r) for r in ranked if r.candidate.rank is None]
        if excluded else None}


@need_errors
async def remote_candidates(request: web.Request) -> web.Response:
    """This hub's volunteers ranked for a neighbouring hub's need (`?id=` its ActivityPub
    id): only those who consented to be matched for neighbouring hubs are eligible."""
    hub = request.app[HUB]
    object_id = request.query.get("id", "")
    need = await store.get_remote_need(hub.db, object_id) if object_id else None
    if need is None or need.deleted:
        raise NotFound("no live need from a neighbouring hub with that id")
    ranked, body = await _ranked(request, need)
    await audit.record(hub.db, None, "remote_need.candidates", object_id,
                       {"via": "api", "token": await _token_id(request), "count": len(ranked)})
    return _private({"need": object_id, **body})


@need_errors
async def list_remote_needs(request: web.Request) -> web.Response:
    """Needs published by hubs this hub follows (live ones unless ?status= says otherwise)."""
    hub = request.app[HUB]
    statuses = _choices(request, "status", STATUSES) or store.LIVE_STATUSES
    found = await store.list_remote_needs(hub.db, statuses=statuses,
                                          actor=request.query.get("actor") or None)
    return _private({"items": [remote_need_json(n) for n in found]})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/needs", list_needs)
    r.add_post("/api/v1/needs", create_need)
    r.add_get("/api/v1/needs/{id}", get_need)
    r.add_patch("/api/v1/needs/{id}", update_need)
    r.add_delete("/api/v1/needs/{id}", delete_need)
    r.add_post("/api/v1/needs/{id}/status", change_status)
    r.add_get("/api/v1/needs/{id}/candidates", candidates)
    r.add_get("/api/v1/remote-needs", list_remote_needs)
    r.add_get("/api/v1/remote-needs/candidates", remote_candidates)
