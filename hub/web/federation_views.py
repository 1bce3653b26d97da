"""ActivityPub endpoints: the actors, their collections, inboxes, WebFinger and NodeInfo."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from federation.errors import NotFound, ValidationError
from federation.nodeinfo import nodeinfo_document, well_known_nodeinfo
from federation.webfinger import make_webfinger_handler, webfinger_document
from hub.activitypub.actors import group_actor, instance_actor
from hub.activitypub.collections import collection, collection_page
from hub.neighbours.area import Area, area_document, own_area
from hub.runtime import Hub
from hub.store import follows as follow_store
from hub.store import neighbours as neighbour_store
from hub.store import outbox as outbox_store
from hub.store import posts as post_store
from hub.store.db import Database
from hub.web import pages
from hub.web.keys import HUB, INBOX
from hub.web.render import activity_json, json_response, wants_activity_json

SOFTWARE = "commonhub"
VERSION = "0.1.0"
PEERS_PAGE_SIZE = 200  # a walk reads a hub's peers in one or two requests
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _page_number(request: web.Request) -> int | None:
    raw = request.query.get("page")
    if raw is None:
        return None
    if raw == "true":  # Mastodon-style first page
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError("page must be a positive whole number")
    return int(raw)


def _hub(request: web.Request, name: str | None = None) -> Hub:
    hub = request.app[HUB]
    if name is not None and name != hub.settings.name:
        raise NotFound(f"no actor {name} on this hub")
    return hub


def _collection_hub(request: web.Request) -> Hub:
    """The hub whose collection is asked for; a browser is sent to the hub's page instead."""
    hub = _hub(request, request.match_info["name"])
    if not wants_activity_json(request) and "json" not in request.headers.get("Accept", ""):
        raise web.HTTPSeeOther(hub.urls.profile)
    return hub


async def actor(request: web.Request) -> web.StreamResponse:
    hub = _hub(request, request.match_info["name"])
    if not wants_activity_json(request):
        return await pages.home(request)
    return activity_json(group_actor(hub.settings, hub.urls, hub.keyring.public_pem("hub"),
                                     hub.keyring.assertion_multikey()))


async def server_actor(request: web.Request) -> web.StreamResponse:
    hub = _hub(request)
    if not wants_activity_json(request):
        raise web.HTTPFound(hub.urls.profile)
    return activity_json(instance_actor(hub.settings, hub.urls, hub.keyring.public_pem("instance")))


Count = Callable[[Database], Awaitable[int]]
Items = Callable[[Database, int, int], Awaitable[list[Any]]]


async def _paged(request: web.Request, url: str, count: Count, items: Items,
                 size: int | None = None) -> web.Response:
    """A collection's head, or with ?page=N one page of it."""
    hub = _collection_hub(request)
    size, page = size or hub.settings.page_size, _page_number(request)
    total = await count(hub.db)
    if page is None:
        return activity_json(collection(url, total, size))
    found = await items(hub.db, (page - 1) * size, size)
    return activity_json(collection_page(url, page, total, size, found))


async def _outbox_items(db: Database, offset: int, limit: int) -> list[Any]:
    items = await outbox_store.list_public(db, offset=offset, limit=limit)
    return [{k: v for k, v in item.items() if k != "@context"} for item in items]


async def _follower_ids(db: Database, offset: int, limit: int) -> list[Any]:
    return [r["actor_id"] for r in await follow_store.list_followers(db, offset=offset,
                                                                     limit=limit)]


async def _following_ids(db: Database, offset: int, limit: int) -> list[Any]:
    return [r["actor_id"] for r in await follow_store.list_following(db, offset=offset,
                                                                     limit=limit)]


async def outbox(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return await _paged(request, hub.urls.outbox, outbox_store.count_public, _outbox_items)


async def followers(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return await _paged(request, hub.urls.followers, follow_store.count_followers,
                        _follower_ids)


async def following(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return await _paged(request, hub.urls.following, follow_store.count_following,
                        _following_ids)


async def _peer_ids(db: Database, offset: int, limit: int) -> list[Any]:
    """Each peer's id, with the area its actor published when known: a hint that lets a
    walker skip hubs far from it without fetching them (it trusts only the actor itself)."""
    rows = await neighbour_store.list_neighbours(db, states=neighbour_store.LISTED_STATES,
                                                 offset=offset, limit=limit)
    return [n.actor_id if n.latitude is None or n.longitude is None or not n.radius_km else
            {"id": n.actor_id, "area": area_document(
                Area(n.latitude, n.longitude, n.radius_km, n.area_name or ""))}
            for n in rows]


async def _count_peers(db: Database) -> int:
    return await neighbour_store.count_neighbours(db, states=neighbour_store.LISTED_STATES)


async def peers(request: web.Request) -> web.Response:
    """The commonhub hubs this hub knows and has not set aside: where discovery walks next."""
    hub = _collection_hub(request)
    if _page_number(request) is not None:
        return await _paged(request, hub.urls.peers, _count_peers, _peer_ids, PEERS_PAGE_SIZE)
    # The head carries its first page, so a walk reads a hub's peers in one request.
    total = await _count_peers(hub.db)
    head = collection(hub.urls.peers, total, PEERS_PAGE_SIZE)
    if total:
        first = collection_page(hub.urls.peers, 1, total, PEERS_PAGE_SIZE,
                                await _peer_ids(hub.db, 0, PEERS_PAGE_SIZE))
        head["first"] = {k: v for k, v in first.items() if k != "@context"}
    return activity_json(head)


async def inbox(request: web.Request) -> web.Response:
    if "name" in request.match_info:
        _hub(request, request.match_info["name"])
    return await request.app[INBOX].handle(request)


def webfinger_handler(hub: Hub) -> Handler:
    """WebFinger for the hub (`@name@domain`) and its instance actor (`@host@domain`)."""

    async def resolve(username: str, domain: str) -> dict | None:
        if domain != hub.settings.domain.lower():
            return None
        if username == hub.settings.name:
            return webfinger_document(username, domain, hub.urls.actor, hub.urls.profile)
        if username == hub.settings.domain.split(":")[0]:
            return webfinger_document(username, domain, hub.urls.instance_actor)
        return None

    return make_webfinger_handler(resolve)


async def nodeinfo_links(request: web.Request) -> web.Response:
    return json_response(well_known_nodeinfo(request.app[HUB].settings.base_url))


def _commonhub_metadata(hub: Hub) -> dict[str, Any]:
    """What lets another hub recognise this one (with `software.name` "commonhub")."""
    area = own_area(hub.settings)
    return {"protocol": 1, "actor": hub.urls.actor, "peers": hub.urls.peers,
            "area": area_document(area) if area else None,
            "neighbourhoodRadius": hub.settings.neighbourhood_radius_km}


async def nodeinfo(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    version = request.match_info["version"]
    if version not in ("2.0", "2.1"):
        raise NotFound(f"no NodeInfo schema {version}")
    posts = await post_store.count_posts(hub.db)
    doc = nodeinfo_document(
        version, software_name=SOFTWARE, software_version=VERSION,
        users_total=1, users_active_month=1, users_active_halfyear=1, local_posts=posts,
        open_registrations=False,
        metadata={"nodeName": hub.settings.display_name or hub.settings.name,
                  "nodeDescription": hub.settings.summary, "commonhub": _commonhub_metadata(hub)})
    content_type = f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{version}#"'
    response = json_response(doc)
    response.headers["Content-Type"] = content_type
    return response
