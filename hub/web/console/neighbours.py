"""The console's Neighbours page: the hubs the hub knows, their health, and staff choices.

Every change is a POST (CSRF-checked by the console) naming the hub or domain, audited, then a
redirect back with a notice. Blocking and allowing domains is for coordinators.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from federation.errors import FederationError
from hub.neighbours import discovery, health
from hub.neighbours import service as neighbour_service
from hub.runtime import Hub
from hub.settings import seed_list
from hub.store import audit
from hub.store import neighbours as neighbour_store
from hub.web.console.auth import require_role
from hub.web.console.keys import STAFF
from hub.web.console.page import render_console, see_other
from hub.web.keys import HUB

PATH = "/console/neighbours"
NOTICES = {"added": "Hub added: every walk now starts from it.",
           "paused": "Paused: the hub no longer follows it, and discovery leaves it be.",
           "resumed": "Resumed: the pairing rule decides about it again.",
           "unpaired": "Unpaired: follows both ways ended.",
           "announce": "Its new events will be announced to this hub's followers.",
           "quiet": "Its events are no longer announced.",
           "blocked": "Blocked: the domain is never contacted and its activities are refused.",
           "allowed": "Allowed: its hubs are paired whatever the distance.",
           "cleared": "The domain's block or allow is lifted."}


def _peer_view(peer: health.PeerHealth) -> dict[str, Any]:
    n = peer.neighbour
    return {"actor": n.actor_id, "name": n.name or n.authority, "area": n.area_name,
            "distance": None if n.distance_km is None else f"{n.distance_km:.1f} km",
            "state": n.state, "following": peer.following, "follows_us": peer.follows_us,
            "announce": n.announce_events, "last_success": health.when(peer.last_success_at),
            "failures": peer.failures, "delivery_failure_days": peer.delivery_failure_days,
            "unreachable_since": (health.when(peer.unreachable_since)
                                  if peer.unreachable_since else None),
            "last_error": peer.last_error if peer.failures else None}


async def _page(request: web.Request, *, status: int = 200, error: str | None = None,
                target: str = "") -> web.Response:
    hub = request.app[HUB]
    return render_console(
        request, "console/neighbours.html", status=status, error=error, target=target,
        peers=[_peer_view(p) for p in await health.peer_health(hub)],
        seeds=[*seed_list(hub.settings), *await neighbour_store.list_seeds(hub.db)],
        blocked=await neighbour_store.domains(hub.db, "block"),
        allowed=await neighbour_store.domains(hub.db, "allow"),
        notice=NOTICES.get(request.query.get("done", "")),
        area=hub.settings.area_name, radius=hub.settings.neighbourhood_radius_km)


async def neighbours_page(request: web.Request) -> web.Response:
    return await _page(request)


Action = Callable[[Hub, str], Awaitable[Any]]


def _action(action: Action, done: str, audit_name: str) -> Callable[[web.Request],
                                                                   Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        hub = request.app[HUB]
        value = (await request.post()).get("target", "")
        target = value.strip() if isinstance(value, str) else ""
        try:
            await action(hub, target)
        except FederationError as exc:
            return await _page(request, status=exc.status, error=exc.message, target=target)
        await audit.record(hub.db, request[STAFF].id, audit_name, target)
        return see_other(f"{PATH}?done={done}")
    handle.__name__ = f"neighbours_{done}"
    return handle


async def _announce(hub: Hub, target: str) -> None:
    await neighbour_service.set_announce(hub, target, True)


async def _quiet(hub: Hub, target: str) -> None:
    await neighbour_service.set_announce(hub, target, False)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(PATH, neighbours_page)
    for action, done, name in (
            (discovery.add, "added", "neighbour.add"),
            (neighbour_service.pause, "paused", "neighbour.pause"),
            (neighbour_service.resume, "resumed", "neighbour.resume"),
            (neighbour_service.unpair, "unpaired", "neighbour.unpair"),
            (_announce, "announce", "neighbour.announce"),
            (_quiet, "quiet", "neighbour.quiet")):
        r.add_post(f"{PATH}/{done}", _action(action, done, name))
    for action, done, name in (
            (neighbour_service.block, "blocked", "domain.block"),
            (neighbour_service.allow, "allowed", "domain.allow"),
            (neighbour_service.clear_policy, "cleared", "domain.clear")):
        r.add_post(f"{PATH}/{done}", require_role("coordinator")(_action(action, done, name)))
